import lxml.html

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import CampaignCase, foreign_currency


@tagged("post_install", "-at_install")
class TestCampaignRoi(CampaignCase):
    """One campaign with every source of cost and revenue, every figure asserted to the cent.

    Company currency: the test company's (USD); the foreign currency is worth 2.00 on 2024-01-01 and
    1.25 from 2024-03-01 (rates 0.5 and 0.8)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.currency = cls.company.currency_id
        cls.foreign = foreign_currency(env, cls.company)
        # taxes of the chart of accounts (with their tax accounts): the tax is not a cost
        cls.sale_tax = cls.company.account_sale_tax_id.copy({"name": "Sale 15%", "amount": 15})
        cls.purchase_tax = cls.company.account_purchase_tax_id.copy({"name": "Purchase 20%", "amount": 20})
        cls.product = env["product.product"].create(
            {"name": "Widget", "type": "service", "list_price": 100, "taxes_id": [Command.set(cls.sale_tax.ids)]}
        )
        cls.printing = env["product.product"].create(
            {"name": "Printing", "type": "service", "supplier_taxes_id": [Command.set(cls.purchase_tax.ids)]}
        )
        cls.travel = env["product.product"].create(
            {
                "name": "Travel",
                "type": "service",
                "can_be_expensed": True,
                "standard_price": 0,
                "supplier_taxes_id": [Command.set(cls.purchase_tax.ids)],
            }
        )
        cls.meal = env["product.product"].create(
            {"name": "Meal", "type": "service", "can_be_expensed": True, "standard_price": 0, "supplier_taxes_id": []}
        )

        # Contacts: p[0..12] individuals, a customer company, a supplier
        cls.p = cls._partners(13, prefix="roi")
        cls.customer_company = env["res.partner"].create({"name": "Beta Corp", "is_company": True})
        cls.supplier = env["res.partner"].create({"name": "PrintShop", "is_company": True})

        cls.campaign = cls._campaign("RoiTest", budget=5000, expected_revenue=3000, expected_sales=4)
        cls.campaign.action_create_project()
        cls.account = cls.campaign.analytic_account_id
        cls.column = env.ref("campaign_manager.analytic_plan_campaigns")._column_name()
        cls.other_campaign = cls._campaign("OtherRoi", budget=100)
        cls.utm = cls.campaign.utm_campaign_id

        Action = env["campaign.action"]
        cls.email = Action.create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Offer email",
                "channel": "email",
                "fixed_cost": 100,
                "unit_cost": 0.10,
                "state": "done",
            }
        )
        cls.letter = Action.create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Letter",
                "channel": "letter",
                "fixed_cost": 50,
                "unit_cost": 1.20,
                "expected_units": 20,
            }
        )
        cls.sms = Action.create(
            {
                "campaign_id": cls.campaign.id,
                "name": "SMS reminder",
                "channel": "sms",
                "unit_cost": 0.05,
                "state": "running",
            }
        )
        cls.cancelled = Action.create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Dropped",
                "channel": "email",
                "fixed_cost": 80,
                "unit_cost": 1,
                "expected_units": 100,
                "state": "cancelled",
            }
        )
        cls._touchpoints()
        cls._expenses()
        cls._timesheets()
        cls._bills()
        cls._invoices()
        cls._orders()
        cls._leads()

    # ------------------------------------------------------------------
    # FIXTURE
    # ------------------------------------------------------------------
    @classmethod
    def _touchpoints(cls):
        done = "2024-02-01 10:00:00"
        p = cls.p
        email = [
            {"partner_id": p[0].id, "state": "sent", "date_done": done},
            {"partner_id": p[1].id, "state": "sent", "date_done": done},
            {"partner_id": p[2].id, "state": "opened", "date_done": done, "date_opened": done, "open_count": 3},
            {"partner_id": p[3].id, "state": "opened", "date_done": done, "date_opened": done, "open_count": 1},
            {
                "partner_id": p[4].id,
                "state": "clicked",
                "date_done": done,
                "date_opened": done,
                "open_count": 2,
                "date_clicked": done,
                "click_count": 1,
            },
            {
                "partner_id": p[5].id,
                "state": "clicked",
                "date_done": done,
                "date_opened": done,
                "open_count": 2,
                "date_clicked": done,
                "click_count": 4,
                "date_visited": done,
            },
            {"partner_id": p[6].id, "state": "bounced", "date_done": done, "date_bounced": done},
            {
                "partner_id": p[7].id,
                "state": "unsubscribed",
                "date_done": done,
                "date_opened": done,
                "open_count": 1,
                "date_unsubscribed": done,
            },
            {"partner_id": p[8].id, "state": "failed"},
            {"partner_id": p[9].id, "state": "excluded"},
        ]
        sms = [
            {"partner_id": p[0].id, "state": "sent", "date_done": done},
            {"partner_id": p[1].id, "state": "sent", "date_done": done},
            {"partner_id": p[10].id, "state": "sent", "date_done": done},
            {"partner_id": p[3].id, "state": "converted", "date_done": done, "date_converted": done},
            {"partner_id": p[11].id, "state": "replied", "date_done": done, "date_replied": done},
            {"partner_id": p[12].id, "state": "queued"},
            {"partner_id": p[2].id, "state": "queued"},
        ]
        cls.env["campaign.touchpoint"].create(
            [{"action_id": cls.email.id, **vals} for vals in email]
            + [{"action_id": cls.sms.id, **vals} for vals in sms]
        )

    @classmethod
    def _expenses(cls):
        env = cls.env
        cls.paul = env["hr.employee"].create({"name": "Paul Painter", "hourly_cost": 30, "company_id": cls.company.id})
        cls.jade = env["hr.employee"].create({"name": "Jade Joiner", "hourly_cost": 45, "company_id": cls.company.id})
        Expense = env["hr.expense"]

        def expense(name, product, amount, **values):
            return Expense.create(
                {
                    "name": name,
                    "employee_id": cls.paul.id,
                    "product_id": product.id,
                    "total_amount_currency": amount,
                    "date": "2024-02-05",
                    "campaign_id": cls.campaign.id,
                    **values,
                }
            )

        cls.expense_draft = expense("Draft taxi", cls.meal, 40)
        cls.expense_submitted = expense("Submitted hotel", cls.meal, 60)
        cls.expense_approved = expense("Approved train, 20% tax", cls.travel, 120)
        cls.expense_refused = expense("Refused dinner", cls.meal, 70)
        cls.expense_posted = expense("Posted stand", cls.meal, 200)
        cls.expense_split = expense("Half for the campaign", cls.meal, 80)
        cls.expense_other = expense("Other campaign", cls.meal, 999, campaign_id=cls.other_campaign.id)
        cls.expense_submitted.approval_state = "submitted"
        cls.expense_refused.approval_state = "refused"
        (cls.expense_approved | cls.expense_posted | cls.expense_split | cls.expense_other).approval_state = "approved"
        other_plan_account = env["account.analytic.account"].create(
            {"name": "Elsewhere", "plan_id": env["account.analytic.plan"].create({"name": "Departments"}).id}
        )
        cls.expense_split.analytic_distribution = {
            str(cls.account.id): 50.0,
            str(other_plan_account.id): 50.0,
        }
        action = cls.expense_posted.action_post()
        wizard = env["hr.expense.post.wizard"].with_context(**action["context"]).browse(action["res_id"])
        wizard.accounting_date = "2024-02-06"
        wizard.action_post_entry()

    @classmethod
    def _timesheets(cls):
        project = cls.campaign.project_id
        task = cls.env["project.task"].create({"name": "Design the letter", "project_id": project.id})
        other_project = cls.env["project.project"].create({"name": "Not the campaign", "allow_timesheets": True})
        cls.env["account.analytic.line"].create(
            [
                {"name": "Brief", "project_id": project.id, "employee_id": cls.paul.id, "unit_amount": 2.0},
                {"name": "Mailing", "project_id": project.id, "employee_id": cls.paul.id, "unit_amount": 1.5},
                {"name": "Layout", "project_id": project.id, "employee_id": cls.jade.id, "unit_amount": 2.0},
                {"name": "Proofs", "task_id": task.id, "employee_id": cls.jade.id, "unit_amount": 1.0},
                {"name": "Elsewhere", "project_id": other_project.id, "employee_id": cls.jade.id, "unit_amount": 5.0},
            ]
        )

    @classmethod
    def _bill(cls, move_type, amount, post=True):
        bill = cls.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": cls.supplier.id,
                "invoice_date": "2024-02-15",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": cls.printing.id,
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.set(cls.purchase_tax.ids)],
                            "analytic_distribution": {str(cls.account.id): 100},
                        }
                    )
                ],
            }
        )
        if post:
            bill.action_post()
        return bill

    @classmethod
    def _bills(cls):
        cls.bill = cls._bill("in_invoice", 500)
        cls.bill_refund = cls._bill("in_refund", 50)
        cls.bill_draft = cls._bill("in_invoice", 300, post=False)
        cls.env["account.analytic.line"].create(
            {"name": "Stand rental", cls.column: cls.account.id, "amount": -24.95, "date": "2024-02-20"}
        )

    @classmethod
    def _invoice(cls, partner, amount, move_type="out_invoice", currency=None, date="2024-02-10", **values):
        move = cls.env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": partner.id,
                "invoice_date": date,
                "currency_id": (currency or cls.currency).id,
                "campaign_id": cls.utm.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": cls.product.id,
                            "quantity": 1,
                            "price_unit": amount,
                            "tax_ids": [Command.set(cls.sale_tax.ids)],
                            # a sale carrying the campaign's analytic account is revenue, not a cost refund
                            "analytic_distribution": {str(cls.account.id): 100},
                        }
                    )
                ],
                **values,
            }
        )
        move.action_post()
        return move

    @classmethod
    def _invoices(cls):
        cls.invoice_usd = cls._invoice(cls.p[0], 1000, source_id=cls.email.source_id.id)
        cls.invoice_foreign = cls._invoice(cls.customer_company, 500, currency=cls.foreign, date="2024-01-15")
        cls.refund_foreign = cls._invoice(
            cls.customer_company, 100, move_type="out_refund", currency=cls.foreign, date="2024-03-10"
        )
        cls.invoice_draft = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.p[1].id,
                "campaign_id": cls.utm.id,
                "invoice_line_ids": [Command.create({"product_id": cls.product.id, "price_unit": 999})],
            }
        )
        cls._invoice(cls.p[2], 777, campaign_id=cls.other_campaign.utm_campaign_id.id)

    @classmethod
    def _orders(cls):
        env = cls.env
        pricelist = env["product.pricelist"].create({"name": "Foreign", "currency_id": cls.foreign.id})

        def order(partner, amount, **values):
            return env["sale.order"].create(
                {
                    "partner_id": partner.id,
                    "campaign_id": cls.utm.id,
                    "order_line": [
                        Command.create(
                            {
                                "product_id": cls.product.id,
                                "product_uom_qty": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.set(cls.sale_tax.ids)],
                            }
                        )
                    ],
                    **values,
                }
            )

        cls.order_usd = order(cls.p[0], 1200, source_id=cls.email.source_id.id)
        cls.order_foreign = order(cls.p[3], 400, pricelist_id=pricelist.id)
        cls.order_cancelled = order(cls.p[4], 700)
        cls.order_draft = order(cls.p[5], 300)
        (cls.order_usd | cls.order_foreign | cls.order_cancelled).action_confirm()
        cls.order_foreign.date_order = "2024-01-20 12:00:00"
        cls.order_cancelled._action_cancel()

    @classmethod
    def _leads(cls):
        Lead = cls.env["crm.lead"]
        values = {"campaign_id": cls.utm.id, "type": "opportunity"}
        cls.opportunity_won = Lead.create(
            {
                **values,
                "name": "Won deal",
                "partner_id": cls.customer_company.id,
                "expected_revenue": 1500,
                "source_id": cls.email.source_id.id,
            }
        )
        cls.opportunity_lost = Lead.create(
            {**values, "name": "Lost deal", "partner_id": cls.p[5].id, "expected_revenue": 900}
        )
        cls.opportunity_open = Lead.create(
            {**values, "name": "Open deal", "partner_id": cls.p[4].id, "expected_revenue": 600}
        )
        cls.lead = Lead.create({"campaign_id": cls.utm.id, "type": "lead", "name": "Anonymous enquiry"})
        cls.opportunity_won.action_set_won()
        cls.opportunity_lost.action_set_lost()

    # ------------------------------------------------------------------
    # COSTS
    # ------------------------------------------------------------------
    def test_action_costs_planned_and_actual(self):
        # email: 9 touchpoints to carry (the excluded one is not), 8 carried out
        self.assertEqual(self.email.units_planned, 9)
        self.assertEqual(self.email.units_carried, 8)
        self.assertEqual(self.email.cost_planned, 100.90)
        self.assertEqual(self.email.cost_actual, 100.80)
        # letter: not run yet, 20 units expected
        self.assertEqual(self.letter.units_planned, 20)
        self.assertEqual(self.letter.cost_planned, 74.00)
        self.assertEqual(self.letter.cost_actual, 0.0)
        # SMS: 7 touchpoints, 5 carried out, no fixed cost
        self.assertEqual(self.sms.units_planned, 7)
        self.assertEqual(self.sms.cost_planned, 0.35)
        self.assertEqual(self.sms.cost_actual, 0.25)
        self.assertEqual((self.cancelled.cost_planned, self.cancelled.cost_actual), (0.0, 0.0))
        self.assertEqual(self.campaign.cost_planned, 175.25)
        self.assertEqual(self.campaign.cost_actions, 101.05)

    def test_expenses_by_state(self):
        campaign = self.campaign
        self.assertEqual(self.expense_posted.state, "posted")
        self.assertEqual(self.expense_approved.untaxed_amount, 100.0, "120 with 20% tax")
        # approved 100 (untaxed) + posted 200 + half of 80; draft and refused ones do not count
        self.assertEqual(campaign.cost_expenses, 340.00)
        self.assertEqual(campaign.committed_expenses, 60.00)
        # the campaign sets the analytic distribution; the posted one is in the accounting
        self.assertEqual(self.expense_approved.analytic_distribution, {str(self.account.id): 100.0})
        posted_items = self.env["account.analytic.line"].search(
            [("move_line_id.expense_id", "=", self.expense_posted.id), (self.column, "=", self.account.id)]
        )
        self.assertEqual(sum(posted_items.mapped("amount")), -200.00, "counted once, from the expense")

    def test_expense_campaign_sets_distribution_and_keeps_other_plans(self):
        department_plan = self.env["account.analytic.plan"].create({"name": "Teams"})
        team = self.env["account.analytic.account"].create({"name": "Team A", "plan_id": department_plan.id})
        expense = self.env["hr.expense"].create(
            {
                "name": "Flyers",
                "employee_id": self.paul.id,
                "product_id": self.meal.id,
                "total_amount_currency": 10,
                "analytic_distribution": {str(team.id): 100},
            }
        )
        campaign = self._campaign("NoAccountYet")
        self.assertFalse(campaign.analytic_account_id)
        expense.campaign_id = campaign
        self.assertTrue(campaign.analytic_account_id, "choosing the campaign creates its analytic account")
        self.assertEqual(expense.analytic_distribution, {f"{team.id},{campaign.analytic_account_id.id}": 100.0})
        expense.campaign_id = self.campaign
        self.assertEqual(expense.analytic_distribution, {f"{team.id},{self.account.id}": 100.0})

    def test_timesheets_valued_at_employee_cost(self):
        # Paul 3.5 h × 30 + Jade 3 h × 45 (one hour on a task); the other project does not count
        self.assertEqual(self.campaign.cost_timesheets, 240.00)
        timesheets = self.env["account.analytic.line"].search(self.campaign._timesheet_domain())
        self.assertEqual(len(timesheets), 4)
        self.assertEqual(-sum(timesheets.mapped("amount")), 240.00)
        self.assertEqual(set(timesheets.mapped(self.column)), {self.account})

    def test_bills_and_other_costs(self):
        campaign = self.campaign
        # 500 - 50 refunded, untaxed; the draft bill is committed
        self.assertEqual(campaign.cost_bills, 450.00)
        self.assertEqual(campaign.committed_bills, 300.00)
        self.assertEqual(campaign.cost_other, 24.95, "the manual analytic item; customer invoices are left out")
        self.assertEqual(campaign.cost_actual, 1156.00)
        self.assertEqual(campaign.cost_committed, 360.00)
        self.assertEqual(campaign.budget_used_pct, 23.12, "percentages are rounded to 2 decimals")

    def test_cost_follows_the_documents(self):
        campaign = self.campaign
        self.bill_draft.action_post()
        self.expense_submitted.approval_state = "approved"
        self.expense_approved.approval_state = "refused"
        campaign.invalidate_recordset()
        self.assertEqual(campaign.cost_bills, 750.00)
        self.assertEqual(campaign.committed_bills, 0.0)
        self.assertEqual(campaign.cost_expenses, 300.00)
        self.assertEqual(campaign.committed_expenses, 0.0)
        self.assertEqual(campaign.cost_actual, 1416.00)

    # ------------------------------------------------------------------
    # REVENUE
    # ------------------------------------------------------------------
    def test_revenue_sources(self):
        campaign = self.campaign
        # invoices: 1000 + 500 at 2.00 - 100 at 1.25, untaxed, net of the credit note
        self.assertEqual(self.invoice_foreign.amount_untaxed_signed, 1000.00)
        self.assertEqual(self.refund_foreign.amount_untaxed_signed, -125.00)
        self.assertEqual(campaign.revenue_invoiced, 1875.00)
        self.assertEqual(campaign.invoice_count, 2)
        # orders: 1200 + 400 at 2.00 (rate of the order's date); cancelled and draft left out
        self.assertEqual(campaign.revenue_ordered, 2000.00)
        self.assertEqual(campaign.order_count, 2)
        self.assertEqual(campaign.average_order, 1000.00)
        self.assertEqual(campaign.revenue_won, 1500.00)
        self.assertEqual(campaign.revenue_pipeline, 600.00)
        self.assertEqual(
            (campaign.lead_count, campaign.opportunity_count, campaign.won_count), (4, 3, 1), "lost ones counted"
        )
        self.assertEqual(campaign.revenue, 1875.00, "invoiced by default")

    def test_roi_figures(self):
        campaign = self.campaign
        self.assertEqual(campaign.revenue_minus_budget, -3125.00)
        self.assertEqual(campaign.roi, 62.20, "(1875 - 1156) / 1156 × 100 = 62.197")
        self.assertEqual(campaign.contacts_reached, 10)
        self.assertEqual(campaign.buyer_count, 3, "p0, p3 and Beta Corp")
        self.assertEqual(campaign.conversion_rate, 30.0)
        self.assertEqual(campaign.response_count, 3, "converted, replied, visited")
        self.assertEqual(campaign.response_rate, 30.0)
        self.assertEqual(campaign.return_count, 5, "3 buyers, the open opportunity's contact, the anonymous lead")
        self.assertEqual(campaign.cost_per_contact, 115.60)
        self.assertEqual(campaign.cost_per_lead, 289.00)
        self.assertEqual(campaign.cost_per_sale, 578.00)
        self.assertEqual(self.other_campaign.revenue_invoiced, 777.00)
        self.assertEqual(self.other_campaign.cost_expenses, 999.00)

    def test_revenue_source_setting(self):
        campaign = self.campaign
        self.assertEqual(self.company.campaign_revenue_source, "invoiced")
        settings = self.env["res.config.settings"].create({"campaign_revenue_source": "ordered"})
        settings.execute()
        campaign.invalidate_recordset()
        self.assertEqual(campaign.revenue, 2000.00)
        self.assertEqual(campaign.roi, 73.01, "(2000 - 1156) / 1156 × 100 = 73.010")
        self.assertEqual(self.email.revenue, 1200.00)
        self.company.campaign_revenue_source = "won"
        campaign.invalidate_recordset()
        self.assertEqual(campaign.revenue, 1500.00)
        self.assertEqual(campaign.revenue_minus_budget, -3500.00)

    def test_revenue_per_action(self):
        email = self.email
        self.assertEqual(email.revenue_invoiced, 1000.00)
        self.assertEqual(email.revenue_ordered, 1200.00)
        self.assertEqual(email.revenue_won, 1500.00)
        self.assertEqual((email.order_count, email.average_order, email.lead_count), (1, 1200.00, 1))
        self.assertEqual(email.roi, 892.06, "(1000 - 100.80) / 100.80 × 100 = 892.063")
        self.assertEqual(self.sms.revenue, 0.0)

    # ------------------------------------------------------------------
    # EMAIL ANALYSIS
    # ------------------------------------------------------------------
    def test_message_metrics_per_action_and_total(self):
        email = self.email
        self.assertEqual(
            (
                email.sent_count,
                email.delivered_count,
                email.open_unique,
                email.open_total,
                email.clicker_unique,
                email.click_total,
                email.unsubscribe_count,
                email.bounce_count,
            ),
            (8, 7, 5, 9, 2, 5, 1, 1),
        )
        self.assertEqual(
            (email.open_rate, email.click_rate, email.click_per_unique_open, email.unsubscribe_rate, email.bounce_rate),
            (62.5, 25.0, 40.0, 12.5, 12.5),
        )
        campaign = self.campaign
        self.assertEqual((campaign.sent_count, campaign.delivered_count, campaign.open_unique), (13, 12, 5))
        self.assertEqual(campaign.open_rate, 38.46, "5 / 13")
        self.assertEqual(campaign.bounce_rate, 7.69, "1 / 13")

    # ------------------------------------------------------------------
    # ANALYSIS VIEW AND DRILL-DOWNS
    # ------------------------------------------------------------------
    def test_analysis_report_agrees_with_the_campaign(self):
        Report = self.env["campaign.analysis.report"]
        groups = Report._read_group(
            [("campaign_id", "=", self.campaign.id)],
            ["kind"],
            ["cost_actual:sum", "cost_committed:sum", "revenue_invoiced:sum", "order_count:sum"],
        )
        by_kind = {kind: (cost, committed, invoiced, orders) for kind, cost, committed, invoiced, orders in groups}
        self.assertAlmostEqual(by_kind["expense"][0], 340.00)
        self.assertAlmostEqual(by_kind["timesheet"][0], 240.00)
        self.assertAlmostEqual(by_kind["bill"][0], 450.00)
        self.assertAlmostEqual(by_kind["bill"][1], 300.00)
        self.assertAlmostEqual(by_kind["other_cost"][0], 24.95)
        self.assertAlmostEqual(by_kind["invoice"][2], 1875.00)
        self.assertEqual(by_kind["order"][3], 2)
        [(total,)] = Report._read_group([("campaign_id", "=", self.campaign.id)], [], ["cost_actual:sum"])
        self.assertAlmostEqual(total, 1156.00)
        by_channel = dict(Report._read_group([("campaign_id", "=", self.campaign.id)], ["channel"], ["sent_count:sum"]))
        self.assertEqual(by_channel, {"email": 8, "sms": 5, "letter": 0, False: 0})

    def test_drill_downs_open_the_documents_behind_the_figures(self):
        campaign = self.campaign

        def records(action):
            return self.env[action["res_model"]].with_context(**action.get("context", {})).search(action["domain"])

        expenses = records(campaign.action_view_expenses())
        self.assertEqual(len(expenses), 6)
        bills = records(campaign.action_view_bills())
        self.assertEqual(bills, self.bill | self.bill_refund | self.bill_draft)
        invoices = records(campaign.action_view_invoices())
        self.assertEqual(invoices, self.invoice_usd | self.invoice_foreign | self.refund_foreign)
        self.assertEqual(sum(invoices.mapped("amount_untaxed_signed")), campaign.revenue_invoiced)
        orders = records(campaign.action_view_orders())
        self.assertEqual(orders, self.order_usd | self.order_foreign)
        leads = records(campaign.action_view_leads())
        self.assertEqual(len(leads), 4)
        items = records(campaign.action_view_analytic_items())
        self.assertIn(self.expense_posted.account_move_id.line_ids.analytic_line_ids, items)
        timesheets = records(campaign.action_view_timesheets())
        self.assertEqual(-sum(timesheets.mapped("amount")), campaign.cost_timesheets)
        self.assertEqual(
            self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_analysis_report_action")[
                "res_model"
            ],
            campaign.action_view_analysis()["res_model"],
        )

    # ------------------------------------------------------------------
    # ACCESS
    # ------------------------------------------------------------------
    def test_accountant_reads_figures_and_changes_nothing(self):
        campaign = self.campaign.with_user(self.user_accountant)
        self.assertEqual(
            (campaign.cost_actual, campaign.revenue_invoiced, campaign.cost_committed), (1156.00, 1875.00, 360.00)
        )
        self.assertAlmostEqual(campaign.roi, self.campaign.roi)
        self.assertEqual(self.email.with_user(self.user_accountant).cost_actual, 100.80)
        with self.assertRaises(AccessError):
            campaign.write({"budget": 1})
        with self.assertRaises(AccessError):
            self.email.with_user(self.user_accountant).write({"unit_cost": 1})
        report = self.env["campaign.analysis.report"].with_user(self.user_accountant)
        self.assertTrue(report.search([("campaign_id", "=", campaign.id)]))
        # the accountant opens the documents behind the figures
        bills = self.env["account.move"].with_user(self.user_accountant).search(campaign.action_view_bills()["domain"])
        self.assertEqual(len(bills), 3)
        # a bookkeeper (full accounting rights, no campaign group) ties an expense to a campaign
        bookkeeper = new_test_user(
            self.env,
            login="cm_bookkeeper",
            groups="account.group_account_user,hr_timesheet.group_hr_timesheet_approver",
        )
        campaign = self.campaign.with_user(bookkeeper)
        self.assertEqual(campaign.cost_expenses, 340.00)
        expenses = self.env["hr.expense"].with_user(bookkeeper).search(campaign.action_view_expenses()["domain"])
        self.assertEqual(len(expenses), 6)
        timesheets = (
            self.env["account.analytic.line"].with_user(bookkeeper).search(campaign.action_view_timesheets()["domain"])
        )
        self.assertEqual(-sum(timesheets.mapped("amount")), 240.00, "Odoo shows every timesheet to approvers")
        # Expenses lets a bookkeeper change other people's expenses only with approval rights: the
        # campaign field (which sets the analytic distribution) follows that rule
        expense = self.expense_draft.with_user(bookkeeper)
        with self.assertRaisesRegex(UserError, "You cannot change the campaign of these expenses: Draft taxi"):
            expense.campaign_id = self.other_campaign
        bookkeeper.group_ids |= self.env.ref("hr_expense.group_hr_expense_user")
        self.env.invalidate_all()
        expense.campaign_id = self.other_campaign
        self.assertEqual(expense.analytic_distribution, {str(self.other_campaign.analytic_account_id.id): 100.0})
        posted = self.expense_posted.with_user(bookkeeper)
        with self.assertRaisesRegex(UserError, "Posted stand"):
            posted.campaign_id = self.other_campaign

    def test_read_only_accountant_reads_and_prints(self):
        auditor = new_test_user(self.env, login="cm_auditor", groups="base.group_user,account.group_account_readonly")
        campaign = self.campaign.with_user(auditor)
        self.assertEqual((campaign.cost_actual, campaign.revenue_invoiced, campaign.roi), (1156.00, 1875.00, 62.20))
        self.assertTrue(
            self.env["campaign.analysis.report"].with_user(auditor).search([("campaign_id", "=", campaign.id)])
        )
        report = self.env.ref("campaign_manager.campaign_campaign_report_analysis").with_user(auditor)
        html = report._render_qweb_html("campaign_manager.campaign_campaign_report_analysis", campaign.ids)[0]
        self.assertIn(b"Offer email", html)
        with self.assertRaises(AccessError):
            campaign.write({"budget": 2})

    def test_campaign_user_reads_figures(self):
        campaign = self.campaign.with_user(self.user_marketing)
        self.assertEqual((campaign.cost_actual, campaign.revenue, campaign.order_count), (1156.00, 1875.00, 2))
        with self.assertRaises(AccessError):
            self.env["account.move"].with_user(self.user_marketing).search([("id", "=", self.bill.id)])
        personal = self._campaign("Secret", scope="personal", user_id=self.user_marketing_2.id)
        report = self.env["campaign.analysis.report"].with_user(self.user_marketing)
        self.env["campaign.action"].create({"campaign_id": personal.id, "name": "Hidden", "fixed_cost": 5})
        self.assertFalse(report.search([("campaign_id", "=", personal.id)]), "the personal rule applies")

    # ------------------------------------------------------------------
    # PDF REPORTS
    # ------------------------------------------------------------------
    def _render_html(self, report_ref, campaigns, lang):
        report = self.env.ref(report_ref).with_context(lang=lang)
        html, report_format = report._render_qweb_html(report_ref, campaigns.ids)
        self.assertEqual(report_format, "html")
        return html.decode()

    def test_roi_report_renders_in_english_and_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        campaigns = self.campaign | self.other_campaign
        html = self._render_html("campaign_manager.campaign_campaign_report_roi", campaigns, "en_US")
        self.assertIn("Campaign ROI", html)
        self.assertIn("RoiTest", html)
        self.assertIn("OtherRoi", html, "one report for several campaigns")
        self.assertIn("1,156.00", html, "actual cost")
        self.assertIn("1,875.00", html, "invoiced revenue")
        self.assertIn("62.20", html, "ROI")
        self.assertIn("Offer email", html, "costs per action")
        html_fr = self._render_html("campaign_manager.campaign_campaign_report_roi", self.campaign, "fr_FR")
        self.assertIn("ROI de la campagne", html_fr)
        self.assertIn("Coûts", html_fr)
        self.assertIn("62,20", html_fr)

    def test_analysis_report_renders_in_english_and_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        campaigns = self.campaign | self.other_campaign
        html = self._render_html("campaign_manager.campaign_campaign_report_analysis", campaigns, "en_US")
        self.assertIn("Campaign Analysis", html)
        self.assertIn("Unique clickers", html)
        self.assertIn("62.50", html, "open rate of the email")
        self.assertIn("Not attributed to an action", html)
        html_fr = self._render_html("campaign_manager.campaign_campaign_report_analysis", self.campaign, "fr_FR")
        self.assertIn("Analyse de campagne", html_fr)
        self.assertIn("Taux d'ouverture", html_fr)

    def test_roi_report_sections_not_cut_across_pages(self):
        """wkhtmltopdf cut a table row across two pages (docs/img/fr/roi-report.png): each heading and
        its table form a section kept on one page, and rows are not split."""
        html = lxml.html.fromstring(
            self._render_html("campaign_manager.campaign_campaign_report_roi", self.campaign, "en_US")
        )
        page = html.xpath("//div[hasclass('page')]")[0]
        style = " ".join(page.xpath(".//style/text()"))
        self.assertIn(".o_campaign_report_section { page-break-inside: avoid; }", style)
        self.assertIn(".o_campaign_report_section tr { page-break-inside: avoid; }", style)
        tables = page.xpath(".//table")
        self.assertEqual([table.get("name") for table in tables], ["costs", "actions", "revenue", "roi", "expected"])
        for table in tables:
            section = table.getparent()
            self.assertIn("o_campaign_report_section", section.get("class"), table.get("name"))
            self.assertEqual([child.tag for child in section], ["h4", "table"], table.get("name"))

    def test_reports_as_pdf(self):
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() != "ok":
            self.skipTest("wkhtmltopdf is not installed")
        Report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        # one campaign per call: several at once need wkhtmltopdf's patched Qt, which machines may lack
        for ref in (
            "campaign_manager.campaign_campaign_report_roi",
            "campaign_manager.campaign_campaign_report_analysis",
        ):
            for campaign in self.campaign | self.other_campaign:
                # wkhtmltopdf fetches the report's styles from the server: let its requests in
                with self.allow_pdf_render():
                    pdf, report_format = Report._render_qweb_pdf(ref, campaign.ids)
                self.assertEqual(report_format, "pdf")
                self.assertTrue(pdf.startswith(b"%PDF"), ref)

    def test_accountant_opens_the_form_and_prints(self):
        campaign = self.campaign.with_user(self.user_accountant)
        views = campaign.get_views([(False, "form"), (False, "list")])
        form_fields = views["models"]["campaign.campaign"]["fields"]
        self.assertIn("cost_bills", form_fields)
        self.assertIn("action_view_bills", views["views"]["form"]["arch"])
        self.assertNotIn("action_view_leads", views["views"]["form"]["arch"], "no CRM rights, no button")
        self.assertNotIn(
            "action_view_expenses", views["views"]["form"]["arch"], "Odoo shows them their own expenses only"
        )
        values = campaign.web_read({name: {} for name in form_fields if name not in ("message_ids",)})[0]
        self.assertEqual(values["cost_actual"], 1156.00)
        html = self.env.ref("campaign_manager.campaign_campaign_report_roi").with_user(self.user_accountant)
        html = html._render_qweb_html("campaign_manager.campaign_campaign_report_roi", campaign.ids)[0]
        self.assertIn(b"1,156.00", html)

    def test_expenses_button_for_those_who_see_the_expenses(self):
        """The Expenses button opens the expenses behind the figure: it is shown to the users Odoo lets
        read other people's expenses (full accounting rights, expense approvers) and to campaign users,
        not to invoicing or read-only accountants, for whom it would open an empty list."""
        bookkeeper = new_test_user(self.env, login="cm_bookkeeper_button", groups="account.group_account_user")
        auditor = new_test_user(
            self.env, login="cm_auditor_button", groups="base.group_user,account.group_account_readonly"
        )
        for user, shown in (
            (self.user_accountant, False),
            (auditor, False),
            (bookkeeper, True),
            (self.user_marketing, True),
        ):
            arch = self.campaign.with_user(user).get_views([(False, "form")])["views"]["form"]["arch"]
            self.assertEqual("action_view_expenses" in arch, shown, user.login)
        action = self.campaign.with_user(bookkeeper).action_view_expenses()
        expenses = self.env["hr.expense"].with_user(bookkeeper).search(action["domain"])
        self.assertEqual(len(expenses), 6, "every expense tied to the campaign")

    def test_existing_project_carries_the_campaign_account(self):
        project = self.env["project.project"].create({"name": "Chosen project", "allow_timesheets": True})
        campaign = self._campaign("WithProject")
        campaign.action_create_analytic_account()
        campaign.project_id = project
        self.assertEqual(project[self.column], campaign.analytic_account_id)
        line = self.env["account.analytic.line"].create(
            {"name": "Work", "project_id": project.id, "employee_id": self.jade.id, "unit_amount": 2.0}
        )
        self.assertEqual(line[self.column], campaign.analytic_account_id)
        self.assertEqual(campaign.cost_timesheets, 90.00)
