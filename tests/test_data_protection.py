from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestDataProtection(CampaignCase):
    """Unsubscribe and blacklist honoured by later runs; a contact's touchpoints exportable and
    erasable on request without changing the campaign totals."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(3, prefix="privacy")
        cls.campaign = cls._campaign("Privacy")
        cls._manual_target(cls.campaign, cls.partners)
        cls.action = cls._email_action(cls.campaign)
        cls.env["campaign.campaign.launch"].create({"campaign_id": cls.campaign.id, "mode": "now"}).action_launch()
        cls.env["campaign.engine"]._cron_process()
        cls.touchpoints = cls.action.run_ids.touchpoint_ids
        cls.touchpoints.mailing_trace_id.set_sent()
        cls.target_partner = cls.partners[0]
        cls.touchpoints.filtered(lambda t: t.partner_id == cls.target_partner).mailing_trace_id.set_opened()

    def _totals(self):
        groups = self.env["campaign.touchpoint"]._read_group(
            [("campaign_id", "=", self.campaign.id)], ["state"], ["__count"]
        )
        return dict(groups)

    def test_touchpoints_of_a_contact_listed_for_export(self):
        partner = self.target_partner.with_user(self.user_manager)
        self.assertEqual(partner.campaign_touchpoint_count, 1)
        action = partner.action_view_campaign_touchpoints()
        touchpoints = self.env["campaign.touchpoint"].with_user(self.user_manager).search(action["domain"])
        self.assertEqual(touchpoints.partner_id, self.target_partner)
        data = touchpoints.export_data(["campaign_id/name", "action_id/name", "state", "date_opened"])["datas"]
        self.assertEqual(data[0][:3], ["Privacy", "Mail", "Opened"])

    def test_erase_keeps_totals_and_blacklists(self):
        before = self._totals()
        trace = self.touchpoints.filtered(lambda t: t.partner_id == self.target_partner).mailing_trace_id
        wizard = Form(
            self.env["campaign.contact.erase"]
            .with_user(self.user_manager)
            .with_context(active_model="res.partner", active_ids=self.target_partner.ids)
        ).save()
        self.assertEqual(wizard.touchpoint_count, 1)
        wizard.action_erase()
        self.assertEqual(self._totals(), before, "campaign totals unchanged")
        self.assertFalse(self.env["campaign.touchpoint"].search([("partner_id", "=", self.target_partner.id)]))
        moved = self.touchpoints.filtered(lambda t: t.state == "opened")
        self.assertEqual(moved.partner_id.name, "Anonymised contact")
        self.assertFalse(moved.partner_id.email)
        self.assertFalse(trace.email)
        self.assertEqual(trace.res_id, moved.partner_id.id)
        self.assertTrue(self.env["mail.blacklist"].search([("email", "=", self.target_partner.email_normalized)]))
        stats = self.campaign._resolve_recipients("email")
        self.assertEqual(stats["excluded"].get("blacklisted"), 1, "never contacted again")

    def test_erase_refused_to_campaign_users(self):
        wizard = self.env["campaign.contact.erase"].create({"partner_ids": [(6, 0, self.target_partner.ids)]})
        with self.assertRaises(UserError):  # AccessError is a UserError
            wizard.with_user(self.user_marketing).action_erase()
        self.assertEqual(self.target_partner.campaign_touchpoint_count, 1)
