import logging
import random
import time
from contextlib import contextmanager
from datetime import timedelta
from operator import itemgetter

import psycopg2
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

from ..const import DEFAULT_BATCH_SIZE, EMPTY_CLASSIFIED_SQL, FOLLOWUP_CONDITIONS

_logger = logging.getLogger(__name__)


def is_database_fault(error):
    """Whether ``error`` comes from the database itself (connection lost or closed, server shutting
    down or out of resources) rather than from what was being done: nothing can be written any more,
    the transaction is lost, and the next pass of the job must resume the work."""
    if isinstance(error, psycopg2.InterfaceError):
        return True
    if isinstance(error, psycopg2.OperationalError) and not isinstance(error, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY):
        return error.pgcode is None or error.pgcode.startswith(("08", "53", "57P"))
    return False


# Advisory lock namespaces (pg_advisory_xact_lock(namespace, id)) serialising the sending quotas.
QUOTA_LOCK_CAMPAIGN = 74201
QUOTA_LOCK_SERVER = 74202
# Consecutive conflicts with another worker (serialisation failure, deadlock) a pass tolerates
# before leaving the run to the next pass.
MAX_CONFLICTS = 5
# Attempts at one touchpoint before it is marked failed (each attempt is a batch that did not
# give it a final state, e.g. interrupted).
MAX_ATTEMPTS = 3


class CommitEachBatch:
    """How the engine's batches end in production: each batch is a transaction, committed when it
    succeeds (through the cron's progress report) and rolled back when it fails."""

    @staticmethod
    @contextmanager
    def undo_on_error(env):
        try:
            yield
        except Exception:
            env.cr.rollback()
            raise

    @staticmethod
    def commit(env):
        env["ir.cron"]._commit_progress()


class SavepointEachBatch:
    """How the engine's batches end inside a test's transaction, which may not commit: a savepoint
    plays the part of each batch's transaction, so that an error or a simulated kill undoes the
    batch only, as a rollback would. Installed by the tests (tests/common.py), never by the addon."""

    @staticmethod
    @contextmanager
    def undo_on_error(env):
        with env.cr.savepoint():
            yield

    @staticmethod
    def commit(env):
        pass


