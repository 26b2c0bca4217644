from odoo import fields, models
from odoo.tools import SQL


class CampaignCampaign(models.Model):
    """The ROI an accountant signs: on the margin (revenue minus the cost of the goods sold), on the
    cash (payments received, with the day the campaign paid itself back), and the revenue attributed
    by contact (each invoice of a buyer the campaigns reached shared between them), each figure one
    click from its documents. The facts come from campaign.analysis.report, as every other figure."""

    _inherit = "campaign.campaign"

    cogs = fields.Monetary(
        string="Cost of Goods Sold",
        compute="_compute_figures",
        help="Cost of the products on the campaign's invoices, net of credit notes, in the company's currency: "
        "the stock valuation's cost of goods sold where the invoice has one, else quantity × the product's cost "
        "(as Odoo's invoice analysis values its margin).",
    )
    margin = fields.Monetary(compute="_compute_figures", help="Invoiced revenue - cost of goods sold.")
    roi_margin = fields.Float(
        string="Margin ROI (%)",
        compute="_compute_figures",
        digits=(16, 2),
        help="(margin - actual cost) / actual cost × 100 (0 without cost).",
    )
    revenue_paid = fields.Monetary(
        string="Cashed",
        compute="_compute_figures",
        help="Payments received on the campaign's invoices, minus refunds paid back on its credit notes, for "
        "the untaxed share of each invoice, in the company's currency at the rate of the payment. Only "
        "payments and bank statement lines count: a credit note set against an invoice is not cash.",
    )
    roi_cash = fields.Float(
        string="Cash ROI (%)",
        compute="_compute_figures",
        digits=(16, 2),
        help="(cashed - actual cost) / actual cost × 100 (0 without cost).",
    )
    payback_date = fields.Date(
        compute="_compute_payback_date",
        help="The day from which the cash received (cumulated day by day, by payment date) has covered the "
        "actual cost (cumulated by the date of each cost) and still covers it. Empty while it does not.",
    )
    revenue_attributed = fields.Monetary(
        string="Attributed by Contact",
        compute="_compute_figures",
        help="The campaign's share of the customer invoices (net of credit notes, untaxed) of the buyers it "
        "reached in the look-back window before each invoice, whatever the invoice's UTM campaign, by the "
        "company's attribution model (Settings). The invoiced revenue is the revenue attributed by links.",
    )
    attribution_model = fields.Selection(
        related="company_id.campaign_attribution_model",
        string="Attribution Model",
    )
    attribution_days = fields.Integer(related="company_id.campaign_attribution_days", string="Look-back (days)")

    def _figures_own(self, facts, values):
        result = super()._figures_own(facts, values)
        percent = self.env["campaign.analysis.report"]._percent
        currency = self.currency_id or self.env.company.currency_id
        total, cost = facts["sums"], values["cost_actual"]
        margin = currency.round(total["margin"])
        cashed = currency.round(total["revenue_paid"])
        result.update(
            cogs=total["cogs"],
            margin=margin,
            roi_margin=percent(margin - cost, cost),
            revenue_paid=cashed,
            roi_cash=percent(cashed - cost, cost),
            revenue_attributed=total["revenue_attributed"],
        )
        return result

    def _compute_payback_date(self):
        # without cash there is no payback: the day-by-day facts (a second pass over the touchpoints)
        # are read only for the campaigns that cashed something
        cashed = self.filtered("revenue_paid")
        days = self.env["campaign.analysis.report"]._read_daily(
            cashed._figures_campaign_ids(), ("cost_actual", "revenue_paid")
        )
        for campaign in self:
            currency = campaign.currency_id or self.env.company.currency_id
            payback = cost = cash = 0.0
            for day, sums in days.get(campaign._origin.id, []):
                cost += sums["cost_actual"]
                cash += sums["revenue_paid"]
                if currency.compare_amounts(cash, cost) < 0 or currency.is_zero(cost):
                    payback = False
                elif not payback:
                    payback = day
            campaign.payback_date = payback or False

    # ------------------------------------------------------------------
    # DRILL-DOWNS
    # ------------------------------------------------------------------
    def action_view_margin(self):
        """Odoo's invoice analysis of the campaign's invoices and credit notes, by product: untaxed
        amount and margin."""
        self.ensure_one()
        return self._document_action(
            "account.action_account_invoice_report_all",
            self.env._("Margin of %(campaign)s", campaign=self.name),
            domain=[
                ("move_type", "in", ("out_invoice", "out_refund")),
                ("state", "=", "posted"),
                ("company_id", "=", self.company_id.id),
                ("move_id.campaign_id", "=", self.utm_campaign_id.id or 0),
            ],
            context={
                "pivot_measures": ["price_subtotal", "price_margin", "quantity"],
                "pivot_row_groupby": ["product_id"],
                "group_by": [],
            },
            view_mode="pivot,list,graph",
            views=[(False, "pivot"), (False, "list"), (False, "graph")],
        )

    def action_view_payments(self):
        """The payments that settled the campaign's invoices and credit notes (the journal entries,
        when bank statement lines settled some): the documents behind the cash."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT DISTINCT s.payment_move_id FROM (%s) s",
                self.env["campaign.analysis.report"]._payments_sql([self.id]),
            )
        )
        moves = self.env["account.move"].browse(row[0] for row in self.env.cr.fetchall())
        name = self.env._("Payments of %(campaign)s", campaign=self.name)
        if all(moves.mapped("origin_payment_id")):
            # the usual case: payments registered on the invoices, shown as Odoo lists payments
            return self._document_action(
                "account.action_account_payments",
                name,
                domain=[("id", "in", moves.origin_payment_id.ids)],
                context={"create": False},
            )
        # some were settled by bank statement lines: their journal entries
        return self._document_action(
            "account.action_move_journal_line", name, domain=[("id", "in", moves.ids)], context={"create": False}
        )

    def action_view_attributed_invoices(self):
        """The customer invoices and credit notes whose revenue is shared with the campaign by contact."""
        self.ensure_one()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT DISTINCT s.move_id FROM (%s) s",
                self.env["campaign.analysis.report"]._attribution_sql([self.id]),
            )
        )
        move_ids = [row[0] for row in self.env.cr.fetchall()]
        return self._document_action(
            "account.action_move_out_invoice_type",
            self.env._("Invoices attributed to %(campaign)s", campaign=self.name),
            domain=[("id", "in", move_ids)],
            context={"create": False},
        )
