from collections import defaultdict

from odoo import api, fields, models, tools
from odoo.tools import SQL

from ..const import CARRIED_STATES, RESPONDED_CONDITION
from ..models.campaign_campaign import CAMPAIGN_STATES, CAMPAIGN_TYPES

# Additive measures of the facts, in this order in every piece of the union.
MEASURES = (
    "units_planned",
    "cost_planned",
    "cost_actual",
    "cost_committed",
    "revenue_invoiced",
    "cogs",
    "margin",
    "revenue_paid",
    "revenue_attributed",
    "revenue_ordered",
    "revenue_won",
    "revenue_pipeline",
    "invoice_count",
    "order_count",
    "lead_count",
    "opportunity_count",
    "won_count",
    "sent_count",
    "delivered_count",
    "bounce_count",
    "open_unique",
    "open_total",
    "clicker_unique",
    "click_total",
    "unsubscribe_count",
    "reply_count",
    "converted_count",
)

# Rates of the analysis: {field: (part, whole)}, percentages of summed measures. Each row holds its
# own rate; any grouping computes part / whole over its rows (see _read_group_select), never an
# average of the rows' rates.
RATES = {
    "open_rate": ("open_unique", "sent_count"),
    "click_rate": ("clicker_unique", "sent_count"),
    "bounce_rate": ("bounce_count", "sent_count"),
    "unsubscribe_rate": ("unsubscribe_count", "sent_count"),
}

FACT_KINDS = [
    ("action", "Action costs"),
    ("touchpoint", "Touchpoints"),
    ("expense", "Expenses"),
    ("timesheet", "Timesheets"),
    ("bill", "Supplier bills"),
    ("other_cost", "Other analytic costs"),
    ("invoice", "Invoices"),
    ("payment", "Payments"),
    ("attribution", "Invoices by contact"),
    ("order", "Sale orders"),
    ("lead", "Leads and opportunities"),
]

# Expense states counted as actual cost, and as committed cost.
EXPENSE_ACTUAL_STATES = ("approved", "posted", "in_payment", "paid")
EXPENSE_COMMITTED_STATES = ("submitted",)
BILL_TYPES = ("in_invoice", "in_refund", "in_receipt")
SALE_DOCUMENT_TYPES = ("out_invoice", "out_refund", "out_receipt")


