"""Marketing pressure caps: at most N messages per contact per day, week or month, on one channel or
on all, across every campaign of a company. Applied twice, in SQL: when a run's recipients are
classified (Calculate, the generation of the touchpoints) and, exactly, when a delivery batch claims
its touchpoints, under a row lock on the company's caps."""

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..const import (
    CLAIM_STEP_SEQUENCE,
    PRESSURE_COUNTED_STATES,
    PRESSURE_DATE_SQL,
    PRESSURE_MODES,
    PRESSURE_PERIODS,
    PRESSURE_SPAN_DAYS,
)

# Email Marketing's traces that stand for a message the contact received.
MAILING_TRACE_RECEIVED = ("sent", "open", "reply", "bounce")


class CampaignPressureCap(models.Model):
    _name = "campaign.pressure.cap"
    _inherit = ["campaign.access.mixin"]
    _description = "Marketing Pressure Cap"
    _order = "company_id, channel, period, id"
    _check_company_auto = True

    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    channel = fields.Selection(
        selection=lambda self: self.env["campaign.action"]._selection_channel(),
        help="Channel whose messages the cap counts and holds back; empty for all channels together.",
    )
    period = fields.Selection(
        selection=PRESSURE_PERIODS,
        required=True,
        default="week",
        help="The cap counts the messages of the last 24 hours, 7 days or 30 days (a window rolling with time).",
    )
    limit = fields.Integer(
        string="At Most",
        required=True,
        default=3,
        help="Most messages a contact receives in the period from all the campaigns of the company "
        "(on the channel, or on all channels). Counted: the touchpoints carried out or queued for "
        "sending, and Email Marketing's own mailings when the settings say so.",
    )
    name = fields.Char(compute="_compute_name")

    @api.depends("channel", "period", "limit")
    def _compute_name(self):
        channels = dict(self._fields["channel"]._description_selection(self.env))
        periods = dict(self._fields["period"]._description_selection(self.env))
        for cap in self:
            cap.name = self.env._(
                "%(limit)s per %(period)s, %(channel)s",
                limit=cap.limit,
                period=periods.get(cap.period, ""),
                channel=channels.get(cap.channel) or self.env._("all channels"),
            )

    @api.constrains("limit")
    def _check_limit(self):
        for cap in self:
            if cap.limit <= 0:
                raise ValidationError(
                    self.env._(
                        "A marketing pressure cap allows at least one message per period, not %(limit)s: "
                        "archive the cap to lift it.",
                        limit=cap.limit,
                    )
                )

    # ------------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------------
    @api.model
    def _caps_for(self, company, channel):
        """The active caps of ``company`` applying to ``channel`` (its own and the all-channel ones)."""
        # sudo: the caps are the company's policy, applied to every user's campaigns and in the jobs
        return (
            self.sudo()
            .search([("company_id", "=", company.id), ("channel", "in", [channel, False])])
            .with_env(self.env)
        )

    def _over_sql(self, partners, now, priority, few=False):
        """SQL of (partner_id, release) for the contacts of ``partners`` (SQL of one column of distinct
        partner ids) who have reached one of the caps ``self`` (of one company): ``release`` is when every
        cap allows them one more message. Counted: the company's touchpoints carried out or queued
        in the window, the touchpoints of higher-priority campaigns due now (served first), and
        Email Marketing's mailings when the company counts them. The window of a cap of N is
        passed when its N-th latest message leaves it.

        :param few: ``partners`` are a few (a batch): their touchpoints are looked up by contact;
            otherwise the window's touchpoints are read in one scan and matched in a hash join (at
            100,000 contacts, 53,333 look-ups took 1.3 s, the scan a fraction of it)
        """
        company = self.company_id
        company.ensure_one()
        days = max(PRESSURE_SPAN_DAYS[cap.period] for cap in self)
        since = fields.Datetime.subtract(now, days=days)
        capped = self.mapped("channel")
        channels = SQL("tp.channel IN %s", tuple(capped)) if all(capped) else SQL("TRUE")
        of_partners = SQL("tp.partner_id IN (SELECT partner_id FROM pressure_partners)") if few else SQL("TRUE")
        # the company's campaigns, all of them (archived ones too), given by id: read through the
        # touchpoints' index of the caps (_pressure_idx), which holds the campaign but not its company
        self.env["campaign.campaign"].flush_model(["company_id"])
        campaigns = self.env.execute_query(SQL("SELECT id FROM campaign_campaign WHERE company_id = %s", company.id))
        parts = [
            SQL(
                """SELECT tp.partner_id, tp.channel::varchar AS channel, %(date)s AS d
                     FROM campaign_touchpoint tp
                    WHERE tp.campaign_id = ANY(%(campaigns)s) AND tp.state IN %(counted)s AND %(channels)s
                      AND %(date)s > %(since)s AND %(of_partners)s""",
                date=PRESSURE_DATE_SQL,
                campaigns=[row[0] for row in campaigns],
                counted=PRESSURE_COUNTED_STATES,
                channels=channels,
                since=since,
                of_partners=of_partners,
            ),
        ]
        # higher-priority campaigns are served first: what their runs being sent send now counts
        # already (their runs found first: the planned touchpoints are read through the runs' index)
        self.env["campaign.action.run"].flush_model(["state"])
        runs = self.env.execute_query(
            SQL(
                """SELECT r.id FROM campaign_action_run r JOIN campaign_campaign c ON c.id = r.campaign_id
                    WHERE r.state = 'sending' AND c.state = 'active' AND c.company_id = %s
                      AND c.pressure_priority > %s""",
                company.id,
                priority,
            )
        )
        if runs:
            parts.append(
                SQL(
                    """SELECT tp.partner_id, tp.channel::varchar, %(now)s::timestamp
                         FROM campaign_touchpoint tp
                        WHERE tp.run_id IN %(runs)s AND tp.state = 'planned' AND %(channels)s
                          AND (tp.date_not_before IS NULL OR tp.date_not_before <= %(now)s)
                          AND (tp.next_retry IS NULL OR tp.next_retry <= %(now)s) AND tp.ab_hold IS NOT TRUE
                          AND %(of_partners)s""",
                    now=now,
                    runs=tuple(row[0] for row in runs),
                    channels=channels,
                    of_partners=of_partners,
                )
            )
        if company.campaign_pressure_count_mailings:
            parts.append(self._mailing_traces_sql(since))
        # per contact, the dates of the messages each cap counts (one hashed aggregate over the
        # window's messages, no sort); the N-th latest is then picked out of the contacts' few
        # dates, for the contacts at a cap's count only. A ranking of every message per contact and
        # cap (row_number over 132,923 rows, the sort spilled to disk) took 0.25-0.35 s of Roi0's
        # classification at 100,000 contacts, this 0.1-0.15 s.
        dates, over, release = [], [], []
        for index, cap in enumerate(self):
            counted = SQL(
                "%s AND m.d > %s",
                SQL("m.channel = %s", cap.channel) if cap.channel else SQL("TRUE"),
                fields.Datetime.subtract(now, days=PRESSURE_SPAN_DAYS[cap.period]),
            )
            column = SQL.identifier(f"d{index}")
            dates.append(SQL("array_agg(m.d) FILTER (WHERE %s) AS %s", counted, column))
            over.append(SQL("cardinality(%s) >= %s", column, cap.limit))
            release.append(
                SQL(
                    """CASE WHEN cardinality(%(column)s) >= %(limit)s
                            THEN (SELECT x FROM unnest(%(column)s) AS x ORDER BY x DESC OFFSET %(skip)s LIMIT 1)
                                 + make_interval(days => %(days)s) END""",
                    column=column,
                    limit=cap.limit,
                    skip=cap.limit - 1,
                    days=PRESSURE_SPAN_DAYS[cap.period],
                )
            )
        return SQL(
            """
            WITH pressure_partners AS MATERIALIZED (
                SELECT pp.partner_id FROM (%(partners)s) AS pp(partner_id) WHERE pp.partner_id IS NOT NULL
            ),
            messages AS MATERIALIZED (%(messages)s),
            dated AS (
                SELECT m.partner_id, %(dates)s
                  FROM messages m
                 WHERE m.partner_id IN (SELECT partner_id FROM pressure_partners)
              GROUP BY m.partner_id
            )
            SELECT partner_id, GREATEST(%(release)s) AS release FROM dated WHERE %(over)s
            """,
            partners=partners,
            messages=SQL(" UNION ALL ").join(parts),
            dates=SQL(", ").join(dates),
            release=SQL(", ").join(release),
            over=SQL(" OR ").join(over),
        )

    @api.model
    def _mailing_traces_sql(self, since):
        """Messages of Email Marketing's own mailings (not the campaigns'): its traces to contacts,
        and its emails to other recipients (mailing contacts...) by their normalised address."""
        return SQL(
            """SELECT tr.res_id, CASE WHEN tr.trace_type = 'sms' THEN 'sms' ELSE 'email' END, tr.sent_datetime
                 FROM mailing_trace tr
                 JOIN mailing_mailing mm ON mm.id = tr.mass_mailing_id
                WHERE tr.model = 'res.partner' AND tr.trace_status IN %(received)s AND tr.sent_datetime > %(since)s
                  AND mm.campaign_run_id IS NULL AND mm.campaign_action_id IS NULL
                  AND tr.res_id IN (SELECT partner_id FROM pressure_partners)
               UNION ALL
               SELECT p.id, 'email', tr.sent_datetime
                 FROM mailing_trace tr
                 JOIN mailing_mailing mm ON mm.id = tr.mass_mailing_id
                 JOIN res_partner p ON p.email_normalized = tr.email
                WHERE tr.model != 'res.partner' AND tr.trace_type = 'mail' AND tr.trace_status IN %(received)s
                  AND tr.sent_datetime > %(since)s AND mm.campaign_run_id IS NULL AND mm.campaign_action_id IS NULL
                  AND p.id IN (SELECT partner_id FROM pressure_partners)""",
            received=MAILING_TRACE_RECEIVED,
            since=since,
        )

    def _lock(self):
        """Make a worker whose snapshot is older than another worker's claim retry: the claims
        update the caps' rows, so that an UPDATE here waits for the other worker's transaction and
        fails to serialise if it committed (the engine retries the batch with a fresh snapshot, see
        ``_dispatch``). Counting under an advisory lock alone would read the older snapshot and
        overshoot. Most batches took the table lock first (``_lock_table``) and never conflict."""
        self.env.cr.execute(
            SQL("UPDATE campaign_pressure_cap SET write_date = write_date WHERE id IN %s", tuple(self.ids))
        )

    @api.model
    def _lock_table(self):
        """Serialise the batches that claim capped messages, until their transaction ends. Taken
        as the transaction's first statement: a LOCK takes no snapshot (unlike SELECT
        pg_advisory_xact_lock), so the counts read after the wait see what the other worker
        committed (the transactions are REPEATABLE READ)."""
        self.env.cr.execute("LOCK TABLE campaign_pressure_cap IN SHARE ROW EXCLUSIVE MODE")


