import re
from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL, formatLang

from .campaign_action import AUDIENCE_LESS_CHANNELS, CHANNELS
from .campaign_touchpoint import CARRIED_STATES, RESPONDED_CONDITION

# Channels whose actions send messages (sent, opened, clicked): their campaigns' analysis opens on these.
MESSAGE_CHANNELS = ("email", "sms", "letter")
# At most this many figures highlighted at the top of a campaign (seed 004, "jusqu'à quatre").
KPI_MAX = 4

CAMPAIGN_STATES = [
    ("draft", "Draft"),
    ("ready", "Ready"),
    ("active", "Active"),
    ("done", "Done"),
    ("stopped", "Stopped"),
    ("cancelled", "Cancelled"),
]

CAMPAIGN_TYPES = [
    ("promotion", "Promotion"),
    ("fidelity", "Fidelity"),
    ("information", "Information"),
    ("event", "Event"),
    ("other", "Other"),
]

# Allowed status changes: {from: {to, ...}}. Anything else is refused with a clear error.
CAMPAIGN_TRANSITIONS = {
    "draft": {"ready", "cancelled"},
    "ready": {"draft", "active", "cancelled"},
    "active": {"done", "stopped", "cancelled"},
    "stopped": {"active", "done", "cancelled"},
    "done": set(),
    "cancelled": {"draft"},
}

NAME_PATTERN = re.compile(r"^\S+$")
# Longest campaign name: one word (JanOffers, FebSale), also the name of its UTM campaign, analytic
# account and project.
NAME_MAX_LENGTH = 64

# Steps of the order wizard (seed 000), in the only order they can be done. The campaign keeps the
# step reached: it exists from "contacts" on, so a campaign created elsewhere starts there.
ORDER_STEPS = [
    ("summary", "Summary"),
    ("name", "Create and Name"),
    ("contacts", "Contacts"),
    ("media", "Media"),
    ("schedule", "Schedule"),
    ("launch", "Launch"),
    ("done", "Done"),
]
ORDER_STEP_INDEX = {key: index for index, (key, _label) in enumerate(ORDER_STEPS)}

# Tracking settings: the same for all the emails of a campaign, so locked once it has run.
TRACKING_FIELDS = {
    "track_opens",
    "track_clicks",
    "track_plaintext_clicks",
    "track_sales_links",
    "reply_mode",
    "reply_to",
}


