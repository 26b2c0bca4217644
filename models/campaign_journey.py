from dateutil.relativedelta import relativedelta

from odoo import fields, models
from odoo.tools import SQL

from ..const import CLAIM_STEP_SEQUENCE, FOLLOWUP_CONDITIONS, NOT_REACHED_STATES

# A follow-up "of its targets" in a journey: the contacts whose previous step was handed over
# (queued for the delivery workers, sent, done...), not those it failed or is still to carry out.
HANDED_OVER_SQL = SQL("tp.state NOT IN %s AND tp.state != 'planned'", NOT_REACHED_STATES)


class CampaignAction(models.Model):
    """Steps of a journey: an action due for each contact when they enter the campaign's journey
    (after its delay), and the actions following it, each due for each contact its delay after
    that contact's previous step (models/campaign_enrolment.py)."""

    _inherit = "campaign.action"

    schedule_type = fields.Selection(
        selection_add=[("entry", "When a contact enters the journey")],
        ondelete={"entry": "set default"},
    )

    def _is_journey_step(self):
        """Whether the action is due per contact: the step a contact's entry starts, or a follow-up
        of such a step."""
        self.ensure_one()
        action, seen = self, set()
        while action.schedule_type == "after" and action.parent_id and action.id not in seen:
            seen.add(action.id)
            action = action.parent_id
        return action.schedule_type == "entry"

    def _reads_targets(self):
        return super()._reads_targets() and not self._is_journey_step()

    def _missing_for_run(self):
        missing = super()._missing_for_run()
        if self._is_journey_step() and not self.campaign_id.trigger_ids:
            missing.append(self.env._("an entry trigger on the campaign (Journey tab)"))
        return missing

    def _journey_delay(self):
        self.ensure_one()
        return relativedelta(hours=self.delay) if self.delay_unit == "hours" else relativedelta(days=self.delay)


