from datetime import datetime
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.addons.campaign_manager.models.project_task import ProjectTask
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestChannelTask(CampaignCase):
    """Task actions: one task per contact (touchpoints done, each linked to its task) or one task for
    the action (no touchpoint), in the campaign's project with its seed 004 stages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(5, prefix="taskee")
        cls.campaign = cls._campaign("Tasks", date_start=datetime(2026, 3, 1).date())
        cls._manual_target(cls.campaign, cls.partners)
        cls.tag = cls.env["project.tags"].create({"name": "Campaign calls"})
        cls.stage_not_started = cls.env.ref("campaign_manager.project_task_type_not_started")
        cls.stage_in_progress = cls.env.ref("campaign_manager.project_task_type_in_progress")
        cls.stage_done = cls.env.ref("campaign_manager.project_task_type_done")

    def _process(self, **kwargs):
        self.env["campaign.engine"]._cron_process(**kwargs)

    def _launch(self, campaign=None, **values):
        campaign = campaign or self.campaign
        form = Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id))
        for key, value in values.items():
            setattr(form, key, value)
        form.save().action_launch()

    def _task_action(self, campaign=None, **values):
        campaign = campaign or self.campaign
        return self.env["campaign.action"].create(
            {
                "campaign_id": campaign.id,
                "name": "Calls",
                "channel": "task",
                "task_mode": "action",
                "user_id": self.user_marketing.id,
            }
            | values
        )

    def _tasks(self, action):
        return self.env["project.task"].search([("campaign_action_id", "=", action.id)], order="id")

    # ------------------------------------------------------------------
    def test_project_created_with_seed_stages(self):
        self.assertFalse(self.campaign.project_id)
        action = self._task_action()
        project = self.campaign.project_id
        self.assertTrue(project, "a task action creates the campaign's project")
        self.assertEqual(project.type_ids, self.stage_not_started | self.stage_in_progress | self.stage_done)
        column = self.env["account.analytic.plan"]._campaign_plan()._column_name()
        self.assertEqual(project[column], self.campaign.analytic_account_id, "timesheets count as campaign cost")
        self.assertEqual(action.campaign_project_id, project)
        self.assertTrue(self.stage_done.fold)

    def test_one_task_per_contact(self):
        action = self._task_action(
            task_mode="contact",
            task_name="Call {contact}",
            task_user_ids=[(6, 0, (self.user_marketing | self.user_manager).ids)],
            task_deadline_days=3,
            task_stage_id=self.stage_in_progress.id,
            task_tag_ids=[(6, 0, self.tag.ids)],
            task_description="<p>Offer the new year discount.</p>",
            unit_cost=2.0,
        )
        with freeze_time("2026-03-02 09:00:00"):
            self._launch()
            self._process()
        run = action.run_ids
        self.assertEqual((run.state, run.planned_count), ("done", 5))
        tasks = self._tasks(action)
        self.assertEqual(len(tasks), 5)
        self.assertEqual(sorted(tasks.mapped("name")), [f"Call taskee {index}" for index in range(5)])
        self.assertEqual(tasks.partner_id, self.partners)
        self.assertEqual(tasks.project_id, self.campaign.project_id)
        self.assertEqual(tasks.stage_id, self.stage_in_progress)
        self.assertEqual(tasks.tag_ids, self.tag)
        self.assertEqual(set(tasks.mapped("date_deadline")), {datetime(2026, 3, 5, 9, 0)})
        for task in tasks:
            self.assertEqual(task.user_ids, self.user_marketing | self.user_manager)
        self.assertIn("new year discount", str(tasks[0].description))
        self.assertEqual(tasks.campaign_run_id, run)
        touchpoints = run.touchpoint_ids
        self.assertEqual(set(touchpoints.mapped("state")), {"done"})
        self.assertEqual(set(touchpoints.mapped("res_model")), {"project.task"})
        self.assertEqual(sorted(touchpoints.mapped("res_id")), sorted(tasks.ids))
        for touchpoint in touchpoints:
            task = tasks.filtered(lambda t, tp=touchpoint: t.campaign_touchpoint_id == tp)
            self.assertEqual((task.id, task.partner_id), (touchpoint.res_id, touchpoint.partner_id))
        self.assertEqual(set(touchpoints.mapped("date_done")), {datetime(2026, 3, 2, 9, 0)})
        self.assertEqual(sum(touchpoints.mapped("unit_cost")), 10.0)
        self.assertEqual(action.state, "done")
        # the campaign's to-do lists the open tasks; Done (stage or state) takes them out
        self.env.flush_all()
        self.campaign.invalidate_recordset(["todo_ids"])
        self.assertEqual(len(self.campaign.todo_ids.filtered(lambda t: t.kind == "task")), 5)
        tasks[0].stage_id = self.stage_done
        tasks[1].state = "1_done"
        self.env.flush_all()
        self.campaign.invalidate_recordset(["todo_ids"])
        self.assertEqual(self.campaign.todo_ids.task_id, tasks[2:])
        # nothing more at the next pass
        self._process()
        self.assertEqual(len(self._tasks(action)), 5)

    def test_one_task_for_the_action_reaches_nobody(self):
        action = self._task_action(task_name="Print the letters", task_deadline_days=2, fixed_cost=80.0)
        self.assertFalse(action._run_has_audience())
        wizard = Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=self.campaign.id)).save()
        self.assertEqual(wizard.line_ids.final, 0, "no contact is counted for it")
        with freeze_time("2026-03-02 09:00:00"):
            wizard.action_launch()
            self._process()
        run = action.run_ids
        self.assertEqual(run.state, "done")
        self.assertFalse(run.touchpoint_ids, "an internal task reaches no contact")
        task = self._tasks(action)
        self.assertEqual(len(task), 1)
        self.assertEqual(task.name, "Print the letters")
        self.assertFalse(task.partner_id)
        self.assertEqual(task.user_ids, self.user_marketing, "assigned to the action's responsible")
        self.assertEqual(task.stage_id, self.stage_not_started, "the project's first stage")
        self.assertEqual(task.date_deadline, datetime(2026, 3, 4, 9, 0))
        self.assertEqual(task.campaign_run_id, run)
        self.assertEqual(run.task_count, 1)
        self.assertEqual(run.action_view_tasks()["domain"], [("campaign_run_id", "=", run.id)])
        self.assertEqual(action.state, "done")
        self._process()
        self.assertEqual(len(self._tasks(action)), 1, "created once")

    def test_recurring_task_action_one_task_per_run(self):
        action = self._task_action(task_name="Weekly report")
        with freeze_time("2026-03-02 09:00:00"):
            self._launch(mode="recurring", date_start=datetime(2026, 3, 2, 9, 0), interval_unit="weeks")
            self._process()
        with freeze_time("2026-03-09 09:00:30"):
            self._process()
        self.assertEqual(len(action.run_ids), 2)
        self.assertEqual(self._tasks(action).campaign_run_id, action.run_ids)

    def test_kill_then_rerun_creates_each_task_once(self):
        action = self._task_action(task_mode="contact", task_name="Call {contact}")
        self._launch()
        self.assertWorkerKilled(ProjectTask, "_campaign_create_for_touchpoints", lambda: self._process(batch_size=2))
        run = action.run_ids
        self.assertEqual(sorted(run.touchpoint_ids.mapped("state")), ["done", "done", "planned", "planned", "planned"])
        self.assertEqual(len(self._tasks(action)), 2, "the killed batch is undone")
        self._process(batch_size=2)
        tasks = self._tasks(action)
        self.assertEqual(len(tasks), 5)
        self.assertEqual(tasks.partner_id, self.partners, "exactly one task per contact")
        self.assertEqual(run.state, "done")

    def test_existing_task_is_linked_not_duplicated(self):
        action = self._task_action(task_mode="contact", task_name="Call {contact}")
        self._launch()
        self.env["campaign.engine"]._start_due_runs()
        touchpoint = action.run_ids.touchpoint_ids.filtered(lambda t: t.partner_id == self.partners[0])
        earlier = self.env["project.task"].create(
            {
                "name": "Created by an earlier attempt",
                "project_id": self.campaign.project_id.id,
                "campaign_touchpoint_id": touchpoint.id,
                "campaign_action_id": action.id,
            }
        )
        self._process()
        self.assertEqual(len(self._tasks(action)), 5)
        self.assertEqual((touchpoint.state, touchpoint.res_id), ("done", earlier.id))
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            earlier.copy({"campaign_touchpoint_id": touchpoint.id})

    def test_bad_contact_fails_alone(self):
        action = self._task_action(task_mode="contact", task_name="Call {contact}")
        self._launch()
        original_create = ProjectTask.create
        bad = self.partners[2]

        def create(task_model, vals_list):
            if any(vals.get("partner_id") == bad.id for vals in vals_list):
                raise ValueError("Task refused for this contact")
            return original_create(task_model, vals_list)

        with patch.object(ProjectTask, "create", create):
            self._process()
        touchpoints = action.run_ids.touchpoint_ids
        failed = touchpoints.filtered(lambda t: t.state == "failed")
        self.assertEqual(failed.partner_id, bad)
        self.assertEqual(failed.failure_reason, "Task refused for this contact")
        self.assertEqual(len(touchpoints.filtered(lambda t: t.state == "done")), 4, "the rest of the batch went")
        self.assertEqual(self._tasks(action).partner_id, self.partners - bad)
        self.assertEqual(action.run_ids.state, "done")

    def test_bad_input(self):
        action = self._task_action(task_name="Call {contact}")
        with self.assertRaises(UserError) as ctx:
            action.action_schedule()
        self.assertIn("a task title without {contact}", str(ctx.exception))
        action.write({"task_name": False, "name": " ", "user_id": False})
        missing = action._missing_for_run()
        self.assertIn("a title for the tasks", missing)
        self.assertIn("someone to assign the tasks to (assignees or a responsible)", missing)
        other_stage = self.env["project.task.type"].create({"name": "Elsewhere", "user_id": False})
        with self.assertRaises(ValidationError) as ctx:
            action.task_stage_id = other_stage
        self.assertIn("is not a stage of the project Tasks of the campaign", str(ctx.exception))
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            action.write({"task_deadline_days": -1})
            self.env.flush_all()
        self.assertEqual(action.state, "draft", "nothing changed")

    def test_bad_input_in_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        action = self._task_action(task_name="Appeler {contact}")
        with self.assertRaises(UserError) as ctx:
            action.with_context(lang="fr_FR").action_schedule()
        self.assertIn("un titre de tâche sans {contact}", str(ctx.exception))

    def test_campaign_user_creates_a_task_action(self):
        """Campaign users have no Project rights: the campaign's project is still created for them."""
        campaign = self._campaign("UserTasks").with_user(self.user_marketing)
        action = (
            self.env["campaign.action"]
            .with_user(self.user_marketing)
            .create({"campaign_id": campaign.id, "name": "Prepare", "channel": "task", "task_mode": "action"})
        )
        project = campaign.sudo().project_id
        self.assertTrue(project)
        self.assertEqual(len(project.type_ids), 3)
        action.task_stage_id = self.stage_in_progress
        # the action's form reads the project and the stage for them
        values = action.web_read(
            {
                "campaign_project_id": {"fields": {"display_name": {}}},
                "task_stage_id": {"fields": {"display_name": {}}},
            }
        )[0]
        self.assertEqual(values["campaign_project_id"]["display_name"], "UserTasks")
        self.assertEqual(values["task_stage_id"]["display_name"], "In progress")
