from odoo import api, fields, models
from odoo.tools import formatLang

from .campaign_campaign import KPI_MAX, MESSAGE_CHANNELS


class CampaignCampaign(models.Model):
    """The figures of a campaign: its costs, revenue, ROI and message figures (those of
    ``campaign.figures.mixin``, in the campaign's words, and those only a campaign has), the KPIs its
    users highlight and its analysis."""

    _inherit = "campaign.campaign"
    _figures_group_by = "campaign"

    # ------------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------------
    # Costs, revenue and ROI (see campaign.figures.mixin): computed for the whole recordset at once
    # from the facts of campaign.analysis.report (one SQL statement) and a few distinct counts; not
    # stored, so they are always those of the accounting documents behind them. The mixin's figures
    # are said here the campaign's way.
    revenue_source = fields.Selection(
        related="company_id.campaign_revenue_source",
        string="Revenue for ROI",
        help="Revenue used for the ROI, set in the Settings: invoiced (posted customer invoices net of "
        "credit notes), ordered (confirmed sale orders) or won (expected revenue of won opportunities).",
    )
    cost_planned = fields.Monetary(
        help="Sum over the actions (cancelled ones excepted) of: fixed cost + cost per unit × planned units. "
        "Planned units: the touchpoints of the action's runs, or the units expected on the action before it runs.",
    )
    cost_actual = fields.Monetary(
        help="Actions + expenses + timesheets + supplier bills + other analytic costs, untaxed, in the "
        "company's currency:\n"
        "- actions: fixed cost once started + cost per unit of each touchpoint carried out (sent or done);\n"
        "- approved, posted and paid expenses on the campaign's analytic account;\n"
        "- timesheets on the campaign's project or analytic account, valued at the employee's cost;\n"
        "- posted supplier bills and other journal items on the campaign's analytic account.",
    )
    cost_committed = fields.Monetary(
        string="Committed Cost",
        compute="_compute_figures",
        help="Costs engaged but not yet accounted for: submitted expenses + draft supplier bills on the "
        "campaign's analytic account, untaxed.",
    )
    cost_actions = fields.Monetary(
        string="Actions Cost",
        compute="_compute_figures",
        help="Fixed cost of the actions that started + cost per unit of each touchpoint carried out.",
    )
    cost_expenses = fields.Monetary(
        string="Expenses Cost",
        compute="_compute_figures",
        help="Approved, posted and paid expenses whose analytic distribution goes to the campaign's analytic "
        "account (choosing the campaign on an expense sets it), untaxed, for that share of the distribution.",
    )
    cost_timesheets = fields.Monetary(
        string="Timesheets Cost",
        compute="_compute_figures",
        help="Hours logged on the campaign's project or analytic account × the employee's hourly cost.",
    )
    cost_bills = fields.Monetary(
        string="Supplier Bills Cost",
        compute="_compute_figures",
        help="Posted supplier bills (net of refunds) on the campaign's analytic account, untaxed.",
    )
    cost_other = fields.Monetary(
        string="Other Costs",
        compute="_compute_figures",
        help="Other analytic items of the campaign's analytic account (miscellaneous entries, manual items).",
    )
    committed_expenses = fields.Monetary(
        string="Submitted Expenses",
        compute="_compute_figures",
        help="Submitted expenses on the campaign's analytic account, untaxed.",
    )
    committed_bills = fields.Monetary(
        string="Draft Supplier Bills",
        compute="_compute_figures",
        help="Draft supplier bills on the campaign's analytic account, untaxed.",
    )
    budget_used_pct = fields.Float(
        string="Budget Used (%)",
        compute="_compute_figures",
        digits=(16, 2),
        help="Actual cost / budget × 100 (0 without budget).",
    )
    revenue = fields.Monetary(
        help="Revenue of the campaign used for the ROI: invoiced, ordered or won, as set in the Settings "
        "(invoiced by default).",
    )
    revenue_invoiced = fields.Monetary(
        help="Posted customer invoices minus posted credit notes carrying the campaign's UTM campaign, "
        "untaxed, converted to the company's currency at the rate of their date.",
    )
    revenue_ordered = fields.Monetary(
        help="Confirmed sale orders carrying the campaign's UTM campaign, untaxed, converted to the "
        "company's currency at the rate of their date.",
    )
    revenue_won = fields.Monetary(
        help="Expected revenue of the won opportunities carrying the campaign's UTM campaign.",
    )
    revenue_pipeline = fields.Monetary(
        string="Pipeline",
        compute="_compute_figures",
        help="Expected revenue of the open opportunities (neither won nor lost) carrying the campaign's UTM campaign.",
    )
    invoice_count = fields.Integer(
        string="Invoices", compute="_compute_figures", help="Posted customer invoices (credit notes not counted)."
    )
    order_count = fields.Integer(string="Sales", help="Confirmed sale orders carrying the campaign's UTM campaign.")
    average_order = fields.Monetary(help="Ordered revenue / number of confirmed sale orders.")
    buyer_count = fields.Integer(
        string="Buyers",
        compute="_compute_figures",
        help="Distinct customers (companies or individuals) with a posted invoice or a confirmed sale order "
        "of the campaign.",
    )
    contacts_reached = fields.Integer(
        compute="_compute_figures", help="Distinct contacts with at least one touchpoint carried out (sent or done)."
    )
    conversion_rate = fields.Float(
        string="Conversion (%)",
        compute="_compute_figures",
        digits=(16, 2),
        help="Buyers / contacts reached × 100.",
    )
    lead_count = fields.Integer(
        help="Leads and opportunities carrying the campaign's UTM campaign, lost ones included.",
    )
    opportunity_count = fields.Integer(
        string="Opportunities", compute="_compute_figures", help="Opportunities among the leads, lost ones included."
    )
    won_count = fields.Integer(string="Won Opportunities", compute="_compute_figures")
    response_count = fields.Integer(
        string="Responses",
        compute="_compute_figures",
        help="Distinct contacts reached who replied, converted or visited their landing page.",
    )
    response_rate = fields.Float(
        string="Response Rate (%)",
        compute="_compute_figures",
        digits=(16, 2),
        help="Responses / contacts reached × 100.",
    )
    return_count = fields.Integer(
        string="Returns",
        compute="_compute_figures",
        help="Positive returns: distinct customers with a converted touchpoint, an active lead or "
        "opportunity, a confirmed sale order or a posted invoice of the campaign (a lead without a "
        "contact counts once).",
    )
    cost_per_contact = fields.Monetary(
        string="Cost per Contact", compute="_compute_figures", help="Actual cost / contacts reached (0 when none)."
    )
    cost_per_lead = fields.Monetary(
        string="Cost per Lead", compute="_compute_figures", help="Actual cost / leads (0 when none)."
    )
    cost_per_sale = fields.Monetary(
        string="Cost per Sale", compute="_compute_figures", help="Actual cost / confirmed sale orders (0 when none)."
    )
    roi = fields.Float(
        help="Return on investment: (revenue - actual cost) / actual cost × 100 (0 without cost).",
    )
    revenue_minus_budget = fields.Monetary(
        string="Revenue - Budget",
        compute="_compute_figures",
        help="Revenue - budget: the ROI as shown in the campaign list (seed 003's formula).",
    )
    # Email analysis (seed 004), over the touchpoints carried out by every action of the campaign.
    sent_count = fields.Integer(
        help="Touchpoints carried out: messages sent, letters posted, tasks done.",
    )
    open_unique = fields.Integer(
        help="Messages opened at least once (with a first opening date or an open count).",
    )
    open_total = fields.Integer(help="Sum of the times messages were opened.")
    click_total = fields.Integer(help="Sum of the clicks on tracked links.")
    clicker_unique = fields.Integer(
        help="Messages whose recipient clicked a tracked link at least once.",
    )

    # Figures shown among the chosen KPIs
    link_click_count = fields.Integer(
        string="Link Clicks",
        related="utm_campaign_id.click_count",
        help="Clicks on the campaign's tracked links: web links and links in its mailings.",
    )
    kpi_banner = fields.Html(
        string="Key Figures",
        compute="_compute_kpi_banner",
        sanitize=False,
        help="The figures you chose to highlight (Choose KPIs).",
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends_context("uid", "lang")
    def _compute_kpi_banner(self):
        metrics = self._kpi_user_metrics()
        for campaign in self:
            if not campaign.id:
                campaign.kpi_banner = False
                continue
            campaign.kpi_banner = self.env["ir.qweb"]._render(
                "campaign_manager.campaign_kpi_banner",
                {"kpis": [(label, value) for _key, label, value in campaign._kpi_values(metrics)]},
            )

    def _figures_campaign_ids(self):
        return [campaign_id for campaign_id in self._origin.ids if campaign_id]

    def _figures_own(self, facts, values):
        self.ensure_one()
        percent = self.env["campaign.analysis.report"]._percent
        total, kinds, counts = facts["sums"], facts["kinds"], facts["distinct"]
        cost, revenue = values["cost_actual"], values["revenue"]
        orders, leads = values["order_count"], values["lead_count"]
        reached = counts.get("contacts_reached", 0)
        return {
            "cost_committed": total["cost_committed"],
            "cost_actions": kinds["action"]["cost_actual"] + kinds["touchpoint"]["cost_actual"],
            "cost_expenses": kinds["expense"]["cost_actual"],
            "cost_timesheets": kinds["timesheet"]["cost_actual"],
            "cost_bills": kinds["bill"]["cost_actual"],
            "cost_other": kinds["other_cost"]["cost_actual"],
            "committed_expenses": kinds["expense"]["cost_committed"],
            "committed_bills": kinds["bill"]["cost_committed"],
            "budget_used_pct": percent(cost, self.budget),
            "revenue_pipeline": total["revenue_pipeline"],
            "invoice_count": int(total["invoice_count"]),
            "opportunity_count": int(total["opportunity_count"]),
            "won_count": int(total["won_count"]),
            "contacts_reached": reached,
            "buyer_count": counts.get("buyer_count", 0),
            "conversion_rate": percent(counts.get("buyer_count", 0), reached),
            "response_count": counts.get("response_count", 0),
            "response_rate": percent(counts.get("response_count", 0), reached),
            "return_count": counts.get("return_count", 0),
            "cost_per_contact": cost / reached if reached else 0.0,
            "cost_per_lead": cost / leads if leads else 0.0,
            "cost_per_sale": cost / orders if orders else 0.0,
            "revenue_minus_budget": revenue - self.budget,
        }

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_choose_kpis(self):
        # the metrics chosen are the user's own, for every campaign
        return self._action_open_wizard("campaign.kpi.choose", self.env._("Choose KPIs"), context={})

    def action_view_analysis(self):
        """The analysis of the campaigns, opened on what they are about: the message figures of a
        campaign that sends messages, the money of one that costs or earns something, both when
        both (a campaign of emails without costs would otherwise open on columns of zeros)."""
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_analysis_report_action")
        action["domain"] = [("campaign_id", "in", self.ids)]
        has_messages = any(self.mapped("sent_count")) or any(
            channel in MESSAGE_CHANNELS for channel in self.action_ids.mapped("channel")
        )
        has_money = any(campaign.cost_actual or campaign.revenue or campaign.cost_planned for campaign in self)
        measures = []
        if has_messages or not has_money:
            measures += ["sent_count", "open_unique", "open_rate", "clicker_unique", "click_rate"]
        if has_money:
            source = self.env.company.campaign_revenue_source or "invoiced"
            measures += ["cost_planned", "cost_actual", f"revenue_{source}"]
        rows = ["action_id"] if has_messages and not has_money else ["kind"]
        if len(self) > 1:
            rows = ["campaign_id", *rows]
        action["context"] = {
            "pivot_measures": measures,
            "pivot_row_groupby": rows,
            "pivot_column_groupby": [],
            "graph_measure": measures[0],
            "graph_groupbys": ["date:month", rows[-1]],
        }
        return action

    # ------------------------------------------------------------------
    # CHOSEN KPIS (seed 004)
    # ------------------------------------------------------------------
    @api.model
    def _kpi_metrics(self):
        """Metrics a user may highlight at the top of a campaign, those whose field exists.

        A metric whose field does not exist (yet) is skipped; when a key is listed twice, the first
        entry whose field exists wins.

        :return: list of (key, label, field name, format) with format in integer, float, percent,
            monetary; one entry per key
        """
        labels = {
            "audience_size": self.env._("Reachable now"),
            "touchpoint_count": self.env._("Touchpoints"),
            "contacts_reached": self.env._("Contacts reached"),
            "sent_count": self.env._("Sent"),
            "open_rate": self.env._("Open rate"),
            "click_rate": self.env._("Click rate"),
            "link_clicks": self.env._("Link clicks"),
            "bounce_rate": self.env._("Bounce rate"),
            "unsubscribe_rate": self.env._("Unsubscribe rate"),
            "conversion_rate": self.env._("Conversion rate"),
            "lead_count": self.env._("Leads"),
            "order_count": self.env._("Orders"),
            "revenue": self.env._("Revenue"),
            "cost_actual": self.env._("Actual cost"),
            "roi": self.env._("ROI"),
            "cost_per_lead": self.env._("Cost per lead"),
            "cost_per_contact": self.env._("Cost per contact"),
            "cost_per_sale": self.env._("Cost per sale"),
            "budget": self.env._("Budget"),
            "expected_revenue": self.env._("Expected revenue"),
            "expected_roi": self.env._("Expected ROI"),
            "action_count": self.env._("Actions"),
        }
        # (key, field, format), in the order offered to the users
        candidates = [
            ("audience_size", "audience_size", "integer"),
            ("touchpoint_count", "touchpoint_count", "integer"),
            ("contacts_reached", "contacts_reached", "integer"),
            ("sent_count", "sent_count", "integer"),
            ("open_rate", "open_rate", "percent"),
            ("click_rate", "click_rate", "percent"),
            ("link_clicks", "link_click_count", "integer"),
            ("bounce_rate", "bounce_rate", "percent"),
            ("unsubscribe_rate", "unsubscribe_rate", "percent"),
            ("conversion_rate", "conversion_rate", "percent"),
            ("lead_count", "lead_count", "integer"),
            ("order_count", "order_count", "integer"),
            ("revenue", "revenue", "monetary"),
            ("cost_actual", "cost_actual", "monetary"),
            ("roi", "roi", "percent"),
            ("cost_per_lead", "cost_per_lead", "monetary"),
            ("cost_per_contact", "cost_per_contact", "monetary"),
            ("cost_per_sale", "cost_per_sale", "monetary"),
            ("budget", "budget", "monetary"),
            ("expected_revenue", "expected_revenue", "monetary"),
            ("expected_roi", "expected_roi", "percent"),
            ("action_count", "action_count", "integer"),
        ]
        metrics, seen = [], set()
        for key, field_name, kind in candidates:
            if key not in seen and field_name in self._fields:
                seen.add(key)
                metrics.append((key, labels[key], field_name, kind))
        return metrics

    @api.model
    def _kpi_default_keys(self):
        """Metrics shown to a user who has chosen none."""
        return ["audience_size", "contacts_reached", "open_rate", "click_rate"]

    @api.model
    def _kpi_user_metrics(self):
        """The metrics the current user highlights, in their order (at most KPI_MAX).

        :return: list of (key, label, field name, format)
        """
        metrics = {metric[0]: metric for metric in self._kpi_metrics()}
        keys = self.env["campaign.kpi.choice"]._user_keys() or self._kpi_default_keys()
        return [metrics[key] for key in keys if key in metrics][:KPI_MAX]

    def _kpi_values(self, metrics=None):
        """The chosen metrics of the campaign, formatted in the user's language.

        :param metrics: list as returned by ``_kpi_user_metrics`` (default: the current user's)
        :return: list of (key, label, formatted value)
        """
        self.ensure_one()
        values = []
        for key, label, field_name, kind in metrics if metrics is not None else self._kpi_user_metrics():
            value = self[field_name]
            if kind == "monetary":
                text = formatLang(self.env, value, currency_obj=self.currency_id)
            elif kind == "percent":
                text = formatLang(self.env, value, digits=1) + " %"
            elif kind == "float":
                text = formatLang(self.env, value, digits=2)
            else:
                text = formatLang(self.env, value, digits=0)
            values.append((key, label, text))
        return values