class CampaignEngine(models.AbstractModel):
    """The campaign job: it starts the runs that are due (their touchpoints generated in one
    statement) and carries out their touchpoints in batches that commit.

    Crash safety: a run's touchpoints are created by one INSERT ... SELECT (all or nothing); each
    batch claims its touchpoints with ``FOR UPDATE SKIP LOCKED`` (several workers share a run
    without ever taking the same contact) and changes their state in the transaction that carries
    them out, so a worker killed at any point leaves them 'planned' for the next run of the job.

    The engine moves the records (actions, runs, touchpoints) it is given; each channel carries out
    its batches through the action's ``_channel_*`` methods."""

    _name = "campaign.engine"
    _description = "Campaign Engine"

    # how a batch's transaction ends (the only difference between production and the tests)
    _transactions = CommitEachBatch

    # ------------------------------------------------------------------
    # THE JOB
    # ------------------------------------------------------------------
    def _trigger(self, at=None):
        """Wake the campaign scheduler up now (or at the date(s) ``at``) instead of at its next interval."""
        cron = self.env.ref("campaign_manager.ir_cron_campaign_process", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger(at)  # triggering a cron needs no rights on it: it only sets a date

    @api.model
    def _cron_process(self, batch_size=None, time_budget=None):
        """Scheduled job: import the queued contact files, start the runs that are due, choose the
        winners of the A/B tests that are due, carry out the pending touchpoints, and bring the click
        counts of the campaign links up to date."""
        deadline = time.monotonic() + (time_budget if time_budget is not None else 3600 * 24)
        self.env["campaign.target"]._process_queued_imports(deadline)
        self._start_due_runs()
        self.env["campaign.action.run"]._ab_choose_winners()
        self._dispatch_pending(batch_size=batch_size, time_budget=time_budget)
        self.env["link.tracker"]._campaign_refresh_click_counts()

    # ------------------------------------------------------------------
    # TRANSACTIONS
    # ------------------------------------------------------------------
    @contextmanager
    def _batch(self):
        """One batch = one transaction: committed when the block succeeds, undone when it raises."""
        with self._undo_on_error():
            yield
        self._commit_batch()

    @api.model
    def _commit_batch(self):
        """Commit the work of a batch. Inside the cron job this also reports progress; it is the
        only place the engine commits."""
        self._transactions.commit(self.env)

    @contextmanager
    def _undo_on_error(self):
        """Undo the work of the block when it raises."""
        with self._transactions.undo_on_error(self.env):
            yield

    # ------------------------------------------------------------------
    # DUE RUNS
    # ------------------------------------------------------------------
    @api.model
    def _start_due_runs(self, now=None):
        """Create the runs that are due (and their touchpoints), one action at a time, each locked
        so that several workers never start the same run twice."""
        now = now or fields.Datetime.now()
        candidates = self.env["campaign.action"].search(
            [("state", "in", ("scheduled", "running")), ("campaign_id.state", "=", "active")]
        )
        runs = self.env["campaign.action.run"]
        for action_id in candidates.ids:
            self.env.cr.execute(SQL("SELECT id FROM campaign_action WHERE id = %s FOR UPDATE SKIP LOCKED", action_id))
            if not self.env.cr.fetchone():
                continue  # another worker is scheduling this action right now
            action = candidates.browse(action_id)
            # what the job writes for the action (chatter notes, names) is in its campaign's language
            action = action.with_context(lang=action.campaign_id._job_lang())
            action.invalidate_recordset()
            action.run_ids.invalidate_recordset()
            due = self._next_due(action, now)
            missing = due and action._missing_for_run()
            if missing:
                # content removed or broken since it was scheduled: say so rather than run half an action
                action.write({"state": "failed", "date_next_run": False})
                action.message_post(
                    body=self.env._(
                        "The action could not run, it lacks: %(missing)s. Complete it and schedule it again.",
                        missing="; ".join(missing),
                    )
                )
            elif due:
                date_planned, parent_run = due
                self.env.flush_all()  # what is pending is not this action's to fail on
                try:
                    with self.env.cr.savepoint():
                        runs |= self._create_run(action, date_planned, parent_run)
                except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
                    raise
                except Exception as error:
                    if is_database_fault(error):
                        raise
                    # one action that cannot start (a filter the database refuses...) must not stop the others
                    _logger.info("Campaign action %s could not start a run: %s", action.id, error)
                    detail = str(error.args[0] if error.args else error)
                    if isinstance(error, psycopg2.Error):
                        detail = detail.splitlines()[0]  # without the query quoted below it
                    action.write({"state": "failed", "date_next_run": False})
                    action.message_post(
                        body=self.env._(
                            "The action could not run: %(error)s. Correct it and schedule it again.",
                            error=detail[:2000],
                        )
                    )
            self._update_state_after_run(action, now)
            self._commit_batch()
        return runs

    def _next_due(self, action, now):
        """(date_planned, parent_run) of the action's run due now, or None. Missed recurring
        occurrences collapse into the latest one: a worker down for three weeks sends once, not
        three times."""
        action.ensure_one()
        runs = action.run_ids
        if action.schedule_type == "now":
            return None if runs else (now, None)
        if action.schedule_type == "at":
            if runs or not action.date_start or action.date_start > now:
                return None
            return (action.date_start, None)
        if action.schedule_type == "recurring":
            if not action.date_start:
                return None
            last = max(runs.mapped("date_planned")) if runs else None
            occurrence = action._next_occurrence(last) if last else action.date_start
            if action.recurring_until and occurrence and occurrence > action.recurring_until:
                occurrence = False
            if not occurrence or occurrence > now:
                return None
            following = action._next_occurrence(occurrence)
            while following and following <= now:
                occurrence, following = following, action._next_occurrence(following)
            return (occurrence, None)
        # after another action: once per finished run of the previous action, after the delay
        followed = runs.parent_run_id
        delay = relativedelta(hours=action.delay) if action.delay_unit == "hours" else relativedelta(days=action.delay)
        for parent_run in action.parent_id.run_ids.sorted("run_number"):
            if parent_run.state == "done" and parent_run not in followed and parent_run.date_done + delay <= now:
                return (parent_run.date_done + delay, parent_run)
        return None

    def _create_run(self, action, date_planned, parent_run=None):
        """Create the next run of the action and its touchpoints (one SQL statement)."""
        action.ensure_one()
        number = max(action.run_ids.mapped("run_number"), default=0) + 1
        run = action.env["campaign.action.run"].create(
            {
                "action_id": action.id,
                "run_number": number,
                "date_planned": date_planned,
                "date_started": fields.Datetime.now(),
                "parent_run_id": parent_run.id if parent_run else False,
            }
        )
        if action.state == "scheduled":
            action.state = "running"
        self._generate_touchpoints(run)
        return run

    def _update_state_after_run(self, actions, now=None):
        """Finish the actions once nothing is left to run, and show when they run next."""
        now = now or fields.Datetime.now()
        for action in actions.filtered(lambda a: a.state in ("scheduled", "running")):
            if action.run_ids.filtered(lambda r: r.state in ("pending", "sending")):
                if action.date_next_run:
                    action.date_next_run = False
                continue
            finished, next_run = self._schedule_finished(action, now)
            if finished and action.run_ids:
                action.write({"state": "done", "date_next_run": False})
            elif action.date_next_run != (next_run or False):
                action.date_next_run = next_run

    def _schedule_finished(self, action, now):
        """(finished, next run date) of the action's schedule, all its runs being over."""
        action.ensure_one()
        if action.schedule_type == "now":
            return bool(action.run_ids), False
        if action.schedule_type == "at":
            return bool(action.run_ids), (False if action.run_ids else action.date_start)
        if action.schedule_type == "recurring":
            last = max(action.run_ids.mapped("date_planned"), default=None)
            occurrence = action._next_occurrence(last) if last else action.date_start
            if not occurrence or (action.recurring_until and occurrence > action.recurring_until):
                return True, False
            return False, occurrence
        parent = action.parent_id
        waiting = parent.run_ids.filtered(lambda r: r.state == "done") - action.run_ids.parent_run_id
        if waiting:
            delay = (
                relativedelta(hours=action.delay) if action.delay_unit == "hours" else relativedelta(days=action.delay)
            )
            return False, min(waiting.mapped("date_done")) + delay
        return parent.state in ("done", "cancelled", "failed"), False

    # ------------------------------------------------------------------
    # GENERATION
    # ------------------------------------------------------------------
    def _generate_touchpoints(self, run):
        """Resolve the recipients now and create the run's touchpoints in one statement: the
        contacts to reach as 'planned', the others as 'excluded' with their reason."""
        run.ensure_one()
        action = run.action_id
        if not action._run_has_audience():
            run.write({"state": "sending"})
            return
        contacts, targets = self._run_contacts(run)
        cr = run.env.cr
        run.env.flush_all()
        now = fields.Datetime.now()
        if contacts is None and not targets:
            classified = EMPTY_CLASSIFIED_SQL
        else:
            classified = targets._classified_sql(action.channel, action=action, contacts_sql=contacts)
        # when each contact may be reached (a local send time)
        classified = self._schedule_sql(classified, run, now)
        # A plan compiled by PostgreSQL's JIT costs more than it saves on this one-off statement
        # (a quarter of the time at 100,000 contacts); the setting ends with the transaction.
        cr.execute("SET LOCAL jit = off")
        # No ON CONFLICT: the run is new and locked with its action, and the contacts are distinct,
        # so a conflict would be a bug to hear about (the unique constraint still guards it).
        # Each foreign key given costs PostgreSQL a check per row: the creator and last editor of the
        # generated touchpoints are left empty (the run says who started it and when).
        cr.execute(
            SQL(
                """
                INSERT INTO campaign_touchpoint (
                    action_id, campaign_id, channel, partner_id, run_id,
                    run_number, state, exclusion_reason, date_planned, date_not_before, unit_cost, open_count,
                    click_count, visit_count, attempt_count, type_id, create_date, write_date)
                SELECT %(action)s, %(campaign)s, %(channel)s, c.partner_id, %(run)s,
                       %(number)s, CASE WHEN c.reason IS NULL THEN 'planned' ELSE 'excluded' END, c.reason,
                       %(now)s, c.held_until, CASE WHEN c.reason IS NULL THEN %(unit_cost)s ELSE 0 END, 0,
                       0, 0, 0, %(type)s, %(now)s, %(now)s
                  FROM (%(classified)s) AS c
                 WHERE c.partner_id IS NOT NULL
                """,
                action=action.id,
                campaign=action.campaign_id.id,
                channel=action.channel,
                run=run.id,
                number=run.run_number,
                now=now,
                unit_cost=action.unit_cost or 0.0,
                type=action.touchpoint_type_id.id or None,
                classified=classified,
            )
        )
        cr.execute(
            SQL(
                "SELECT state, COUNT(*) FROM campaign_touchpoint WHERE run_id = %s GROUP BY state",
                run.id,
            )
        )
        by_state = dict(cr.fetchall())
        if action._is_ab_test():
            run._ab_split()
        if contacts is not None:
            cr.execute(SQL("SELECT COUNT(*) FROM (%s) AS f", contacts))
        elif targets:
            cr.execute(SQL("SELECT COUNT(*) FROM (%s) AS u WHERE u.partner_id IS NOT NULL", targets._union_sql(action)))
        else:
            cr.execute(SQL("SELECT 0"))
        total = cr.fetchone()[0]
        reached = sum(by_state.values())
        run.env["campaign.touchpoint"].invalidate_model()
        run.write(
            {
                "state": "sending",
                "total_count": total,
                "duplicate_count": max(total - reached, 0),
                "excluded_count": by_state.get("excluded", 0),
                "planned_count": by_state.get("planned", 0),
            }
        )

    def _schedule_sql(self, classified, run, now):
        """The (partner_id, reason, held_until) rows ``classified`` of the run, their ``held_until``
        moved to when each contact may be reached (extended by the local send times)."""
        return classified

    def _run_contacts(self, run):
        """Whom the run classifies: (SQL of the partner ids to classify, or None for the targets'
        contacts; the targets, brought up to date when they are read)."""
        action = run.action_id
        targets = action._effective_targets()
        if action.followup_filter != "targets" and run.parent_run_id:
            return self._followup_contacts_sql(run), targets
        if targets:
            targets._prepare_for_run()
        return None, targets

    def _followup_contacts_sql(self, run):
        """Partner ids of the previous run's touchpoints meeting the follow-up's condition."""
        run.ensure_one()
        condition = FOLLOWUP_CONDITIONS[run.action_id.followup_filter]
        return SQL(
            "SELECT tp.partner_id FROM campaign_touchpoint tp WHERE tp.run_id = %s AND %s",
            run.parent_run_id.id,
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
        runs = self.env["campaign.action.run"].search(
            [("state", "=", "sending"), ("campaign_id.state", "=", "active")], order="date_planned, id"
        )
        for run in runs:
            if time.monotonic() >= deadline:
                break
            # the run's log, chatter notes and documents are written in its campaign's language
            engine = self.with_context(lang=run.campaign_id._job_lang())
            engine._dispatch(run.with_env(engine.env), batch_size, deadline)
        return True

    def _dispatch(self, run, batch_size, deadline):
        """Carry out the run's planned touchpoints, batch after batch, until none is left, the
        sending limit is reached or the deadline passes; then close the run if it is complete."""
        run.ensure_one()
        action = run.action_id
        if not action._channel_can_run():
            run._append_log(run.env._("The channel of this action cannot run."))
            return
        conflicts = 0
        while time.monotonic() < deadline:
            try:
                with self._batch():
                    self._begin_batch(run)
                    if not run._campaign_is_active():
                        return
                    limit = self._send_quota(run, action._channel_batch_size(batch_size))
                    if limit <= 0:
                        run._append_log(run.env._("Sending limit reached: the rest waits for the next window."))
                        return
                    touchpoint_ids = self._claim(run, limit)
                    if not touchpoint_ids:
                        break
                    touchpoints = run.env["campaign.touchpoint"].browse(touchpoint_ids)
                    failed = self._carry_out(run, touchpoints)
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as error:
                # another worker updated the same rows: this batch is undone, try again shortly
                conflicts += 1
                _logger.info("Campaign run %s: conflict with another worker (%s), retrying", run.id, error)
                if conflicts >= MAX_CONFLICTS:
                    return
                time.sleep(random.uniform(0.05, 0.3))
                continue
            conflicts = 0
            if failed:
                self._carry_out_one_by_one(run, touchpoints, failed)
        self._finish_if_complete(run)

    def _begin_batch(self, run):
        """The first statement of a batch of the run's dispatch, before its transaction reads
        anything (see the pressure caps' lock)."""

    def _carry_out(self, run, touchpoints):
        """Run the channel on the batch. Returns the error when the batch as a whole failed (its
        work is then undone and each touchpoint retried alone), else None."""
        try:
            with self._undo_on_error():
                run.action_id._channel_dispatch(run, touchpoints)
                self._after_batch(run, touchpoints)
        except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY:
            raise  # not the contacts' fault: the whole batch is retried
        except Exception as error:  # one bad contact must not block the batch
            if is_database_fault(error):
                # the database went away: the batch is lost with the transaction, this pass stops
                # here and the next one takes the same touchpoints again (never marked failed for it)
                raise
            _logger.info(
                "Campaign run %s: batch of %s failed (%s); retrying one by one", run.id, len(touchpoints), error
            )
            return error
        return None

    def _carry_out_one_by_one(self, run, touchpoints, batch_error):
        """Isolate the contacts that make a batch fail: each touchpoint alone, in its own
        transaction; those that fail again are marked failed with the reason."""
        for touchpoint in touchpoints:
            with self._batch():
                self._begin_batch(run)
                if not run._campaign_is_active():
                    return
                if not self._claim(run, 1, touchpoint_ids=touchpoint.ids):
                    continue  # already carried out, or taken by another worker
                touchpoint.invalidate_recordset()
                error = self._carry_out(run, touchpoint)
                if error:
                    touchpoint._mark_failed(self._error_message(error))

    @api.model
    def _error_message(self, error):
        message = error.args[0] if error.args else repr(error)
        return str(message)[:2000]

    def _after_batch(self, run, touchpoints):
        """Touchpoints the channel left planned are retried later, up to MAX_ATTEMPTS. Those the
        channel deferred itself (``next_retry`` in the future: a webhook waiting to be tried again)
        are left alone: the channel counts their attempts and fails them at its own limit."""
        run.env.flush_all()
        run.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint
                      SET attempt_count = attempt_count + 1,
                          state = CASE WHEN attempt_count + 1 >= %(max)s THEN 'failed' ELSE state END,
                          failure_reason = CASE WHEN attempt_count + 1 >= %(max)s
                                                THEN %(reason)s ELSE failure_reason END
                    WHERE id IN %(ids)s AND state = 'planned'
                      AND (next_retry IS NULL OR next_retry <= %(now)s)""",
                max=MAX_ATTEMPTS,
                reason=run.env._("Not carried out after %(count)s attempts.", count=MAX_ATTEMPTS),
                ids=tuple(touchpoints.ids),
                now=fields.Datetime.now(),
            )
        )
        touchpoints.invalidate_recordset()

    def _claim(self, run, limit, touchpoint_ids=None):
        """Take up to ``limit`` planned touchpoints of the run for this transaction (rows locked,
        skipped by other workers) and stamp them as dispatched now. Touchpoints waiting for a
        retry (``next_retry`` in the future), not due yet (send time of an A/B combination, a
        contact held by a cap or a quiet hour) or held (the rest of an A/B test, waiting for the
        winner) are left for later; those ``_claim_admit`` holds or excludes are skipped. Returns
        their ids."""
        run.ensure_one()
        only = SQL("AND tp.id IN %s", tuple(touchpoint_ids)) if touchpoint_ids else SQL()
        cr = run.env.cr
        seen = set()
        while True:
            now = fields.Datetime.now()
            cr.execute(
                SQL(
                    """SELECT tp.id FROM campaign_touchpoint tp
                        WHERE tp.run_id = %(run)s AND tp.state = 'planned' %(only)s
                          AND (tp.next_retry IS NULL OR tp.next_retry <= %(now)s)
                          AND (tp.date_not_before IS NULL OR tp.date_not_before <= %(now)s)
                          AND tp.ab_hold IS NOT TRUE
                        ORDER BY tp.id LIMIT %(limit)s FOR UPDATE SKIP LOCKED""",
                    now=now,
                    run=run.id,
                    only=only,
                    limit=limit,
                )
            )
            candidates = [row[0] for row in cr.fetchall()]
            if not candidates or seen.intersection(candidates):
                return []  # none left (or a put-off that did not take: never loop on the same ones)
            seen.update(candidates)
            admitted = self._claim_admit(run, candidates, now)
            if admitted:
                break
            # every candidate was held or excluded: take the next ones
        cr.execute(SQL("UPDATE campaign_touchpoint SET date_dispatched = %s WHERE id IN %s", now, tuple(admitted)))
        ids = sorted(admitted)
        run.env["campaign.touchpoint"].browse(sorted(seen)).invalidate_recordset(
            ["date_dispatched", "date_not_before", "state", "exclusion_reason"]
        )
        return ids

    def _claim_admit(self, run, touchpoint_ids, now):
        """The touchpoints among ``touchpoint_ids`` (planned, locked by this transaction) that may
        be carried out now; the others are put off (``date_not_before``), excluded or cancelled, in
        SQL, by the steps of ``_claim_steps`` in their order, each on what the ones before it left."""
        for _sequence, step in sorted(self._claim_steps(run), key=itemgetter(0)):
            if not touchpoint_ids:
                break
            touchpoint_ids = step(run, touchpoint_ids, now)
        return list(touchpoint_ids)

    def _claim_steps(self, run):
        """The steps admitting the claimed touchpoints of ``run``: (sequence, method) pairs, the
        sequence from ``CLAIM_STEP_SEQUENCE``, each method taking and returning touchpoint ids as
        ``_claim_admit``. Extended by the journeys, the local send times and the pressure caps;
        the order is the sequences', not the modules' import order."""
        return []

    def _send_quota(self, run, batch_size):
        """How many touchpoints this batch of the run may carry out under the campaign's and the
        mail server's hourly and daily caps. The counts are serialised with advisory locks held
        until the batch commits, so concurrent workers never overshoot a cap."""
        run.ensure_one()
        campaign = run.campaign_id
        server = run._mail_server()
        caps = [(QUOTA_LOCK_CAMPAIGN, "campaign_id", campaign.id, campaign.send_limit_hour, campaign.send_limit_day)]
        if server:
            caps.append(
                (QUOTA_LOCK_SERVER, "mail_server_id", server.id, server.campaign_limit_hour, server.campaign_limit_day)
            )
        allowed = batch_size
        for cap in caps:
            allowed = self._quota_left(run.env.cr, *cap, allowed)
        return max(allowed, 0)

    @api.model
    def _quota_left(self, cr, lock, column, key, limit_hour, limit_day, allowed):
        """``allowed`` lowered to what the hourly and daily caps of one campaign or mail server leave
        (touchpoints dispatched in the last hour and day, counted under the advisory lock ``lock``)."""
        if not (limit_hour or limit_day):
            return allowed
        cr.execute(SQL("SELECT pg_advisory_xact_lock(%s, %s)", lock, key))
        now = fields.Datetime.now()
        for limit, span in ((limit_hour, timedelta(hours=1)), (limit_day, timedelta(days=1))):
            if limit:
                cr.execute(
                    SQL(
                        "SELECT COUNT(*) FROM campaign_touchpoint WHERE %s = %s AND date_dispatched > %s",
                        SQL.identifier(column),
                        key,
                        now - span,
                    )
                )
                allowed = min(allowed, limit - cr.fetchone()[0])
        return allowed

    def _finish_if_complete(self, run):
        """Close the run once none of its touchpoints is left to carry out (once, by one worker)."""
        run.ensure_one()
        cr = run.env.cr
        with self._batch():
            cr.execute(
                SQL(
                    """SELECT id FROM campaign_action_run WHERE id = %s AND state = 'sending'
                       FOR UPDATE SKIP LOCKED""",
                    run.id,
                )
            )
            if not cr.fetchone():
                return
            cr.execute(
                SQL(
                    "SELECT 1 FROM campaign_touchpoint WHERE run_id = %s AND state = 'planned' LIMIT 1",
                    run.id,
                )
            )
            if cr.fetchone():
                return
            run.invalidate_recordset()
            values = {"state": "done", "date_done": fields.Datetime.now()}
            try:
                with self._undo_on_error():
                    run.action_id._channel_finish(run)
            except Exception as error:  # the run is marked failed with the reason
                if is_database_fault(error):
                    raise
                values["state"] = "failed"
                run._append_log(self._error_message(error))
            run.write(values)
            self._update_state_after_run(run.action_id)
