import base64
from datetime import date

from odoo.exceptions import UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import SQL

from .common import CampaignCase

BROWSER = {"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"}


class WeblinkCase(CampaignCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.campaign = cls._campaign("PaulBlog", campaign_type="other")
        cls.action = cls.env["campaign.action"].create(
            {"campaign_id": cls.campaign.id, "name": "Partner links", "channel": "weblink"}
        )
        cls.blog, cls.flyer = cls.env["campaign.weblink"].create(
            [
                {"action_id": cls.action.id, "name": "Paul's blog", "url": "www.example.com/offers"},
                {
                    "action_id": cls.action.id,
                    "name": "Flyer QR code",
                    "url": "https://www.example.com/offers",
                    "medium_id": cls.env.ref("utm.utm_medium_banner").id,
                },
            ]
        )


@tagged("post_install", "-at_install")
class TestWeblinks(WeblinkCase):
    """Tracked links placed outside (seed 003's "Web link" channel): short links carrying the
    campaign's UTM campaign, a source and a medium; clicks, leads, orders and revenue per link."""

    def test_link_tracker_with_utms(self):
        tracker = self.blog.link_tracker_id
        self.assertEqual(self.blog.url, "http://www.example.com/offers", "a scheme is added")
        self.assertEqual(tracker.url, self.blog.url)
        self.assertEqual(tracker.campaign_id, self.campaign.utm_campaign_id)
        self.assertEqual(self.blog.source_id.name, "PaulBlog - Paul's blog")
        self.assertEqual(tracker.source_id, self.blog.source_id)
        self.assertEqual(self.blog.medium_id, self.env.ref("campaign_manager.utm_medium_weblink"))
        self.assertEqual(self.action.medium_id, self.blog.medium_id)
        self.assertEqual(self.flyer.link_tracker_id.medium_id, self.env.ref("utm.utm_medium_banner"))
        self.assertTrue(self.blog.short_url.endswith("/r/" + tracker.code))
        self.assertEqual(
            self.blog.tracked_url,
            "http://www.example.com/offers?utm_campaign=PaulBlog&utm_source=PaulBlog+-+Paul's+blog&utm_medium=Web+Link",
        )
        self.assertEqual(self.action.weblink_count, 2)

    def test_change_url_keeps_short_link(self):
        code = self.blog.link_tracker_id.code
        self.blog.url = "https://www.example.com/spring"
        self.assertEqual(self.blog.link_tracker_id.url, "https://www.example.com/spring")
        self.assertEqual(self.blog.link_tracker_id.code, code, "links already printed keep working")
        with self.assertRaises(UserError):
            self.blog.url = "not a url"

    def test_qr_code_is_a_png_of_the_short_url(self):
        self.assertTrue(self.blog.qr_code)
        self.assertEqual(base64.b64decode(self.blog.qr_code)[:8], b"\x89PNG\r\n\x1a\n")
        action = self.blog.action_download_qr_code()
        self.assertIn(f"/web/content/campaign.weblink/{self.blog.id}/qr_code", action["url"])

    def test_clicks_leads_orders_revenue_per_link(self):
        tracker = self.blog.link_tracker_id
        Click = self.env["link.tracker.click"]
        Click.add_click(tracker.code, ip="10.0.0.1", country_code="FR")
        Click.add_click(tracker.code, ip="10.0.0.2", country_code="BE")
        Click.add_click(self.flyer.link_tracker_id.code, ip="10.0.0.3")
        utm = {"campaign_id": self.campaign.utm_campaign_id.id, "medium_id": self.blog.medium_id.id}
        self.env["crm.lead"].create(
            [
                {"name": "From the blog", "source_id": self.blog.source_id.id, **utm},
                {"name": "Lost, from the blog", "source_id": self.blog.source_id.id, "active": False, **utm},
                {"name": "Another source", "source_id": self.env.ref("utm.utm_source_newsletter").id, **utm},
            ]
        )
        product = self.env["product.product"].create({"name": "Concert ticket", "list_price": 40.0, "taxes_id": False})
        customer = self._partners(1, prefix="buyer")
        orders = self.env["sale.order"].create(
            [
                {
                    "partner_id": customer.id,
                    "source_id": self.blog.source_id.id,
                    "order_line": [(0, 0, {"product_id": product.id, "product_uom_qty": qty, "price_unit": 40.0})],
                    **utm,
                }
                for qty in (3, 2, 5)
            ]
        )
        orders[:2].action_confirm()  # the third stays a quotation
        self.env.invalidate_all()
        self.assertEqual((self.blog.click_count, self.flyer.click_count), (2, 1))
        self.assertEqual(self.campaign.link_click_count, 3)
        self.assertEqual((self.blog.lead_count, self.blog.order_count, self.blog.revenue), (2, 2, 200.0))
        self.assertEqual((self.flyer.lead_count, self.flyer.order_count, self.flyer.revenue), (0, 0, 0.0))
        self.assertEqual(self.env["crm.lead"].with_context(active_test=False).search_count(self.blog._utm_domain()), 2)
        self.assertEqual(self.blog.action_view_clicks()["domain"], [("link_id", "=", tracker.id)])
        # the campaign user sees the figures without sales rights
        self.assertEqual(self.blog.with_user(self.user_marketing).revenue, 200.0)

    def test_no_audience_for_web_links(self):
        stats = self.action._audience_stats()
        self.assertEqual(
            stats,
            {
                "total": 0,
                "contacts": 0,
                "duplicates": 0,
                "excluded": {},
                "final": 0,
                "held": 0,
                "audience_less": True,
                "by_target": {},
            },
        )
        self._manual_target(self.campaign, self._partners(3))
        self.env.flush_all()
        self.env.cr.execute(
            SQL("SELECT COUNT(*) FROM (%s) AS r", self.campaign.target_ids._classified_sql("weblink", self.action))
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0, "the engine gets no contact for a web link")
        wizard = self.env["campaign.campaign.calculate"].create(
            {"campaign_id": self.campaign.id, "action_id": self.action.id}
        )
        self.assertTrue(wizard.audience_less)
        self.assertEqual(wizard.final, 0)
        wizard.action_id = False
        wizard.channel = "email"
        wizard.action_calculate()
        self.assertEqual((wizard.audience_less, wizard.final), (False, 3))

    def test_web_link_campaign_needs_no_target(self):
        self.campaign.date_start = date(2026, 4, 1)
        self.campaign.action_set_ready()
        self.assertEqual(self.campaign.state, "ready")
        self.action.action_schedule()
        self.assertEqual(self.action.state, "scheduled")
        self.assertEqual(self.campaign.main_channel, "weblink")
        self.assertEqual(self.campaign.execution_mode, "unscheduled")

    def test_engine_runs_web_links_without_touchpoints(self):
        self.campaign.date_start = date(2026, 4, 1)
        self.campaign.action_set_ready()
        self.campaign.action_set_active()
        self.action.action_schedule()
        self.env["campaign.engine"]._cron_process()
        run = self.action.run_ids
        self.assertEqual((len(run), run.state, run.planned_count), (1, "done", 0))
        self.assertFalse(self.action.touchpoint_ids)
        self.assertEqual(self.action.state, "done")

    def test_links_only_on_web_link_actions(self):
        with self.assertRaises(ValidationError):
            self.action.channel = "email"
        mail = self.env["campaign.action"].create({"campaign_id": self.campaign.id, "name": "Mail"})
        with self.assertRaises(ValidationError):
            self.env["campaign.weblink"].create({"action_id": mail.id, "name": "Blog", "url": "https://example.com"})

    def test_duplicate_campaign_copies_links_with_new_trackers(self):
        copy = self.campaign.copy()
        links = copy.action_ids.weblink_ids
        self.assertEqual(links.mapped("name"), ["Paul's blog", "Flyer QR code"])
        self.assertEqual(links.link_tracker_id.campaign_id, copy.utm_campaign_id)
        self.assertFalse(links.link_tracker_id & (self.blog | self.flyer).link_tracker_id)
        self.assertEqual(links[0].source_id.name, "PaulBlogCopy - Paul's blog")

    def test_campaign_user_builds_links(self):
        link = (
            self.env["campaign.weblink"]
            .with_user(self.user_marketing)
            .create({"action_id": self.action.id, "name": "LinkedIn ad", "url": "https://www.example.com/ad"})
        )
        self.assertTrue(link.link_tracker_id.short_url)
        self.assertEqual(link.source_id.name, "PaulBlog - LinkedIn ad")

    def test_duplicate_a_link(self):
        copy = self.blog.copy()
        self.assertEqual(copy.name, "Paul's blog (copy)")
        self.assertEqual(copy.url, self.blog.url)
        self.assertNotEqual(copy.link_tracker_id, self.blog.link_tracker_id)
        self.assertNotEqual(copy.source_id, self.blog.source_id)

    def test_personal_campaign_links_follow_the_campaign(self):
        personal = self._campaign("MyLinks", scope="personal", user_id=self.user_marketing_2.id)
        action = self.env["campaign.action"].create({"campaign_id": personal.id, "name": "Links", "channel": "weblink"})
        self.env["campaign.weblink"].create({"action_id": action.id, "name": "Mine", "url": "https://example.com"})
        visible = self.env["campaign.weblink"].with_user(self.user_marketing).search([])
        self.assertEqual(visible.campaign_id, self.campaign)
        self.assertEqual(self.env["campaign.weblink"].with_user(self.user_marketing_2).search_count([]), 3)


@tagged("post_install", "-at_install")
class TestWeblinkRedirect(HttpCase):
    """A visitor following the short link is counted and sent to the page with the UTM parameters."""

    def test_short_link_counts_the_click(self):
        campaign = self.env["campaign.campaign"].create({"name": "QrFlyer"})
        action = self.env["campaign.action"].create({"campaign_id": campaign.id, "name": "Flyer", "channel": "weblink"})
        link = self.env["campaign.weblink"].create(
            {"action_id": action.id, "name": "Spring flyer", "url": "https://www.example.com/spring"}
        )
        response = self.url_open(f"/r/{link.link_tracker_id.code}", allow_redirects=False, headers=BROWSER)
        self.assertEqual(response.status_code, 301)
        self.assertEqual(response.headers["Location"], link.tracked_url)
        self.assertIn("utm_campaign=QrFlyer", link.tracked_url)
        link.invalidate_recordset()
        link.link_tracker_id.invalidate_recordset()
        self.assertEqual(link.click_count, 1)
        self.assertEqual(
            self.env["link.tracker.click"].search([("link_id", "=", link.link_tracker_id.id)]).campaign_id,
            campaign.utm_campaign_id,
        )
