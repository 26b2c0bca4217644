import logging
import random
import time
from contextlib import contextmanager
from datetime import timedelta

from odoo import api, fields, models, modules
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

from ..const import CARRIED_STATES, DEFAULT_BATCH_SIZE, FOLLOWUP_CONDITIONS
from .campaign_action import is_database_fault

_logger = logging.getLogger(__name__)

RUN_STATES = [
    ("pending", "Pending"),
    ("sending", "Sending"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]
# Advisory lock namespaces (pg_advisory_xact_lock(namespace, id)) serialising the sending quotas.
QUOTA_LOCK_CAMPAIGN = 74201
QUOTA_LOCK_SERVER = 74202
# Consecutive conflicts with another worker (serialisation failure, deadlock) a pass tolerates
# before leaving the run to the next pass.
MAX_CONFLICTS = 5
# Attempts at one touchpoint before it is marked failed (each attempt is a batch that did not
# give it a final state, e.g. interrupted).
MAX_ATTEMPTS = 3


class CampaignActionRun(models.Model):
    """One execution of an action: the recipients resolved at that moment become the run's
    touchpoints, which the dispatcher then carries out in batches that commit.

    Crash safety: a run's touchpoints are created by one INSERT ... SELECT (all or nothing); each
    batch claims its touchpoints with ``FOR UPDATE SKIP LOCKED`` (several workers share a run
    without ever taking the same contact) and changes their state in the transaction that carries
    them out, so a worker killed at any point leaves them 'planned' for the next run of the job."""

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
    # GENERATION
    # ------------------------------------------------------------------
    def _generate_touchpoints(self):
        """Resolve the recipients now and create the run's touchpoints in one statement: the
        contacts to reach as 'planned', the others as 'excluded' with their reason."""
        self.ensure_one()
        action = self.action_id
        if not action._run_has_audience():
            self.write({"state": "sending"})
            return
        targets = action._effective_targets()
        contacts = None
        if action.followup_filter != "targets" and self.parent_run_id:
            contacts = self._followup_contacts_sql()
        elif targets:
            targets._prepare_for_run()
        self.env.flush_all()
        now = fields.Datetime.now()
        if contacts is None and not targets:
            classified = SQL("SELECT NULL::integer AS partner_id, NULL::varchar AS reason WHERE FALSE")
        else:
            classified = targets._classified_sql(action.channel, action=action, contacts_sql=contacts)
        # A plan compiled by PostgreSQL's JIT costs more than it saves on this one-off statement
        # (a quarter of the time at 100,000 contacts); the setting ends with the transaction.
        self.env.cr.execute("SET LOCAL jit = off")
        # No ON CONFLICT: the run is new and locked with its action, and the contacts are distinct,
        # so a conflict would be a bug to hear about (the unique constraint still guards it).
        # Each foreign key given costs PostgreSQL a check per row: the creator and last editor of the
        # generated touchpoints are left empty (the run says who started it and when).
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO campaign_touchpoint (
                    action_id, campaign_id, channel, partner_id, run_id,
                    run_number, state, exclusion_reason, date_planned, unit_cost, open_count,
                    click_count, visit_count, attempt_count, type_id, create_date, write_date)
                SELECT %(action)s, %(campaign)s, %(channel)s, c.partner_id, %(run)s,
                       %(number)s, CASE WHEN c.reason IS NULL THEN 'planned' ELSE 'excluded' END, c.reason,
                       %(now)s, CASE WHEN c.reason IS NULL THEN %(unit_cost)s ELSE 0 END, 0,
                       0, 0, 0, %(type)s, %(now)s, %(now)s
                  FROM (%(classified)s) AS c
                 WHERE c.partner_id IS NOT NULL
                """,
                action=action.id,
                campaign=action.campaign_id.id,
                channel=action.channel,
                run=self.id,
                number=self.run_number,
                now=now,
                unit_cost=action.unit_cost or 0.0,
                type=action.touchpoint_type_id.id or None,
                classified=classified,
            )
        )
        self.env.cr.execute(
            SQL(
                "SELECT state, COUNT(*) FROM campaign_touchpoint WHERE run_id = %s GROUP BY state",
                self.id,
            )
        )
        by_state = dict(self.env.cr.fetchall())
        if action._is_ab_test():
            self._ab_split()
        if contacts is not None:
            self.env.cr.execute(SQL("SELECT COUNT(*) FROM (%s) AS f", contacts))
        elif targets:
            self.env.cr.execute(
                SQL("SELECT COUNT(*) FROM (%s) AS u WHERE u.partner_id IS NOT NULL", targets._union_sql(action))
            )
        else:
            self.env.cr.execute(SQL("SELECT 0"))
        total = self.env.cr.fetchone()[0]
        reached = sum(by_state.values())
        self.env["campaign.touchpoint"].invalidate_model()
        self.write(
            {
                "state": "sending",
                "total_count": total,
                "duplicate_count": max(total - reached, 0),
                "excluded_count": by_state.get("excluded", 0),
                "planned_count": by_state.get("planned", 0),
            }
        )

    def _followup_contacts_sql(self):
        """Partner ids of the previous run's touchpoints meeting the follow-up's condition."""
        self.ensure_one()
        condition = FOLLOWUP_CONDITIONS[self.action_id.followup_filter]
        return SQL(
            "SELECT tp.partner_id FROM campaign_touchpoint tp WHERE tp.run_id = %s AND %s",
            self.parent_run_id.id,
            condition,
        )

    # ------------------------------------------------------------------
    # DISPATCH
    # ------------------------------------------------------------------
    @api.model
    def _dispatch_pending(self, batch_size=None, time_budget=None):
        """Carry out the planned touchpoints of every running run, batch after batch, each batch
        committed. Safe to kill at any point, safe to run in several workers at once."""
        # a system parameter, read whatever the user running the job
        batch_size = batch_size or int(
            self.env["ir.config_parameter"].sudo().get_param("campaign_manager.batch_size", 0) or 0
        )
        batch_size = batch_size or DEFAULT_BATCH_SIZE
        deadline = time.monotonic() + (time_budget if time_budget is not None else 3600 * 24)
        runs = self.search([("state", "=", "sending"), ("campaign_id.state", "=", "active")], order="date_planned, id")
        for run in runs:
            if time.monotonic() >= deadline:
                break
            # the run's log, chatter notes and documents are written in its campaign's language
            run.with_context(lang=run.campaign_id._job_lang())._dispatch(batch_size, deadline)
        return True

    def _dispatch(self, batch_size, deadline):
        self.ensure_one()
        action = self.action_id
        if not action._channel_can_run():
            self._append_log(self.env._("The channel of this action cannot run."))
            return
        dispatcher = action._channel_dispatch
        conflicts = 0
        while time.monotonic() < deadline:
            try:
                with self._batch():
                    if not self._campaign_is_active():
                        return
                    limit = self._send_quota(action._channel_batch_size(batch_size))
                    if limit <= 0:
                        self._append_log(self.env._("Sending limit reached: the rest waits for the next window."))
                        return
                    touchpoint_ids = self._claim(limit)
                    if not touchpoint_ids:
                        break
                    touchpoints = self.env["campaign.touchpoint"].browse(touchpoint_ids)
                    failed = self._carry_out(dispatcher, touchpoints)
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as error:
                # another worker updated the same rows: this batch is undone, try again shortly
                conflicts += 1
                _logger.info("Campaign run %s: conflict with another worker (%s), retrying", self.id, error)
                if conflicts >= MAX_CONFLICTS:
                    return
                time.sleep(random.uniform(0.05, 0.3))
                continue
            conflicts = 0
            if failed:
                self._carry_out_one_by_one(dispatcher, touchpoints, failed)
        self._finish_if_complete()

    @contextmanager
    def _batch(self):
        """One batch = one transaction. In tests (no commit allowed) a savepoint plays its part:
        an error or a simulated kill undoes the batch only, like a rollback would."""
        if modules.module.current_test:
            with self.env.cr.savepoint():
                yield
            return
        try:
            yield
        except Exception:
            self.env.cr.rollback()
            raise
        self._commit_batch()

    @api.model
    def _commit_batch(self):
        """Commit the work of a batch (never in tests). Inside the cron job this also reports
        progress; it is the only place the engine commits."""
        if modules.module.current_test:
            return
        self.env["ir.cron"]._commit_progress()

    def _carry_out(self, dispatcher, touchpoints):
        """Run the channel on the batch. Returns the error when the batch as a whole failed (its
        work is then undone and each touchpoint retried alone), else None."""
        try:
            with self._undo_on_error():
                dispatcher(self, touchpoints)
                self._after_batch(touchpoints)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # not the contacts' fault: the whole batch is retried
        except Exception as error:  # one bad contact must not block the batch
            if is_database_fault(error):
                # the database went away: the batch is lost with the transaction, this pass stops
                # here and the next one takes the same touchpoints again (never marked failed for it)
                raise
            _logger.info(
                "Campaign run %s: batch of %s failed (%s); retrying one by one", self.id, len(touchpoints), error
            )
            return error
        return None

    @contextmanager
    def _undo_on_error(self):
        if modules.module.current_test:
            with self.env.cr.savepoint():
                yield
            return
        try:
            yield
        except Exception:
            self.env.cr.rollback()
            raise

    def _carry_out_one_by_one(self, dispatcher, touchpoints, batch_error):
        """Isolate the contacts that make a batch fail: each touchpoint alone, in its own
        transaction; those that fail again are marked failed with the reason."""
        for touchpoint in touchpoints:
            with self._batch():
                if not self._campaign_is_active():
                    return
                if not self._claim(1, touchpoint_ids=touchpoint.ids):
                    continue  # already carried out, or taken by another worker
                touchpoint.invalidate_recordset()
                error = self._carry_out(dispatcher, touchpoint)
                if error:
                    touchpoint._mark_failed(self._error_message(error))

    @api.model
    def _error_message(self, error):
        message = error.args[0] if error.args else repr(error)
        return str(message)[:2000]

    def _after_batch(self, touchpoints):
        """Touchpoints the channel left planned are retried later, up to MAX_ATTEMPTS. Those the
        channel deferred itself (``next_retry`` in the future: a webhook waiting to be tried again)
        are left alone: the channel counts their attempts and fails them at its own limit."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint
                      SET attempt_count = attempt_count + 1,
                          state = CASE WHEN attempt_count + 1 >= %(max)s THEN 'failed' ELSE state END,
                          failure_reason = CASE WHEN attempt_count + 1 >= %(max)s
                                                THEN %(reason)s ELSE failure_reason END
                    WHERE id IN %(ids)s AND state = 'planned'
                      AND (next_retry IS NULL OR next_retry <= %(now)s)""",
                max=MAX_ATTEMPTS,
                reason=self.env._("Not carried out after %(count)s attempts.", count=MAX_ATTEMPTS),
                ids=tuple(touchpoints.ids),
                now=fields.Datetime.now(),
            )
        )
        touchpoints.invalidate_recordset()

    def _campaign_is_active(self):
        """Lock the campaign row in share mode for the batch: stopping the campaign (which updates
        that row) waits until the batch is over, and no batch starts once the stop is saved."""
        self.env.cr.execute(SQL("SELECT state FROM campaign_campaign WHERE id = %s FOR SHARE", self.campaign_id.id))
        row = self.env.cr.fetchone()
        return bool(row) and row[0] == "active"

    def _claim(self, limit, touchpoint_ids=None):
        """Take up to ``limit`` planned touchpoints of the run for this transaction (rows locked,
        skipped by other workers) and stamp them as dispatched now. Touchpoints waiting for a
        retry (``next_retry`` in the future), not due yet (send time of an A/B combination) or held
        (the rest of an A/B test, waiting for the winner) are left for later. Returns their ids."""
        self.ensure_one()
        only = SQL("AND tp.id IN %s", tuple(touchpoint_ids)) if touchpoint_ids else SQL()
        self.env.cr.execute(
            SQL(
                # MATERIALIZED: evaluated once. As a sub-query joined to the UPDATE, PostgreSQL may
                # scan it again for each row (nested loop), each scan taking up to LIMIT more rows
                """WITH claimed AS MATERIALIZED (
                        SELECT tp.id FROM campaign_touchpoint tp
                         WHERE tp.run_id = %(run)s AND tp.state = 'planned' %(only)s
                           AND (tp.next_retry IS NULL OR tp.next_retry <= %(now)s)
                           AND (tp.date_not_before IS NULL OR tp.date_not_before <= %(now)s)
                           AND tp.ab_hold IS NOT TRUE
                         ORDER BY tp.id LIMIT %(limit)s FOR UPDATE SKIP LOCKED)
                   UPDATE campaign_touchpoint t SET date_dispatched = %(now)s
                     FROM claimed
                    WHERE t.id = claimed.id
                RETURNING t.id""",
                now=fields.Datetime.now(),
                run=self.id,
                only=only,
                limit=limit,
            )
        )
        ids = sorted(row[0] for row in self.env.cr.fetchall())
        self.env["campaign.touchpoint"].browse(ids).invalidate_recordset(["date_dispatched"])
        return ids

    def _mail_server(self):
        """Outgoing mail server the run's messages go through, for its sending caps: none, unless
        the channel sends emails (models/channels/email.py)."""
        self.ensure_one()
        return self.env["ir.mail_server"]

    def _send_quota(self, batch_size):
        """How many touchpoints this batch may carry out under the campaign's and the mail server's
        hourly and daily caps. The counts are serialised with advisory locks held until the
        batch commits, so concurrent workers never overshoot a cap."""
        self.ensure_one()
        campaign = self.campaign_id
        now = fields.Datetime.now()
        allowed = batch_size
        windows = (("hour", timedelta(hours=1)), ("day", timedelta(days=1)))
        if campaign.send_limit_hour or campaign.send_limit_day:
            self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(%s, %s)", QUOTA_LOCK_CAMPAIGN, campaign.id))
            for unit, span in windows:
                limit = campaign.send_limit_hour if unit == "hour" else campaign.send_limit_day
                if limit:
                    self.env.cr.execute(
                        SQL(
                            """SELECT COUNT(*) FROM campaign_touchpoint
                                WHERE campaign_id = %s AND date_dispatched > %s""",
                            campaign.id,
                            now - span,
                        )
                    )
                    allowed = min(allowed, limit - self.env.cr.fetchone()[0])
        server = self._mail_server()
        if server and (server.campaign_limit_hour or server.campaign_limit_day):
            self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(%s, %s)", QUOTA_LOCK_SERVER, server.id))
            for unit, span in windows:
                limit = server.campaign_limit_hour if unit == "hour" else server.campaign_limit_day
                if limit:
                    self.env.cr.execute(
                        SQL(
                            """SELECT COUNT(*) FROM campaign_touchpoint
                                WHERE mail_server_id = %s AND date_dispatched > %s""",
                            server.id,
                            now - span,
                        )
                    )
                    allowed = min(allowed, limit - self.env.cr.fetchone()[0])
        return max(allowed, 0)

    def _finish_if_complete(self):
        """Close the run once none of its touchpoints is left to carry out (once, by one worker)."""
        self.ensure_one()
        with self._batch():
            self.env.cr.execute(
                SQL(
                    """SELECT id FROM campaign_action_run WHERE id = %s AND state = 'sending'
                       FOR UPDATE SKIP LOCKED""",
                    self.id,
                )
            )
            if not self.env.cr.fetchone():
                return
            self.env.cr.execute(
                SQL(
                    "SELECT 1 FROM campaign_touchpoint WHERE run_id = %s AND state = 'planned' LIMIT 1",
                    self.id,
                )
            )
            if self.env.cr.fetchone():
                return
            self.invalidate_recordset()
            finisher = self.action_id._channel_finish
            values = {"state": "done", "date_done": fields.Datetime.now()}
            if finisher:
                try:
                    with self._undo_on_error():
                        finisher(self)
                except Exception as error:  # the run is marked failed with the reason
                    if is_database_fault(error):
                        raise
                    values["state"] = "failed"
                    self._append_log(self._error_message(error))
            self.write(values)
            self.action_id._update_state_after_run()

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
