from datetime import datetime

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.addons.campaign_manager.models.channels.ab_test import CampaignActionRun
from odoo.addons.campaign_manager.models.mailing_mailing import MailingMailing
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import CampaignCase, deliver_campaign_mails
from .smtp_server import LocalSMTPServer


@tagged("post_install", "-at_install")
class TestAbTesting(CampaignCase):
    """A/B tests of email actions (seed 004): the test share split evenly between the combinations,
    each sent through a mailing of its own at its send time, the winner chosen after the delay by
    Email Marketing's statistics and sent to the rest, once per contact."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(10, prefix="abtest")
        cls.campaign = cls._campaign("Spring", date_start=datetime(2026, 3, 1).date())
        cls._manual_target(cls.campaign, cls.partners)
        cls.gift_template = cls.env["mail.template"].create(
            {
                "name": "Gift email",
                "model_id": cls.env["ir.model"]._get_id("res.partner"),
                "subject": "A gift for {{ object.name }}",
                "body_html": "<p>Your gift is waiting.</p>",
            }
        )

    def _process(self, **kwargs):
        self.env["campaign.engine"]._cron_process(**kwargs)

    def _launch(self, campaign=None):
        campaign = campaign or self.campaign
        Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id)).save().action_launch()

    def _ab_action(self, variants=None, **values):
        variants = variants or [
            {"subject": "Spring offer"},
            {"subject": "Your spring gift", "email_from": "Spring Team <spring@example.com>"},
        ]
        defaults = {
            "ab_testing": True,
            "ab_test_pc": 40,
            "ab_winner_metric": "opened",
            "ab_delay": 2,
            "ab_delay_unit": "hours",
            "ab_variant_ids": [(0, 0, vals) for vals in variants],
        }
        return self._email_action(self.campaign, name="Offer", **(defaults | values))

    def _traces(self, mailing):
        return self.env["mailing.trace"].search([("mass_mailing_id", "in", mailing.ids)])

    def _run_traces(self, run):
        return self.env["mailing.trace"].search([("mass_mailing_id.campaign_run_id", "=", run.id)])

    def _deliver_tests(self, run, at):
        """The mail queue delivers the test emails of ``run`` at ``at``: the winner's delay runs
        from there (queued emails have not reached anyone yet)."""
        with freeze_time(at):
            self._traces(run.ab_mailing_ids).filtered(lambda t: t.trace_status == "outgoing").set_sent()

    # ------------------------------------------------------------------
    def test_split_sizes_are_exact(self):
        action = self._ab_action()
        self.assertEqual(action.ab_variant_ids.mapped("name"), ["A", "B"])
        self._launch()
        self.env["campaign.engine"]._start_due_runs()
        run = action.run_ids
        touchpoints = run.touchpoint_ids
        self.assertEqual(len(touchpoints), 10, "one touchpoint per contact")
        test = touchpoints.filtered(lambda t: t.ab_group == "test")
        rest = touchpoints.filtered(lambda t: t.ab_group == "rest")
        self.assertEqual((len(test), len(rest)), (4, 6), "40% of 10 contacts")
        variant_a, variant_b = action.ab_variant_ids
        self.assertEqual(len(test.filtered(lambda t: t.variant_id == variant_a)), 2)
        self.assertEqual(len(test.filtered(lambda t: t.variant_id == variant_b)), 2)
        self.assertFalse(any(test.mapped("ab_hold")))
        self.assertTrue(all(rest.mapped("ab_hold")))
        self.assertFalse(rest.variant_id)
        self.assertEqual(run.ab_test_count, 4)
        # three combinations, half of the contacts: 5 = 2 + 2 + 1
        action_3 = self._ab_action(
            variants=[{"subject": "One"}, {"subject": "Two"}, {"subject": "Three"}], ab_test_pc=50
        )
        run_3 = self.env["campaign.engine"]._create_run(action_3, datetime(2026, 3, 2, 9, 0))
        groups = self.env["campaign.touchpoint"]._read_group(
            [("run_id", "=", run_3.id), ("ab_group", "=", "test")], ["variant_id"], ["__count"]
        )
        self.assertEqual([count for _variant, count in groups], [2, 2, 1])
        self.assertEqual(len(run_3.touchpoint_ids.filtered(lambda t: t.ab_group == "rest")), 5)
        # a tiny share still gives every combination a contact
        action_4 = self._ab_action(ab_test_pc=1)
        run_4 = self.env["campaign.engine"]._create_run(action_4, datetime(2026, 3, 2, 9, 0))
        self.assertEqual(run_4.ab_test_count, 2)

    def test_winner_by_open_rate_sent_to_the_rest_once(self):
        action = self._ab_action(unit_cost=0.5)
        variant_a, variant_b = action.ab_variant_ids
        variant_b.mail_template_id = self.gift_template
        with freeze_time("2026-03-02 09:00:00"):
            self._launch()
            self._process()
        run = action.run_ids
        self.assertEqual(run.state, "sending", "the rest waits for the winner")
        self.assertEqual(run.ab_date_decision, datetime(2026, 3, 2, 11, 0))
        mailings = run.ab_mailing_ids
        self.assertEqual(len(mailings), 2)
        mailing_a = mailings.filtered(lambda m: m.campaign_variant_id == variant_a)
        mailing_b = mailings.filtered(lambda m: m.campaign_variant_id == variant_b)
        self.assertEqual((mailing_a.subject, mailing_b.subject), ("Spring offer", "Your spring gift"))
        self.assertEqual(mailing_b.email_from, "Spring Team <spring@example.com>")
        self.assertIn("Your gift is waiting", str(mailing_b.body_html), "B's own content")
        self.assertIn("see our offer", str(mailing_a.body_html), "A keeps the action's content")
        self.assertNotEqual(mailing_a.source_id, mailing_b.source_id, "each combination's revenue is told apart")
        self.assertEqual(mailings.campaign_id, self.campaign.utm_campaign_id)
        self.assertFalse(any(mailings.mapped("ab_testing_enabled")), "mass mailing's own A/B test is not involved")
        touchpoints = run.touchpoint_ids
        test = touchpoints.filtered(lambda t: t.ab_group == "test")
        self.assertEqual(set(test.mapped("state")), {"queued"})
        self.assertEqual(set(touchpoints.filtered(lambda t: t.ab_group == "rest").mapped("state")), {"planned"})
        self.assertEqual(len(self._run_traces(run)), 4)
        # results: B's two contacts open, none of A's
        self._deliver_tests(run, "2026-03-02 09:00:00")
        with freeze_time("2026-03-02 09:30:00"):
            self._traces(mailing_b).set_opened()
        self.assertEqual((mailing_a.opened_ratio, mailing_b.opened_ratio), (0.0, 100.0))
        with freeze_time("2026-03-02 10:00:00"):
            self._process()
            self.assertFalse(run.ab_winner_variant_id, "the delay is not over")
            self.assertEqual(len(self._run_traces(run)), 4)
        with freeze_time("2026-03-02 11:00:01"):
            self._process()
        self.assertEqual(run.ab_winner_variant_id, variant_b)
        self.assertEqual(run.ab_date_winner, datetime(2026, 3, 2, 11, 0, 1))
        self.assertIn("“B” wins", run.log)
        final = run.mailing_id
        self.assertNotIn(final, mailings)
        self.assertEqual(final.subject, "Your spring gift", "the rest receives the winner's subject")
        self.assertEqual(final.email_from, "Spring Team <spring@example.com>")
        self.assertIn("Your gift is waiting", str(final.body_html))
        self.assertEqual(final.source_id, action.source_id, "the rest is attributed to the action")
        rest = touchpoints.filtered(lambda t: t.ab_group == "rest")
        self.assertEqual(set(rest.mapped("state")), {"queued"})
        self.assertEqual(rest.variant_id, variant_b, "the rest records the content it received")
        self.assertEqual(rest.mailing_id, final)
        traces = self._run_traces(run)
        self.assertEqual(len(traces), 10)
        self.assertEqual(sorted(traces.mapped("res_id")), sorted(self.partners.ids), "exactly once per contact")
        self.assertEqual(len(self._traces(final)), 6)
        mails = self.env["mail.mail"].search([("mailing_id", "=", final.id)])
        self.assertEqual(set(mails.mapped("subject")), {"Your spring gift"})
        self.assertEqual(run.state, "done")
        self.assertEqual(action.state, "done")
        self.assertEqual((variant_b.test_count, variant_b.opened_ratio, variant_b.win_count), (2, 100.0, 1))
        self.assertEqual((variant_a.test_count, variant_a.opened_ratio, variant_a.win_count), (2, 0.0, 0))
        self.assertEqual(sum(touchpoints.mapped("unit_cost")), 5.0)
        with freeze_time("2026-03-02 12:00:00"):
            self._process()
        self.assertEqual(len(self._run_traces(run)), 10, "nothing more")

    def test_send_time_combination(self):
        action = self._ab_action(
            variants=[{"subject": "Morning"}, {"subject": "Afternoon", "send_delay": 5}], ab_test_pc=40
        )
        variant_a, variant_b = action.ab_variant_ids
        with freeze_time("2026-03-02 09:00:00"):
            self._launch()
            self._process()
        run = action.run_ids
        self.assertEqual(run.ab_date_decision, datetime(2026, 3, 2, 16, 0), "last send at 14:00, then 2 hours")
        test_b = run.touchpoint_ids.filtered(lambda t: t.variant_id == variant_b)
        self.assertEqual(set(test_b.mapped("state")), {"planned"})
        self.assertEqual(set(test_b.mapped("date_not_before")), {datetime(2026, 3, 2, 14, 0)})
        self.assertEqual(run.ab_mailing_ids.campaign_variant_id, variant_a)
        with freeze_time("2026-03-02 13:59:00"):
            self._process()
            self.assertEqual(set(test_b.mapped("state")), {"planned"})
        with freeze_time("2026-03-02 14:00:00"):
            self._process()
        self.assertEqual(set(test_b.mapped("state")), {"queued"})
        self.assertEqual(set(test_b.mapped("date_dispatched")), {datetime(2026, 3, 2, 14, 0)})
        self.assertFalse(run.ab_winner_variant_id)
        cron = self.env.ref("campaign_manager.ir_cron_campaign_process")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).mapped("call_at")
        self.assertIn(datetime(2026, 3, 2, 14, 0), triggers, "the job wakes up at the send time")
        self.assertIn(datetime(2026, 3, 2, 16, 0), triggers, "and when the winner is due")
        self._deliver_tests(run, "2026-03-02 14:00:00")
        with freeze_time("2026-03-02 16:00:00"):
            self._process()
        self.assertEqual(run.ab_winner_variant_id, variant_a, "no opens anywhere: the first combination")
        self.assertEqual(run.mailing_id.subject, "Morning")
        self.assertEqual(run.state, "done")

    def test_winner_waits_for_every_test_email(self):
        self.campaign.send_limit_hour = 3
        action = self._ab_action()
        with freeze_time("2026-03-02 09:00:00"):
            self._launch()
            self._process()
        run = action.run_ids
        test = run.touchpoint_ids.filtered(lambda t: t.ab_group == "test")
        self.assertEqual(sorted(test.mapped("state")), ["planned", "queued", "queued", "queued"])
        with freeze_time("2026-03-02 11:00:01"):
            self._process()
            self.assertFalse(run.ab_winner_variant_id, "a test email was still waiting")
            self.assertIn("the winner waits", run.log)
            self.assertEqual(set(test.mapped("state")), {"queued"}, "sent in the same pass")
        with freeze_time("2026-03-02 11:05:00"):
            self._process()
            self.assertFalse(run.ab_winner_variant_id, "queued is not delivered: nobody could open them yet")
        self._deliver_tests(run, "2026-03-02 11:10:00")
        with freeze_time("2026-03-02 13:09:00"):
            self._process()
            self.assertFalse(run.ab_winner_variant_id, "the delay runs from the last delivery")
            self.assertEqual(run.ab_date_decision, datetime(2026, 3, 2, 13, 10))
        with freeze_time("2026-03-02 13:10:00"):
            self._process()
        self.assertTrue(run.ab_winner_variant_id)
        rest = run.touchpoint_ids.filtered(lambda t: t.ab_group == "rest")
        self.assertEqual(rest.mapped("state").count("queued"), 3, "the rest goes within the sending limit (3 an hour)")

    def _deliver_through_smtp(self, at):
        """A delivery worker, at ``at``, against a real SMTP server on loopback: what it received."""
        with LocalSMTPServer() as server, freeze_time(at):
            self.env["ir.mail_server"].search([]).write({"active": False})
            self.env["ir.mail_server"].create(
                {"name": "Loopback", "smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_encryption": "none"}
            )
            deliver_campaign_mails(self.env)
            return list(server.messages)

    def test_winner_chosen_after_the_test_emails_are_delivered(self):
        action = self._ab_action(ab_delay=1)
        with freeze_time("2026-03-02 09:00:00"):
            self._launch()
            self._process()
        run = action.run_ids
        test = run.touchpoint_ids.filtered(lambda t: t.ab_group == "test")
        self.assertEqual(set(test.mapped("state")), {"queued"}, "in Odoo's mail queue, not delivered yet")
        self.assertEqual(run.ab_date_decision, datetime(2026, 3, 2, 10, 0))
        with freeze_time("2026-03-02 10:00:01"):
            self._process()
        self.assertFalse(run.ab_winner_variant_id, "queued emails reached nobody: no winner on scores of 0")
        self.assertIn("the winner waits until every test email has been delivered", run.log)
        delivered = self._deliver_through_smtp("2026-03-02 10:30:00")
        self.assertEqual(len(delivered), 4)
        self.assertEqual(set(test.mapped("state")), {"sent"})
        self.assertEqual(set(test.mapped("date_done")), {datetime(2026, 3, 2, 10, 30)})
        with freeze_time("2026-03-02 10:40:00"):
            self._traces(run.ab_mailing_ids.filtered(lambda m: m.campaign_variant_id.name == "B"))[:1].set_opened()
        with freeze_time("2026-03-02 11:29:00"):
            self._process()
        self.assertFalse(run.ab_winner_variant_id, "an hour after the last delivery, not after the planned send")
        self.assertEqual(run.ab_date_decision, datetime(2026, 3, 2, 11, 30))
        with freeze_time("2026-03-02 11:30:00"):
            self._process()
        self.assertEqual(run.ab_winner_variant_id.name, "B")
        rest = self._deliver_through_smtp("2026-03-02 11:35:00")
        recipients = sorted(address for message in delivered + rest for address in message["rcpt_tos"])
        self.assertEqual(recipients, sorted(self.partners.mapped("email")), "one email per contact")
        self.assertEqual({message["message"]["Subject"] for message in rest}, {"Your spring gift"})

    def test_winner_delay_too_short_is_refused(self):
        with self.assertRaises(ValidationError) as ctx:
            self._ab_action(ab_delay=0)
        self.assertIn("at least 1 hour after the test emails were delivered", str(ctx.exception))
        action = self._ab_action()
        with self.assertRaises(ValidationError):
            action.write({"ab_delay": 0, "ab_delay_unit": "days"})
        action.write({"ab_testing": False, "ab_delay": 0})  # no A/B test: the delay means nothing

    def test_kill_while_choosing_then_while_sending_the_rest(self):
        action = self._ab_action()
        with freeze_time("2026-03-02 09:00:00"):
            self._launch()
            self._process()
        run = action.run_ids
        self._deliver_tests(run, "2026-03-02 09:00:00")
        with freeze_time("2026-03-02 11:00:01"):
            self.assertWorkerKilled(CampaignActionRun, "_ab_set_winner", self._process, at=1)
        run.invalidate_recordset()
        self.assertFalse(run.ab_winner_variant_id, "the choice is undone with the worker")
        self.assertTrue(all(run.touchpoint_ids.filtered(lambda t: t.ab_group == "rest").mapped("ab_hold")))
        with freeze_time("2026-03-02 11:05:00"):
            self.assertWorkerKilled(MailingMailing, "_campaign_send", lambda: self._process(batch_size=2))
        self.assertTrue(run.ab_winner_variant_id, "chosen once, in a committed transaction of its own")
        self.assertEqual(len(self._traces(run.mailing_id)), 2, "the second batch of the rest is undone")
        with freeze_time("2026-03-02 11:10:00"):
            self._process(batch_size=2)
        traces = self._run_traces(run)
        self.assertEqual(sorted(traces.mapped("res_id")), sorted(self.partners.ids), "exactly once per contact")
        self.assertEqual(run.state, "done")

    def test_winner_by_revenue(self):
        action = self._ab_action(ab_winner_metric="revenue")
        variant_a, variant_b = action.ab_variant_ids
        with freeze_time("2026-03-02 09:00:00"):
            self._launch()
            self._process()
        run = action.run_ids
        mailing_a = run.ab_mailing_ids.filtered(lambda m: m.campaign_variant_id == variant_a)
        mailing_b = run.ab_mailing_ids.filtered(lambda m: m.campaign_variant_id == variant_b)
        self._deliver_tests(run, "2026-03-02 09:00:00")
        with freeze_time("2026-03-02 09:30:00"):
            self._traces(mailing_a | mailing_b).set_opened()
        invoices = self.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": self.partners[0].id,
                    "source_id": mailing.source_id.id,
                    "campaign_id": self.campaign.utm_campaign_id.id,
                    "invoice_line_ids": [(0, 0, {"name": "Spring pack", "quantity": 1, "price_unit": amount})],
                }
                for mailing, amount in ((mailing_a, 120.0), (mailing_b, 300.0))
            ]
        )
        invoices.action_post()
        with freeze_time("2026-03-02 11:00:01"):
            self._process()
        self.assertEqual((mailing_a.sale_invoiced_amount, mailing_b.sale_invoiced_amount), (120, 300))
        self.assertEqual(run.ab_winner_variant_id, variant_b, "B brought more revenue (both were opened: a tie)")
        self.assertEqual(run.mailing_id.subject, "Your spring gift")
        # the revenue of the combinations' mailings counts for the action (ROI per action)
        action.invalidate_recordset()
        self.assertEqual(action.revenue_invoiced, 420.0)

    def test_duplicated_action_keeps_its_combinations(self):
        action = self._ab_action()
        copy = action.copy({"name": "Offer again"})
        self.assertEqual(copy.ab_variant_ids.mapped("subject"), ["Spring offer", "Your spring gift"])
        self.assertNotEqual(copy.ab_variant_ids, action.ab_variant_ids)

    def test_bad_input(self):
        with self.assertRaises(ValidationError) as ctx:
            self._ab_action(variants=[{"subject": f"Subject {index}"} for index in range(9)])
        self.assertIn("it can compare at most 8", str(ctx.exception))
        action = self._ab_action(variants=[{"subject": "Alone"}])
        with self.assertRaises(UserError) as ctx:
            action.action_schedule()
        self.assertIn("at least two combinations for the A/B test", str(ctx.exception))
        no_subject = self.gift_template.copy({"subject": False})
        action.write({"ab_variant_ids": [(0, 0, {"name": "B", "mail_template_id": no_subject.id})]})
        self.assertIn("a subject for combination B", action._missing_for_run())
        action.write({"mail_template_id": False})
        self.assertIn(
            "an email: write it with “Edit Email” or choose a template",
            action._missing_for_run(),
            "combination A has no content of its own: the action's email is needed",
        )
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            action.write({"ab_test_pc": 0})
            self.env.flush_all()
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            action.ab_variant_ids[0].write({"send_delay": -1})
            self.env.flush_all()
        self.assertEqual(action.state, "draft")

    def test_bad_input_in_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        action = self._ab_action(variants=[{"subject": f"Objet {index}"} for index in range(8)])
        with self.assertRaises(ValidationError) as ctx:
            action.with_context(lang="fr_FR").write({"ab_variant_ids": [(0, 0, {"subject": "Objet 9"})]})
        self.assertIn("au plus 8", str(ctx.exception))
        with self.assertRaises(ValidationError) as ctx:
            action.with_context(lang="fr_FR").write({"ab_delay": 0})
        self.assertIn("au moins 1 heure après la remise des e-mails de test", str(ctx.exception))

    def test_variant_edit_email_and_deletion_rule(self):
        action = self._ab_action()
        variant_a = action.ab_variant_ids[0]
        result = variant_a.action_edit_email()
        content = variant_a.mailing_id
        self.assertEqual(result["res_id"], content.id)
        self.assertEqual(content.subject, "Spring offer")
        self.assertEqual(content.campaign_action_id, action, "it cannot be sent by hand")
        self.assertNotEqual(content.source_id, action.source_id)
        with self.assertRaises(UserError):
            content.action_launch()
        self._launch()
        self.env["campaign.engine"]._start_due_runs()
        with self.assertRaises(UserError):
            variant_a.unlink()
