from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from .common import WorkerKilled
from .journey_common import JourneyCase

T0 = datetime(2026, 3, 2, 9, 0, 0)


@tagged("post_install", "-at_install")
class TestJourneyTiming(JourneyCase):
    """Per-contact timing: each step of a journey is due its delay after that contact's previous
    step, picked up by the job in batches; a run only when someone is due; a kill at any point of
    a trigger-fed journey resumes with each contact's step exactly once."""

    def _at(self, delta):
        return freeze_time(T0 + delta)

    def test_two_contacts_a_day_apart_get_their_second_step_a_day_apart(self):
        with self._at(timedelta(0)):
            self._launch()
            self._subscribe("anna")
        with self._at(timedelta(minutes=5)):
            self._process()
        with self._at(timedelta(days=1)):
            self._subscribe("bob")
        with self._at(timedelta(days=1, minutes=5)):
            self._process()
        anna, bob = self._partner("anna"), self._partner("bob")
        self.assertEqual(
            self.step_2.date_next_run, T0 + timedelta(days=2, minutes=5), "the step shows when anna is due"
        )
        first = {tp.partner_id: tp for tp in self._touchpoints(self.step_1)}
        self.assertEqual(first[bob].date_planned - first[anna].date_planned, timedelta(days=1))
        # passes of the job every few hours: the second step reaches each contact two days after
        # their own first one, not when the first contact's is due
        for hours in range(6, 96, 6):
            with self._at(timedelta(hours=hours, minutes=10)):
                self._process()
        second = {tp.partner_id: tp for tp in self._touchpoints(self.step_2)}
        self.assertEqual(set(second), {anna, bob})
        self.assertEqual(second[anna].date_planned, T0 + timedelta(days=2, hours=0, minutes=10))
        self.assertEqual(second[bob].date_planned, T0 + timedelta(days=3, hours=0, minutes=10))
        self.assertEqual(second[bob].date_planned - second[anna].date_planned, timedelta(days=1))
        # two runs of each step (one per contact due at a pass), none for the passes with nobody due
        self.assertEqual(len(self.step_1.run_ids), 2)
        self.assertEqual(len(self.step_2.run_ids), 2)
        self.assertEqual(set(self.step_2.run_ids.mapped("state")), {"done"})
        self.assertEqual(self.step_2.state, "running", "a journey's step waits for the next contacts")
        enrolments = self._enrolments()
        self.assertEqual(set(enrolments.mapped("step_action_id")), {self.step_2})

    def test_followup_condition_waits_for_the_contact(self):
        self.step_2.followup_filter = "opened"
        with self._at(timedelta(0)):
            self._launch()
            self._subscribe("opener")
            self._subscribe("sleeper")
            self._process()
            traces = self._touchpoints(self.step_1).mailing_trace_id
            traces.set_sent()
        with self._at(timedelta(days=3)):
            self._process()
            self.assertFalse(self._touchpoints(self.step_2), "nobody opened yet")
            traces.filtered(lambda t: t.res_id == self._partner("opener").id).set_opened()
        with self._at(timedelta(days=3, minutes=5)):
            self._process()
        self.assertEqual(self._touchpoints(self.step_2).partner_id, self._partner("opener"))

    def test_kill_during_generation_then_rerun_exactly_once(self):
        with self._at(timedelta(0)):
            self._launch()
            for name in ("k1", "k2", "k3"):
                self._subscribe(name)
        engine = type(self.env["campaign.engine"])
        with self._at(timedelta(minutes=5)):
            # killed once the touchpoints are inserted, before the contacts are moved on
            self.assertWorkerKilled(engine, "_journey_advance", self._process, at=1, before=True)
            self.assertFalse(self._touchpoints(self.step_1), "the killed batch left nothing")
            self.assertFalse(self.step_1.run_ids)
            self.assertFalse(self._enrolments().step_action_id)
            self._process()
        self.assertEqual(len(self._touchpoints(self.step_1)), 3)
        self.assertEqual(len(self._touchpoints(self.step_1).partner_id), 3)

    def test_kill_during_dispatch_then_rerun_exactly_once(self):
        with self._at(timedelta(0)):
            self._launch()
            for index in range(7):
                self._subscribe(f"d{index}")
        engine = type(self.env["campaign.engine"])
        with self._at(timedelta(minutes=5)):
            calls = self.assertWorkerKilled(
                engine, "_carry_out", lambda: self.env["campaign.engine"]._cron_process(batch_size=3), at=2
            )
        self.assertEqual(len(calls), 2)
        touchpoints = self._touchpoints(self.step_1)
        self.assertEqual(len(touchpoints), 7, "the generation was committed before the kill")
        self.assertEqual(sorted(touchpoints.mapped("state")), ["planned"] * 4 + ["queued"] * 3)
        with self._at(timedelta(minutes=10)):
            self.env["campaign.engine"]._cron_process(batch_size=3)
        touchpoints = self._touchpoints(self.step_1)
        self.assertEqual(set(touchpoints.mapped("state")), {"queued"})
        mails = self.env["mail.mail"].search([("mailing_id", "in", touchpoints.mailing_id.ids)])
        self.assertEqual(len(mails), 7, "one email per contact, none twice")
        self.assertEqual(len(self.step_1.run_ids), 1)
        with self._at(timedelta(days=2, minutes=20)):
            self._process()
        self.assertEqual(len(self._touchpoints(self.step_2)), 7, "the next step once for each")
        self.assertIsInstance(WorkerKilled(), BaseException)