class CampaignTouchpoint(models.Model):
    _inherit = "campaign.touchpoint"

    # The caps read the touchpoints of their window from this index alone (an index-only range scan
    # over the date they count by): read from the table, at 1,000,000 touchpoints, the window's
    # 158,862 rows took 2.3 s of the 4.8 s of a resolution with caps.
    _pressure_idx = models.Index(
        "((COALESCE(date_done, date_dispatched, date_planned))) INCLUDE (partner_id, channel, campaign_id) "
        f"WHERE state IN {PRESSURE_COUNTED_STATES}"
    )


class CampaignCampaign(models.Model):
    _inherit = "campaign.campaign"

    pressure_priority = fields.Integer(
        default=10,
        tracking=True,
        help="Under the company's marketing pressure caps, the messages of campaigns of a higher priority "
        "are served first: what they are about to send counts against the caps of the others. "
        "Give transactional-like campaigns a high priority.",
    )


class CampaignAction(models.Model):
    _inherit = "campaign.action"

    pressure_mode = fields.Selection(
        selection=PRESSURE_MODES,
        string="Over the Pressure Cap",
        default="hold",
        required=True,
        help="What happens to a contact who has received as many messages as the company's marketing "
        "pressure caps allow: held and sent as soon as the caps allow it, or excluded from this run "
        "with the reason Marketing pressure.",
    )