class CampaignEngine(models.AbstractModel):
    """The engine's part of the journeys: a step's run holds the contacts due at that pass of the
    job, each their own delay after their entry or their previous step; a contact is moved on to
    the step in the same transaction as its touchpoint is created, so a kill at any point leaves
    them due (nothing committed) or moved on with a planned touchpoint (the run resumes)."""

    _inherit = "campaign.engine"

    def _start_due_runs(self, now=None):
        # the contacts whose date comes round enter first; then the goals met since the last pass
        # (a contact matching the goal's filter, a reply) take contacts out before any step is due
        self.env["campaign.trigger"]._enrol_on_dates()
        campaigns = self.env["campaign.campaign"].search([("state", "=", "active"), ("goal_type", "!=", "none")])
        if campaigns:
            self.env["campaign.enrolment"]._reach_goals(campaigns=campaigns)
        self._commit_batch()
        return super()._start_due_runs(now=now)

    def _next_due(self, action, now):
        if not action._is_journey_step():
            return super()._next_due(action, now)
        # a run only when some contact is due: a journey costs the batches it really sends
        self.env.flush_all()
        self.env.cr.execute(SQL("SELECT EXISTS (%s)", self._journey_due_sql(action, now)))
        return (now, None) if self.env.cr.fetchone()[0] else None

    def _schedule_finished(self, action, now):
        if not action._is_journey_step():
            return super()._schedule_finished(action, now)
        # never finished while contacts may enter; next run: when the next contact becomes due (those
        # already past their delay wait for the step's condition)
        cutoff = now - action._journey_delay()
        if action.schedule_type == "entry":
            query = SQL(
                """SELECT MIN(e.date_enrolled) FROM campaign_enrolment e
                    WHERE e.campaign_id = %s AND e.state = 'active' AND e.step_action_id IS NULL
                      AND e.date_enrolled > %s""",
                action.campaign_id.id,
                cutoff,
            )
        else:
            query = SQL(
                """SELECT MIN(e.date_step) FROM campaign_enrolment e
                    WHERE e.step_action_id = %s AND e.state = 'active' AND e.date_step > %s AND %s""",
                action.parent_id.id,
                cutoff,
                self._journey_contacts_filter(action),
            )
        self.env.cr.execute(query)
        first = self.env.cr.fetchone()[0]
        return False, (first + action._journey_delay() if first else False)

    def _run_contacts(self, run):
        action = run.action_id
        if not action._is_journey_step():
            return super()._run_contacts(run)
        return self._journey_due_sql(action, run.date_planned), self.env["campaign.target"]

    def _journey_due_sql(self, action, now):
        """Partner ids of the contacts in the journey for whom the step ``action`` is due at ``now``:
        its delay after their entry (the first step) or after their previous step was carried out
        (a follow-up, meeting its condition). Read through the enrolments' indexes on the date of
        entry and of the last step."""
        cutoff = now - action._journey_delay()
        if action.schedule_type == "entry":
            return SQL(
                """SELECT e.partner_id FROM campaign_enrolment e
                    WHERE e.campaign_id = %s AND e.state = 'active' AND e.step_action_id IS NULL
                      AND e.date_enrolled <= %s""",
                action.campaign_id.id,
                cutoff,
            )
        condition = FOLLOWUP_CONDITIONS.get(action.followup_filter, HANDED_OVER_SQL)
        # the previous step is the touchpoint the contact received (tp): its delay runs from when it
        # was carried out (the step's generation bounds it below, for the index)
        return SQL(
            """SELECT e.partner_id FROM campaign_enrolment e
                 JOIN campaign_touchpoint tp ON tp.id = e.touchpoint_id
                WHERE e.step_action_id = %s AND e.state = 'active' AND e.date_step <= %s
                  AND COALESCE(tp.date_done, tp.date_dispatched, e.date_step) <= %s AND %s AND %s""",
            action.parent_id.id,
            cutoff,
            cutoff,
            condition,
            self._journey_contacts_filter(action),
        )

    def _journey_contacts_filter(self, action):
        """SQL condition on the enrolment ``e`` of a contact at the step before the follow-up
        ``action``: whether the follow-up may take them (a branch: models/campaign_action_branch.py)."""
        return SQL("TRUE")

    def _generate_touchpoints(self, run):
        result = super()._generate_touchpoints(run)
        if run.action_id._is_journey_step():
            self._journey_advance(run)
        return result

    def _journey_advance(self, run):
        """Move the contacts of the run's touchpoints on to its step, in the transaction that created
        them; those the audience resolution excluded (blacklisted, opted out, no address...) leave
        the journey with that reason."""
        now = fields.Datetime.now()
        cr = self.env.cr
        cr.execute(
            SQL(
                """SELECT array_agg(partner_id), array_agg(id), array_agg(exclusion_reason)
                     FROM campaign_touchpoint WHERE run_id = %s""",
                run.id,
            )
        )
        partners, touchpoints, reasons = cr.fetchone()
        if not partners:
            return
        # The run's contacts as arrays, each found through the enrolments' unique index: joined to
        # the run's touchpoints just inserted (no statistics yet), PostgreSQL scanned the run once
        # per enrolment (10.8 s for 20,000 contacts on a busy 2-core machine, 1.9 s this way, most of it
        # PostgreSQL's foreign-key triggers).
        cr.execute(
            SQL(
                """UPDATE campaign_enrolment e
                      SET step_action_id = %(action)s, touchpoint_id = r.touchpoint_id, date_step = %(now)s,
                          state = CASE WHEN r.reason IS NULL THEN e.state ELSE 'excluded' END,
                          exit_reason = r.reason,
                          date_exited = CASE WHEN r.reason IS NULL THEN NULL ELSE %(now)s::timestamp END,
                          write_date = %(now)s
                     FROM unnest(%(partners)s::int[], %(touchpoints)s::int[], %(reasons)s::varchar[])
                          AS r(partner_id, touchpoint_id, reason)
                    WHERE e.campaign_id = %(campaign)s AND e.partner_id = r.partner_id AND e.state = 'active'""",
                action=run.action_id.id,
                now=now,
                partners=partners,
                touchpoints=touchpoints,
                reasons=reasons,
                campaign=run.campaign_id.id,
            )
        )
        self.env["campaign.enrolment"].invalidate_model()

    def _claim_steps(self, run):
        # the contacts who left the journey (or reached its goal) since their step was generated,
        # first: the caps and send times only count those who stay
        steps = super()._claim_steps(run)
        if run.action_id._is_journey_step():
            steps.append((CLAIM_STEP_SEQUENCE["journey"], self._journey_drop_gone))
        return steps

    def _journey_drop_gone(self, run, touchpoint_ids, now=None):
        """The claimed touchpoints of contacts still in the journey: the goal of those who reached it
        since the step was generated is recorded, and their touchpoints (and those of contacts who
        left) are cancelled, in the batch's transaction: no further step reaches them."""
        cr = self.env.cr
        cr.execute(SQL("SELECT DISTINCT partner_id FROM campaign_touchpoint WHERE id IN %s", tuple(touchpoint_ids)))
        partner_ids = [row[0] for row in cr.fetchall()]
        self.env["campaign.enrolment"]._reach_goals(partner_ids=partner_ids, campaigns=run.campaign_id)
        cr.execute(
            SQL(
                """UPDATE campaign_touchpoint tp SET state = 'cancelled'
                     FROM campaign_enrolment e
                    WHERE tp.id IN %s AND e.campaign_id = %s AND e.partner_id = tp.partner_id
                      AND e.state != 'active'
                RETURNING tp.id""",
                tuple(touchpoint_ids),
                run.campaign_id.id,
            )
        )
        gone = {row[0] for row in cr.fetchall()}
        if gone:
            self.env["campaign.touchpoint"].browse(gone).invalidate_recordset(["state"])
        return [tp_id for tp_id in touchpoint_ids if tp_id not in gone]
