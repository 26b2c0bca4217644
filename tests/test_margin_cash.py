from datetime import date

from odoo import Command
from odoo.tests import tagged

from .common import CampaignCase, CampaignHttpCase, RpcError, foreign_currency


class MarginCashFixture:
    """One campaign with costs on two dates, two invoices (one in a foreign currency, one counted in
    dozens), a credit note set against the first, a partial payment and a full one at another rate.

    Company currency: the test company's; the foreign currency is worth 2.00 until 2024-03-01 and
    1.25 from then on (rates 0.5 and 0.8). The sale tax is 15 %. By hand:

    - revenue invoiced: 1,000 + 400 × 2 - 100 = 1,700.00;
    - cost of goods sold (cost 30 a unit): 10 × 30 + 24 × 30 - 1 × 30 = 990.00; margin 710.00;
    - cost: 400.00 on 2024-01-05 and 300.00 on 2024-02-20, 700.00 in all;
    - margin ROI: (710 - 700) / 700 = 1.43 %;
    - cash: 575.00 paid on the first invoice (1,150.00 with tax) on 2024-01-20, untaxed share 500.00;
      460.00 in the foreign currency (the whole second invoice, 400 + 15 %) on 2024-03-05 at 1.25:
      575.00, untaxed share 500.00; the credit note set against the first invoice is not cash:
      1,000.00 cashed; cash ROI (1,000 - 700) / 700 = 42.86 %;
    - payback: 500 ≥ 400 on 2024-01-20, but the cost of 2024-02-20 takes it under again (700 > 500),
      until the payment of 2024-03-05 (1,000 ≥ 700): 2024-03-05."""

    @classmethod
    def _fixture(cls):
        env = cls.env
        cls.currency = cls.company.currency_id
        cls.foreign = foreign_currency(env, cls.company)
        cls.sale_tax = cls.company.account_sale_tax_id.copy({"name": "Sale 15% margin", "amount": 15})
        cls.gadget = env["product.product"].create(
            {"name": "Gadget", "type": "consu", "list_price": 100, "standard_price": 30}
        )
        cls.dozen = env.ref("uom.product_uom_dozen")
        cls.buyer = env["res.partner"].create({"name": "Margin Buyer", "is_company": True})
        cls.campaign = env["campaign.campaign"].create({"name": "MarginCash", "budget": 1000})
        cls.campaign.action_create_analytic_account()
        column = env.ref("campaign_manager.analytic_plan_campaigns")._column_name()
        env["account.analytic.line"].create(
            [
                {"name": "Printing", column: cls.campaign.analytic_account_id.id, "amount": -400, "date": "2024-01-05"},
                {"name": "Stand", column: cls.campaign.analytic_account_id.id, "amount": -300, "date": "2024-02-20"},
            ]
        )
        cls.invoice = cls._invoice(1000 / 10, 10, "2024-01-10")
        cls.invoice_foreign = cls._invoice(200, 2, "2024-01-15", currency=cls.foreign, uom=cls.dozen)
        cls.refund = cls._invoice(100, 1, "2024-03-10", move_type="out_refund", reversed_entry_id=cls.invoice.id)
        cls._pay(cls.invoice, 575, "2024-01-20")
        cls._pay(cls.invoice_foreign, 460, "2024-03-05", currency=cls.foreign)
        # the credit note set against what is left of the first invoice: not cash
        (cls.invoice | cls.refund).line_ids.filtered(lambda line: line.display_type == "payment_term").reconcile()
        cls.other = env["campaign.campaign"].create({"name": "OtherMargin"})

    @classmethod
    def _invoice(cls, price, quantity, day, move_type="out_invoice", currency=None, uom=None, **values):
        move = cls.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": cls.buyer.id,
                "invoice_date": day,
                "date": day,
                "currency_id": (currency or cls.currency).id,
                "campaign_id": cls.campaign.utm_campaign_id.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": cls.gadget.id,
                            "quantity": quantity,
                            "price_unit": price,
                            "product_uom_id": (uom or cls.gadget.uom_id).id,
                            "tax_ids": [Command.set(cls.sale_tax.ids)],
                        }
                    )
                ],
                **values,
            }
        )
        move.action_post()
        return move

    @classmethod
    def _pay(cls, move, amount, day, currency=None):
        wizard = (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=move.ids)
            .create({"amount": amount, "payment_date": day, "currency_id": (currency or cls.currency).id})
        )
        return wizard._create_payments()


