from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .journey_common import JourneyCase

T0 = datetime(2026, 3, 2, 9, 0, 0)


@tagged("post_install", "-at_install")
class TestJourneyGoal(JourneyCase):
    """Goals and exits: a contact who reaches the campaign's goal between two steps leaves the
    journey at that moment (no further step reaches them, even one already generated) and their
    last step counts as converted; unsubscribing or being blacklisted takes them out through the
    exclusions of the audience resolution."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product = cls.env["product.product"].create({"name": "Journey product"})

    def _at(self, delta):
        return freeze_time(T0 + delta)

    def _start(self, *names):
        with self._at(timedelta(0)):
            self._launch()
            for name in names:
                self._subscribe(name)
            self._process()
            self._touchpoints(self.step_1).mailing_trace_id.set_sent()

    def _order(self, partner):
        order = self.env["sale.order"].create(
            {"partner_id": partner.id, "order_line": [Command.create({"product_id": self.product.id})]}
        )
        order.action_confirm()
        return order

    def _states(self):
        return {e.partner_id.name: (e.state, e.exit_reason or None) for e in self._enrolments()}

    # ------------------------------------------------------------------
    def test_order_between_two_steps_stops_the_next_one(self):
        self.campaign.goal_type = "order"
        self._start("anna", "bob")
        anna, bob = self._partner("anna"), self._partner("bob")
        with self._at(timedelta(days=1)):
            self._order(anna)
        enrolment = self._enrolments().filtered(lambda e: e.partner_id == anna)
        self.assertEqual((enrolment.state, enrolment.date_converted), ("converted", T0 + timedelta(days=1)))
        first = self._touchpoints(self.step_1).filtered(lambda t: t.partner_id == anna)
        self.assertEqual((first.state, first.date_converted), ("converted", T0 + timedelta(days=1)))
        with self._at(timedelta(days=2, minutes=5)):
            self._process()
        self.assertEqual(self._touchpoints(self.step_2).partner_id, bob, "no further step reaches anna")
        self.assertEqual(self._states(), {"anna": ("converted", None), "bob": ("active", None)})
        self.assertEqual(self.campaign.touchpoint_ids.filtered(lambda t: t.state == "converted").partner_id, anna)

    def test_goal_met_after_the_step_was_generated(self):
        self.campaign.goal_type = "order"
        self._start("anna", "bob")
        anna = self._partner("anna")
        engine = self.env["campaign.engine"]
        with self._at(timedelta(days=2, minutes=5)):
            engine._start_due_runs()
            self.assertEqual(set(self._touchpoints(self.step_2).mapped("state")), {"planned"})
            self._order(anna)
            engine._dispatch_pending()
        second = {tp.partner_id.name: tp.state for tp in self._touchpoints(self.step_2)}
        self.assertEqual(second, {"anna": "cancelled", "bob": "queued"})
        mails = self.env["mail.mail"].search([("mailing_id", "in", self.step_2.run_ids.mailing_id.ids)])
        self.assertEqual(len(mails), 1, "the email to anna was never made")
        self.assertEqual(self.step_2.run_ids.state, "done")

    def test_goal_on_a_filter_of_the_contact(self):
        customer = self.env["res.partner.category"].create({"name": "Customer (journey)"})
        self.campaign.write({"goal_type": "domain", "goal_domain": str([("category_id", "in", [customer.id])])})
        self._start("anna", "bob")
        with self._at(timedelta(days=1)):
            self._partner("anna").category_id = [Command.link(customer.id)]
        with self._at(timedelta(days=2, minutes=5)):
            self._process()
        self.assertEqual(self._touchpoints(self.step_2).partner_id, self._partner("bob"))
        self.assertEqual(self._states()["anna"], ("converted", None))

    def test_unsubscribing_or_being_blacklisted_takes_them_out(self):
        self._start("anna", "bob", "carl")
        with self._at(timedelta(days=1)):
            subscription = self.env["mailing.subscription"].search(
                [("list_id", "=", self.newsletter.id), ("contact_id.email", "=", "anna@example.com")]
            )
            subscription.opt_out = True
            self.env["mail.blacklist"]._add("bob@example.com")
        with self._at(timedelta(days=2, minutes=5)):
            self._process()
        second = {tp.partner_id.name: (tp.state, tp.exclusion_reason or None) for tp in self._touchpoints(self.step_2)}
        self.assertEqual(
            second,
            {"anna": ("excluded", "opted_out"), "bob": ("excluded", "blacklisted"), "carl": ("queued", None)},
        )
        self.assertEqual(
            self._states(),
            {"anna": ("excluded", "opted_out"), "bob": ("excluded", "blacklisted"), "carl": ("active", None)},
        )

    def test_bad_goal_filter_refused(self):
        with self.assertRaisesRegex(ValidationError, "The goal filter of Welcome is not valid"):
            self.campaign.write({"goal_type": "domain", "goal_domain": "[('no_such_field', '=', 1)]"})

    def test_opportunity_won_and_reply_are_goals_too(self):
        self.campaign.goal_type = "won"
        self._start("anna", "bob")
        anna, bob = self._partner("anna"), self._partner("bob")
        won = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        with self._at(timedelta(days=1)):
            lead = self.env["crm.lead"].create({"name": "Deal", "partner_id": anna.id, "type": "opportunity"})
            lead.action_set_won()
        self.assertTrue(won)
        self.assertEqual(self._states(), {"anna": ("converted", None), "bob": ("active", None)})
        # a reply: seen by the job's pass (no hook), before the next step is due
        self.campaign.goal_type = "replied"
        with self._at(timedelta(days=1, hours=2)):
            self._touchpoints(self.step_1).filtered(lambda t: t.partner_id == bob).date_replied = T0 + timedelta(
                days=1, hours=1
            )
        with self._at(timedelta(days=2, minutes=5)):
            self._process()
        self.assertFalse(self._touchpoints(self.step_2), "neither gets the next step")
        self.assertEqual(self._states(), {"anna": ("converted", None), "bob": ("converted", None)})

    def test_contact_gone_is_dropped_before_the_local_time_holds_the_others(self):
        """The steps admitting a claimed batch run in a fixed order, whatever the modules' import
        order: a contact who reached the goal since the step was generated is cancelled at once,
        not held for a local slot like the contacts who stay."""
        self.campaign.goal_type = "order"
        self._start("anna", "bob")
        anna = self._partner("anna")
        (anna | self._partner("bob")).tz = "Europe/Paris"
        engine = self.env["campaign.engine"]
        with self._at(timedelta(days=2, minutes=5)):
            engine._start_due_runs()
            self.assertEqual(set(self._touchpoints(self.step_2).mapped("state")), {"planned"})
            # 10:05 in Paris: after the step's allowed hours (08:00-09:00), the claim holds them
            self.step_2.write({"local_time": True, "local_hour_from": 8.0, "local_hour_to": 9.0})
            self._order(anna)
            touchpoints = self._touchpoints(self.step_2)
            run = touchpoints.run_id
            admitted = engine._claim_admit(run, touchpoints.ids, fields.Datetime.now())
        self.assertEqual(admitted, [], "anna gone, bob held for his slot")
        touchpoints.invalidate_recordset()
        second = {tp.partner_id.name: (tp.state, bool(tp.date_not_before)) for tp in self._touchpoints(self.step_2)}
        self.assertEqual(second, {"anna": ("cancelled", False), "bob": ("planned", True)})
        steps = [step.__name__ for _sequence, step in sorted(engine._claim_steps(run))]
        self.assertEqual(steps, ["_journey_drop_gone", "_claim_local_time", "_claim_pressure"])
