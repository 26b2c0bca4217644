import math
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, tagged

from .common import CampaignCase, CampaignHttpCase, RpcError


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

    def test_sms_and_letters_never_reach_the_held_out(self):
        sms_action = self._email_action(self.campaign, name="Text", channel="sms", sms_body="Hi {{ object.name }}")
        letter_action = self._email_action(
            self.campaign, name="Post", channel="letter", letter_subject="Offers", letter_body="<p>Our offers</p>"
        )
        printed = self.env["campaign.touchpoint"]

        def print_batch(_report, _run, touchpoints):
            nonlocal printed
            printed |= touchpoints

        letters = type(self.env["report.campaign_manager.report_campaign_letter"])
        with patch.object(letters, "_campaign_print_batch", print_batch):
            Form(
                self.env["campaign.campaign.launch"].with_context(default_campaign_id=self.campaign.id)
            ).save().action_launch()
            self.env["campaign.engine"]._cron_process()
        held = self._held(sms_action)
        self.assertEqual(len(held), 20)
        self.assertEqual(self._held(letter_action), held, "the same contacts held out of every channel")
        sms = self.env["sms.sms"].sudo().search([("mailing_id", "in", sms_action.run_ids.mailing_id.ids)])
        self.assertEqual(len(sms), 180)
        self.assertFalse(sms.partner_id & held, "no SMS for a held-out contact")
        self.assertEqual(len(printed), 180)
        self.assertFalse(printed.partner_id & held, "no letter printed for a held-out contact")
        self.assertEqual(printed.action_id, letter_action)

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


@tagged("post_install", "-at_install")
class TestLift(CampaignCase):
    """The lift against figures computed by hand: 40 treated with 10 converters, 40 held out with 4."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.campaign = cls._campaign("Lift", holdout_share=10, date_start="2026-01-01", date_end="2026-06-30")
        action = cls._email_action(cls.campaign)
        cls.treated = cls._partners(40, prefix="treated")
        cls.held = cls._partners(40, prefix="held")
        cls.env["campaign.touchpoint"].create(
            [{"action_id": action.id, "partner_id": p.id, "state": "sent"} for p in cls.treated]
            + [
                {"action_id": action.id, "partner_id": p.id, "state": "excluded", "exclusion_reason": "held_out"}
                for p in cls.held
            ]
        )
        product = cls.env["product.product"].create({"name": "Lift product", "list_price": 100})
        buyers = cls.treated[:10] | cls.held[:4]
        moves = cls.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": "2026-03-01",
                    "invoice_line_ids": [
                        Command.create({"product_id": product.id, "price_unit": 100, "tax_ids": [Command.clear()]})
                    ],
                }
                for partner in buyers
            ]
            # outside the period: not counted
            + [
                {
                    "move_type": "out_invoice",
                    "partner_id": cls.held[10].id,
                    "invoice_date": "2025-12-01",
                    "invoice_line_ids": [Command.create({"product_id": product.id, "price_unit": 100})],
                }
            ]
        )
        moves.action_post()

    def test_lift_by_hand(self):
        campaign = self.campaign.with_user(self.user_accountant)
        self.assertEqual((campaign.lift_treated_count, campaign.lift_holdout_count), (40, 40))
        p1, p2 = 10 / 40, 4 / 40
        margin = 1.96 * math.sqrt(p1 * (1 - p1) / 40 + p2 * (1 - p2) / 40)
        self.assertAlmostEqual(campaign.lift_treated_rate, 25.0)
        self.assertAlmostEqual(campaign.lift_holdout_rate, 10.0)
        self.assertAlmostEqual(campaign.lift_rate_difference, 15.0)
        self.assertAlmostEqual(campaign.lift_rate_ci_low, 100 * (0.15 - margin), places=4)
        self.assertAlmostEqual(campaign.lift_rate_ci_high, 100 * (0.15 + margin), places=4)
        self.assertAlmostEqual(margin, 0.16325, places=4)
        self.assertEqual(campaign.lift_significance, "not_significant", "the interval includes 0")
        # revenue: 10 x 100 over 40 contacts against 4 x 100 over 40, sample variances by hand
        var1 = (10 * 75**2 + 30 * 25**2) / 39
        var2 = (4 * 90**2 + 36 * 10**2) / 39
        revenue_margin = 1.96 * math.sqrt(var1 / 40 + var2 / 40)
        self.assertAlmostEqual(campaign.lift_revenue_treated, 25.0)
        self.assertAlmostEqual(campaign.lift_revenue_holdout, 10.0)
        self.assertAlmostEqual(campaign.lift_revenue_difference, 15.0)
        self.assertAlmostEqual(campaign.lift_revenue_ci_low, 15.0 - revenue_margin, places=2)
        self.assertAlmostEqual(campaign.lift_revenue_ci_high, 15.0 + revenue_margin, places=2)
        # the accountant reads it all and changes nothing
        with self.assertRaises(AccessError):
            campaign.write({"holdout_share": 20})

    def test_held_out_of_one_action_but_reached_by_another_is_treated(self):
        other = self._email_action(self.campaign, name="Other")
        self.env["campaign.touchpoint"].create(
            [{"action_id": other.id, "partner_id": p.id, "state": "sent"} for p in self.held[:15]]
        )
        campaign = self.campaign.with_user(self.user_accountant)
        self.assertEqual((campaign.lift_treated_count, campaign.lift_holdout_count), (55, 25))
        # converters: 10 treated + the 4 held-out ones, now reached by the other action
        self.assertAlmostEqual(campaign.lift_treated_rate, 100 * 14 / 55)
        self.assertAlmostEqual(campaign.lift_holdout_rate, 0.0)

    def test_too_few(self):
        self.campaign.touchpoint_ids.filtered(lambda t: t.partner_id in self.held[20:]).unlink()
        self.assertEqual(self.campaign.lift_holdout_count, 20)
        self.assertEqual(self.campaign.lift_significance, "too_few")


@tagged("post_install", "-at_install")
class TestHoldoutOverRpc(CampaignHttpCase):
    """A share of 100 % or below 0, sent over JSON-RPC by a plain campaign user, is refused with a
    clear message and nothing is written."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        cls.campaign = cls.env["campaign.campaign"].with_user(cls.user_marketing).create({"name": "RpcHoldout"})

    def test_bad_share_refused(self):
        expected = {"en_US": "must be between 0 and 50 %", "fr_FR": "doit être comprise entre 0 et 50 %"}
        for share in (100, -5):
            for lang, message in expected.items():
                with self.subTest(share=share, lang=lang), self.assertRaises(RpcError) as caught:
                    self.json2(
                        self.user_marketing,
                        "campaign.campaign",
                        "write",
                        ids=self.campaign.ids,
                        vals={"holdout_share": share},
                        context={"lang": lang},
                    )
                self.assertEqual(caught.exception.name, "odoo.exceptions.ValidationError")
                self.assertIn(message, caught.exception.message)
        self.campaign.invalidate_recordset()
        self.assertEqual(self.campaign.holdout_share, 0)
