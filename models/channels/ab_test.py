"""A/B tests of email actions: combinations (subject, sender, content, send time) sent to a test
share of each run's contacts, then the winner to the rest."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

# An A/B test compares at most this many combinations (seed 004).
MAX_AB_VARIANTS = 8
# Field of mailing.mailing (Email Marketing's statistics) ranking the combinations of an A/B test.
AB_METRIC_FIELDS = {"opened": "opened_ratio", "clicked": "clicks_ratio", "revenue": "sale_invoiced_amount"}


class CampaignAction(models.Model):
    _inherit = "campaign.action"

    # A/B test of an email action: combinations sent to a test share, then the winner to the rest.
    ab_testing = fields.Boolean(
        string="A/B Test",
        help="Send up to 8 combinations (subject, sender, content, send time) to a test share of the contacts, "
        "then the best one to the rest.",
    )
    ab_variant_ids = fields.One2many("campaign.action.variant", "action_id", string="Combinations", copy=True)
    ab_test_pc = fields.Integer(
        string="Test Share (%)",
        default=20,
        help="Share of the contacts of each run that receives the combinations, split evenly between them. "
        "The others receive the winner.",
    )
    ab_winner_metric = fields.Selection(
        selection=[
            ("opened", "Highest open rate"),
            ("clicked", "Highest click rate"),
            ("revenue", "Highest revenue"),
        ],
        string="Winner Chosen By",
        default="opened",
        required=True,
        help="How the winner is chosen: open or click rate of each combination's test emails, or the revenue "
        "invoiced through their links (UTM source of each combination's mailing).",
    )
    ab_delay = fields.Integer(
        string="Choose the Winner After",
        default=1,
        help="Delay after the last test email before the winner is chosen and sent to the rest.",
    )
    ab_delay_unit = fields.Selection(
        selection=[("hours", "Hours"), ("days", "Days")], string="Winner Delay Unit", default="days", required=True
    )

    _ab_test_pc_range = models.Constraint(
        "CHECK(ab_test_pc > 0 AND ab_test_pc <= 100)", "The test share of an A/B test is between 1 and 100%."
    )
    _ab_delay_positive = models.Constraint(
        "CHECK(ab_delay >= 0)", "The delay before choosing the winner of an A/B test cannot be negative."
    )

    @api.constrains("ab_variant_ids")
    def _check_ab_variants(self):
        for action in self:
            if len(action.ab_variant_ids) > MAX_AB_VARIANTS:
                raise ValidationError(
                    self.env._(
                        "The A/B test of “%(name)s” has %(count)s combinations: it can compare at most %(max)s.",
                        name=action.name,
                        count=len(action.ab_variant_ids),
                        max=MAX_AB_VARIANTS,
                    )
                )

    @api.constrains("ab_testing", "ab_delay", "ab_delay_unit")
    def _check_ab_delay(self):
        for action in self:
            if action.ab_testing and action.ab_delay < 1:
                raise ValidationError(
                    self.env._(
                        "The A/B test of “%(name)s” chooses its winner at least 1 hour after the test emails were "
                        "delivered: before that, no contact had the time to open or click them.",
                        name=action.name,
                    )
                )

    def _is_ab_test(self):
        self.ensure_one()
        return self.channel == "email" and self.ab_testing

    def _channel_missing(self):
        if not self._is_ab_test():
            return super()._channel_missing()
        missing = []
        variants = self.ab_variant_ids
        if len(variants) < 2:
            missing.append(self.env._("at least two combinations for the A/B test"))
        if not variants or any(not variant._has_own_content() for variant in variants):
            missing += self._missing_for_email_content()
        for variant in variants:
            missing += variant._missing_for_run()
        return missing


class CampaignActionRun(models.Model):
    _inherit = "campaign.action.run"

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
        self.env["campaign.engine"]._trigger(at=sorted(dates | {decision}))

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
            with self.env["campaign.engine"]._batch():
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
                        self.env["campaign.engine"]._trigger(at=decision)
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