class CampaignCampaign(models.Model):
    _name = "campaign.campaign"
    _description = "Marketing Campaign"
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        "mail.alias.mixin.optional",
        "campaign.access.mixin",
        "campaign.archive.mixin",
    ]
    _order = "date_start desc, id desc"
    _check_company_auto = True
    _campaign_engine_fields = frozenset({"utm_campaign_id", "touchpoint_ids", "run_ids", "todo_ids"})

    # ------------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------------
    name = fields.Char(
        required=True,
        tracking=True,
        help="Unique identifier of the campaign within the company: one word without spaces, at most 64 "
        "characters (e.g. JanOffers). It is also the name of its UTM campaign.",
    )
    active = fields.Boolean(default=True, tracking=True)
    color = fields.Integer()
    campaign_type = fields.Selection(
        selection=CAMPAIGN_TYPES,
        required=True,
        default="promotion",
        tracking=True,
    )
    objective = fields.Char(translate=True, help="What the campaign must achieve, in one sentence.")
    description = fields.Html(translate=True, sanitize=True)
    product_id = fields.Many2one(
        "product.product",
        check_company=True,
        index="btree_not_null",
        help="Product promoted by the campaign.",
    )
    scope = fields.Selection(
        selection=[("company", "Company contacts"), ("personal", "Personal contacts")],
        required=True,
        default="company",
        tracking=True,
        help="A personal campaign targets your own contacts: only you and the campaign "
        "managers can see it. A company campaign is visible to every campaign user of the company.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Owner",
        required=True,
        default=lambda self: self.env.user,
        tracking=True,
        index=True,
        check_company=True,
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Assigned to",
        check_company=True,
        index="btree_not_null",
        help="Sales team that follows the campaign up.",
    )
    date_start = fields.Date(string="Start Date", tracking=True, copy=False)
    date_end = fields.Date(string="End Date", tracking=True, copy=False)
    state = fields.Selection(
        selection=CAMPAIGN_STATES,
        string="Status",
        required=True,
        default="draft",
        tracking=True,
        copy=False,
        group_expand="_group_expand_states",
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    currency_id = fields.Many2one(
        "res.currency", string="Currency", related="company_id.currency_id", store=True, readonly=True
    )

    target_ids = fields.One2many("campaign.target", "campaign_id", string="Targets", copy=True)
    action_ids = fields.One2many("campaign.action", "campaign_id", string="Actions", copy=False)
    touchpoint_ids = fields.One2many("campaign.touchpoint", "campaign_id", string="Touchpoints", copy=False)
    todo_ids = fields.One2many("campaign.todo", "campaign_id", string="To Do", readonly=True)

    main_channel = fields.Selection(
        selection=[*CHANNELS, ("multi", "Multichannel")],
        string="Channel",
        compute="_compute_channels",
        store=True,
        help="Channel of the campaign's actions, or Multichannel when they use several.",
    )
    channels_display = fields.Char(
        string="Channels Used", compute="_compute_channels_display", help="Channels of the campaign's actions."
    )
    execution_mode = fields.Selection(
        selection=[
            ("unscheduled", "Unscheduled"),
            ("immediate", "Immediate"),
            ("scheduled", "Scheduled"),
            ("recurring", "Recurrent"),
        ],
        string="Execution",
        compute="_compute_channels",
        store=True,
        help="Recurrent when an action repeats, Scheduled when an action waits for a date, Immediate "
        "when actions run at launch, Unscheduled without actions.",
    )
    action_count = fields.Integer(string="Actions Count", compute="_compute_counts")
    target_count = fields.Integer(string="Targets Count", compute="_compute_counts")
    touchpoint_count = fields.Integer(
        string="Touchpoints Count",
        compute="_compute_counts",
        help="Touchpoints planned or carried out (sent, done, opened...); the contacts a run excluded, with "
        "their reason, and the cancelled touchpoints are not counted.",
    )
    # One definition of the audience: the figures of Calculate, for the channel of the campaign's first
    # action that reaches contacts (email without one), as the targets stand right now.
    audience_channel = fields.Selection(
        selection=CHANNELS,
        string="Counted For",
        compute="_compute_audience",
        help="Channel the audience figures are counted for: that of the campaign's first action reaching "
        "contacts (email while there is none). Calculate counts them for any channel or action.",
    )
    audience_size = fields.Integer(
        string="Reachable Now",
        compute="_compute_audience",
        help="Distinct contacts of the targets the campaign can reach right now on the channel counted, once "
        "contacts found in several targets are counted once and the excluded ones are left out: the final "
        "figure of Calculate. Dynamic targets are read again each time, so it follows their filters and lists.",
    )
    audience_excluded = fields.Integer(
        string="Excluded Now",
        compute="_compute_audience",
        help="Distinct contacts of the targets left out right now on the channel counted: archived, without "
        "usable address, blacklisted, opted out, already reached, or sharing an address with another "
        "contact. Calculate shows how many for each reason.",
    )
    audience_figures = fields.Json(
        compute="_compute_audience",
        help="Technical: the Calculate figures behind the audience fields of the campaign and its targets.",
    )

    # Planning and expectations (seed 002)
    planned_sends = fields.Integer(help="Number of sends (emails, SMS, letters...) planned for the campaign.")
    budget = fields.Monetary(tracking=True, currency_field="currency_id")
    expected_revenue = fields.Monetary(currency_field="currency_id")
    expected_response_rate = fields.Float(
        string="Expected Response Rate (%)", help="Share of the contacts reached expected to respond, in percent."
    )
    expected_sales = fields.Integer(help="Number of sales expected from the campaign.")
    expected_returns = fields.Integer(help="Number of positive returns (answers, registrations...) expected.")
    expected_roi = fields.Float(
        string="Expected ROI (%)",
        compute="_compute_expected_roi",
        store=True,
        readonly=False,
        precompute=True,
        help="Expected return on investment: (expected revenue - budget) / budget x 100. "
        "Computed from the budget and the expected revenue; can be overwritten.",
    )

    # Links to Odoo
    utm_campaign_id = fields.Many2one(
        "utm.campaign",
        string="UTM Campaign",
        readonly=True,
        copy=False,
        ondelete="restrict",
        index="btree_not_null",
        help="UTM campaign created with the campaign and kept in sync: mailings, leads, "
        "orders and invoices carrying it are attributed to the campaign.",
    )
    analytic_account_id = fields.Many2one(
        "account.analytic.account",
        copy=False,
        check_company=True,
        index="btree_not_null",
        help="Analytic account carrying the campaign's costs (expenses, timesheets, bills).",
    )
    project_id = fields.Many2one(
        "project.project",
        copy=False,
        check_company=True,
        index="btree_not_null",
        help="Project holding the campaign's tasks; time logged on it counts as campaign cost.",
    )
    notes = fields.Html(sanitize=True)

    # Tracking settings (seed 004): the same for every email of the campaign, locked once it runs.
    track_opens = fields.Boolean(default=True, help="Add an invisible image to emails to know who opens them.")
    track_clicks = fields.Boolean(
        default=True,
        help="Replace the links of emails by tracked short links to know who clicks what.",
    )
    track_plaintext_clicks = fields.Boolean(
        string="Track Plain-Text Clicks",
        default=True,
        help="Also track the links of the plain-text version of emails (otherwise it shows the real addresses).",
    )
    track_sales_links = fields.Boolean(
        string="Sales Link Tracking",
        default=True,
        help="Add the UTM parameters of the campaign to links, so that leads and orders coming from them "
        "(in Odoo or in an online shop) are attributed to the campaign.",
    )
    reply_mode = fields.Selection(
        selection=[
            ("address", "To a chosen address"),
            ("campaign", "To the campaign's chatter"),
            ("contact", "To the contact's chatter"),
        ],
        string="Replies",
        default="address",
        required=True,
        help="Where the replies to the campaign's emails go. To the campaign's chatter needs an email alias "
        "for the campaign: replies are then posted on it and counted on the touchpoints.",
    )
    reply_to = fields.Char(
        string="Reply-To Address", help="Address receiving the replies (default: the owner's email)."
    )
    send_limit_hour = fields.Integer(
        string="Sends per Hour",
        help="Most touchpoints the campaign may carry out per hour (0: no limit). The rest waits for the "
        "next window; nothing is dropped.",
    )
    send_limit_day = fields.Integer(
        string="Sends per Day", help="Most touchpoints the campaign may carry out per 24 hours (0: no limit)."
    )
    run_ids = fields.One2many("campaign.action.run", "campaign_id", string="Runs", readonly=True)
    run_count = fields.Integer(string="Runs Count", compute="_compute_counts")
    order_step = fields.Selection(
        selection=ORDER_STEPS,
        required=True,
        default="contacts",
        readonly=True,
        copy=False,
        help="Step of the order reached: Resume Order reopens the order wizard there.",
    )

    # Costs, revenue and ROI: computed for the whole recordset at once from the facts of
    # campaign.analysis.report (one SQL statement) and a few distinct counts; not stored, so they
    # are always those of the accounting documents behind them.
    revenue_source = fields.Selection(
        related="company_id.campaign_revenue_source",
        string="Revenue for ROI",
        help="Revenue used for the ROI, set in the Settings: invoiced (posted customer invoices net of "
        "credit notes), ordered (confirmed sale orders) or won (expected revenue of won opportunities).",
    )
    cost_planned = fields.Monetary(
        string="Planned Cost",
        compute="_compute_figures",
        help="Sum over the actions (cancelled ones excepted) of: fixed cost + cost per unit × planned units. "
        "Planned units: the touchpoints of the action's runs, or the units expected on the action before it runs.",
    )
    cost_actual = fields.Monetary(
        string="Actual Cost",
        compute="_compute_figures",
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
        compute="_compute_figures",
        help="Revenue of the campaign used for the ROI: invoiced, ordered or won, as set in the Settings "
        "(invoiced by default).",
    )
    revenue_invoiced = fields.Monetary(
        string="Invoiced Revenue",
        compute="_compute_figures",
        help="Posted customer invoices minus posted credit notes carrying the campaign's UTM campaign, "
        "untaxed, converted to the company's currency at the rate of their date.",
    )
    revenue_ordered = fields.Monetary(
        string="Ordered Revenue",
        compute="_compute_figures",
        help="Confirmed sale orders carrying the campaign's UTM campaign, untaxed, converted to the "
        "company's currency at the rate of their date.",
    )
    revenue_won = fields.Monetary(
        string="Won Revenue",
        compute="_compute_figures",
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
    order_count = fields.Integer(
        string="Sales", compute="_compute_figures", help="Confirmed sale orders carrying the campaign's UTM campaign."
    )
    average_order = fields.Monetary(
        compute="_compute_figures", help="Ordered revenue / number of confirmed sale orders."
    )
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
        string="Leads",
        compute="_compute_figures",
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
        string="ROI (%)",
        compute="_compute_figures",
        digits=(16, 2),
        help="Return on investment: (revenue - actual cost) / actual cost × 100 (0 without cost).",
    )
    revenue_minus_budget = fields.Monetary(
        string="Revenue - Budget",
        compute="_compute_figures",
        help="Revenue - budget: the ROI as shown in the campaign list (seed 003's formula).",
    )
    # Email analysis (seed 004), over the touchpoints carried out by every action of the campaign.
    sent_count = fields.Integer(
        string="Sent",
        compute="_compute_figures",
        help="Touchpoints carried out: messages sent, letters posted, tasks done.",
    )
    delivered_count = fields.Integer(string="Delivered", compute="_compute_figures", help="Sent - bounced.")
    open_unique = fields.Integer(
        string="Unique Opens",
        compute="_compute_figures",
        help="Messages opened at least once (with a first opening date or an open count).",
    )
    open_total = fields.Integer(
        string="Total Opens", compute="_compute_figures", help="Sum of the times messages were opened."
    )
    open_rate = fields.Float(
        string="Open Rate (%)", compute="_compute_figures", digits=(16, 2), help="Unique opens / sent × 100."
    )
    click_total = fields.Integer(
        string="Total Clicks", compute="_compute_figures", help="Sum of the clicks on tracked links."
    )
    clicker_unique = fields.Integer(
        string="Unique Clickers",
        compute="_compute_figures",
        help="Messages whose recipient clicked a tracked link at least once.",
    )
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

    # Automatic status and late actions (seed 004)
    late_action_count = fields.Integer(
        string="Late Actions",
        compute="_compute_late_action_count",
        help="Actions still draft or scheduled after the end of the campaign.",
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

    _name_company_uniq = models.Constraint(
        "UNIQUE(name, company_id)",
        "A campaign with this name already exists in this company: campaign names must be unique.",
    )
    _dates_check = models.Constraint(
        "CHECK(date_end IS NULL OR date_start IS NULL OR date_end >= date_start)",
        "The end date of a campaign cannot be before its start date.",
    )
    _budget_check = models.Constraint("CHECK(budget >= 0)", "The budget cannot be negative.")
    _analytic_account_uniq = models.Constraint(
        "UNIQUE(analytic_account_id)", "An analytic account can carry the costs of one campaign only."
    )
    _project_uniq = models.Constraint("UNIQUE(project_id)", "A project can belong to one campaign only.")
    _send_limits_check = models.Constraint(
        "CHECK(COALESCE(send_limit_hour, 0) >= 0 AND COALESCE(send_limit_day, 0) >= 0)",
        "Sending limits cannot be negative.",
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("action_ids.channel", "action_ids.state", "action_ids.schedule_type")
    def _compute_channels(self):
        for campaign in self:
            actions = campaign.action_ids.filtered(lambda a: a.state != "cancelled")
            channels = set(actions.mapped("channel"))
            # links placed outside are not executed: they do not make a campaign scheduled or recurring
            schedules = set(actions.filtered(lambda a: a.channel not in AUDIENCE_LESS_CHANNELS).mapped("schedule_type"))
            if "recurring" in schedules:
                campaign.execution_mode = "recurring"
            elif schedules & {"at", "after"}:
                campaign.execution_mode = "scheduled"
            else:
                campaign.execution_mode = "immediate" if schedules else "unscheduled"
            campaign.main_channel = channels.pop() if len(channels) == 1 else ("multi" if channels else False)

    @api.depends("action_ids.channel", "action_ids.state")
    def _compute_channels_display(self):
        labels = dict(self.env["campaign.action"]._fields["channel"]._description_selection(self.env))
        for campaign in self:
            actions = campaign.action_ids.filtered(lambda a: a.state != "cancelled")
            campaign.channels_display = ", ".join(labels[c] for c in dict.fromkeys(actions.mapped("channel")))

    def _compute_counts(self):
        counts = {}
        for model, field, domain in (
            ("campaign.action", "action_count", []),
            ("campaign.target", "target_count", []),
            # the contacts left out at a run are not touchpoints of the campaign: counted apart
            ("campaign.touchpoint", "touchpoint_count", [("state", "not in", ("excluded", "cancelled"))]),
            ("campaign.action.run", "run_count", []),
        ):
            groups = self.env[model]._read_group(
                [("campaign_id", "in", self.ids), *domain], ["campaign_id"], ["__count"]
            )
            counts[field] = {campaign.id: count for campaign, count in groups}
        for campaign in self:
            for field, by_campaign in counts.items():
                campaign[field] = by_campaign.get(campaign.id, 0)

    @api.depends(
        "target_ids",
        "target_ids.source",
        "target_ids.target_type",
        "target_ids.partner_domain",
        "target_ids.lead_domain",
        "target_ids.mailing_list_ids",
        "target_ids.partner_ids",
        "target_ids.snapshot_date",
        "target_ids.reach",
        "target_ids.person_function",
        "target_ids.person_category_ids",
        "action_ids.channel",
        "action_ids.state",
    )
    def _compute_audience(self):
        """The Calculate figures of each campaign, as saved (a form being edited shows those of the
        saved campaign): one SQL statement per campaign, nothing written. Targets whose filter cannot
        be applied any more count for nothing here; running or calculating them says why."""
        for campaign in self:
            origin = campaign._origin
            channel = origin._audience_default_channel() if origin else "email"
            targets = origin.target_ids.filtered(lambda t: not t._filter_error()) if origin else origin.target_ids
            figures = targets._audience_figures(channel)
            campaign.audience_channel = channel
            campaign.audience_size = figures["final"]
            campaign.audience_excluded = sum(figures["excluded"].values())
            campaign.audience_figures = {
                "total": figures["total"],
                "final": figures["final"],
                "excluded": figures["excluded"],
                "by_target": {str(target_id): counts for target_id, counts in figures["by_target"].items()},
            }

    def _audience_default_channel(self):
        """The channel the campaign's audience is counted for: that of its first action reaching
        contacts (cancelled ones aside), else email."""
        self.ensure_one()
        for action in self.action_ids:
            if action.state != "cancelled" and action._run_has_audience():
                return action.channel
        return "email"

    def _compute_late_action_count(self):
        groups = self.env["campaign.action"]._read_group(
            [("campaign_id", "in", self.ids), ("pending_after_end", "=", True)], ["campaign_id"], ["__count"]
        )
        counts = {campaign.id: count for campaign, count in groups}
        for campaign in self:
            campaign.late_action_count = counts.get(campaign.id, 0)

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

    @api.depends("budget", "expected_revenue")
    def _compute_expected_roi(self):
        for campaign in self:
            if campaign.budget:
                campaign.expected_roi = (campaign.expected_revenue - campaign.budget) / campaign.budget * 100.0
            else:
                campaign.expected_roi = 0.0

    def _compute_figures(self):
        # Monetary fields round to the currency themselves: only the amounts divided below are rounded here.
        Report = self.env["campaign.analysis.report"]
        ids = [campaign_id for campaign_id in self._origin.ids if campaign_id]
        sums = defaultdict(lambda: defaultdict(float))
        by_kind = defaultdict(lambda: defaultdict(lambda: defaultdict(float)))
        for row in Report._read_facts(ids, "campaign"):
            for measure in Report._measures:
                value = float(row[measure] or 0.0)
                sums[row["campaign_id"]][measure] += value
                by_kind[row["campaign_id"]][row["kind"]][measure] += value
        distinct = self._distinct_figures(ids)
        percent = Report._percent
        for campaign in self:
            key = campaign._origin.id
            total, kinds, counts = sums[key], by_kind[key], distinct.get(key, {})
            currency = campaign.currency_id or self.env.company.currency_id
            cost = currency.round(total["cost_actual"])
            revenues = {
                "invoiced": currency.round(total["revenue_invoiced"]),
                "ordered": currency.round(total["revenue_ordered"]),
                "won": currency.round(total["revenue_won"]),
            }
            revenue = revenues[campaign.company_id.campaign_revenue_source or "invoiced"]
            orders, leads = int(total["order_count"]), int(total["lead_count"])
            reached = counts.get("contacts_reached", 0)
            campaign.update(
                {
                    "cost_planned": total["cost_planned"],
                    "cost_actual": cost,
                    "cost_committed": total["cost_committed"],
                    "cost_actions": kinds["action"]["cost_actual"] + kinds["touchpoint"]["cost_actual"],
                    "cost_expenses": kinds["expense"]["cost_actual"],
                    "cost_timesheets": kinds["timesheet"]["cost_actual"],
                    "cost_bills": kinds["bill"]["cost_actual"],
                    "cost_other": kinds["other_cost"]["cost_actual"],
                    "committed_expenses": kinds["expense"]["cost_committed"],
                    "committed_bills": kinds["bill"]["cost_committed"],
                    "budget_used_pct": percent(cost, campaign.budget),
                    "revenue_invoiced": revenues["invoiced"],
                    "revenue_ordered": revenues["ordered"],
                    "revenue_won": revenues["won"],
                    "revenue_pipeline": total["revenue_pipeline"],
                    "revenue": revenue,
                    "invoice_count": int(total["invoice_count"]),
                    "order_count": orders,
                    "average_order": revenues["ordered"] / orders if orders else 0.0,
                    "lead_count": leads,
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
                    "roi": percent(revenue - cost, cost),
                    "revenue_minus_budget": revenue - campaign.budget,
                    **Report._message_metrics(total),
                }
            )

    def _distinct_figures(self, ids):
        """Counts of distinct contacts, which cannot be summed from the facts.

        :param list ids: campaign ids
        :return: {campaign_id: {"contacts_reached", "response_count", "buyer_count", "return_count"}}
        """
        if not ids:
            return {}
        self.env.flush_all()
        result = defaultdict(dict)
        # two queries, each answered by an index of the touchpoints alone (see campaign.touchpoint)
        self.env.cr.execute(
            SQL(
                """
            SELECT campaign_id, COUNT(*) AS contacts_reached
              FROM (SELECT DISTINCT campaign_id, partner_id FROM campaign_touchpoint
                     WHERE campaign_id = ANY(%(ids)s) AND state IN %(carried)s) AS reached
          GROUP BY campaign_id""",
                ids=ids,
                carried=CARRIED_STATES,
            )
        )
        for campaign_id, count in self.env.cr.fetchall():
            result[campaign_id]["contacts_reached"] = count
        self.env.cr.execute(
            SQL(
                """
            SELECT campaign_id, COUNT(DISTINCT partner_id) AS response_count
              FROM campaign_touchpoint
             WHERE campaign_id = ANY(%(ids)s) AND state IN %(carried)s AND %(responded)s
          GROUP BY campaign_id""",
                ids=ids,
                carried=CARRIED_STATES,
                responded=SQL(RESPONDED_CONDITION),
            )
        )
        for campaign_id, count in self.env.cr.fetchall():
            result[campaign_id]["response_count"] = count
        # Buyers and positive returns, as commercial entities; "b" rows are buyers.
        self.env.cr.execute(
            SQL(
                """
            WITH outcomes AS (
                SELECT c.id AS campaign_id, 'b' AS kind, 'p' || m.commercial_partner_id AS who
                  FROM account_move m
                  JOIN campaign_campaign c ON c.utm_campaign_id = m.campaign_id AND c.company_id = m.company_id
                 WHERE c.id = ANY(%(ids)s) AND m.state = 'posted' AND m.move_type = 'out_invoice'
                UNION ALL
                SELECT c.id, 'b', 'p' || p.commercial_partner_id
                  FROM sale_order so
                  JOIN res_partner p ON p.id = so.partner_id
                  JOIN campaign_campaign c ON c.utm_campaign_id = so.campaign_id AND c.company_id = so.company_id
                 WHERE c.id = ANY(%(ids)s) AND so.state = 'sale'
                UNION ALL
                SELECT tp.campaign_id, 'r', 'p' || p.commercial_partner_id
                  FROM campaign_touchpoint tp
                  JOIN res_partner p ON p.id = tp.partner_id
                 WHERE tp.campaign_id = ANY(%(ids)s) AND tp.state IN %(carried)s
                   AND (tp.state = 'converted' OR tp.date_converted IS NOT NULL)
                UNION ALL
                SELECT c.id, 'r', COALESCE('p' || p.commercial_partner_id, 'l' || l.id)
                  FROM crm_lead l
                  JOIN campaign_campaign c ON c.utm_campaign_id = l.campaign_id
                                          AND (l.company_id IS NULL OR l.company_id = c.company_id)
             LEFT JOIN res_partner p ON p.id = l.partner_id
                 WHERE c.id = ANY(%(ids)s) AND l.active
            )
            SELECT campaign_id,
                   COUNT(DISTINCT who) FILTER (WHERE kind = 'b') AS buyer_count,
                   COUNT(DISTINCT who) AS return_count
              FROM outcomes
          GROUP BY campaign_id""",
                ids=ids,
                carried=CARRIED_STATES,
            )
        )
        for row in self.env.cr.dictfetchall():
            result[row.pop("campaign_id")].update(row)
        return result

    @api.model
    def _group_expand_states(self, states, domain):
        return [key for key, _label in CAMPAIGN_STATES]

    # ------------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------------
    @api.constrains("name")
    def _check_name(self):
        for campaign in self:
            if len(campaign.name or "") > NAME_MAX_LENGTH:
                raise ValidationError(
                    self.env._(
                        "The campaign name “%(name)s…” is too long: use one word of at most %(max)s characters, "
                        "for example JanOffers or FebSale.",
                        name=campaign.name[:NAME_MAX_LENGTH],
                        max=NAME_MAX_LENGTH,
                    )
                )
            if not NAME_PATTERN.match(campaign.name or ""):
                raise ValidationError(
                    self.env._(
                        "The campaign name “%(name)s” is not valid: use one word without spaces, "
                        "for example JanOffers or FebSale.",
                        name=campaign.name,
                    )
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    def _creation_message(self):
        # one translatable sentence, in the creator's language ("Marketing Campaign créé" mixed the
        # model's name, not translated yet when demo data loads, with a verb of the wrong gender)
        return self.env._("Campaign created")

    @api.model_create_multi
    def create(self, vals_list):
        campaigns = super().create(vals_list)
        campaigns._sync_utm_campaign()
        campaigns._sync_project_account()
        return campaigns

    def write(self, vals):
        if "state" in vals:
            self._check_state_transition(vals["state"])
        if "company_id" in vals and self._has_touchpoints():
            raise UserError(self.env._("The company of a campaign that already reached contacts cannot be changed."))
        changed_tracking = TRACKING_FIELDS & set(vals)
        if changed_tracking:
            self._check_tracking_unlocked(vals)
        res = super().write(vals)
        if {"name", "user_id", "active"} & set(vals):
            self._sync_utm_campaign()
        if "name" in vals:
            self.action_ids._sync_utm_source()
        if {"project_id", "analytic_account_id"} & set(vals):
            self._sync_project_account()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_started(self):
        for campaign in self:
            if campaign.state not in ("draft", "cancelled") or campaign.touchpoint_ids:
                raise UserError(
                    self.env._(
                        "The campaign %(name)s has been launched: archive it instead of deleting it.",
                        name=campaign.name,
                    )
                )

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        default = default or {}
        for campaign, vals in zip(self, vals_list, strict=True):
            if "name" not in default:
                vals["name"] = campaign._unique_copy_name()
        return vals_list

    def copy(self, default=None):
        """Duplicate the campaign with its settings, targets and actions, without touchpoints
        nor results. Dates are shifted by ``campaign_date_shift`` days (context) when given."""
        shift = self.env.context.get("campaign_date_shift")
        new_campaigns = self.env["campaign.campaign"]
        for campaign in self:
            values = dict(default or {})
            if shift is not None:
                delta = timedelta(days=shift)
                values.setdefault("date_start", campaign.date_start and campaign.date_start + delta)
                values.setdefault("date_end", campaign.date_end and campaign.date_end + delta)
            new_campaign = super(CampaignCampaign, campaign).copy(values)
            campaign.action_ids._copy_to_campaign(new_campaign, date_shift=shift)
            new_campaigns |= new_campaign
        return new_campaigns

    def _unique_copy_name(self):
        self.ensure_one()
        base = f"{self.name}Copy"
        taken = set(
            self.with_context(active_test=False)
            .sudo()  # names are unique per company, including the campaigns the user may not see
            .search([("name", "=like", f"{base}%"), ("company_id", "=", self.company_id.id)])
            .mapped("name")
        )
        name, index = base, 2
        while name in taken:
            name = f"{base}{index}"
            index += 1
        return name

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_set_ready(self):
        for campaign in self:
            missing = campaign._missing_for_ready()
            if missing:
                raise UserError(
                    self.env._(
                        "The campaign %(name)s is not ready yet:\n%(missing)s",
                        name=campaign.name,
                        missing="\n".join(f"- {m}" for m in missing),
                    )
                )
        self.write({"state": "ready"})

    def action_set_draft(self):
        self.write({"state": "draft"})

    def action_set_active(self):
        self.write({"state": "active"})
        self.env["campaign.engine"]._trigger()

    def action_launch(self):
        """Open the launch wizard (seed 003: immediately, at a date and time, or recurring)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Launch %(campaign)s", campaign=self.name),
            "res_model": "campaign.campaign.launch",
            "view_mode": "form",
            "target": "new",
            "context": {"default_campaign_id": self.id},
        }

    def action_stop(self):
        """Stop the campaign: once saved, nothing more goes out. Emails and SMS waiting in their
        queues are withdrawn; their contacts are reached when the campaign resumes."""
        self.write({"state": "stopped"})
        # the UPDATE of the campaign row waits for any email being sent right now (its delivery
        # worker holds a share lock on the row until it is sent and recorded); later emails see the stop
        self.env.flush_all()
        self._hold_queued_emails()
        self._hold_queued_sms()
        for campaign in self:
            campaign.message_post(body=self.env._("Campaign stopped: nothing more goes out until it resumes."))

    def action_resume(self):
        self.write({"state": "active"})
        self.env["campaign.engine"]._trigger()

    def action_order(self):
        """Resume the order of the campaign at the step reached (seed 000)."""
        self.ensure_one()
        if self.order_step == "done" or self.state not in ("draft", "ready"):
            raise UserError(
                self.env._("The order of the campaign %(name)s is complete: use its buttons instead.", name=self.name)
            )
        return self.env["campaign.campaign.order"]._open_for_campaign(self)

    def _action_show_instead(self, back=False):
        """Show the campaign's form in place of the screen that returns this (the order once launched),
        read again so that its figures and smart buttons are those of now.

        :param bool back: that screen was opened from the campaign's form: go back to it
        """
        self.ensure_one()
        return {
            "type": "ir.actions.client",
            "tag": "campaign_manager.show_record",
            "params": {
                "back": back,
                "action": {
                    "type": "ir.actions.act_window",
                    "res_model": self._name,
                    "res_id": self.id,
                    "view_mode": "form",
                    "views": [(False, "form")],
                    "target": "current",
                },
            },
        }

    def action_view_runs(self):
        """Execution info: runs of the campaign's actions with their counts and errors."""
        return self._action_view_related("campaign_manager.campaign_action_run_action")

    def action_done(self):
        self.write({"state": "done"})

    def action_cancel(self):
        self.write({"state": "cancelled"})
        self.action_ids.filtered(lambda a: a.state in ("draft", "scheduled")).write({"state": "cancelled"})

    def action_calculate(self):
        self.ensure_one()
        wizard = self.env["campaign.campaign.calculate"].create({"campaign_id": self.id})
        return wizard._action_open()

    def action_open_duplicate(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Duplicate Campaign"),
            "res_model": "campaign.campaign.duplicate",
            "view_mode": "form",
            "target": "new",
            "context": {"default_campaign_id": self.id},
        }

    def action_create_analytic_account(self):
        """Give the campaigns their analytic account (in the Campaigns plan), where their expenses,
        timesheets and bills are tied. Those who may change the campaign need no analytic rights for
        it; accountants who manage analytic accounts may create it on a campaign they only read."""
        campaigns = self.filtered(lambda c: not c.analytic_account_id)
        if not campaigns:
            return True
        campaigns.check_access("read")
        if not campaigns.has_access("write"):
            self.env["account.analytic.account"].check_access("create")
        plan = self.env["account.analytic.plan"]._campaign_plan()
        accounts = (
            self.env["account.analytic.account"]
            .sudo()  # rights checked above: the account is the campaign's own, named after it
            .create(
                [
                    {
                        "name": campaign.name,
                        "code": campaign.name[:20],
                        "plan_id": plan.id,
                        "company_id": campaign.company_id.id,
                    }
                    for campaign in campaigns
                ]
            )
        )
        for campaign, account in zip(campaigns, accounts, strict=True):
            campaign.sudo().analytic_account_id = account  # the accountant may only read the campaign
        return True

    def action_create_project(self):
        """Create the campaign's project. Its Campaigns plan column holds the campaign's analytic account,
        so that the project's timesheets carry it; its Project plan account is created by Odoo.
        Those who may change the campaign need no Project rights for it."""
        campaigns = self.filtered(lambda c: not c.project_id)
        if not campaigns:
            return True
        campaigns.check_access("write")
        column = self.env["account.analytic.plan"]._campaign_plan()._column_name()
        for campaign in campaigns:
            campaign.action_create_analytic_account()
            values = {
                "name": campaign.name,
                "company_id": campaign.company_id.id,
                "user_id": campaign.user_id.id,
                column: campaign.analytic_account_id.id,
                "allow_timesheets": True,
                "type_ids": [fields.Command.set(self._campaign_task_stages().ids)],
            }
            if campaign.scope == "personal":
                # its tasks name the owner's own contacts: only its followers and assignees see them
                values["privacy_visibility"] = "followers"
            # sudo: the project is part of the campaign's set-up (write access checked above), a
            # link only the campaign sets; its manager is the campaign's owner
            campaign.sudo().project_id = self.env["project.project"].sudo().create(values)
        return True

    @api.model
    def _campaign_task_stages(self):
        """Stages of the campaigns' projects (seed 004): Not started, In progress, Done."""
        xmlids = ("not_started", "in_progress", "done")
        stages = self.env["project.task.type"]
        for xmlid in xmlids:
            stages |= self.env.ref(f"campaign_manager.project_task_type_{xmlid}", raise_if_not_found=False) or stages
        return stages

    def action_view_actions(self):
        return self._action_view_related("campaign_manager.campaign_action_action")

    def action_view_targets(self):
        return self._action_view_related("campaign_manager.campaign_target_action")

    def action_view_touchpoints(self):
        """The touchpoints the smart button counts; the Excluded filter shows the contacts left out."""
        action = self._action_view_related("campaign_manager.campaign_touchpoint_action")
        action["context"]["search_default_filter_not_excluded"] = 1
        return action

    def action_view_late_actions(self):
        action = self._action_view_related("campaign_manager.campaign_action_action")
        action["domain"] = [("campaign_id", "=", self.id), ("pending_after_end", "=", True)]
        action["view_mode"] = "list,form"
        action["views"] = [(False, "list"), (False, "form")]
        return action

    def action_view_calendar(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_calendar_entry_action")
        action["domain"] = [("campaign_id", "=", self.id)]
        action["context"] = {"search_default_filter_not_cancelled": 1}
        if self.date_start:
            action["context"]["initial_date"] = fields.Date.to_string(self.date_start)
        return action

    def action_choose_kpis(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Choose KPIs"),
            "res_model": "campaign.kpi.choose",
            "view_mode": "form",
            "target": "new",
        }

    def action_view_project(self):
        """Open the campaign's project, created first when it has none (by those who may change the
        campaign: others are shown the button only once the project exists)."""
        self.ensure_one()
        self.action_create_project()
        return {
            "type": "ir.actions.act_window",
            "res_model": "project.project",
            "res_id": self.project_id.id,
            "view_mode": "form",
        }

    def action_tie_expenses(self):
        """Tie existing expenses to the campaign (the expenses' own rules decide which ones)."""
        self.ensure_one()
        self.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Tie Expenses to %(campaign)s", campaign=self.name),
            "res_model": "campaign.campaign.expense",
            "view_mode": "form",
            "target": "new",
            "context": {"default_campaign_id": self.id},
        }

    # Drill-downs: each figure opens the documents it is computed from.
    def action_view_expenses(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Expenses of %(campaign)s", campaign=self.name),
            "res_model": "hr.expense",
            "view_mode": "list,form,pivot,graph",
            "views": [(False, "list"), (False, "form"), (False, "pivot"), (False, "graph")],
            "domain": [
                "|",
                ("campaign_id", "=", self.id),
                ("analytic_distribution", "in", self.analytic_account_id.ids or [0]),
            ],
            "context": {"default_campaign_id": self.id, "search_default_status": 1},
        }

    def action_view_timesheets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("hr_timesheet.timesheet_action_all")
        action["name"] = self.env._("Timesheets of %(campaign)s", campaign=self.name)
        action["domain"] = self._timesheet_domain()
        action["context"] = {"is_timesheet": 1, "default_project_id": self.project_id.id}
        return action

    def action_view_bills(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_in_invoice_type")
        action["name"] = self.env._("Supplier Bills of %(campaign)s", campaign=self.name)
        action["domain"] = [
            ("move_type", "in", ("in_invoice", "in_refund", "in_receipt")),
            ("expense_ids", "=", False),
            ("company_id", "=", self.company_id.id),
            ("line_ids.analytic_distribution", "in", self.analytic_account_id.ids or [0]),
        ]
        action["context"] = {"default_move_type": "in_invoice"}
        return action

    def action_view_analytic_items(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("analytic.account_analytic_line_action_entries")
        action["name"] = self.env._("Analytic Items of %(campaign)s", campaign=self.name)
        column = self.env["account.analytic.plan"]._campaign_plan()._column_name()
        action["domain"] = [(column, "=", self.analytic_account_id.id or 0)]
        action["context"] = {}
        return action

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_out_invoice_type")
        action["name"] = self.env._("Invoices of %(campaign)s", campaign=self.name)
        action["domain"] = [
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("state", "=", "posted"),
            ("company_id", "=", self.company_id.id),
            ("campaign_id", "=", self.utm_campaign_id.id),
        ]
        action["context"] = {"default_move_type": "out_invoice", "default_campaign_id": self.utm_campaign_id.id}
        return action

    def action_view_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("sale.action_orders")
        action["name"] = self.env._("Sales of %(campaign)s", campaign=self.name)
        action["domain"] = [
            ("state", "=", "sale"),
            ("company_id", "=", self.company_id.id),
            ("campaign_id", "=", self.utm_campaign_id.id),
        ]
        action["context"] = {"default_campaign_id": self.utm_campaign_id.id}
        return action

    def action_view_leads(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm.crm_lead_all_leads")
        action["name"] = self.env._("Leads and Opportunities of %(campaign)s", campaign=self.name)
        action["domain"] = [
            ("campaign_id", "=", self.utm_campaign_id.id),
            "|",
            ("company_id", "=", False),
            ("company_id", "=", self.company_id.id),
        ]
        action["context"] = {"active_test": False, "default_campaign_id": self.utm_campaign_id.id}
        action["view_mode"] = "list,kanban,form"
        action["views"] = [(False, "list"), (False, "kanban"), (False, "form")]
        return action

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

    def _timesheet_domain(self):
        """Timesheets counted as the campaign's cost: on its project, or on its analytic account."""
        self.ensure_one()
        column = self.env["account.analytic.plan"]._campaign_plan()._column_name()
        return [
            ("project_id", "!=", False),
            "|",
            (column, "=", self.analytic_account_id.id or 0),
            ("project_id", "=", self.project_id.id or 0),
        ]

    def _action_view_related(self, xmlid):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = [("campaign_id", "=", self.id)]
        action["context"] = {"default_campaign_id": self.id}
        return action

    # ------------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------------
    def _check_state_transition(self, new_state):
        labels = dict(self._fields["state"]._description_selection(self.env))
        for campaign in self:
            if campaign.state == new_state:
                continue
            if new_state not in CAMPAIGN_TRANSITIONS[campaign.state]:
                raise UserError(
                    self.env._(
                        "The campaign %(name)s cannot go from “%(old)s” to “%(new)s”.",
                        name=campaign.name,
                        old=labels[campaign.state],
                        new=labels[new_state],
                    )
                )

    def _has_touchpoints(self):
        return bool(self.ids) and bool(
            self.env["campaign.touchpoint"].sudo().search_count([("campaign_id", "in", self.ids)], limit=1)
        )  # sudo: a count across the rules, to protect the data whoever asks

    def _check_tracking_unlocked(self, vals):
        for campaign in self:
            if campaign.state in ("active", "stopped", "done") and any(
                campaign[field] != vals[field] for field in TRACKING_FIELDS & set(vals)
            ):
                raise UserError(
                    self.env._(
                        "The tracking settings of %(campaign)s cannot change once the campaign is active: "
                        "all its emails must be tracked the same way. Duplicate the campaign to change them.",
                        campaign=campaign.name,
                    )
                )

    def _mailing_reply_values(self):
        """Reply-to values of the campaign's mailings, from its reply setting."""
        self.ensure_one()
        if self.reply_mode == "contact":
            return {"reply_to_mode": "update", "reply_to": False}
        if self.reply_mode == "campaign":
            return {"reply_to_mode": "new", "reply_to": self.alias_email}
        return {"reply_to_mode": "new", "reply_to": self.reply_to or self.user_id.email_formatted}

    def _alias_get_creation_values(self):
        """Replies sent to the campaign's alias are posted on the campaign."""
        values = super()._alias_get_creation_values()
        values["alias_model_id"] = self.env["ir.model"]._get_id("campaign.campaign")
        if self.id:
            values["alias_force_thread_id"] = self.id
            values["alias_parent_thread_id"] = self.id
        return values

    def _hold_queued_emails(self):
        """Withdraw the campaign's emails queued but not sent yet (see ``mail.mail._campaign_hold``).
        Emails a delivery worker is sending right now are locked by it and skipped here: the worker
        sees the stop once it is saved and withdraws them itself. Emails a worker sent but could not
        record yet (receipt) are not withdrawn: they left."""
        if not self:
            return
        self.env.cr.execute(
            SQL(
                """SELECT mm.id FROM mail_mail mm
                     JOIN mailing_mailing m ON m.id = mm.mailing_id
                     JOIN campaign_action_run r ON r.id = m.campaign_run_id
                    WHERE r.campaign_id IN %s AND mm.state = 'outgoing'
                      AND NOT EXISTS (SELECT 1 FROM campaign_delivery_receipt d WHERE d.mail_id = mm.id)
                      FOR NO KEY UPDATE OF mm SKIP LOCKED""",
                tuple(self.ids),
            )
        )
        mail_ids = [row[0] for row in self.env.cr.fetchall()]
        # mails are technical records of the mail queue
        self.env["mail.mail"].sudo().browse(mail_ids)._campaign_hold()

    def _hold_queued_sms(self):
        """Withdraw the campaign's SMS queued but not sent yet (see ``sms.sms._campaign_hold``).
        SMS being sent right now are locked by their sender and skipped here: the sender sees the
        stop once it is saved and withdraws them itself."""
        if not self:
            return
        self.env.cr.execute(
            SQL(
                """SELECT s.id FROM sms_sms s
                     JOIN mailing_mailing m ON m.id = s.mailing_id
                     JOIN campaign_action_run r ON r.id = m.campaign_run_id
                    WHERE r.campaign_id IN %s AND s.state = 'outgoing'
                      FOR UPDATE OF s SKIP LOCKED""",
                tuple(self.ids),
            )
        )
        sms_ids = [row[0] for row in self.env.cr.fetchall()]
        # SMS are technical records of the SMS queue
        self.env["sms.sms"].sudo().browse(sms_ids)._campaign_hold()

    def _missing_for_launch(self):
        """Everything the campaign and its actions still need before a launch (user's language)."""
        self.ensure_one()
        # launching starts the campaign today when it has no start date yet
        missing = self._missing_for_ready(require_start=False) if self.state == "draft" else []
        for action in self.action_ids.filtered(lambda a: a.state in ("draft", "scheduled")):
            missing += [
                self.env._("%(action)s: %(missing)s", action=action.name, missing=item)
                for item in action._missing_for_run()
            ]
        if self.reply_mode == "campaign" and not self.alias_email:
            missing.append(self.env._("an email alias for the replies (Tracking tab), with an alias domain"))
        return missing

    def _missing_for_ready(self, require_start=True):
        """List, in the user's language, what the campaign still needs before it can run."""
        self.ensure_one()
        missing = []
        if require_start and not self.date_start:
            missing.append(self.env._("a start date"))
        actions = self.action_ids.filtered(lambda a: a.state != "cancelled")
        if not self.target_ids and not (actions and all(a.audience_less for a in actions)):
            missing.append(self.env._("at least one target"))
        if not self.action_ids.filtered(lambda a: a.state != "cancelled"):
            missing.append(self.env._("at least one action"))
        return missing

    def _job_lang(self):
        """Language the scheduled job writes in for the campaign (chatter notes, run logs, names
        of the records it creates): its owner's, else its company's, else the job's own.

        :return: code of an installed language
        """
        self.ensure_one()
        langs = self.env["res.lang"]
        return (
            langs._get_code(self.user_id.lang)
            or langs._get_code(self.company_id.partner_id.lang)
            or self.env.lang
            or "en_US"
        )

    def _reach_order_step(self, step):
        """Record that the order reached ``step`` (never goes back)."""
        for campaign in self:
            if ORDER_STEP_INDEX[step] > ORDER_STEP_INDEX[campaign.order_step]:
                campaign.order_step = step

    def _sync_utm_campaign(self):
        """Create the UTM campaign of each campaign, or copy its name, owner and activity on it."""
        utm_model = self.env["utm.campaign"].sudo()  # utm records are technical: users may lack rights on them
        for campaign in self:
            utm = campaign.utm_campaign_id.sudo()
            if not utm:
                campaign.sudo().utm_campaign_id = utm_model.create(
                    {
                        "name": campaign.name,
                        "title": campaign.name,
                        "user_id": campaign.user_id.id,
                        "active": campaign.active,
                    }
                )
                continue
            values = {}
            if utm.title != campaign.name:
                values["title"] = campaign.name
            if utm.user_id != campaign.user_id:
                values["user_id"] = campaign.user_id.id
            if utm.active != campaign.active:
                values["active"] = campaign.active
            if values:
                utm.write(values)

    def _sync_project_account(self):
        """Put the campaign's analytic account on its project (Campaigns plan column), so that the time
        logged on the project carries it, as for projects created from the campaign."""
        with_both = self.filtered(lambda c: c.project_id and c.analytic_account_id)
        if not with_both:
            return
        column = self.env["account.analytic.plan"]._campaign_plan()._column_name()
        for campaign in with_both:
            project = campaign.project_id.sudo()  # campaign users may not manage projects' analytic settings
            if project[column] != campaign.analytic_account_id:
                project[column] = campaign.analytic_account_id

    def _resolve_recipients(self, channel, targets=None, action=None):
        """Resolve the recipients of the campaign for a channel, set-based.

        :param str channel: one of CHANNELS' keys
        :param targets: campaign.target recordset (default: all of the campaign's)
        :param action: campaign.action used for the "once per contact" exclusion
        :return: campaign.audience result (see ``campaign.target._audience_sql``)
        """
        self.ensure_one()
        targets = targets or self.target_ids
        return targets._audience_stats(channel, action=action)

    # ------------------------------------------------------------------
    # AUTOMATIC STATUS (seed 004)
    # ------------------------------------------------------------------
    @api.model
    def _cron_update_states(self):
        """Scheduled job: a ready campaign becomes active on its start date, an active one done
        after its end date. Each change goes through the usual transitions, so it is tracked in the
        chatter; actions still pending when a campaign ends get a to-do for their responsible."""
        today = fields.Date.context_today(self)
        to_start = self.search([("state", "=", "ready"), ("date_start", "!=", False), ("date_start", "<=", today)])
        # the job writes (status tracking, notes, to-dos) in each campaign's language
        for lang, group in to_start.grouped(lambda campaign: campaign._job_lang()).items():
            campaigns = group.with_context(lang=lang)
            campaigns.action_set_active()
            note = Markup("<p>%s</p>") % campaigns.env._("Started on its start date.")
            campaigns._message_log_batch(bodies=dict.fromkeys(campaigns.ids, note))
        to_finish = self.search([("state", "=", "active"), ("date_end", "!=", False), ("date_end", "<", today)])
        for lang, group in to_finish.grouped(lambda campaign: campaign._job_lang()).items():
            campaigns = group.with_context(lang=lang)
            campaigns.action_done()
            note = Markup("<p>%s</p>") % campaigns.env._("Finished after its end date.")
            campaigns._message_log_batch(bodies=dict.fromkeys(campaigns.ids, note))
        to_finish.action_ids.filtered("pending_after_end")._schedule_late_activity()
        return True

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
