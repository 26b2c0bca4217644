from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from .common import CampaignCase
from .tour_common import TourCase


@tagged("post_install", "-at_install")
class TestKpis(CampaignCase):
    """Each user highlights up to four figures at the top of every campaign (seed 004)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.campaign = cls._campaign("KpiCampaign", budget=1200.0, expected_revenue=4800.0)
        partners = cls._partners(6, prefix="kpi")
        cls._manual_target(cls.campaign, partners)
        Action = cls.env["campaign.action"]
        email = Action.create({"campaign_id": cls.campaign.id, "name": "Mail", "channel": "email"})
        sms = Action.create({"campaign_id": cls.campaign.id, "name": "Sms", "channel": "sms"})
        letter = Action.create({"campaign_id": cls.campaign.id, "name": "Letter", "channel": "letter"})
        Touchpoint = cls.env["campaign.touchpoint"]
        # 4 emails sent (1 opened, 1 opened and clicked), 1 failed; 2 SMS sent (1 clicked); 1 letter
        Touchpoint.create(
            [
                {"action_id": email.id, "partner_id": partners[0].id, "state": "opened", "date_opened": "2026-01-02"},
                {
                    "action_id": email.id,
                    "partner_id": partners[1].id,
                    "state": "clicked",
                    "date_opened": "2026-01-02",
                    "date_clicked": "2026-01-02",
                },
                {"action_id": email.id, "partner_id": partners[2].id, "state": "sent"},
                {"action_id": email.id, "partner_id": partners[3].id, "state": "bounced"},
                {"action_id": email.id, "partner_id": partners[4].id, "state": "failed"},
                {"action_id": sms.id, "partner_id": partners[0].id, "state": "clicked", "date_clicked": "2026-01-03"},
                {"action_id": sms.id, "partner_id": partners[1].id, "state": "sent"},
                {"action_id": letter.id, "partner_id": partners[5].id, "state": "done"},
            ]
        )

    def test_registry_lists_existing_fields_once(self):
        metrics = self.env["campaign.campaign"]._kpi_metrics()
        keys = [key for key, _label, _field, _kind in metrics]
        self.assertEqual(len(keys), len(set(keys)))
        Campaign = self.env["campaign.campaign"]
        for _key, _label, field_name, kind in metrics:
            self.assertIn(field_name, Campaign._fields)
            self.assertIn(kind, ("integer", "float", "percent", "monetary"))
        by_key = {key: field for key, _label, field, _kind in metrics}
        self.assertEqual(by_key["open_rate"], "open_rate")
        self.assertEqual("revenue" in by_key, "revenue" in Campaign._fields, "missing fields are skipped")
        self.assertEqual(
            dict(self.env["campaign.kpi.choice"]._fields["metric"]._description_selection(self.env))["audience_size"],
            "Reachable now",
        )

    def test_figures_from_touchpoints(self):
        campaign = self.campaign
        self.assertEqual(campaign.sent_count, 7, "everything carried out, failed excluded")
        self.assertEqual(round(campaign.open_rate, 2), 28.57, "2 unique opens out of 7 sent")
        self.assertEqual(round(campaign.click_rate, 2), 28.57, "2 unique clickers out of 7 sent")
        self.assertEqual(campaign.audience_size, 6)

    def test_contacts_reached_are_distinct_contacts(self):
        """ "Contacts reached" at the top of a campaign counts each contact once, however many
        touchpoints reached them (it showed the touchpoints carried out)."""
        campaign = self.campaign
        values = {key: (label, value) for key, label, value in campaign._kpi_values()}
        self.assertEqual(values["contacts_reached"], ("Contacts reached", str(campaign.contacts_reached)))
        self.assertLess(campaign.contacts_reached, campaign.sent_count, "the fixture reaches a contact twice")

    def test_defaults_then_choice_per_user(self):
        campaign_1 = self.campaign.with_user(self.user_marketing)
        campaign_2 = self.campaign.with_user(self.user_marketing_2)
        default = [key for key, _label, _value in campaign_1._kpi_values()]
        self.assertEqual(default, ["audience_size", "contacts_reached", "open_rate", "click_rate"])

        wizard = Form(self.env["campaign.kpi.choose"].with_user(self.user_marketing))
        self.assertEqual(wizard.metric_1, "audience_size", "the form starts from what the user sees")
        wizard.metric_1 = "budget"
        wizard.metric_2 = "open_rate"
        wizard.metric_3 = "budget"
        wizard.metric_4 = False
        wizard.save().action_save()

        self.assertEqual(
            campaign_1._kpi_values(),
            [("budget", "Budget", "$\xa01,200.00"), ("open_rate", "Open rate", "28.6 %")],
        )
        self.assertEqual([key for key, _label, _value in campaign_2._kpi_values()], default, "others keep theirs")
        banner = str(campaign_1.kpi_banner)
        self.assertIn("Budget", banner)
        self.assertIn("28.6 %", banner)
        self.assertNotIn("Audience", banner)
        self.assertEqual(
            self.env["campaign.kpi.choice"].with_user(self.user_marketing_2).search([]).user_id,
            self.env["res.users"],
            "a user does not see the others' choices",
        )

    def test_at_most_four(self):
        Choice = self.env["campaign.kpi.choice"].with_user(self.user_marketing)
        Choice.create([{"metric": key} for key in ("audience_size", "touchpoint_count", "open_rate", "click_rate")])
        with self.assertRaises(ValidationError) as ctx:
            Choice.create({"metric": "budget"})
        self.assertIn("at most 4", str(ctx.exception))
        self.assertEqual(Choice.search_count([]), 4)

    def test_french_figures(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        self.env["campaign.kpi.choice"].create(
            [{"user_id": self.env.uid, "metric": "open_rate"}, {"user_id": self.env.uid, "metric": "expected_revenue"}]
        )
        values = self.campaign.with_context(lang="fr_FR")._kpi_values()
        self.assertEqual(values[0][1:], ("Taux d'ouverture", "28,6 %"))
        self.assertEqual(values[1][1], "CA prévisionnel")


@tagged("post_install", "-at_install")
class TestKpisTour(TourCase):
    """A user changes the figures at the top of a campaign."""

    def test_choose_kpis_tour(self):
        campaign = self.env["campaign.campaign"].create({"name": "TourKpis", "budget": 700.0})
        admin = self.env.ref("base.user_admin")
        self.env["campaign.kpi.choice"].search([("user_id", "=", admin.id)]).unlink()
        self.start_tour(
            f"/odoo/action-campaign_manager.campaign_campaign_action/{campaign.id}",
            "campaign_choose_kpis_tour",
            login="admin",
        )
        choices = self.env["campaign.kpi.choice"].search([("user_id", "=", admin.id)])
        self.assertEqual(choices.mapped("metric"), ["budget", "contacts_reached", "open_rate", "click_rate"])
