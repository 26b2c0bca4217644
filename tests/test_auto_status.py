from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestAutoStatus(CampaignCase):
    """A ready campaign becomes active on its start date and done after its end date, by a
    scheduled job, the changes tracked in the chatter; actions still pending then are flagged."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        partners = cls._partners(2)
        cls.campaign = cls._campaign(
            "MarchDates", date_start=date(2026, 3, 1), date_end=date(2026, 3, 10), user_id=cls.user_manager.id
        )
        cls._manual_target(cls.campaign, partners)
        Action = cls.env["campaign.action"]
        cls.sent = Action.create({"campaign_id": cls.campaign.id, "name": "Sent", "user_id": cls.user_marketing.id})
        cls.draft = Action.create({"campaign_id": cls.campaign.id, "name": "Never scheduled", "user_id": False})
        cls.scheduled = Action.create(
            {"campaign_id": cls.campaign.id, "name": "Waiting", "user_id": cls.user_marketing.id}
        )
        cls.cancelled = Action.create({"campaign_id": cls.campaign.id, "name": "Dropped"})
        # states set as the engine would (their content does not matter here)
        (cls.sent | cls.scheduled).write({"state": "scheduled"})
        cls.sent.write({"state": "running"})
        cls.sent.write({"state": "done"})
        cls.cancelled.action_cancel()
        cls.campaign.action_set_ready()
        # campaigns the job must leave alone
        cls.draft_campaign = cls._campaign("DraftDates", date_start=date(2026, 2, 1), date_end=date(2026, 2, 5))
        cls.stopped = cls._campaign("StoppedDates", date_start=date(2026, 2, 1), date_end=date(2026, 2, 5))
        cls._manual_target(cls.stopped, partners)
        Action.create({"campaign_id": cls.stopped.id, "name": "Mail"})
        cls.stopped.action_set_ready()
        cls.stopped.action_set_active()
        cls.stopped.action_stop()

    def setUp(self):
        super().setUp()
        # forget what the set-up wrote (mail tracking ignores records created in the transaction)
        self.env.cr.precommit.run()

    def _run_cron(self, day):
        with freeze_time(day):
            self.env["campaign.campaign"].with_context(tracking_disable=False, mail_notrack=False)._cron_update_states()
            self.env.flush_all()
            self.env.cr.precommit.run()  # tracking messages are written at commit
        self.env.invalidate_all()

    def _state_changes(self, campaign):
        values = campaign.message_ids.tracking_value_ids.filtered(lambda v: v.field_id.name == "state")
        return sorted((v.old_value_char, v.new_value_char) for v in values)

    def test_start_and_finish_on_dates(self):
        self._run_cron("2026-02-28 23:00:00")
        self.assertEqual(self.campaign.state, "ready")
        self._run_cron("2026-03-01 00:30:00")
        self.assertEqual(self.campaign.state, "active")
        self.assertEqual(self._state_changes(self.campaign), [("Ready", "Active")])
        self.assertIn("Started on its start date.", "".join(self.campaign.message_ids.mapped("body")))
        self._run_cron("2026-03-10 23:00:00")
        self.assertEqual(self.campaign.state, "active", "the end date is the last day of the campaign")
        with freeze_time("2026-03-10 23:00:00"):
            self.assertFalse(self.draft.pending_after_end)
        self._run_cron("2026-03-11 00:30:00")
        self.assertEqual(self.campaign.state, "done")
        self.assertEqual(self._state_changes(self.campaign), [("Active", "Done"), ("Ready", "Active")])
        self.assertIn("Finished after its end date.", "".join(self.campaign.message_ids.mapped("body")))
        # others untouched
        self.assertEqual((self.draft_campaign.state, self.stopped.state), ("draft", "stopped"))

    def test_pending_actions_flagged_after_the_end(self):
        self._run_cron("2026-03-01 08:00:00")
        self._run_cron("2026-03-12 08:00:00")
        with freeze_time("2026-03-12 08:00:00"):
            self.env.invalidate_all()
            late = self.env["campaign.action"].search([("pending_after_end", "=", True)])
            self.assertEqual(late & self.campaign.action_ids, self.draft | self.scheduled)
            self.assertEqual((self.draft | self.scheduled).mapped("pending_after_end"), [True, True])
            self.assertFalse(self.sent.pending_after_end or self.cancelled.pending_after_end)
            self.assertEqual(self.campaign.late_action_count, 2)
            not_late = self.env["campaign.action"].search(
                [("pending_after_end", "=", False), ("campaign_id", "=", self.campaign.id)]
            )
            self.assertEqual(not_late, self.sent | self.cancelled)
            self.assertEqual(self.campaign.action_view_late_actions()["domain"][1], ("pending_after_end", "=", True))
        activities = self.env["mail.activity"].search(
            [("res_model", "=", "campaign.action"), ("res_id", "in", self.campaign.action_ids.ids)]
        )
        self.assertEqual(activities.mapped("res_id"), [self.draft.id, self.scheduled.id])
        self.assertEqual(activities.user_id, self.user_manager | self.user_marketing, "responsible, else the owner")
        self.assertEqual(set(activities.mapped("date_deadline")), {date(2026, 3, 12)})
        # the job runs every hour: no second to-do
        self._run_cron("2026-03-12 09:00:00")
        self.assertEqual(
            self.env["mail.activity"].search_count(
                [("res_model", "=", "campaign.action"), ("res_id", "in", self.campaign.action_ids.ids)]
            ),
            2,
        )

    def test_ready_campaign_past_its_end_goes_through_active(self):
        self._run_cron("2026-04-01 08:00:00")
        self.assertEqual(self.campaign.state, "done")
        # both changes in one transaction: one tracking line
        self.assertEqual(self._state_changes(self.campaign), [("Ready", "Done")])
        bodies = "".join(self.campaign.message_ids.mapped("body"))
        self.assertIn("Started on its start date.", bodies)
        self.assertIn("Finished after its end date.", bodies)

    def test_scheduled_job_calls_the_method(self):
        cron = self.env.ref("campaign_manager.ir_cron_campaign_update_states")
        self.assertTrue(cron.active)
        self.assertEqual(cron.code, "model._cron_update_states()")
        with freeze_time("2026-03-02 08:00:00"):
            cron.ir_actions_server_id.run()
        self.assertEqual(cron.model_id.model, "campaign.campaign")
        self.assertEqual(self.campaign.state, "active")
