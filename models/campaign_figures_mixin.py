from odoo import fields, models


class CampaignFiguresMixin(models.AbstractModel):
    """Costs, revenue, ROI and message figures of what a campaign does (the campaign itself, each of
    its actions), computed for the whole recordset at once from the facts of the analysis
    (``campaign.analysis.report._read_figures``): the same SQL as the analysis view, so that the
    analysis and the forms always agree. Not stored: they are always those of the accounting
    documents and touchpoints behind them.

    A model using the mixin says which campaigns' facts it reads and how they are grouped
    (``_figures_group_by``, ``_figures_campaign_ids``), and adds the figures of its own
    (``_figures_own``). The strings and help below are an action's; a model may say them its own
    way by redefining only them."""

    _name = "campaign.figures.mixin"
    _description = "Campaign Figures"

    # How the facts are summed for the model: "campaign" or "action" (see ``_read_figures``).
    _figures_group_by = None

    # the models using the mixin define it (the currency of the campaign's company)
    currency_id = fields.Many2one("res.currency")
    cost_planned = fields.Monetary(
        string="Planned Cost",
        currency_field="currency_id",
        compute="_compute_figures",
        help="Fixed cost + cost per unit × planned units.",
    )
    cost_actual = fields.Monetary(
        string="Actual Cost",
        currency_field="currency_id",
        compute="_compute_figures",
        help="Fixed cost once the action started (running, done, or a touchpoint carried out) + the cost per "
        "unit of each touchpoint carried out.",
    )
    revenue_invoiced = fields.Monetary(
        string="Invoiced Revenue",
        currency_field="currency_id",
        compute="_compute_figures",
        help="Posted customer invoices minus credit notes carrying the campaign's UTM campaign and this "
        "action's UTM source, untaxed, in the company's currency.",
    )
    revenue_ordered = fields.Monetary(
        string="Ordered Revenue",
        currency_field="currency_id",
        compute="_compute_figures",
        help="Confirmed sale orders carrying the campaign's UTM campaign and this action's UTM source, untaxed.",
    )
    revenue_won = fields.Monetary(
        string="Won Revenue",
        currency_field="currency_id",
        compute="_compute_figures",
        help="Expected revenue of won opportunities carrying this action's UTM source.",
    )
    revenue = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_figures",
        help="Invoiced, ordered or won revenue of the action, as set in the Settings for the ROI.",
    )
    order_count = fields.Integer(string="Orders", compute="_compute_figures", help="Confirmed sale orders.")
    average_order = fields.Monetary(
        currency_field="currency_id", compute="_compute_figures", help="Ordered revenue / orders."
    )
    lead_count = fields.Integer(
        string="Leads", compute="_compute_figures", help="Leads and opportunities, lost ones included."
    )
    roi = fields.Float(
        string="ROI (%)",
        compute="_compute_figures",
        digits=(16, 2),
        help="(revenue - actual cost) / actual cost × 100 (0 without cost).",
    )
    sent_count = fields.Integer(string="Sent", compute="_compute_figures", help="Touchpoints carried out.")
    delivered_count = fields.Integer(string="Delivered", compute="_compute_figures", help="Sent - bounced.")
    open_unique = fields.Integer(string="Unique Opens", compute="_compute_figures")
    open_total = fields.Integer(string="Total Opens", compute="_compute_figures")
    open_rate = fields.Float(
        string="Open Rate (%)", compute="_compute_figures", digits=(16, 2), help="Unique opens / sent × 100."
    )
    click_total = fields.Integer(string="Total Clicks", compute="_compute_figures")
    clicker_unique = fields.Integer(string="Unique Clickers", compute="_compute_figures")
    click_rate = fields.Float(
        string="Click Rate (%)", compute="_compute_figures", digits=(16, 2), help="Unique clickers / sent × 100."
    )
    click_per_unique_open = fields.Float(
        string="Clicks per Unique Open (%)",
        compute="_compute_figures",
        digits=(16, 2),
        help="Unique clickers / unique opens × 100.",
    )
    unsubscribe_count = fields.Integer(string="Unsubscribes", compute="_compute_figures")
    unsubscribe_rate = fields.Float(
        string="Unsubscribe Rate (%)", compute="_compute_figures", digits=(16, 2), help="Unsubscribes / sent × 100."
    )
    bounce_count = fields.Integer(string="Bounces", compute="_compute_figures")
    bounce_rate = fields.Float(
        string="Bounce Rate (%)", compute="_compute_figures", digits=(16, 2), help="Bounces / sent × 100."
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    def _compute_figures(self):
        # Monetary fields round to the currency themselves: only the amounts divided are rounded here.
        Report = self.env["campaign.analysis.report"]
        figures = Report._read_figures(self._figures_campaign_ids(), self._figures_group_by)
        for record in self:
            facts = figures[record._origin.id]
            sums = facts["sums"]
            currency = record.currency_id or self.env.company.currency_id
            cost = currency.round(sums["cost_actual"])
            revenues = {
                "invoiced": currency.round(sums["revenue_invoiced"]),
                "ordered": currency.round(sums["revenue_ordered"]),
                "won": currency.round(sums["revenue_won"]),
            }
            revenue = revenues[record.company_id.campaign_revenue_source or "invoiced"]
            orders = int(sums["order_count"])
            values = {
                "cost_planned": sums["cost_planned"],
                "cost_actual": cost,
                "revenue_invoiced": revenues["invoiced"],
                "revenue_ordered": revenues["ordered"],
                "revenue_won": revenues["won"],
                "revenue": revenue,
                "order_count": orders,
                "average_order": revenues["ordered"] / orders if orders else 0.0,
                "lead_count": int(sums["lead_count"]),
                "roi": Report._percent(revenue - cost, cost),
                **Report._message_metrics(sums),
            }
            values.update(record._figures_own(facts, values))
            record.update(values)

    # ------------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------------
    def _figures_campaign_ids(self):
        """Ids of the campaigns whose facts the records' figures are read from.

        :return: list of campaign.campaign ids
        """
        raise NotImplementedError

    def _figures_own(self, facts, values):
        """Values of the figure fields of the record's model beyond the mixin's.

        :param dict facts: the record's facts, as ``campaign.analysis.report._read_figures`` gives them
        :param dict values: the mixin's figures of the record, already computed
        :return: dict of field values
        """
        return {}
