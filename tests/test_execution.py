from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.addons.campaign_manager.models.mailing_mailing import MailingMailing
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestExecution(CampaignCase):
    """The engine: runs due by schedule, touchpoints generated in one statement, batches that can
    be killed and resumed, follow-ups, throttling, stop and resume."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(6, prefix="exec")
        cls.campaign = cls._campaign("Execution", date_start=datetime(2026, 3, 1).date())
        cls.target_a = cls._manual_target(cls.campaign, cls.partners[:4], name="A")
        cls.target_b = cls._manual_target(cls.campaign, cls.partners[2:], name="B")
        cls.env["mail.blacklist"]._add(cls.partners[5].email)

    def _process(self, **kwargs):
        self.env["campaign.engine"]._cron_process(**kwargs)

    def _launch(self, campaign=None, **values):
        campaign = campaign or self.campaign
        form = Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id))
        for key, value in values.items():
            setattr(form, key, value)
        form.save().action_launch()

    # ------------------------------------------------------------------
    def test_launch_now_runs_once_with_exclusions(self):
        action = self._email_action(self.campaign)
        wizard = Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=self.campaign.id)).save()
        self.assertEqual(wizard.line_ids.action_id, action)
        self.assertEqual(
            (wizard.line_ids.total, wizard.line_ids.duplicates, wizard.line_ids.excluded, wizard.line_ids.final),
            (8, 2, 1, 5),
            "the Calculate figures are shown before confirming",
        )
        wizard.action_launch()
        self.assertEqual(self.campaign.state, "active")
        self.assertEqual(action.state, "scheduled")
        self._process()
        run = action.run_ids
        self.assertEqual(len(run), 1)
        self.assertEqual((run.state, run.run_number), ("done", 1))
        self.assertEqual((run.total_count, run.duplicate_count, run.excluded_count, run.planned_count), (8, 2, 1, 5))
        touchpoints = run.touchpoint_ids
        self.assertEqual(len(touchpoints), 6)
        excluded = touchpoints.filtered(lambda t: t.state == "excluded")
        self.assertEqual(excluded.partner_id, self.partners[5])
        self.assertEqual(excluded.exclusion_reason, "blacklisted")
        queued = touchpoints - excluded
        self.assertEqual(set(queued.mapped("state")), {"queued"})
        self.assertTrue(all(queued.mapped("date_dispatched")))
        self.assertEqual(action.state, "done", "an immediate action is done after its run")
        # one mailing for the run, carrying the campaign's UTM, with exactly the run's recipients
        mailing = run.mailing_id
        self.assertEqual(queued.mailing_id, mailing)
        self.assertEqual(mailing.campaign_id, self.campaign.utm_campaign_id)
        self.assertEqual(mailing.source_id, action.source_id)
        self.assertEqual(mailing.medium_id, self.env.ref("utm.utm_medium_email"))
        self.assertEqual(mailing.mailing_model_real, "res.partner")
        recipients = self.env["res.partner"].search(mailing._get_recipients_domain())
        self.assertEqual(recipients, self.partners)
        traces = mailing.mailing_trace_ids
        self.assertEqual(sorted(traces.mapped("res_id")), sorted(queued.partner_id.ids))
        self.assertEqual(queued.mailing_trace_id, traces)
        mails = self.env["mail.mail"].search([("mailing_id", "=", mailing.id)])
        self.assertEqual(len(mails), 5, "one email per contact reached")
        self.assertIn("Hello exec 0", mails.mapped("subject"))
        # nothing more at the next pass
        self._process()
        self.assertEqual(len(action.run_ids), 1)
        self.assertEqual(self.env["mail.mail"].search_count([("mailing_id", "=", mailing.id)]), 5)

    def test_launch_lists_what_is_missing(self):
        campaign = self._campaign("Incomplete")
        self.env["campaign.action"].create({"campaign_id": campaign.id, "name": "Empty mail", "channel": "email"})
        wizard = Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id)).save()
        self.assertIn("at least one target", wizard.missing)
        with self.assertRaises(UserError) as ctx:
            wizard.action_launch()
        message = str(ctx.exception)
        self.assertIn("at least one target", message)
        self.assertIn("Empty mail: an email: write it with", message)
        self.assertEqual(campaign.state, "draft", "nothing changed")

    def test_scheduled_at_a_date(self):
        action = self._email_action(self.campaign)
        with freeze_time("2026-03-02 08:00:00"):
            self._launch(mode="at", date_start=datetime(2026, 3, 2, 9, 0))
            self._process()
            self.assertFalse(action.run_ids, "not due yet")
            self.assertEqual(action.date_next_run, datetime(2026, 3, 2, 9, 0))
        with freeze_time("2026-03-02 09:00:01"):
            self._process()
        self.assertEqual(action.run_ids.date_planned, datetime(2026, 3, 2, 9, 0))
        self.assertEqual(action.state, "done")

    def test_recurring_dynamic_target_once_per_contact(self):
        campaign = self._campaign("Weekly", date_start=datetime(2026, 3, 1).date())
        tag = self.env["res.partner.category"].create({"name": "Weekly tag"})
        first = self._partners(2, prefix="weekly", category_id=[(4, tag.id)])
        self._filter_target(campaign, [("category_id", "in", tag.ids)], name="Tagged")
        action = self._email_action(campaign)
        with freeze_time("2026-03-02 09:00:00"):
            self._launch(
                campaign,
                mode="recurring",
                date_start=datetime(2026, 3, 2, 9, 0),
                interval_number=1,
                interval_unit="weeks",
                recurring_until=datetime(2026, 3, 20, 0, 0),
                once_per_contact=True,
            )
            self._process()
        self.assertEqual(action.run_ids.touchpoint_ids.partner_id, first)
        newcomer = self._partners(1, prefix="newcomer", category_id=[(4, tag.id)])
        with freeze_time("2026-03-05 09:00:00"):
            self._process()
            self.assertEqual(len(action.run_ids), 1, "the next run is a week later")
            self.assertEqual(action.date_next_run, datetime(2026, 3, 9, 9, 0))
        with freeze_time("2026-03-09 09:00:30"):
            self._process()
        second = action.run_ids.filtered(lambda r: r.run_number == 2)
        self.assertEqual(second.touchpoint_ids.filtered(lambda t: t.state == "queued").partner_id, newcomer)
        self.assertEqual(
            set(second.touchpoint_ids.filtered(lambda t: t.state == "excluded").mapped("exclusion_reason")),
            {"already_reached"},
            "the dynamic target is read again; those already reached are not reached twice",
        )
        traces = self.env["mailing.trace"].search([("mass_mailing_id.campaign_action_id", "=", action.id)])
        self.assertEqual(sorted(traces.mapped("res_id")), sorted((first | newcomer).ids), "each contact mailed once")
        with freeze_time("2026-03-16 09:00:30"):
            self._process()
        self.assertEqual(len(action.run_ids), 3)
        with freeze_time("2026-03-23 09:00:30"):
            self._process()
        self.assertEqual(len(action.run_ids), 3, "the recurrence ended on the 20th")
        self.assertEqual(action.state, "done")

    def test_recurring_missed_occurrences_collapse(self):
        action = self._email_action(self.campaign)
        with freeze_time("2026-03-02 09:00:00"):
            self._launch(mode="recurring", date_start=datetime(2026, 3, 2, 9, 0), interval_unit="days")
            self._process()
        with freeze_time("2026-03-06 12:00:00"):
            self._process()
        self.assertEqual(len(action.run_ids), 2, "four missed days make one run, not four")
        self.assertEqual(max(action.run_ids.mapped("date_planned")), datetime(2026, 3, 6, 9, 0))
        self.assertEqual(action.state, "running")

    def test_followup_opened_and_not_opened(self):
        mail = self._email_action(self.campaign, name="First")
        openers = self._email_action(
            self.campaign,
            name="Thanks",
            schedule_type="after",
            parent_id=mail.id,
            delay=2,
            delay_unit="hours",
            followup_filter="opened",
        )
        others = self._email_action(
            self.campaign,
            name="Reminder",
            schedule_type="after",
            parent_id=mail.id,
            delay=3,
            delay_unit="days",
            followup_filter="not_opened",
        )
        with freeze_time("2026-03-02 09:00:00"):
            self._launch()
            self._process()
        run = mail.run_ids
        traces = run.touchpoint_ids.mailing_trace_id
        traces.set_sent()
        opened = traces.filtered(lambda t: t.res_id in self.partners[:2].ids)
        opened.set_opened()
        self.assertEqual(set(run.touchpoint_ids.filtered("mailing_trace_id").mapped("state")), {"sent", "opened"})
        with freeze_time("2026-03-02 10:00:00"):
            self._process()
            self.assertFalse(openers.run_ids, "two hours are not over")
        with freeze_time("2026-03-02 11:30:00"):
            self._process()
        self.assertEqual(openers.run_ids.parent_run_id, run)
        self.assertEqual(openers.run_ids.touchpoint_ids.partner_id, self.partners[:2])
        self.assertFalse(others.run_ids)
        with freeze_time("2026-03-05 12:00:00"):
            self._process()
        self.assertEqual(others.run_ids.touchpoint_ids.partner_id, self.partners[2:5])
        self.assertEqual((openers.state, others.state), ("done", "done"))

    def test_throttle_per_campaign_nothing_dropped(self):
        self.campaign.send_limit_hour = 3
        action = self._email_action(self.campaign)
        with freeze_time("2026-03-02 09:00:00"):
            self._launch()
            self._process()
            run = action.run_ids
            self.assertEqual(run.touchpoint_ids.mapped("state").count("queued"), 3)
            self.assertEqual(run.touchpoint_ids.mapped("state").count("planned"), 2)
            self.assertEqual(run.state, "sending")
            self.assertIn("Sending limit reached", run.log)
        with freeze_time("2026-03-02 09:30:00"):
            self._process()
            self.assertEqual(run.touchpoint_ids.mapped("state").count("planned"), 2, "same hour: still waiting")
        with freeze_time("2026-03-02 10:00:01"):
            self._process()
        self.assertEqual(run.touchpoint_ids.mapped("state").count("queued"), 5)
        self.assertEqual(run.state, "done")

    def test_throttle_per_mail_server(self):
        server = self.env["ir.mail_server"].create(
            {"name": "Provider", "smtp_host": "localhost", "campaign_limit_day": 2, "sequence": 1}
        )
        action = self._email_action(self.campaign)
        with freeze_time("2026-03-02 09:00:00"):
            self._launch()
            self._process()
        run = action.run_ids
        queued = run.touchpoint_ids.filtered(lambda t: t.state == "queued")
        self.assertEqual(len(queued), 2)
        self.assertEqual(queued.mail_server_id, server)
        with freeze_time("2026-03-03 09:00:01"):
            self._process()
        self.assertEqual(len(run.touchpoint_ids.filtered(lambda t: t.state == "queued")), 4)

    def test_kill_in_the_middle_of_a_batch_then_rerun(self):
        action = self._email_action(self.campaign)
        self._launch()
        self.assertWorkerKilled(MailingMailing, "_campaign_send", lambda: self._process(batch_size=2))
        run = action.run_ids
        states = run.touchpoint_ids.filtered(lambda t: t.state != "excluded").mapped("state")
        self.assertEqual(sorted(states), ["planned", "planned", "planned", "queued", "queued"], "batch 2 undone")
        self.assertEqual(self.env["mail.mail"].search_count([("mailing_id", "=", run.mailing_id.id)]), 2)
        self._process(batch_size=2)
        traces = run.mailing_id.mailing_trace_ids
        self.assertEqual(len(traces), 5)
        self.assertEqual(sorted(traces.mapped("res_id")), sorted(self.partners[:5].ids), "exactly once each")
        self.assertEqual(self.env["mail.mail"].search_count([("mailing_id", "=", run.mailing_id.id)]), 5)
        self.assertEqual(run.state, "done")

    def test_interrupted_after_emails_were_committed(self):
        """Mass mailing commits its emails before the touchpoints are updated: if the worker dies
        in between, the next pass links the existing traces instead of mailing again."""
        action = self._email_action(self.campaign)
        self._launch()
        self.env["campaign.engine"]._start_due_runs()
        run = action.run_ids
        mailing = self.env["mailing.mailing"]._campaign_run_mailing(run)
        mailing._action_send_mail(res_ids=self.partners[:3].ids)  # committed, then the worker died
        self.assertEqual(len(mailing.mailing_trace_ids), 3)
        self._process()
        self.assertEqual(len(mailing.mailing_trace_ids), 5)
        self.assertEqual(self.env["mail.mail"].search_count([("mailing_id", "=", mailing.id)]), 5)
        self.assertEqual(set(run.touchpoint_ids.filtered("mailing_trace_id").mapped("state")), {"queued"})

    def test_bad_contact_fails_alone(self):
        template = self.mail_template.copy(
            {"body_html": '<p>Initial: <t t-out="object.name[3]"/></p>'}  # IndexError for short names
        )
        self.partners[1].name = "Bo"
        action = self._email_action(self.campaign, mail_template_id=template.id)
        self._launch()
        self._process()
        touchpoints = action.run_ids.touchpoint_ids
        failed = touchpoints.filtered(lambda t: t.state == "failed")
        self.assertEqual(failed.partner_id, self.partners[1])
        self.assertIn("IndexError", failed.failure_reason)
        self.assertEqual(len(touchpoints.filtered(lambda t: t.state == "queued")), 4, "the rest of the batch went")
        self.assertEqual(action.run_ids.state, "done")

    def test_stop_holds_queued_emails_and_resume_sends_them_once(self):
        action = self._email_action(self.campaign)
        self._launch()
        self._process()
        run = action.run_ids
        mails = self.env["mail.mail"].search([("mailing_id", "=", run.mailing_id.id)])
        self.assertEqual(len(mails), 5)
        self.campaign.action_stop()
        self.assertFalse(mails.exists(), "queued emails are withdrawn from the mail queue")
        self.assertEqual(
            sorted(run.touchpoint_ids.mapped("state")), ["excluded"] + ["planned"] * 5, "they wait for the resume"
        )
        self.assertEqual(run.state, "sending")
        self._process()
        self.assertEqual(self.env["mail.mail"].search_count([("mailing_id", "=", run.mailing_id.id)]), 0)
        self.campaign.action_resume()
        self._process()
        traces = run.mailing_id.mailing_trace_ids
        self.assertEqual(sorted(traces.mapped("res_id")), sorted(self.partners[:5].ids))
        self.assertEqual(run.state, "done")

    def test_cancel_action_cancels_what_is_left(self):
        self.campaign.send_limit_hour = 2
        action = self._email_action(self.campaign)
        self._launch()
        self._process()
        action.action_cancel()
        states = action.run_ids.touchpoint_ids.mapped("state")
        self.assertEqual((states.count("queued"), states.count("cancelled")), (2, 3))
        self.assertEqual(action.run_ids.state, "cancelled")

    def test_attempts_exhausted_mark_failed(self):
        action = self._email_action(self.campaign)
        self._launch()

        def leave_planned(mailing_model, run, touchpoints):
            return None

        with patch.object(MailingMailing, "_campaign_send", leave_planned):
            for _attempt in range(3):
                self._process()
        touchpoints = action.run_ids.touchpoint_ids.filtered(lambda t: t.state != "excluded")
        self.assertEqual(set(touchpoints.mapped("state")), {"failed"})
        self.assertIn("3 attempts", touchpoints[0].failure_reason)
        self.assertEqual(action.run_ids.state, "done")

    def test_inactive_campaign_runs_nothing(self):
        action = self._email_action(self.campaign)
        action.action_schedule()
        self._process()
        self.assertFalse(action.run_ids, "a draft campaign does not run")
        self.campaign.write({"state": "ready"})
        self._process()
        self.assertFalse(action.run_ids)

    def test_run_created_once_per_due_date(self):
        action = self._email_action(self.campaign)
        self._launch()
        runs = self.env["campaign.engine"]._start_due_runs()
        again = self.env["campaign.engine"]._start_due_runs()
        self.assertEqual(len(runs), 1)
        self.assertFalse(again)
        self.assertEqual(action.run_ids, runs)

    def test_now_run_date(self):
        action = self._email_action(self.campaign)
        with freeze_time("2026-03-02 09:00:00"):
            self._launch()
            self._process()
        self.assertEqual(action.run_ids.date_planned, datetime(2026, 3, 2, 9, 0))
        self.assertLessEqual(action.run_ids.date_done - action.run_ids.date_planned, timedelta(minutes=1))

    def test_action_whose_content_disappeared_fails_with_the_reason(self):
        action = self._email_action(self.campaign)
        self._launch()
        action.mail_template_id = False  # e.g. the template was deleted after the launch
        self._process()
        self.assertFalse(action.run_ids, "nothing half done")
        self.assertEqual(action.state, "failed")
        self.assertIn("an email: write it with", action.message_ids[0].body)
        action.mail_template_id = self.mail_template
        action.action_schedule()
        self._process()
        self.assertEqual(action.run_ids.state, "done")