@tagged("post_install", "-at_install")
class TestMarginCash(MarginCashFixture, CampaignCase):
    """Margin ROI, cash ROI and payback date, to the cent against the documents."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._fixture()

    def test_margin_cash_and_payback_to_the_cent(self):
        campaign = self.campaign
        self.assertEqual(campaign.cost_actual, 700.00)
        self.assertEqual(campaign.revenue_invoiced, 1700.00)
        self.assertEqual(campaign.cogs, 990.00)
        self.assertEqual(campaign.margin, 710.00)
        self.assertAlmostEqual(campaign.roi_margin, 1.43, places=2)
        self.assertEqual(campaign.revenue_paid, 1000.00)
        self.assertAlmostEqual(campaign.roi_cash, 42.86, places=2)
        self.assertEqual(campaign.payback_date, date(2024, 3, 5))
        self.assertFalse(self.other.payback_date, "no cost, no cash: no payback")
        self.assertEqual((self.other.revenue_paid, self.other.margin), (0.0, 0.0))

    def test_payback_follows_the_cash(self):
        # a third cost of 400 on 2024-03-20 takes the cash under the cost again (1,000 < 1,100)
        column = self.env.ref("campaign_manager.analytic_plan_campaigns")._column_name()
        self.env["account.analytic.line"].create(
            {"name": "Late", column: self.campaign.analytic_account_id.id, "amount": -400, "date": "2024-03-20"}
        )
        self.env.invalidate_all()
        self.assertFalse(self.campaign.payback_date)
        self.assertEqual(self.campaign.revenue_paid, 1000.00)

    def test_the_documents_behind_the_figures(self):
        campaign = self.campaign.with_user(self.user_accountant)
        # the margin by product: Odoo's invoice analysis of the same invoices gives the same amounts
        action = campaign.action_view_margin()
        lines = self.env[action["res_model"]].with_user(self.user_accountant).search(action["domain"])
        self.assertAlmostEqual(sum(lines.mapped("price_subtotal")), 1700.00, places=2)
        self.assertAlmostEqual(sum(lines.mapped("price_margin")), 710.00, places=2)
        # the cash: the two payments, the credit note not among them
        action = campaign.action_view_payments()
        self.assertEqual(action["res_model"], "account.payment")
        payments = self.env["account.payment"].with_user(self.user_accountant).search(action["domain"])
        self.assertEqual(sorted(payments.mapped("date")), [date(2024, 1, 20), date(2024, 3, 5)])
        self.assertEqual(sorted(payments.mapped("amount")), [460.00, 575.00])

    def test_analysis_agrees_with_the_campaign(self):
        report = self.env["campaign.analysis.report"]
        rows = report.search([("campaign_id", "=", self.campaign.id)])
        self.assertAlmostEqual(sum(rows.mapped("cogs")), 990.00, places=2)
        self.assertAlmostEqual(sum(rows.mapped("margin")), 710.00, places=2)
        self.assertAlmostEqual(sum(rows.mapped("revenue_paid")), 1000.00, places=2)
        paid = rows.filtered(lambda row: row.kind == "payment")
        self.assertEqual(sorted(paid.mapped("date")), [date(2024, 1, 20), date(2024, 3, 5)])

    def test_stock_valuation_cost_where_the_invoice_has_one(self):
        """An invoice whose cost of goods sold was booked by the stock valuation (anglo-saxon lines
        of type 'cogs', as stock_account writes them) is valued by those lines, not the product's
        cost: 2 gadgets valued 25 each by the stock count 50, not 60."""
        expense = self.env["account.account"].search(
            [("company_ids", "in", self.company.id), ("account_type", "=", "expense_direct_cost")], limit=1
        )
        stock = self.env["account.account"].search(
            [("company_ids", "in", self.company.id), ("account_type", "=", "asset_current")], limit=1
        )
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.buyer.id,
                "invoice_date": "2024-02-01",
                "campaign_id": self.campaign.utm_campaign_id.id,
                "invoice_line_ids": [
                    Command.create({"product_id": self.gadget.id, "quantity": 2, "price_unit": 100, "tax_ids": []})
                ],
            }
        )
        move.write(
            {
                "line_ids": [
                    Command.create(
                        {
                            "display_type": "cogs",
                            "name": "Gadget",
                            "product_id": self.gadget.id,
                            "quantity": 2,
                            "price_unit": price,
                            "account_id": account.id,
                            "balance": balance,
                        }
                    )
                    for price, account, balance in ((25, stock, -50), (-25, expense, 50))
                ]
            }
        )
        move.action_post()
        self.env.invalidate_all()
        self.assertEqual(self.campaign.cogs, 990.00 + 50.00)
        self.assertEqual(self.campaign.margin, 710.00 + 150.00)


@tagged("post_install", "-at_install")
class TestMarginCashRpc(MarginCashFixture, CampaignHttpCase):
    """An accountant reads the margin, cash and payback over JSON-RPC and changes nothing; a campaign
    user reads the figures without opening the accounting documents."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._fixture()

    def test_accountant_reads_and_changes_nothing(self):
        fields = ["margin", "roi_margin", "revenue_paid", "roi_cash", "payback_date", "revenue_attributed"]
        for user in (self.user_accountant, self.user_marketing):
            [values] = self.json2(user, "campaign.campaign", "read", ids=self.campaign.ids, fields=fields)
            self.assertEqual(values["margin"], 710.00)
            self.assertEqual(values["revenue_paid"], 1000.00)
            self.assertEqual(values["payback_date"], "2024-03-05")
            self.assertAlmostEqual(values["roi_cash"], 42.86, places=2)
        action = self.json2(self.user_accountant, "campaign.campaign", "action_view_payments", ids=self.campaign.ids)
        payments = self.json2(
            self.user_accountant, action["res_model"], "search_read", domain=action["domain"], fields=["date"]
        )
        self.assertEqual(len(payments), 2)
        for user, model, method, params in (
            (self.user_accountant, "campaign.campaign", "write", {"ids": self.campaign.ids, "vals": {"budget": 1}}),
            (self.user_marketing, "account.payment", "search_read", {"domain": action["domain"], "fields": ["date"]}),
        ):
            with self.subTest(user=user.login, method=method), self.assertRaises(RpcError) as caught:
                self.json2(user, model, method, **params)
            self.assertEqual(caught.exception.name, "odoo.exceptions.AccessError")
        self.assertEqual(self.campaign.budget, 1000)