class CampaignTarget(models.Model):
    _inherit = "campaign.target"

    @api.model
    def _pressure_sql(self, classified, campaign, channel, action=None, now=None):
        """Wrap the (partner_id, reason, tz) rows ``classified`` with the company's pressure caps: a
        contact to reach who is over a cap gets the reason 'pressure' when the action excludes
        such contacts, else a ``held_until`` date (the column is NULL for everyone else). Without
        an action (the campaign's Calculate), such contacts count as held."""
        caps = self.env["campaign.pressure.cap"]._caps_for(campaign.company_id, channel)
        if not caps:
            return SQL("SELECT c.partner_id, c.reason, NULL::timestamp AS held_until, c.tz FROM (%s) AS c", classified)
        now = now or fields.Datetime.now()
        over = caps._over_sql(SQL("SELECT partner_id FROM base WHERE reason IS NULL"), now, campaign.pressure_priority)
        exclude = bool(action) and action.pressure_mode == "exclude"
        return SQL(
            """
            WITH base AS MATERIALIZED (%(classified)s),
            over AS MATERIALIZED (%(over)s)
            SELECT b.partner_id,
                   CASE WHEN b.reason IS NULL AND o.release IS NOT NULL AND %(exclude)s THEN 'pressure'
                        ELSE b.reason END AS reason,
                   CASE WHEN b.reason IS NULL AND NOT %(exclude)s THEN o.release END AS held_until,
                   b.tz
              FROM base b LEFT JOIN over o ON o.partner_id = b.partner_id
            """,
            classified=classified,
            over=over,
            exclude=exclude,
        )


