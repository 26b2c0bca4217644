from odoo.tests import new_test_user, tagged

from .tour_common import TourCase


@tagged("post_install", "-at_install")
class TestFirstHour(TourCase):
    """The first hour of a marketing user (issue 16), in a real browser, as a user holding only the
    Marketing Campaigns / User group: the order never loses its place, one audience figure everywhere,
    names that say what they are (the counters after a launch: test_screen_refresh)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env,
            login="fh_user",
            name="Claire Campagne",
            email="claire.campagne@example.com",
            groups="campaign_manager.group_campaign_user",
        )
        cls.template = cls.env["mail.template"].create(
            {
                "name": "First hour template",
                "model_id": cls.env["ir.model"]._get_id("res.partner"),
                "subject": "Our spring collection, {{ object.name }}",
                "body_html": "<p>Hello</p>",
            }
        )
        Partner = cls.env["res.partner"]
        cls.vip = cls.env["res.partner.category"].create({"name": "FH VIP"})
        # a mailing list of three subscribers with a contact, one of whom opted out, and a newcomer
        # without one; two VIPs, one of whom is blacklisted, and a third VIP who is also subscribed:
        # 7 rows, 6 contacts, 2 excluded, 4 reachable
        cls.subscribers = Partner.create(
            [{"name": f"FH Subscriber {index}", "email": f"fh.subscriber.{index}@example.com"} for index in range(3)]
        )
        cls.vips = Partner.create(
            [{"name": f"FH Vip {index}", "email": f"fh.vip.{index}@example.com"} for index in range(2)]
        )
        (cls.vips | cls.subscribers[0]).write({"category_id": [(4, cls.vip.id)]})
        cls.env["mail.blacklist"]._add(cls.vips[1].email)
        cls.mailing_list = cls.env["mailing.list"].create({"name": "FH Newsletter"})
        cls.env["mailing.contact"].create(
            [
                {
                    "name": partner.name,
                    "email": partner.email,
                    "subscription_ids": [(0, 0, {"list_id": cls.mailing_list.id, "opt_out": index == 1})],
                }
                for index, partner in enumerate(cls.subscribers)
            ]
            + [
                {
                    "name": "FH Newcomer",
                    "email": "fh.newcomer@example.com",
                    "subscription_ids": [(0, 0, {"list_id": cls.mailing_list.id})],
                }
            ]
        )

    def _campaign(self, name, order_step="contacts", **values):
        return self.env["campaign.campaign"].create(
            {"name": name, "user_id": self.user.id, "order_step": order_step, **values}
        )

    def _audience_targets(self, campaign, env=None):
        """The two overlapping targets, created without a name (named after what they select)."""
        Target = (env or self.env)["campaign.target"]
        return Target.create(
            [
                {
                    "campaign_id": campaign.id,
                    "source": "mailing_list",
                    "mailing_list_ids": [(6, 0, self.mailing_list.ids)],
                },
                {
                    "campaign_id": campaign.id,
                    "source": "filter",
                    "partner_domain": str([("category_id", "in", self.vip.ids)]),
                },
            ]
        )

    def _email_action(self, campaign, name="Spring email", template=True):
        return self.env["campaign.action"].create(
            {
                "campaign_id": campaign.id,
                "name": name,
                "channel": "email",
                "mail_template_id": self.template.id if template else False,
            }
        )

    def _form_url(self, campaign):
        return f"/odoo/action-campaign_manager.campaign_campaign_action/{campaign.id}"

    # ------------------------------------------------------------------
    def test_edit_email_comes_back_to_the_order(self):
        """Item 1: Edit Email (and an action's form) opened from the order's media step come back to
        that step through the breadcrumb."""
        campaign = self._campaign("FirstHourMedia", order_step="media")
        self.env["campaign.target"].create(
            {"campaign_id": campaign.id, "source": "manual", "partner_ids": [(6, 0, self.vips.ids)]}
        )
        email = self._email_action(campaign, name="First hour email", template=False)
        self.env["campaign.action"].create(
            {"campaign_id": campaign.id, "name": "First hour letter", "channel": "letter"}
        )
        self.start_tour(self._form_url(campaign), "campaign_order_return_tour", login="fh_user")
        self.assertTrue(email.mailing_id, "Edit Email made the email's mailing")
        self.assertEqual(campaign.order_step, "media")

    def test_audience_figures_agree(self):
        """Item 2: the campaign's Reachable Now is Calculate's final count; each target says what it
        finds, excludes and reaches; the order's Calculate shows the reasons of exclusion."""
        campaign = self._campaign("FirstHourAudience")
        targets = self._audience_targets(campaign)
        self._email_action(campaign)
        # the newcomer got a contact when the target was saved: the figures count them already
        self.assertTrue(self.env["res.partner"].search([("email", "=", "fh.newcomer@example.com")]))
        self.assertEqual((campaign.audience_size, campaign.audience_excluded), (4, 2))
        self.assertEqual(targets.mapped("recipient_count"), [4, 3])
        self.assertEqual(targets.mapped("reachable_count"), [3, 2])
        stats = campaign._resolve_recipients("email")
        self.assertEqual((stats["total"], stats["contacts"], stats["final"]), (7, 6, 4))
        self.assertEqual(stats["excluded"], {"opted_out": 1, "blacklisted": 1})
        self.start_tour(self._form_url(campaign), "campaign_audience_figures_tour", login="fh_user")

    def test_touchpoint_button_counts_no_excluded_contact(self):
        """Item 2: the Touchpoints smart button counts the touchpoints planned or carried out, not the
        contacts a run excluded."""
        campaign = self._campaign("FirstHourSent")
        self._audience_targets(campaign)
        self._email_action(campaign)
        self.env["campaign.campaign.launch"].create({"campaign_id": campaign.id, "mode": "now"}).action_launch()
        self.env["campaign.engine"]._start_due_runs()
        states = campaign.touchpoint_ids.mapped("state")
        self.assertEqual((states.count("planned"), states.count("excluded")), (4, 2))
        self.start_tour(self._form_url(campaign), "campaign_touchpoint_count_tour", login="fh_user")

    def test_names_and_labels(self):
        """Item 4: targets named after what they select, launch columns that say what they count and
        fit, campaign and action names not cut, Revenue everywhere in English."""
        campaign = self._campaign("FirstHourSpringCollection2027", order_step="launch")
        targets = self._audience_targets(campaign)
        self.assertEqual(targets.mapped("name"), ["FH Newsletter", "Tags: FH VIP"])
        self._email_action(campaign, name="Spring collection preview")
        self.start_tour(self._form_url(campaign), "campaign_names_tour", login="fh_user")

    def test_breadcrumbs_on_a_wide_screen(self):
        """Item 4: at 1,440 px, where Odoo shows up to 8 smart buttons, the campaign form with all its
        buttons and the action opened from it keep the breadcrumbs' names whole."""
        campaign = self._campaign("FirstHourSpringCollection2027")
        self._audience_targets(campaign)
        self.env["campaign.target"].create(
            {"campaign_id": campaign.id, "source": "manual", "partner_ids": [(6, 0, self.vips.ids)]}
        )
        self._email_action(campaign, name="Spring collection preview")
        # launched and started: the Touchpoints and Runs buttons too, 8 in all for this user
        self.env["campaign.campaign.launch"].create({"campaign_id": campaign.id, "mode": "now"}).action_launch()
        self.env["campaign.engine"]._start_due_runs()
        self.browser_size = "1440x900"
        self.start_tour(self._form_url(campaign), "campaign_wide_breadcrumbs_tour", login="fh_user")

    def test_names_and_labels_in_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["base", "campaign_manager"], ["fr_FR"], overwrite=True)
        self.user.lang = "fr_FR"
        campaign = self._campaign("PremiereHeure")
        targets = self._audience_targets(campaign, env=self.env(user=self.user, context={"lang": "fr_FR"}))
        self.assertEqual(targets.mapped("name"), ["FH Newsletter", "Étiquettes : FH VIP"])
        # as wide as where the chatter goes beside the form, the French labels being the longest
        self.browser_size = "1440x900"
        # a hand-picked target too ("Sélection manuelle")
        self.env["campaign.target"].create(
            {"campaign_id": campaign.id, "source": "manual", "partner_ids": [(6, 0, self.vips.ids)]}
        )
        self.start_tour(self._form_url(campaign), "campaign_names_fr_tour", login="fh_user")
