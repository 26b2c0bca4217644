from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestHoldout(CampaignCase):
    """Hold-out (control) groups: an exact, reproducible share of the audience never contacted."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(200, prefix="hold")
        cls.campaign = cls._campaign("Holdout", holdout_share=10)
        cls._manual_target(cls.campaign, cls.partners)

    def _launch(self, name):
        action = self._email_action(self.campaign, name=name)
        if self.campaign.state == "active":
            action.action_schedule()
        else:
            Form(
                self.env["campaign.campaign.launch"].with_context(default_campaign_id=self.campaign.id)
            ).save().action_launch()
        self.env["campaign.engine"]._cron_process()
        return action

    def _held(self, action):
        return action.run_ids.touchpoint_ids.filtered(lambda t: t.exclusion_reason == "held_out").partner_id

    def test_exact_stable_and_never_contacted(self):
        stats = self.campaign._resolve_recipients("email")
        self.assertEqual(stats["excluded"].get("held_out"), 20, "10 % of 200")
        self.assertEqual(stats["final"], 180)
        first = self._launch("First")
        held = self._held(first)
        self.assertEqual(len(held), 20)
        touchpoints = first.run_ids.touchpoint_ids
        self.assertEqual(set(touchpoints.filtered(lambda t: t.partner_id in held).mapped("state")), {"excluded"})
        self.assertFalse(sum(touchpoints.filtered(lambda t: t.partner_id in held).mapped("unit_cost")))
        mails = self.env["mail.mail"].sudo().search([("mailing_id", "=", first.run_ids.mailing_id.ids)])
        self.assertTrue(mails)
        self.assertFalse(mails.recipient_ids & held, "no mail for a held-out contact")
        self.assertFalse(set(mails.mapped("email_to")) & set(held.mapped("email")))
        # a second action of the campaign holds out the very same contacts
        second = self._launch("Second")
        self.assertEqual(self._held(second), held)
        # the audience grows: still exactly 10 %, the contacts held out before stay held out
        more = self._partners(100, prefix="later")
        self.campaign.target_ids.partner_ids |= more
        stats = self.campaign._resolve_recipients("email")
        self.assertEqual(stats["excluded"].get("held_out"), 30)
        third = self._launch("Third")
        self.assertEqual(len(self._held(third)), 30)
        self.assertLessEqual(held, self._held(third))

    def test_action_share_when_campaign_has_none(self):
        self.campaign.holdout_share = 0
        self.assertNotIn("held_out", self.campaign._resolve_recipients("email")["excluded"])
        action = self._email_action(self.campaign, holdout_share=25)
        self.assertEqual(action._audience_stats()["excluded"].get("held_out"), 50)

    def test_bad_share_refused(self):
        for share in (100, 50.5, -1):
            with self.assertRaisesRegex(ValidationError, "between 0 and 50"):
                self.campaign.with_user(self.user_marketing).write({"holdout_share": share})
        with self.assertRaisesRegex(ValidationError, "between 0 and 50"):
            self._email_action(self.campaign, holdout_share=100)