class CampaignEngine(models.AbstractModel):
    _inherit = "campaign.engine"

    def _dispatch(self, run, batch_size, deadline):
        # whether the run's batches count against caps, known before they start (see _begin_batch)
        capped = bool(self.env["campaign.pressure.cap"]._caps_for(run.company_id, run.action_id.channel))
        if capped:
            # ends the transaction of that look-up (it wrote nothing), so that the first batch's
            # lock is its transaction's first statement too
            self._commit_batch()
        engine = self.with_context(campaign_pressure_capped=capped)
        return super(CampaignEngine, engine)._dispatch(run.with_env(engine.env), batch_size, deadline)

    def _begin_batch(self, run):
        result = super()._begin_batch(run)
        if self.env.context.get("campaign_pressure_capped"):
            self.env["campaign.pressure.cap"]._lock_table()
        return result

    def _claim_steps(self, run):
        # the caps are looked up by the step itself, on what the steps before it left
        return [*super()._claim_steps(run), (CLAIM_STEP_SEQUENCE["pressure"], self._claim_pressure)]

    def _claim_pressure(self, run, admitted, now):
        """Hold or exclude the candidates over the company's pressure caps, counted under the caps'
        row lock so that workers claiming at once never overshoot (see ``_lock``)."""
        action = run.action_id
        caps = self.env["campaign.pressure.cap"]._caps_for(run.company_id, action.channel)
        if not caps:
            return admitted
        caps._lock()
        cr = self.env.cr
        candidates = SQL("SELECT partner_id FROM campaign_touchpoint WHERE id IN %s", tuple(admitted))
        over = caps._over_sql(candidates, now, run.campaign_id.pressure_priority, few=True)
        if action.pressure_mode == "exclude":
            change = SQL("state = 'excluded', exclusion_reason = 'pressure', unit_cost = 0")
        else:
            change = SQL("date_not_before = over.release")
        cr.execute(
            SQL(
                """WITH over AS (%(over)s)
                   UPDATE campaign_touchpoint tp SET %(change)s
                     FROM over
                    WHERE tp.id IN %(ids)s AND tp.partner_id = over.partner_id
                RETURNING tp.id""",
                over=over,
                change=change,
                ids=tuple(admitted),
            )
        )
        put_off = {row[0] for row in cr.fetchall()}
        if put_off and action.pressure_mode == "exclude":
            # the run's figures, frozen at its generation, follow (the caps' lock serialises this)
            cr.execute(
                SQL(
                    """UPDATE campaign_action_run SET excluded_count = excluded_count + %(n)s,
                              planned_count = planned_count - %(n)s WHERE id = %(run)s""",
                    n=len(put_off),
                    run=run.id,
                )
            )
            run.invalidate_recordset(["excluded_count", "planned_count"])
        return [touchpoint_id for touchpoint_id in admitted if touchpoint_id not in put_off]