class CampaignAnalysisReport(models.Model):
    """Everything a campaign costs and earns, one row per kind of source, campaign, action and day.

    The same pieces of SQL feed this view (pivot and graph) and the figures of campaigns and actions
    (``_read_figures``: ``_read_facts`` and, for what cannot be summed, ``_read_distinct``), so the
    analysis and the campaign form always agree. Amounts are in the
    currency of the campaign's company; documents of other companies are left out."""

    _name = "campaign.analysis.report"
    _description = "Campaign Analysis"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "campaign_id"
    _measures = MEASURES

    kind = fields.Selection(selection=FACT_KINDS, string="Source", readonly=True)
    campaign_id = fields.Many2one("campaign.campaign", readonly=True)
    action_id = fields.Many2one("campaign.action", readonly=True)
    date = fields.Date(readonly=True, help="Date of the document: expense, timesheet, bill, invoice, order, etc.")
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    campaign_type = fields.Selection(selection=CAMPAIGN_TYPES, readonly=True)
    campaign_state = fields.Selection(selection=CAMPAIGN_STATES, string="Campaign Status", readonly=True)
    user_id = fields.Many2one("res.users", string="Owner", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    channel = fields.Selection(selection=lambda self: self.env["campaign.action"]._selection_channel(), readonly=True)
    scope = fields.Selection(
        selection=[("company", "Company contacts"), ("personal", "Personal contacts")], readonly=True
    )

    units_planned = fields.Integer(
        string="Planned Units", readonly=True, help="Units (messages, letters, tasks...) the actions plan to carry."
    )
    cost_planned = fields.Monetary(
        string="Planned Cost",
        readonly=True,
        help="Fixed cost + cost per unit × planned units of the actions (cancelled ones excepted).",
    )
    cost_actual = fields.Monetary(
        string="Actual Cost",
        readonly=True,
        help="Actions carried out (fixed cost + unit costs), approved and posted expenses, timesheets, "
        "posted supplier bills and other analytic costs, untaxed.",
    )
    cost_committed = fields.Monetary(
        string="Committed Cost", readonly=True, help="Submitted expenses and draft supplier bills, untaxed."
    )
    revenue_invoiced = fields.Monetary(
        string="Invoiced",
        readonly=True,
        help="Posted customer invoices net of credit notes carrying the campaign's UTM campaign (attributed by "
        "links), untaxed.",
    )
    cogs = fields.Monetary(
        string="Cost of Goods Sold",
        readonly=True,
        help="Cost of the products invoiced, net of credit notes: the stock valuation's cost of goods sold "
        "where the invoice has one, else quantity × the product's cost.",
    )
    margin = fields.Monetary(readonly=True, help="Invoiced - cost of goods sold.")
    revenue_paid = fields.Monetary(
        string="Cashed",
        readonly=True,
        help="Payments received on the invoices (net of refunds paid back), untaxed share, dated by payment.",
    )
    revenue_attributed = fields.Monetary(
        string="Attributed by Contact",
        readonly=True,
        help="Share of every customer invoice (net of credit notes) of a buyer the campaign reached in the "
        "look-back window before it, by the company's attribution model.",
    )
    revenue_ordered = fields.Monetary(string="Ordered", readonly=True, help="Confirmed sale orders, untaxed.")
    revenue_won = fields.Monetary(string="Won", readonly=True, help="Expected revenue of won opportunities.")
    revenue_pipeline = fields.Monetary(string="Pipeline", readonly=True, help="Expected revenue of open opportunities.")
    invoice_count = fields.Integer(string="Invoices", readonly=True)
    order_count = fields.Integer(string="Orders", readonly=True)
    lead_count = fields.Integer(string="Leads", readonly=True, help="Leads and opportunities, lost ones included.")
    opportunity_count = fields.Integer(string="Opportunities", readonly=True)
    won_count = fields.Integer(string="Won Opportunities", readonly=True)
    sent_count = fields.Integer(string="Sent", readonly=True, help="Touchpoints carried out (sent or done).")
    delivered_count = fields.Integer(string="Delivered", readonly=True, help="Sent and not bounced.")
    bounce_count = fields.Integer(string="Bounces", readonly=True)
    open_unique = fields.Integer(string="Unique Opens", readonly=True)
    open_total = fields.Integer(string="Total Opens", readonly=True)
    clicker_unique = fields.Integer(string="Unique Clickers", readonly=True)
    click_total = fields.Integer(string="Total Clicks", readonly=True)
    unsubscribe_count = fields.Integer(string="Unsubscribes", readonly=True)
    reply_count = fields.Integer(string="Replies", readonly=True)
    converted_count = fields.Integer(string="Conversions", readonly=True)
    open_rate = fields.Float(
        string="Open Rate (%)", readonly=True, aggregator="avg", digits=(16, 2), help="Unique opens / sent × 100."
    )
    click_rate = fields.Float(
        string="Click Rate (%)", readonly=True, aggregator="avg", digits=(16, 2), help="Unique clickers / sent × 100."
    )
    bounce_rate = fields.Float(
        string="Bounce Rate (%)", readonly=True, aggregator="avg", digits=(16, 2), help="Bounces / sent × 100."
    )
    unsubscribe_rate = fields.Float(
        string="Unsubscribe Rate (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 2),
        help="Unsubscribes / sent × 100.",
    )

    # ------------------------------------------------------------------
    # VIEW
    # ------------------------------------------------------------------
    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                """
            CREATE OR REPLACE VIEW %(table)s AS (
                SELECT row_number() OVER (ORDER BY f.campaign_id, f.kind, f.action_id, f.date) AS id,
                       f.kind, f.campaign_id, f.action_id, f.date,
                       c.company_id, c.currency_id, c.campaign_type, c.state AS campaign_state,
                       c.user_id, c.team_id, c.scope, a.channel,
                       %(measures)s, %(rates)s
                  FROM (%(facts)s) f
                  JOIN campaign_campaign c ON c.id = f.campaign_id
             LEFT JOIN campaign_action a ON a.id = f.action_id
            )""",
                table=SQL.identifier(self._table),
                measures=SQL(", ").join(SQL("f.%s", SQL.identifier(m)) for m in MEASURES),
                rates=SQL(", ").join(
                    SQL(
                        "CASE WHEN f.%(whole)s > 0 THEN 100.0 * f.%(part)s / f.%(whole)s ELSE 0 END AS %(rate)s",
                        part=SQL.identifier(part),
                        whole=SQL.identifier(whole),
                        rate=SQL.identifier(rate),
                    )
                    for rate, (part, whole) in RATES.items()
                ),
                facts=self._facts_sql(),
            )
        )

    def _read_group_select(self, aggregate_spec, query):
        """A rate over a group is the part over the whole of its rows (5 opens of 10 sent and 0 of
        90 make 5 %, not the 25 % an average of the rows' rates would give)."""
        rate, _sep, _aggregate = aggregate_spec.partition(":")
        if rate not in RATES:
            return super()._read_group_select(aggregate_spec, query)
        part, whole = RATES[rate]
        return SQL(
            "COALESCE(100.0 * SUM(%(part)s) / NULLIF(SUM(%(whole)s), 0), 0)",
            part=self._field_to_sql(self._table, part, query),
            whole=self._field_to_sql(self._table, whole, query),
        )

    # ------------------------------------------------------------------
    # FACTS
    # ------------------------------------------------------------------
    @api.model
    def _read_facts(self, campaign_ids, group_by):
        """Sum the facts of the given campaigns.

        :param list campaign_ids: ids of campaign.campaign
        :param str group_by: ``"campaign"`` (rows keyed by campaign and kind) or ``"action"``
        :return: list of dicts with the keys of MEASURES plus ``campaign_id`` and ``kind``, or
            ``action_id``
        """
        if not campaign_ids:
            return []
        keys = ["campaign_id", "kind"] if group_by == "campaign" else ["action_id"]
        where = SQL("f.action_id IS NOT NULL") if group_by == "action" else SQL("TRUE")
        return self._sum_facts(campaign_ids, keys, MEASURES, where)

    @api.model
    def _sum_facts(self, campaign_ids, keys, measures, where, order=False):
        """The ``measures`` of the facts of the campaigns summed by the columns ``keys`` (the
        facts' rows matching the SQL condition ``where``), in the order of the keys if ``order``.

        :return: list of dicts keyed by the keys and the measures
        """
        keys = SQL(", ").join(SQL("f.%s", SQL.identifier(key)) for key in keys)
        self.env.flush_all()
        # a union of eight sums over many rows: PostgreSQL's JIT would compile it at each call (it is
        # planned afresh) for longer than it runs; the setting ends with the transaction
        self.env.cr.execute("SET LOCAL jit = off")
        self.env.cr.execute(
            SQL(
                "SELECT %(keys)s, %(sums)s FROM (%(facts)s) f WHERE %(where)s GROUP BY %(keys)s %(order)s",
                keys=keys,
                sums=SQL(", ").join(SQL("SUM(f.%s) AS %s", SQL.identifier(m), SQL.identifier(m)) for m in measures),
                facts=self._facts_sql(list(campaign_ids)),
                where=where,
                order=SQL("ORDER BY %s", keys) if order else SQL(),
            )
        )
        return self.env.cr.dictfetchall()

    @api.model
    def _read_daily(self, campaign_ids, measures):
        """The given measures of the campaigns summed per day, in date order.

        :return: {campaign_id: [(date, {measure: sum}), ...]}
        """
        result = {}
        if not campaign_ids:
            return result
        rows = self._sum_facts(campaign_ids, ["campaign_id", "date"], measures, SQL("f.date IS NOT NULL"), order=True)
        for row in rows:
            result.setdefault(row.pop("campaign_id"), []).append(
                (row.pop("date"), {measure: float(value or 0.0) for measure, value in row.items()})
            )
        return result

    @api.model
    def _read_figures(self, campaign_ids, group_by):
        """The facts of the given campaigns summed for the figures of campaigns or actions (see
        ``campaign.figures.mixin``): the one place the figures are read from.

        :param list campaign_ids: ids of campaign.campaign
        :param str group_by: ``"campaign"`` or ``"action"``
        :return: {campaign or action id: {"sums": {measure: sum}, "kinds": {kind: {measure: sum}},
            "distinct": {count: value}}}, answering zeros for an id without facts; "kinds" and the
            counts of distinct contacts (see ``_read_distinct``) for campaigns only
        """
        figures = defaultdict(
            lambda: {"sums": defaultdict(float), "kinds": defaultdict(lambda: defaultdict(float)), "distinct": {}}
        )
        key = "campaign_id" if group_by == "campaign" else "action_id"
        for row in self._read_facts(campaign_ids, group_by):
            facts = figures[row[key]]
            for measure in MEASURES:
                value = float(row[measure] or 0.0)
                facts["sums"][measure] += value
                if group_by == "campaign":
                    facts["kinds"][row["kind"]][measure] += value
        if group_by == "campaign":
            for campaign_id, counts in self._read_distinct(campaign_ids).items():
                figures[campaign_id]["distinct"] = counts
        return figures

    @api.model
    def _read_distinct(self, campaign_ids):
        """Counts of distinct contacts, which cannot be summed from the facts.

        :param list campaign_ids: ids of campaign.campaign
        :return: {campaign_id: {"contacts_reached", "response_count", "buyer_count", "return_count"}}
        """
        if not campaign_ids:
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
                ids=campaign_ids,
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
                ids=campaign_ids,
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
                ids=campaign_ids,
                carried=CARRIED_STATES,
            )
        )
        for row in self.env.cr.dictfetchall():
            result[row.pop("campaign_id")].update(row)
        return result

    @staticmethod
    def _percent(part, whole):
        """part / whole × 100, or 0 when whole is 0."""
        return part / whole * 100.0 if whole else 0.0

    @api.model
    def _message_metrics(self, sums):
        """Email analysis figures (seed 004) from summed facts.

        :param dict sums: measure -> sum
        :return: dict of campaign/action field values
        """
        sent = int(sums.get("sent_count", 0))
        opens = int(sums.get("open_unique", 0))
        clickers = int(sums.get("clicker_unique", 0))
        unsubscribes = int(sums.get("unsubscribe_count", 0))
        bounces = int(sums.get("bounce_count", 0))
        return {
            "sent_count": sent,
            "delivered_count": int(sums.get("delivered_count", 0)),
            "open_unique": opens,
            "open_total": int(sums.get("open_total", 0)),
            "open_rate": self._percent(opens, sent),
            "clicker_unique": clickers,
            "click_total": int(sums.get("click_total", 0)),
            "click_rate": self._percent(clickers, sent),
            "click_per_unique_open": self._percent(clickers, opens),
            "unsubscribe_count": unsubscribes,
            "unsubscribe_rate": self._percent(unsubscribes, sent),
            "bounce_count": bounces,
            "bounce_rate": self._percent(bounces, sent),
        }

    @api.model
    def _facts_sql(self, campaign_ids=None):
        """The union of every source of costs, revenue and engagement.

        :param campaign_ids: restrict to these campaigns (None: all, for the view)
        :return: SQL selecting ``kind, campaign_id, action_id, date`` and MEASURES
        """
        pieces = [
            self._facts_actions(campaign_ids),
            self._facts_touchpoints(),
            self._facts_expenses(campaign_ids),
            self._facts_analytic_lines(campaign_ids),
            self._facts_draft_bills(campaign_ids),
            self._facts_invoices(campaign_ids),
            self._facts_payments(campaign_ids),
            self._facts_attribution(campaign_ids),
            self._facts_orders(campaign_ids),
            self._facts_leads(campaign_ids),
        ]
        # the touchpoints are read once for both the actions' planned cost and the touchpoints' own
        # facts (two scans of 1,000,000 touchpoints took 0.25 s more for the campaign list); for the
        # view (all campaigns), inlined instead, so that a filter on the campaign reaches the scans
        # (the actions' sums are joined on the campaign too for that)
        return SQL(
            "WITH tp_sums AS %(materialized)s (%(sums)s) %(pieces)s",
            materialized=SQL("MATERIALIZED") if campaign_ids is not None else SQL("NOT MATERIALIZED"),
            sums=self._touchpoint_sums_sql(campaign_ids),
            pieces=SQL(" UNION ALL ").join(piece for piece in pieces if piece is not None),
        )

    def _touchpoint_sums_sql(self, campaign_ids):
        """The touchpoints still to carry or carried (neither excluded nor cancelled) summed per
        campaign, action, day and whether they were carried out: ``n`` and ``unit_cost`` for the
        actions' planned cost, the touchpoints' measures for their facts (see ``_facts_touchpoints``)."""
        bounced = SQL("(tp.state = 'bounced' OR tp.date_bounced IS NOT NULL)")
        opened = SQL("(tp.date_opened IS NOT NULL OR COALESCE(tp.open_count, 0) > 0)")
        clicked = SQL("(tp.date_clicked IS NOT NULL OR COALESCE(tp.click_count, 0) > 0)")

        def count(condition):
            return SQL("SUM(CASE WHEN %s THEN 1 ELSE 0 END)", condition)

        measures = {
            "cost_actual": SQL("SUM(COALESCE(tp.unit_cost, 0))"),
            "sent_count": SQL("COUNT(*)"),
            "delivered_count": count(SQL("NOT %s", bounced)),
            "bounce_count": count(bounced),
            "open_unique": count(opened),
            "open_total": SQL("SUM(GREATEST(COALESCE(tp.open_count, 0), CASE WHEN %s THEN 1 ELSE 0 END))", opened),
            "clicker_unique": count(clicked),
            "click_total": SQL("SUM(GREATEST(COALESCE(tp.click_count, 0), CASE WHEN %s THEN 1 ELSE 0 END))", clicked),
            "unsubscribe_count": count(SQL("(tp.state = 'unsubscribed' OR tp.date_unsubscribed IS NOT NULL)")),
            "reply_count": count(SQL("(tp.state = 'replied' OR tp.date_replied IS NOT NULL)")),
            "converted_count": count(SQL("(tp.state = 'converted' OR tp.date_converted IS NOT NULL)")),
        }
        return SQL(
            """SELECT tp.campaign_id, tp.action_id,
                      COALESCE(tp.date_done, tp.date_planned, tp.create_date)::date AS date,
                      tp.state IN %(carried)s AS carried, COUNT(*) AS n, SUM(tp.unit_cost) AS unit_cost, %(measures)s
                 FROM campaign_touchpoint tp
                WHERE tp.state NOT IN ('excluded', 'cancelled') AND %(filter)s
             GROUP BY 1, 2, 3, 4""",
            carried=CARRIED_STATES,
            measures=SQL(", ").join(SQL("%s AS %s", value, SQL.identifier(name)) for name, value in measures.items()),
            filter=self._campaign_filter(campaign_ids, SQL("tp.campaign_id")),
        )

    def _fact_select(self, kind, campaign, action, date, values, from_clause, group_by=True):
        """One piece of the union: the measures not in ``values`` are 0."""
        columns = [
            SQL("COALESCE(SUM(%s), 0)", values[m]) if group_by and m in values else values.get(m, SQL("0"))
            for m in MEASURES
        ]
        select = SQL(
            "SELECT %s AS kind, %s AS campaign_id, %s AS action_id, %s AS date, %s",
            kind,
            campaign,
            action,
            date,
            SQL(", ").join(
                SQL("%s AS %s", column, SQL.identifier(m)) for column, m in zip(columns, MEASURES, strict=True)
            ),
        )
        if group_by:
            return SQL("(%s %s GROUP BY 1, 2, 3, 4)", select, from_clause)
        return SQL("(%s %s)", select, from_clause)

    @staticmethod
    def _campaign_filter(campaign_ids, column):
        if campaign_ids is None:
            return SQL("TRUE")
        return SQL("%s = ANY(%s)", column, campaign_ids)

    def _facts_actions(self, campaign_ids):
        """Planned cost of each action and its fixed cost once it started.

        Planned units: the touchpoints of its runs still to carry or carried (neither excluded nor
        cancelled) once it has some, else the units expected on the action (0 when cancelled)."""
        units_planned = SQL(
            "CASE WHEN COALESCE(t.to_carry, 0) > 0 THEN t.to_carry "
            "WHEN a.state = 'cancelled' THEN 0 ELSE COALESCE(a.expected_units, 0) END"
        )
        started = SQL("(a.state IN ('running', 'done') OR COALESCE(t.carried, 0) > 0)")
        return self._fact_select(
            SQL("'action'"),
            SQL("a.campaign_id"),
            SQL("a.id"),
            SQL("COALESCE(a.date_start::date, c.date_start, c.create_date::date)"),
            {
                "units_planned": units_planned,
                "cost_planned": SQL(
                    "CASE WHEN a.state = 'cancelled' AND NOT %(started)s THEN 0 ELSE COALESCE(a.fixed_cost, 0) END"
                    " + CASE WHEN COALESCE(t.to_carry, 0) > 0 THEN t.to_carry_cost WHEN a.state = 'cancelled' THEN 0"
                    " ELSE COALESCE(a.unit_cost, 0) * COALESCE(a.expected_units, 0) END",
                    started=started,
                ),
                "cost_actual": SQL("CASE WHEN %s THEN COALESCE(a.fixed_cost, 0) ELSE 0 END", started),
            },
            SQL(
                """FROM campaign_action a
                   JOIN campaign_campaign c ON c.id = a.campaign_id
              LEFT JOIN (SELECT campaign_id, action_id, SUM(n) AS to_carry, SUM(unit_cost) AS to_carry_cost,
                                SUM(n) FILTER (WHERE carried) AS carried
                           FROM tp_sums
                       GROUP BY campaign_id, action_id) t ON t.action_id = a.id AND t.campaign_id = a.campaign_id
                  WHERE %(filter)s""",
                filter=self._campaign_filter(campaign_ids, SQL("a.campaign_id")),
            ),
            group_by=False,
        )

    def _facts_touchpoints(self):
        """Variable cost and engagement of the touchpoints carried out, per action and day (summed
        in ``tp_sums``, see ``_touchpoint_sums_sql``)."""
        # the variable cost, then the message measures (the last of MEASURES, from sent_count on)
        names = ("cost_actual", *MEASURES[MEASURES.index("sent_count") :])
        return self._fact_select(
            SQL("'touchpoint'"),
            SQL("s.campaign_id"),
            SQL("s.action_id"),
            SQL("s.date"),
            {name: SQL("s.%s", SQL.identifier(name)) for name in names},
            SQL("FROM tp_sums s WHERE s.carried"),
        )

    def _campaign_accounts(self, campaign_ids):
        """Array of the analytic account ids (as text) of the campaigns, to match the GIN index that
        Odoo keeps on analytic distributions (see ``analytic.mixin._query_analytic_accounts``)."""
        return SQL(
            "(SELECT COALESCE(array_agg(analytic_account_id::text), '{}') FROM campaign_campaign "
            "WHERE analytic_account_id IS NOT NULL AND %s)",
            self._campaign_filter(campaign_ids, SQL("id")),
        )

    @staticmethod
    def _distribution_rows(distribution, company):
        """Joins giving one row per campaign account found in each key of the distribution (keys may
        combine accounts of several plans: "12,34"), with that key's percentage as ``d.value``.
        Each key becomes an analytic item of its own once posted, hence amounts rounded per key."""
        return SQL(
            """CROSS JOIN LATERAL jsonb_each_text(%(distribution)s) AS d
               CROSS JOIN LATERAL unnest(string_to_array(d.key, ',')) AS k(account_id)
                     JOIN campaign_campaign c ON c.analytic_account_id = k.account_id::integer
                                             AND c.company_id = %(company)s""",
            distribution=distribution,
            company=company,
        )

    def _facts_expenses(self, campaign_ids):
        """Expenses whose analytic distribution goes to the campaign's analytic account (choosing the
        campaign on an expense sets it): untaxed, in company currency, for the share of the
        distribution on that account."""
        amount = SQL("ROUND(e.untaxed_amount * d.value::numeric / 100.0, cur.decimal_places)")
        return self._fact_select(
            SQL("'expense'"),
            SQL("c.id"),
            SQL("NULL::integer"),
            SQL("e.date"),
            {
                "cost_actual": SQL("CASE WHEN e.state IN %s THEN %s ELSE 0 END", EXPENSE_ACTUAL_STATES, amount),
                "cost_committed": SQL("CASE WHEN e.state IN %s THEN %s ELSE 0 END", EXPENSE_COMMITTED_STATES, amount),
            },
            SQL(
                """FROM hr_expense e
                   JOIN res_company rc ON rc.id = e.company_id
                   JOIN res_currency cur ON cur.id = rc.currency_id
                   %(share)s
                  WHERE e.state IN %(states)s AND %(accounts_of)s && %(accounts)s AND %(filter)s""",
                share=self._distribution_rows(SQL("e.analytic_distribution"), SQL("e.company_id")),
                states=EXPENSE_ACTUAL_STATES + EXPENSE_COMMITTED_STATES,
                accounts_of=self.env["hr.expense"]._query_analytic_accounts("e"),
                accounts=self._campaign_accounts(campaign_ids),
                filter=self._campaign_filter(campaign_ids, SQL("c.id")),
            ),
        )

    def _facts_analytic_lines(self, campaign_ids):
        """Analytic items of the campaign's analytic account, and timesheets of its project.

        Left out: items of customer invoices and credit notes (revenue comes through the UTM
        campaign) and items of expenses (counted from the expenses themselves, see _facts_expenses)."""
        column = self.env["account.analytic.plan"]._campaign_plan_column()
        if not column:
            return None
        campaigns = SQL(
            "SELECT id, analytic_account_id, project_id, company_id FROM campaign_campaign WHERE %s",
            self._campaign_filter(campaign_ids, SQL("id")),
        )
        return self._fact_select(
            SQL(
                "CASE WHEN aal.project_id IS NOT NULL THEN 'timesheet' "
                "WHEN m.move_type IN %s THEN 'bill' ELSE 'other_cost' END",
                BILL_TYPES,
            ),
            SQL("COALESCE(c_acc.id, c_prj.id)"),
            SQL("NULL::integer"),
            SQL("aal.date"),
            {"cost_actual": SQL("-aal.amount")},
            # the campaign of the item's account, else of its project, in the item's company
            SQL(
                """FROM account_analytic_line aal
              LEFT JOIN (%(campaigns)s) c_acc ON c_acc.analytic_account_id = aal.%(column)s
                                             AND c_acc.company_id = aal.company_id
              LEFT JOIN (%(campaigns)s) c_prj ON aal.project_id IS NOT NULL AND c_prj.project_id = aal.project_id
                                             AND c_prj.company_id = aal.company_id
              LEFT JOIN account_move_line aml ON aml.id = aal.move_line_id
              LEFT JOIN account_move m ON m.id = aml.move_id
                  WHERE (aal.%(column)s IN (SELECT analytic_account_id FROM (%(campaigns)s) x)
                         OR aal.project_id IN (SELECT project_id FROM (%(campaigns)s) y))
                    AND COALESCE(c_acc.id, c_prj.id) IS NOT NULL
                    AND (m.move_type IS NULL OR m.move_type NOT IN %(sale_types)s)
                    AND aml.expense_id IS NULL""",
                campaigns=campaigns,
                column=SQL.identifier(column),
                sale_types=SALE_DOCUMENT_TYPES,
            ),
        )

    def _facts_draft_bills(self, campaign_ids):
        """Draft supplier bills: their lines' share on the campaign's analytic account is committed."""
        return self._fact_select(
            SQL("'bill'"),
            SQL("c.id"),
            SQL("NULL::integer"),
            SQL("aml.date"),
            {"cost_committed": SQL("ROUND(aml.balance * d.value::numeric / 100.0, cur.decimal_places)")},
            SQL(
                """FROM account_move_line aml
                   JOIN account_move m ON m.id = aml.move_id
                   JOIN res_company rc ON rc.id = m.company_id
                   JOIN res_currency cur ON cur.id = rc.currency_id
                   %(share)s
                  WHERE m.state = 'draft' AND m.move_type IN %(types)s
                    AND %(accounts_of)s && %(accounts)s AND %(filter)s""",
                share=self._distribution_rows(SQL("aml.analytic_distribution"), SQL("m.company_id")),
                types=BILL_TYPES,
                accounts_of=self.env["account.move.line"]._query_analytic_accounts("aml"),
                accounts=self._campaign_accounts(campaign_ids),
                filter=self._campaign_filter(campaign_ids, SQL("c.id")),
            ),
        )

    @api.model
    def _action_sources_sql(self):
        """(id, campaign_id, source_id) of the UTM sources attributed to an action: its own, and
        those of the mailings of its A/B test combinations (one source per combination and run, so
        that the test can rank them by revenue)."""
        return SQL(
            """SELECT ca.id, ca.campaign_id, ca.source_id FROM campaign_action ca WHERE ca.source_id IS NOT NULL
               UNION ALL
               SELECT ca.id, ca.campaign_id, mm.source_id
                 FROM mailing_mailing mm
                 JOIN campaign_action ca ON ca.id = mm.campaign_action_id
                WHERE mm.campaign_variant_id IS NOT NULL"""
        )

    def _campaign_invoices(self, campaign_ids):
        """FROM clause of the posted customer invoices and credit notes of the campaigns (``m``,
        campaign ``c``, the action of their UTM source ``a``), as every piece on invoices reads them."""
        return SQL(
            """FROM account_move m
               JOIN campaign_campaign c ON c.utm_campaign_id = m.campaign_id AND c.company_id = m.company_id
          LEFT JOIN (%s) a ON a.campaign_id = c.id AND a.source_id = m.source_id""",
            self._action_sources_sql(),
        ), SQL(
            "m.state = 'posted' AND m.move_type IN ('out_invoice', 'out_refund') AND %s",
            self._campaign_filter(campaign_ids, SQL("c.id")),
        )

    def _facts_invoices(self, campaign_ids):
        """Posted customer invoices net of credit notes, untaxed, in company currency at the rate of
        their date (Odoo's own ``amount_untaxed_signed``), with the cost of the goods they sold."""
        invoices, where = self._campaign_invoices(campaign_ids)
        return self._fact_select(
            SQL("'invoice'"),
            SQL("c.id"),
            SQL("a.id"),
            SQL("COALESCE(m.invoice_date, m.date)"),
            {
                "revenue_invoiced": SQL("m.amount_untaxed_signed"),
                "cogs": SQL("COALESCE(g.cogs, 0)"),
                "margin": SQL("m.amount_untaxed_signed - COALESCE(g.cogs, 0)"),
                "invoice_count": SQL("CASE WHEN m.move_type = 'out_invoice' THEN 1 ELSE 0 END"),
            },
            SQL(
                "%(invoices)s LEFT JOIN LATERAL (%(cogs)s) g ON TRUE WHERE %(where)s",
                invoices=invoices,
                cogs=self._cogs_sql(),
                where=where,
            ),
        )

    @api.model
    def _cogs_sql(self):
        """Cost of the goods sold by the invoice ``m``, in company currency, negative on a credit note.

        Where the stock valuation booked it on the invoice (anglo-saxon accounting: lines of type
        'cogs', in pairs), its expense side (the one of the invoice's sign); for the other products
        of the invoice, quantity in the product's unit × the product's cost in the company, as
        Odoo's invoice analysis values its margin."""
        return SQL(
            """SELECT SUM(CASE
                   WHEN l.display_type = 'cogs' THEN
                        CASE WHEN (m.move_type = 'out_invoice') = (l.balance > 0) THEN l.balance ELSE 0 END
                   WHEN NOT EXISTS (SELECT 1 FROM account_move_line v
                                     WHERE v.move_id = l.move_id AND v.display_type = 'cogs'
                                       AND v.product_id = l.product_id) THEN
                        ROUND(CASE WHEN m.move_type = 'out_refund' THEN -1 ELSE 1 END * l.quantity
                              * COALESCE(lu.factor, 1) / COALESCE(NULLIF(pu.factor, 0), 1)
                              * COALESCE((pp.standard_price ->> m.company_id::text)::numeric, 0),
                              cur.decimal_places)
                   ELSE 0 END) AS cogs
                 FROM account_move_line l
                 JOIN res_company rc ON rc.id = m.company_id
                 JOIN res_currency cur ON cur.id = rc.currency_id
                 JOIN product_product pp ON pp.id = l.product_id
                 JOIN product_template pt ON pt.id = pp.product_tmpl_id
            LEFT JOIN uom_uom lu ON lu.id = l.product_uom_id
            LEFT JOIN uom_uom pu ON pu.id = pt.uom_id
                WHERE l.move_id = m.id AND l.display_type IN ('product', 'cogs')"""
        )

    def _facts_payments(self, campaign_ids):
        """Cash received on the campaign's invoices, dated by payment (see ``_payments_sql``)."""
        return self._fact_select(
            SQL("'payment'"),
            SQL("s.campaign_id"),
            SQL("s.action_id"),
            SQL("s.date"),
            {"revenue_paid": SQL("s.amount")},
            SQL("FROM (%s) s", self._payments_sql(campaign_ids)),
        )

    @api.model
    def _payments_sql(self, campaign_ids=None):
        """The payments received on the campaigns' invoices, minus the refunds paid back on their
        credit notes, in company currency (the reconciliation's own amount, so at the rate of the
        payment), for the untaxed share of each document (revenue is untaxed). Only what a payment
        or a bank statement line settled counts, as for Odoo's payment status: a credit note set
        against an invoice, or a write-off, is not cash.

        :return: SQL of rows (campaign_id, action_id, date, amount, payment_move_id), dated by the
            payment's entry
        """
        invoices, where = self._campaign_invoices(campaign_ids)
        return SQL(
            """SELECT c.id AS campaign_id, a.id AS action_id, cm.date, cm.id AS payment_move_id,
                      ROUND(part.amount * m.amount_untaxed_signed / NULLIF(m.amount_total_signed, 0),
                            cur.decimal_places) AS amount
               %(invoices)s
               JOIN res_company rc ON rc.id = m.company_id
               JOIN res_currency cur ON cur.id = rc.currency_id
               JOIN account_move_line rl ON rl.move_id = m.id AND rl.display_type = 'payment_term'
               JOIN (SELECT debit_move_id AS line_id, credit_move_id AS other_id, amount
                       FROM account_partial_reconcile
                     UNION ALL
                     SELECT credit_move_id, debit_move_id, -amount
                       FROM account_partial_reconcile) part ON part.line_id = rl.id
               JOIN account_move_line cl ON cl.id = part.other_id
               JOIN account_move cm ON cm.id = cl.move_id
              WHERE %(where)s AND (cm.origin_payment_id IS NOT NULL OR cm.statement_line_id IS NOT NULL)""",
            invoices=invoices,
            where=where,
        )

    def _facts_attribution(self, campaign_ids):
        """Revenue attributed by contact (see ``_attribution_sql``), dated by the invoice."""
        return self._fact_select(
            SQL("'attribution'"),
            SQL("s.campaign_id"),
            SQL("s.action_id"),
            SQL("s.date"),
            {"revenue_attributed": SQL("s.amount * s.weight")},
            SQL("FROM (%s) s", self._attribution_sql(campaign_ids)),
        )

    @api.model
    def _attribution_sql(self, campaign_ids=None):
        """Each posted customer invoice and credit note of a company, shared between the touchpoints
        carried out to its buyer (the invoice's commercial partner, reached as itself or as any of its
        contacts) by the campaigns of the company in the look-back window before the invoice date, by
        the company's attribution model (res.company ``campaign_attribution_model``):

        - last touch: all to the last touchpoint, first touch: all to the first;
        - linear: the same share to every touchpoint;
        - position-based: 40 % to the first, 40 % to the last, 20 % shared by those between (50/50
          with two touchpoints, all with one).

        A credit note is shared as the invoice it reverses (that invoice's buyer and date), so that it
        takes back from the campaigns that were given the revenue. Touchpoints are ordered by the time
        they were carried out.

        :param campaign_ids: the campaigns whose shares are wanted (None: all); every campaign's
            touchpoints still count in the shares
        :return: SQL of rows (move_id, campaign_id, action_id, date, amount, weight)
        """
        if campaign_ids is None:
            buyers = SQL("TRUE")
        else:
            # only the invoices of the buyers these campaigns reached can give them a share
            buyers = SQL(
                """COALESCE(o.commercial_partner_id, m.commercial_partner_id) IN (
                       SELECT p.commercial_partner_id FROM campaign_touchpoint tp
                         JOIN res_partner p ON p.id = tp.partner_id
                        WHERE tp.campaign_id = ANY(%s) AND tp.state IN %s)""",
                campaign_ids,
                CARRIED_STATES,
            )
        return SQL(
            """
            WITH inv AS (
                SELECT m.id, m.company_id, COALESCE(m.invoice_date, m.date) AS date, m.amount_untaxed_signed AS amount,
                       COALESCE(o.commercial_partner_id, m.commercial_partner_id) AS buyer_id,
                       COALESCE(o.invoice_date, o.date, m.invoice_date, m.date) AS ref_date,
                       rc.campaign_attribution_days AS days, rc.campaign_attribution_model AS model
                  FROM account_move m
                  JOIN res_company rc ON rc.id = m.company_id
             LEFT JOIN account_move o ON o.id = m.reversed_entry_id AND m.move_type = 'out_refund'
                 WHERE m.state = 'posted' AND m.move_type IN ('out_invoice', 'out_refund') AND %(buyers)s
            ),
            touches AS (
                SELECT inv.id AS move_id, inv.date, inv.amount, inv.model, tp.campaign_id, tp.action_id,
                       row_number() OVER w AS position, count(*) OVER (PARTITION BY inv.id) AS touches
                  FROM inv
                  JOIN res_partner p ON p.commercial_partner_id = inv.buyer_id
                  JOIN campaign_touchpoint tp ON tp.partner_id = p.id AND tp.state IN %(carried)s
                                             AND tp.date_done >= inv.ref_date - inv.days
                                             AND tp.date_done < inv.ref_date + 1
                  JOIN campaign_campaign tc ON tc.id = tp.campaign_id AND tc.company_id = inv.company_id
                WINDOW w AS (PARTITION BY inv.id ORDER BY tp.date_done, tp.id)
            )
            SELECT move_id, campaign_id, action_id, date, amount,
                   CASE model
                        WHEN 'last' THEN CASE WHEN position = touches THEN 1.0 ELSE 0.0 END
                        WHEN 'first' THEN CASE WHEN position = 1 THEN 1.0 ELSE 0.0 END
                        WHEN 'linear' THEN 1.0 / touches
                        ELSE CASE WHEN touches = 1 THEN 1.0
                                  WHEN touches = 2 THEN 0.5
                                  WHEN position = 1 OR position = touches THEN 0.4
                                  ELSE 0.2 / (touches - 2) END
                   END AS weight
              FROM touches
             WHERE %(filter)s""",
            buyers=buyers,
            carried=CARRIED_STATES,
            filter=self._campaign_filter(campaign_ids, SQL("campaign_id")),
        )

    def _facts_orders(self, campaign_ids):
        """Confirmed sale orders, untaxed, converted to company currency at the rate of their date
        (the rate stored on the order, as Odoo's sales analysis does)."""
        return self._fact_select(
            SQL("'order'"),
            SQL("c.id"),
            SQL("a.id"),
            SQL("so.date_order::date"),
            {
                "revenue_ordered": SQL(
                    "ROUND(so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1.0), cur.decimal_places)"
                ),
                "order_count": SQL("1"),
            },
            SQL(
                """FROM sale_order so
                   JOIN campaign_campaign c ON c.utm_campaign_id = so.campaign_id AND c.company_id = so.company_id
                   JOIN res_company rc ON rc.id = so.company_id
                   JOIN res_currency cur ON cur.id = rc.currency_id
              LEFT JOIN (%s) a ON a.campaign_id = c.id AND a.source_id = so.source_id
                  WHERE so.state = 'sale' AND %s""",
                self._action_sources_sql(),
                self._campaign_filter(campaign_ids, SQL("c.id")),
            ),
        )

    def _facts_leads(self, campaign_ids):
        """Leads and opportunities, lost and archived ones included; won ones dated by their
        closing date."""
        won = SQL("l.won_status = 'won'")
        return self._fact_select(
            SQL("'lead'"),
            SQL("c.id"),
            SQL("a.id"),
            SQL("(CASE WHEN %s THEN COALESCE(l.date_closed, l.create_date) ELSE l.create_date END)::date", won),
            {
                "revenue_won": SQL("CASE WHEN %s THEN COALESCE(l.expected_revenue, 0) ELSE 0 END", won),
                "revenue_pipeline": SQL(
                    "CASE WHEN l.active AND l.type = 'opportunity' AND l.won_status = 'pending' "
                    "THEN COALESCE(l.expected_revenue, 0) ELSE 0 END"
                ),
                "lead_count": SQL("1"),
                "opportunity_count": SQL("CASE WHEN l.type = 'opportunity' THEN 1 ELSE 0 END"),
                "won_count": SQL("CASE WHEN %s THEN 1 ELSE 0 END", won),
            },
            SQL(
                """FROM crm_lead l
                   JOIN campaign_campaign c ON c.utm_campaign_id = l.campaign_id
                                           AND (l.company_id IS NULL OR l.company_id = c.company_id)
              LEFT JOIN (%s) a ON a.campaign_id = c.id AND a.source_id = l.source_id
                  WHERE %s""",
                self._action_sources_sql(),
                self._campaign_filter(campaign_ids, SQL("c.id")),
            ),
        )
