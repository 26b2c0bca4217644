import math

from odoo import Command
from odoo.tests import tagged

from .common import CampaignHttpCase, RpcError

PROGRAMME_FIELDS = [
    "programme_campaign_count",
    "programme_budget",
    "programme_cost_actual",
    "programme_revenue",
    "programme_roi",
    "programme_lift_treated_count",
    "programme_lift_holdout_count",
    "programme_lift_rate_difference",
    "programme_lift_rate_ci_low",
    "programme_lift_rate_ci_high",
    "programme_lift_revenue_difference",
    "programme_lift_significance",
]


@tagged("post_install", "-at_install")
class TestProgramme(CampaignHttpCase):
    """A programme "Spring" with two campaigns, one of which has a campaign of its own, and a
    personal campaign of another user that only managers see: every roll-up checked by hand, read
    over JSON-RPC by a campaign user, a manager and an accountant.

    Costs: the fixed costs of actions carried out (Email 120, Letter 50, Web 10, Hidden 999). Revenue: invoices
    carrying each campaign's UTM campaign (Email 1,000, Letter 300). Lift: Email holds out 30
    contacts against 30 treated (9 and 3 buyers), Letter 20 against 20 (4 and 1 buyers)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        Campaign = cls.env["campaign.campaign"]
        period = {"date_start": "2026-01-01", "date_end": "2026-06-30"}
        cls.spring = Campaign.create({"name": "Spring", "budget": 500})
        cls.email = Campaign.create({"name": "SpringEmail", "budget": 1000, "holdout_share": 10, **period})
        cls.letter = Campaign.create({"name": "SpringLetter", "budget": 2500, "holdout_share": 10, **period})
        cls.web = Campaign.create({"name": "SpringWeb", "budget": 100})
        cls.hidden = Campaign.create(
            {"name": "SpringPrivate", "budget": 7000, "scope": "personal", "user_id": cls.user_marketing_2.id}
        )
        cls.hidden.parent_id = cls.spring
        # the campaign user puts the others in the programme over JSON-RPC (_join)
        (cls.email | cls.letter | cls.web).user_id = cls.user_marketing
        cls.partners = cls.env["res.partner"].create(
            [{"name": f"spring {i}", "email": f"spring.{i}@example.com"} for i in range(100)]
        )
        cls.product = cls.env["product.product"].create({"name": "Spring product", "list_price": 100})
        cls.customer = cls.env["res.partner"].create({"name": "Spring customer", "email": "customer@example.com"})
        moves = []
        groups = [(cls.email, 0, 30, 9, 3, 120), (cls.letter, 60, 20, 4, 1, 50)]
        for campaign, start, size, treated_buyers, held_buyers, cost in groups:
            treated = cls.partners[start : start + size]
            held = cls.partners[start + size : start + 2 * size]
            action = cls.env["campaign.action"].create(
                {"campaign_id": campaign.id, "name": "Main", "channel": "task", "fixed_cost": cost}
            )
            cls.env["campaign.touchpoint"].create(
                [{"action_id": action.id, "partner_id": p.id, "state": "done"} for p in treated]
                + [
                    {"action_id": action.id, "partner_id": p.id, "state": "excluded", "exclusion_reason": "held_out"}
                    for p in held
                ]
            )
            moves += [cls._move(partner, 100) for partner in treated[:treated_buyers] | held[:held_buyers]]
        for campaign, cost in ((cls.web, 10), (cls.hidden, 999)):
            action = cls.env["campaign.action"].create(
                {"campaign_id": campaign.id, "name": "Costly", "channel": "task", "fixed_cost": cost}
            )
            cls.env["campaign.touchpoint"].create(
                {"action_id": action.id, "partner_id": cls.customer.id, "state": "done"}
            )
        moves += [
            cls._move(cls.customer, 1000, campaign_id=cls.email.utm_campaign_id.id, invoice_date="2027-01-10"),
            cls._move(cls.customer, 300, campaign_id=cls.letter.utm_campaign_id.id, invoice_date="2027-01-10"),
        ]
        cls.env["account.move"].create(moves).action_post()

    @classmethod
    def _move(cls, partner, amount, **values):
        return {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": "2026-03-01",
            "invoice_line_ids": [
                Command.create({"product_id": cls.product.id, "price_unit": amount, "tax_ids": [Command.clear()]})
            ],
            **values,
        }

    def _join(self, user):
        for campaign, parent in ((self.email, self.spring), (self.letter, self.spring), (self.web, self.email)):
            self.json2(user, "campaign.campaign", "write", ids=campaign.ids, vals={"parent_id": parent.id})

    def _read(self, user, campaign):
        return self.json2(user, "campaign.campaign", "read", ids=campaign.ids, fields=PROGRAMME_FIELDS)[0]

    def test_roll_up_by_hand(self):
        self._join(self.user_marketing)
        figures = self._read(self.user_marketing, self.spring)
        # what the user sees: Spring, Email, Letter and Email's Web campaign; not the personal one
        self.assertEqual(figures["programme_campaign_count"], 3)
        self.assertEqual(figures["programme_budget"], 500 + 1000 + 2500 + 100)
        self.assertEqual(figures["programme_cost_actual"], 120 + 50 + 10)
        self.assertEqual(figures["programme_revenue"], 1300)
        self.assertAlmostEqual(figures["programme_roi"], (1300 - 180) / 180 * 100, places=2)
        # lift pooled over Email and Letter: 13 of 50 treated against 4 of 50 held out
        p1, p2 = 13 / 50, 4 / 50
        margin = 1.96 * math.sqrt(p1 * (1 - p1) / 50 + p2 * (1 - p2) / 50)
        self.assertEqual((figures["programme_lift_treated_count"], figures["programme_lift_holdout_count"]), (50, 50))
        self.assertAlmostEqual(figures["programme_lift_rate_difference"], 18.0)
        self.assertAlmostEqual(figures["programme_lift_rate_ci_low"], 100 * (0.18 - margin), places=4)
        self.assertAlmostEqual(figures["programme_lift_rate_ci_high"], 100 * (0.18 + margin), places=4)
        self.assertEqual(figures["programme_lift_significance"], "significant", "3.7 to 32.3 points")
        self.assertAlmostEqual(figures["programme_lift_revenue_difference"], 1300 / 50 - 400 / 50)
        # the pooled variance of the revenue is that of the 100 contacts taken together
        pooled = self.env["campaign.campaign"]._lift_pool(
            self.email._lift_figures() | self.letter._lift_figures(), self.email | self.letter, "treated"
        )
        amounts = [100] * 13 + [0] * 37
        mean = sum(amounts) / 50
        self.assertAlmostEqual(pooled[3], sum((a - mean) ** 2 for a in amounts) / 49)
        # a sub-programme rolls up its own campaigns; a campaign alone shows its own figures
        email = self._read(self.user_marketing, self.email)
        self.assertEqual((email["programme_campaign_count"], email["programme_budget"]), (1, 1100))
        self.assertEqual(email["programme_lift_treated_count"], 30)
        web = self._read(self.user_marketing, self.web)
        self.assertEqual((web["programme_campaign_count"], web["programme_cost_actual"]), (0, 10))
        # a manager sees every campaign of the programme, the personal one included
        manager = self._read(self.user_manager, self.spring)
        self.assertEqual(manager["programme_campaign_count"], 4)
        self.assertEqual(manager["programme_budget"], 11100)
        self.assertEqual(manager["programme_cost_actual"], 1179)

    def test_cockpit_grouped_by_programme(self):
        self._join(self.user_marketing)
        groups = self.json2(
            self.user_marketing,
            "campaign.campaign",
            "formatted_read_group",
            domain=[("name", "=like", "Spring%")],
            groupby=["parent_id"],
            aggregates=["__count", "budget:sum"],
        )
        counts = {group["parent_id"] and group["parent_id"][1]: group["__count"] for group in groups}
        self.assertEqual(counts, {False: 1, "Spring": 2, "SpringEmail": 1})
        action = self.json2(
            self.user_marketing, "campaign.campaign", "action_view_programme_campaigns", ids=self.spring.ids
        )
        found = self.json2(
            self.user_marketing, "campaign.campaign", "search_read", domain=action["domain"], fields=["name"]
        )
        self.assertEqual(sorted(r["name"] for r in found), ["SpringEmail", "SpringLetter", "SpringWeb"])
        self.assertEqual(action["context"]["default_parent_id"], self.spring.id)

    def test_cycle_refused_in_the_users_language(self):
        self._join(self.user_marketing)
        self.spring.user_id = self.user_marketing
        expected = {"en_US": "A programme cannot be one of its own campaigns", "fr_FR": "Un programme ne peut pas"}
        for campaign, parent in ((self.spring, self.web), (self.email, self.email)):
            for lang, message in expected.items():
                with self.subTest(campaign=campaign.name, lang=lang), self.assertRaises(RpcError) as caught:
                    self.json2(
                        self.user_marketing,
                        "campaign.campaign",
                        "write",
                        ids=campaign.ids,
                        vals={"parent_id": parent.id},
                        context={"lang": lang},
                    )
                self.assertEqual(caught.exception.name, "odoo.exceptions.ValidationError")
                self.assertIn(message, caught.exception.message)
        self.spring.invalidate_recordset()
        self.assertFalse(self.spring.parent_id, "nothing written")
        self.assertEqual(self.email.parent_id, self.spring)

    def test_links_checked(self):
        # another user's personal campaign is out of reach: it cannot become anyone's programme
        with self.assertRaises(RpcError) as caught:
            self.json2(
                self.user_marketing,
                "campaign.campaign",
                "write",
                ids=self.email.ids,
                vals={"parent_id": self.hidden.id},
            )
        self.assertIn(caught.exception.name, ("odoo.exceptions.AccessError", "odoo.exceptions.ValidationError"))
        self.assertFalse(self.email.parent_id)
        # an accountant reads the roll-ups and changes nothing
        self._join(self.user_marketing)
        figures = self._read(self.user_accountant, self.spring)
        self.assertEqual(figures["programme_revenue"], 1300)
        with self.assertRaises(RpcError) as caught:
            self.json2(self.user_accountant, "campaign.campaign", "write", ids=self.web.ids, vals={"parent_id": False})
        self.assertEqual(caught.exception.name, "odoo.exceptions.AccessError")
        self.assertEqual(self.web.parent_id, self.email)
