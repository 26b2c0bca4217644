from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import CampaignHttpCase, RpcError

FIELDS = ["revenue_attributed", "revenue_invoiced"]


@tagged("post_install", "-at_install")
class TestAttribution(CampaignHttpCase):
    """Revenue attributed by contact: one buyer (a company, reached as itself and through its
    contact Ann) touched by three campaigns, an invoice of 1,000.00 carrying no campaign on
    2024-05-25 and a credit note of 100.00 reversing it on 2024-06-30 (shared as the invoice it
    reverses), 900.00 net. In the 30 days before the invoice: A on 2024-05-01 (the company), B on
    2024-05-10, C on 2024-05-20 (Ann). Not counted: A's touchpoint of 2024-03-01 (before the window),
    B's of 2024-05-26 (after the invoice), C's excluded touchpoint, A's touchpoint to another
    contact. By hand:

    - last touch: C 900; first touch: A 900; linear: 300 each;
    - position-based: A 360 (40 %), B 180 (20 %), C 360 (40 %);
    - with a window of 20 days (from 2024-05-05), B and C: position-based 450 each."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.buyer = env["res.partner"].create({"name": "Attribution Buyer", "is_company": True})
        cls.ann = env["res.partner"].create({"name": "Ann Buyer", "parent_id": cls.buyer.id, "email": "ann@b.example"})
        cls.zed = env["res.partner"].create({"name": "Zed Other", "email": "zed@o.example"})
        cls.a, cls.b, cls.c = (env["campaign.campaign"].create({"name": name}) for name in ("AttrA", "AttrB", "AttrC"))

        def touch(campaign, partner, day, state="sent", name="Mail"):
            action = env["campaign.action"].create({"campaign_id": campaign.id, "name": name, "channel": "email"})
            return env["campaign.touchpoint"].create(
                {"action_id": action.id, "partner_id": partner.id, "state": state, "date_done": f"{day} 10:00:00"}
            )

        touch(cls.a, cls.ann, "2024-03-01", name="Too early")
        touch(cls.a, cls.buyer, "2024-05-01")
        touch(cls.a, cls.zed, "2024-05-15", name="Someone else")
        touch(cls.b, cls.ann, "2024-05-10", state="opened")
        touch(cls.b, cls.ann, "2024-05-26", name="Too late")
        touch(cls.c, cls.ann, "2024-05-20", state="clicked")
        touch(cls.c, cls.ann, "2024-05-21", state="excluded", name="Excluded")
        product = env["product.product"].create({"name": "Attributed thing", "standard_price": 0})

        def invoice(partner, amount, day, move_type="out_invoice", **values):
            move = env["account.move"].create(
                {
                    "move_type": move_type,
                    "partner_id": partner.id,
                    "invoice_date": day,
                    "invoice_line_ids": [
                        Command.create({"product_id": product.id, "quantity": 1, "price_unit": amount, "tax_ids": []})
                    ],
                    **values,
                }
            )
            move.action_post()
            return move

        cls.invoice = invoice(cls.ann, 1000, "2024-05-25")
        cls.refund = invoice(cls.buyer, 100, "2024-06-30", move_type="out_refund", reversed_entry_id=cls.invoice.id)
        cls.untouched = invoice(env["res.partner"].create({"name": "Nobody reached"}), 5000, "2024-05-25")
        cls.env["res.lang"]._activate_lang("fr_FR")
        cls.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        cls.admin = new_test_user(env, login="attr_admin", groups="base.group_system,base.group_erp_manager")
        cls._rpc_class_keys[cls.admin.id] = cls._rpc_new_key(cls.admin)

    def _set(self, model, days=30):
        self.company.write({"campaign_attribution_model": model, "campaign_attribution_days": days})
        self.env.invalidate_all()

    def _shares(self, user=None):
        rows = self.json2(
            user or self.user_manager, "campaign.campaign", "read", ids=(self.a | self.b | self.c).ids, fields=FIELDS
        )
        return [row["revenue_attributed"] for row in rows]

    def test_each_model_by_hand(self):
        expected = {
            "last": [0.0, 0.0, 900.0],
            "first": [900.0, 0.0, 0.0],
            "linear": [300.0, 300.0, 300.0],
            "position": [360.0, 180.0, 360.0],
        }
        for model, shares in expected.items():
            with self.subTest(model=model):
                self._set(model)
                self.assertEqual(self._shares(), shares)
        self._set("position", days=20)
        self.assertEqual(self._shares(), [0.0, 450.0, 450.0])
        self._set("last", days=20)
        self.assertEqual(self._shares(), [0.0, 0.0, 900.0])

    def test_analysis_groups_both_and_the_documents(self):
        self._set("linear")
        groups = self.json2(
            self.user_accountant,
            "campaign.analysis.report",
            "formatted_read_group",
            domain=[("campaign_id", "in", (self.a | self.b | self.c).ids)],
            groupby=["campaign_id"],
            aggregates=["revenue_attributed:sum", "revenue_invoiced:sum"],
        )
        sums = {g["campaign_id"][1]: (g["revenue_attributed:sum"], g["revenue_invoiced:sum"]) for g in groups}
        self.assertEqual(sums, {"AttrA": (300.0, 0.0), "AttrB": (300.0, 0.0), "AttrC": (300.0, 0.0)})
        action = self.json2(
            self.user_accountant, "campaign.campaign", "action_view_attributed_invoices", ids=self.b.ids
        )
        moves = self.json2(
            self.user_accountant, "account.move", "search_read", domain=action["domain"], fields=["name"]
        )
        self.assertEqual(sorted(move["id"] for move in moves), sorted((self.invoice | self.refund).ids))

    def test_accountant_and_user_read_and_change_nothing(self):
        self._set("first")
        self.assertEqual(self._shares(self.user_accountant), [900.0, 0.0, 0.0])
        self.assertEqual(self._shares(self.user_marketing), [900.0, 0.0, 0.0])
        for user in (self.user_accountant, self.user_marketing):
            with self.subTest(user=user.login), self.assertRaises(RpcError) as caught:
                self.json2(
                    user, "res.company", "write", ids=self.company.ids, vals={"campaign_attribution_model": "last"}
                )
            self.assertEqual(caught.exception.name, "odoo.exceptions.AccessError")
        self.assertEqual(self.company.campaign_attribution_model, "first")

    def test_window_of_zero_refused_in_the_users_language(self):
        expected = {"en_US": "must be between 1 and 366 days", "fr_FR": "doit être comprise entre 1 et 366 jours"}
        for days in (0, -5, 400):
            for lang, message in expected.items():
                with self.subTest(days=days, lang=lang), self.assertRaises(RpcError) as caught:
                    self.json2(
                        self.admin,
                        "res.config.settings",
                        "create",
                        vals_list=[{"campaign_attribution_days": days}],
                        context={"lang": lang},
                    )
                self.assertEqual(caught.exception.name, "odoo.exceptions.ValidationError")
                self.assertIn(message, caught.exception.message)
        self.company.invalidate_recordset()
        self.assertEqual(self.company.campaign_attribution_days, 30, "nothing written")
