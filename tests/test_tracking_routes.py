from odoo.tests import HttpCase, tagged

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestTrackingRoutes(HttpCase, CampaignCase):
    """Open pixel, click redirect and unsubscribe reached over HTTP move the touchpoints; altered
    tokens change nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(2, prefix="route")
        cls.campaign = cls._campaign("Routes")
        cls._manual_target(cls.campaign, cls.partners)
        cls.action = cls._email_action(cls.campaign)
        wizard = cls.env["campaign.campaign.launch"].create({"campaign_id": cls.campaign.id, "mode": "now"})
        wizard.action_launch()
        cls.env["campaign.action"]._cron_process()
        cls.run_record = cls.action.run_ids
        cls.mailing = cls.run_record.mailing_id
        cls.touchpoints = cls.run_record.touchpoint_ids.sorted(lambda t: t.partner_id.id)
        cls.touchpoints.mailing_trace_id.set_sent()

    def test_open_pixel_counts_opens(self):
        touchpoint = self.touchpoints[0]
        mail_id = touchpoint.mailing_trace_id.mail_mail_id_int
        token = self.env["mail.mail"]._generate_mail_recipient_token(mail_id)
        response = self.url_open(f"/mail/track/{mail_id}/{token}/blank.gif")
        self.assertEqual(response.status_code, 200)
        self.assertEqual((touchpoint.state, touchpoint.open_count), ("opened", 1))
        self.url_open(f"/mail/track/{mail_id}/{token}/blank.gif")
        self.assertEqual(touchpoint.open_count, 2, "total opens counted")
        bad = self.url_open(f"/mail/track/{mail_id}/{token[:-1]}x/blank.gif")
        self.assertNotEqual(bad.status_code, 200)
        self.assertEqual(touchpoint.open_count, 2)
        self.assertEqual(self.touchpoints[1].state, "sent", "the other contact is untouched")

    def test_click_redirect_counts_clicks_with_utm(self):
        touchpoint = self.touchpoints[0]
        tracker = self.env["link.tracker"].search([("mass_mailing_id", "=", self.mailing.id)])
        self.assertEqual(len(tracker), 1, "one tracked link for the mailing, shared by its recipients")
        self.assertEqual(tracker.campaign_id, self.campaign.utm_campaign_id)
        self.assertEqual(tracker.source_id, self.action.source_id)
        response = self.url_open(f"/r/{tracker.code}/m/{touchpoint.mailing_trace_id.id}", allow_redirects=False)
        self.assertIn(response.status_code, (301, 302, 303))
        location = response.headers["Location"]
        self.assertTrue(location.startswith("https://shop.example.com/offer"))
        self.assertIn("utm_campaign=Routes", location)
        self.assertEqual((touchpoint.state, touchpoint.click_count), ("clicked", 1))
        self.assertTrue(touchpoint.date_clicked)
        self.url_open(f"/r/{tracker.code}/m/{touchpoint.mailing_trace_id.id}", allow_redirects=False)
        self.assertEqual(touchpoint.click_count, 2)

    def test_unsubscribe_marks_touchpoint_and_blacklists(self):
        touchpoint = self.touchpoints[1]
        partner = touchpoint.partner_id
        url = self.mailing._get_unsubscribe_oneclick_url(partner.email, partner.id)
        tampered = url.replace("hash_token=", "hash_token=0")
        self.url_open(tampered, data={"List-Unsubscribe": "One-Click"})
        self.assertEqual(touchpoint.state, "sent", "a wrong token changes nothing")
        self.assertFalse(self.env["mail.blacklist"].search([("email", "=", partner.email)]))
        response = self.url_open(url, data={"List-Unsubscribe": "One-Click"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(touchpoint.state, "unsubscribed")
        self.assertTrue(touchpoint.date_unsubscribed)
        self.assertTrue(self.env["mail.blacklist"].search([("email", "=", partner.email)]))
        stats = self.campaign._resolve_recipients("email")
        self.assertEqual(stats["excluded"].get("blacklisted"), 1, "later runs leave them out")
