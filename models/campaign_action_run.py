from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

from .campaign_touchpoint import CARRIED_STATES

RUN_STATES = [
    ("pending", "Pending"),
    ("sending", "Sending"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]
# Field of mailing.mailing (Email Marketing's statistics) ranking the combinations of an A/B test.
AB_METRIC_FIELDS = {"opened": "opened_ratio", "clicked": "clicks_ratio", "revenue": "sale_invoiced_amount"}


class CampaignActionRun(models.Model):
    """One execution of an action: the recipients resolved at that moment become the run's
    touchpoints, which the engine (campaign.engine) then carries out in batches that commit."""

    _name = "campaign.action.run"
    _description = "Campaign Action Run"
    _inherit = ["campaign.access.mixin"]
    _order = "date_planned desc, id desc"
    _check_company_auto = True
    # everything a run links to is the engine's (its other links are read-only)
    _campaign_engine_fields = frozenset({"action_id", "touchpoint_ids"})

    action_id = fields.Many2one(
        "campaign.action", required=True, ondelete="cascade", index=True, check_company=True, readonly=True
    )
    campaign_id = fields.Many2one(related="action_id.campaign_id", store=True, index=True)
    company_id = fields.Many2one(related="action_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="action_id.currency_id")
    channel = fields.Selection(related="action_id.channel", store=True)
    run_number = fields.Integer(required=True, readonly=True, help="1 for the first run of the action.")
    parent_run_id = fields.Many2one(
        "campaign.action.run",
        string="After Run",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="Run of the previous action this follow-up run comes after.",
    )
    state = fields.Selection(selection=RUN_STATES, string="Status", required=True, default="pending", index=True)
    date_planned = fields.Datetime(string="Due On", readonly=True, help="When the run was due.")
    date_started = fields.Datetime(string="Started On", readonly=True)
    date_done = fields.Datetime(string="Finished On", readonly=True)

    # Audience figures frozen when the run's touchpoints were generated.
    total_count = fields.Integer(string="Contacts in Targets", readonly=True)
    duplicate_count = fields.Integer(string="Duplicates Removed", readonly=True)
    excluded_count = fields.Integer(string="Excluded", readonly=True)
    planned_count = fields.Integer(string="To Reach", readonly=True, help="Touchpoints to carry out in this run.")

    touchpoint_ids = fields.One2many("campaign.touchpoint", "run_id", string="Touchpoints")
    carried_count = fields.Integer(
        string="Carried Out", compute="_compute_counts", help="Touchpoints sent or done in this run."
    )
    waiting_count = fields.Integer(
        string="Waiting", compute="_compute_counts", help="Touchpoints planned or queued, not carried out yet."
    )
    failed_count = fields.Integer(string="Failed", compute="_compute_counts")
    mailing_id = fields.Many2one("mailing.mailing", readonly=True, index="btree_not_null")
    attachment_id = fields.Many2one("ir.attachment", string="Document", readonly=True)
    log = fields.Text(readonly=True, help="What happened during the run: errors and notes of the dispatcher.")
    event_id = fields.Many2one("calendar.event", readonly=True, index="btree_not_null", ondelete="set null")
    task_count = fields.Integer(string="Tasks Count", compute="_compute_task_count")

    # A/B test: the test share of the contacts is split between the combinations at generation;
    # the rest waits (held) until the winner is chosen, then receives the winner.
    ab_date_decision = fields.Datetime(
        string="Winner Chosen After",
        readonly=True,
        help="A/B test: when the winner is chosen (the last combination's send time plus the delay), once "
        "every test email has been sent.",
    )
    ab_winner_variant_id = fields.Many2one(
        "campaign.action.variant", string="A/B Test Winner", readonly=True, ondelete="restrict"
    )
    ab_date_winner = fields.Datetime(string="Winner Chosen On", readonly=True)
    ab_test_count = fields.Integer(string="Test Contacts", readonly=True, help="Contacts of the A/B test share.")
    ab_mailing_ids = fields.One2many(
        "mailing.mailing",
        "campaign_run_id",
        string="A/B Test Mailings",
        domain=[("campaign_variant_id", "!=", False)],
        readonly=True,
    )

    _action_run_uniq = models.Constraint(
        "UNIQUE(action_id, run_number)", "An action cannot have two runs with the same number."
    )

    @api.depends("action_id.name", "run_number")
    def _compute_display_name(self):
        for run in self:
            run.display_name = self.env._("%(action)s #%(number)s", action=run.action_id.name, number=run.run_number)

    def _compute_counts(self):
        groups = self.env["campaign.touchpoint"]._read_group(
            [("run_id", "in", self.ids)], ["run_id", "state"], ["__count"]
        )
        counts = {}
        for run, state, count in groups:
            bucket = counts.setdefault(run.id, {"carried": 0, "waiting": 0, "failed": 0})
            if state in CARRIED_STATES:
                bucket["carried"] += count
            elif state in ("planned", "queued"):
                bucket["waiting"] += count
            elif state == "failed":
                bucket["failed"] += count
        for run in self:
            bucket = counts.get(run.id, {})
            run.carried_count = bucket.get("carried", 0)
            run.waiting_count = bucket.get("waiting", 0)
            run.failed_count = bucket.get("failed", 0)

    def _compute_task_count(self):
        # sudo: a count of the run's tasks, shown to campaign users who may lack Project rights
        tasks = self.env["project.task"].sudo()
        groups = tasks._read_group([("campaign_run_id", "in", self.ids)], ["campaign_run_id"], ["__count"])
        counts = {run.id: count for run, count in groups}
        for run in self:
            run.task_count = counts.get(run.id, 0)

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_view_touchpoints(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_touchpoint_action")
        action["domain"] = [("run_id", "=", self.id)]
        return action

    def action_view_tasks(self):
        self.ensure_one()
        domain = [("campaign_run_id", "=", self.id)]
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Tasks"),
            "res_model": "project.task",
            "view_mode": "list,form",
            "domain": domain,
        }

    # ------------------------------------------------------------------
    # WHAT THE ENGINE ASKS OF A RUN (the engine itself: campaign.engine)
    # ------------------------------------------------------------------
    def _campaign_is_active(self):
        """Lock the campaign row in share mode for the batch: stopping the campaign (which updates
        that row) waits until the batch is over, and no batch starts once the stop is saved."""
        self.env.cr.execute(SQL("SELECT state FROM campaign_campaign WHERE id = %s FOR SHARE", self.campaign_id.id))
        row = self.env.cr.fetchone()
        return bool(row) and row[0] == "active"

    def _mail_server(self):
        """Outgoing mail server the run's emails go through (the mailing's, else the default one)."""
        self.ensure_one()
        if self.channel != "email":
            return self.env["ir.mail_server"]
        mailing = self.mailing_id or self.action_id.mailing_id
        # mail servers are admin records: only the default one is identified, for the sending caps
        return mailing.mail_server_id or self.env["ir.mail_server"].sudo().search([], order="sequence, id", limit=1)

    def _cancel_run(self):
        """Cancel runs: what they have not carried out yet is cancelled (letters printed but not
        bound into the run's PDF yet included: they will not be posted)."""
        if not self:
            return
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint SET state = 'cancelled'
                    WHERE run_id IN %s AND (state = 'planned' OR (state = 'queued' AND channel = 'letter'))""",
                tuple(self.ids),
            )
        )
        self.env["campaign.touchpoint"].invalidate_model(["state"])
        self.write({"state": "cancelled", "date_done": fields.Datetime.now()})

    def _append_log(self, message):
        for run in self:
            stamp = fields.Datetime.to_string(fields.Datetime.now())
            line = f"{stamp} {message}"
            if run.log and run.log.endswith(message):
                continue  # do not repeat the same note at every pass of the job
            run.log = f"{run.log}\n{line}" if run.log else line

    # ------------------------------------------------------------------
    # A/B TESTS
    # ------------------------------------------------------------------
    def _ab_split(self):
        """Split the run's planned touchpoints for the A/B test, in one statement: the test share,
        in a pseudo-random order fixed by the run (md5 of run and contact), dealt in turn to the
        combinations; each test touchpoint becomes due at its combination's send time. The others
        are the rest, held until the winner is chosen."""
        self.ensure_one()
        action = self.action_id
        variants = action.ab_variant_ids.sorted(lambda v: (v.sequence, v.id))
        if not variants:
            return
        self.env.cr.execute(
            SQL("SELECT COUNT(*) FROM campaign_touchpoint WHERE run_id = %s AND state = 'planned'", self.id)
        )
        planned = self.env.cr.fetchone()[0]
        test_count = planned * action.ab_test_pc // 100
        if test_count < len(variants):
            test_count = min(planned, len(variants))  # every combination gets at least one contact
        self.env.cr.execute(
            SQL(
                """
                WITH ranked AS (
                    SELECT tp.id, row_number() OVER (ORDER BY md5(%(seed)s || tp.partner_id::text), tp.id) AS rn
                      FROM campaign_touchpoint tp
                     WHERE tp.run_id = %(run)s AND tp.state = 'planned'
                ),
                variants AS (
                    SELECT v.id, v.delay, v.pos
                      FROM unnest(%(variant_ids)s::integer[], %(delays)s::integer[])
                           WITH ORDINALITY AS v(id, delay, pos)
                )
                UPDATE campaign_touchpoint tp
                   SET ab_group = CASE WHEN r.rn <= %(test)s THEN 'test' ELSE 'rest' END,
                       ab_hold = r.rn > %(test)s,
                       variant_id = v.id,
                       date_not_before = CASE WHEN v.delay > 0
                                              THEN %(date)s + make_interval(hours => v.delay) END
                  FROM ranked r
                  LEFT JOIN variants v ON r.rn <= %(test)s AND v.pos = mod(r.rn - 1, %(count)s) + 1
                 WHERE tp.id = r.id
                """,
                seed=f"{self.id}-",
                run=self.id,
                variant_ids=variants.ids,
                delays=[variant.send_delay for variant in variants],
                test=test_count,
                count=len(variants),
                date=self.date_planned,
            )
        )
        self.env["campaign.touchpoint"].invalidate_model(["ab_group", "ab_hold", "variant_id", "date_not_before"])
        last_send = self.date_planned + timedelta(hours=max(variants.mapped("send_delay"), default=0))
        unit = "hours" if action.ab_delay_unit == "hours" else "days"
        decision = last_send + timedelta(**{unit: action.ab_delay})
        self.write({"ab_date_decision": decision, "ab_test_count": test_count})
        dates = {self.date_planned + timedelta(hours=delay) for delay in variants.mapped("send_delay") if delay}
        action._trigger_engine(at=sorted(dates | {decision}))

    @api.model
    def _ab_choose_winners(self, now=None):
        """Choose the winner of every A/B test run that is due, once, under a lock on the run: its
        combination is recorded on the run and the held rest becomes due with the winner's content."""
        now = now or fields.Datetime.now()
        runs = self.search(
            [
                ("state", "=", "sending"),
                ("ab_date_decision", "<=", now),
                ("ab_winner_variant_id", "=", False),
                ("campaign_id.state", "=", "active"),
            ],
            order="ab_date_decision, id",
        )
        chosen = self.browse()
        for due in runs:
            run = due.with_context(lang=due.campaign_id._job_lang())  # its log in its campaign's language
            with run._batch():
                if not run._campaign_is_active():
                    continue
                self.env.cr.execute(
                    SQL(
                        """SELECT id FROM campaign_action_run
                            WHERE id = %s AND state = 'sending' AND ab_winner_variant_id IS NULL
                              FOR UPDATE SKIP LOCKED""",
                        run.id,
                    )
                )
                if not self.env.cr.fetchone():
                    continue  # chosen already, or being chosen by another worker
                # a test email counts once delivered (sent by the mail queue, or failed), not once queued:
                # the delay runs from the last delivery
                self.env.cr.execute(
                    SQL(
                        """SELECT bool_or(state IN ('planned', 'queued')), max(date_done)
                             FROM campaign_touchpoint WHERE run_id = %s AND ab_group = 'test'""",
                        run.id,
                    )
                )
                waiting, last_delivery = self.env.cr.fetchone()
                if waiting:
                    run._append_log(run.env._("A/B test: the winner waits until every test email has been delivered."))
                    continue
                decision = run._ab_decision_after(last_delivery)
                if decision > now:
                    if decision != run.ab_date_decision:
                        run.ab_date_decision = decision
                        run.action_id._trigger_engine(at=decision)
                    continue
                run.invalidate_recordset()
                run._ab_set_winner(*run._ab_winner(), now=now)
                chosen |= run
        return chosen

    def _ab_decision_after(self, last_delivery):
        """When the winner may be chosen: the planned decision date, or the action's delay after the
        last test email was delivered when that comes later."""
        self.ensure_one()
        if not last_delivery:
            return self.ab_date_decision
        action = self.action_id
        unit = "hours" if action.ab_delay_unit == "hours" else "days"
        return max(self.ab_date_decision, last_delivery + timedelta(**{unit: action.ab_delay}))

    def _ab_winner(self):
        """(winning combination, its score) by the action's metric, computed by Email Marketing on
        each combination's test mailing (open rate, click rate, invoiced revenue of its UTM source).
        Ties and combinations without a test mailing go to the first combination."""
        self.ensure_one()
        action = self.action_id
        field = AB_METRIC_FIELDS[action.ab_winner_metric]
        # statistics read from traces, clicks and invoices whoever runs the job (as mass mailing does)
        mailings = (
            self.env["mailing.mailing"]
            .sudo()
            .search([("campaign_run_id", "=", self.id), ("campaign_variant_id", "!=", False)])
        )
        scores = {mailing.campaign_variant_id.id: mailing[field] for mailing in mailings}
        variants = self.env["campaign.action.variant"].browse(mailings.campaign_variant_id.ids)
        variants = (variants | action.ab_variant_ids).sorted(lambda v: (v.sequence, v.id))
        candidates = variants.filtered(lambda v: v.id in scores) or variants
        winner = max(candidates, key=lambda v: scores.get(v.id, 0))
        return winner, scores.get(winner.id, 0)

    def _ab_set_winner(self, winner, score, now=None):
        self.ensure_one()
        now = now or fields.Datetime.now()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint SET ab_hold = FALSE, variant_id = %s
                    WHERE run_id = %s AND ab_group = 'rest'""",
                winner.id,
                self.id,
            )
        )
        self.env["campaign.touchpoint"].invalidate_model(["ab_hold", "variant_id"])
        self.write({"ab_winner_variant_id": winner.id, "ab_date_winner": now})
        metric = dict(self.action_id._fields["ab_winner_metric"]._description_selection(self.env))
        self._append_log(
            self.env._(
                "A/B test: “%(variant)s” wins (%(metric)s: %(score)s); the rest receives it.",
                variant=winner.name,
                metric=metric[self.action_id.ab_winner_metric],
                score=score,
            )
        )

    # SHIM r-engine: dropped at merge
    # the A/B methods above call the engine's batch through it (campaign.engine._batch at merge)
    def _batch(self):
        return self.env["campaign.engine"]._batch()
