from datetime import date, datetime

from psycopg2 import IntegrityError

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestCampaign(CampaignCase):
    def test_name_without_spaces(self):
        for bad in ("Jan Offers", " JanOffers", "Jan\tOffers"):
            with self.assertRaises(ValidationError) as ctx:
                self._campaign(bad)
            self.assertIn("without spaces", str(ctx.exception))
        self.assertTrue(self._campaign("JanOffers"))

    def test_name_unique_per_company(self):
        self._campaign("FebSale")
        with mute_logger("odoo.sql_db"), self.assertRaises(Exception) as ctx, self.env.cr.savepoint():
            self._campaign("FebSale")
        self.assertIn("already exists", str(ctx.exception))
        other_company = self.env["res.company"].create({"name": "Other Co"})
        other = self._campaign("FebSale", company_id=other_company.id)
        self.assertEqual(other.company_id, other_company)

    def test_name_error_in_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        with self.assertRaises(ValidationError) as ctx:
            self.env["campaign.campaign"].with_context(lang="fr_FR").create({"name": "Jan Offers"})
        self.assertIn("sans espace", str(ctx.exception))

    def test_utm_campaign_kept_in_sync(self):
        campaign = self._campaign("MarchNews", user_id=self.user_marketing.id)
        utm = campaign.utm_campaign_id
        self.assertTrue(utm)
        self.assertEqual(utm.title, "MarchNews")
        self.assertEqual(utm.user_id, self.user_marketing)
        campaign.write({"name": "MarchNewsletter", "user_id": self.user_manager.id})
        self.assertEqual(utm.title, "MarchNewsletter")
        self.assertEqual(utm.user_id, self.user_manager)
        campaign.active = False
        self.assertFalse(utm.active)

    def test_state_transitions(self):
        campaign = self._campaign("Transitions")
        with self.assertRaises(UserError) as ctx:
            campaign.action_set_ready()
        message = str(ctx.exception)
        self.assertIn("a start date", message)
        self.assertIn("at least one target", message)
        self.assertIn("at least one action", message)
        with self.assertRaises(UserError) as ctx:
            campaign.action_done()
        self.assertIn("cannot go from “Draft” to “Done”", str(ctx.exception))

        partners = self._partners(2)
        self._manual_target(campaign, partners)
        self.env["campaign.action"].create({"campaign_id": campaign.id, "name": "Mail", "channel": "email"})
        campaign.date_start = date(2026, 1, 5)
        campaign.action_set_ready()
        self.assertEqual(campaign.state, "ready")
        campaign.action_set_active()
        campaign.action_stop()
        self.assertEqual(campaign.state, "stopped")
        campaign.action_resume()
        campaign.action_done()
        self.assertEqual(campaign.state, "done")
        for method in ("action_set_draft", "action_resume", "action_cancel"):
            with self.assertRaises(UserError):
                getattr(campaign, method)()
        self.assertEqual(campaign.state, "done")

    def test_cancel_cancels_pending_actions(self):
        campaign = self._campaign("ToCancel")
        action = self.env["campaign.action"].create({"campaign_id": campaign.id, "name": "Mail"})
        campaign.action_cancel()
        self.assertEqual(action.state, "cancelled")
        campaign.action_set_draft()
        self.assertEqual(campaign.state, "draft")

    def test_dates_and_budget_checked(self):
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            self._campaign("BadDates", date_start=date(2026, 2, 1), date_end=date(2026, 1, 1))
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
            self._campaign("BadBudget", budget=-5)

    def test_expected_roi(self):
        campaign = self._campaign("Roi", budget=1000, expected_revenue=3500)
        self.assertAlmostEqual(campaign.expected_roi, 250.0)
        campaign.expected_roi = 100
        self.assertEqual(campaign.expected_roi, 100)
        campaign.budget = 0
        self.assertEqual(campaign.expected_roi, 0)

    def test_channels_from_actions(self):
        campaign = self._campaign("Channels")
        self.assertFalse(campaign.main_channel)
        self.assertEqual(campaign.execution_mode, "unscheduled")
        action_model = self.env["campaign.action"]
        action_model.create({"campaign_id": campaign.id, "name": "Mail", "channel": "email"})
        self.assertEqual(campaign.main_channel, "email")
        self.assertEqual(campaign.execution_mode, "immediate")
        action_model.create(
            {
                "campaign_id": campaign.id,
                "name": "Weekly",
                "channel": "sms",
                "schedule_type": "recurring",
                "date_start": "2026-01-05 09:00:00",
            }
        )
        self.assertEqual(campaign.main_channel, "multi")
        self.assertEqual(campaign.channels_display, "Email, SMS")
        self.assertEqual(campaign.execution_mode, "recurring")

    def test_analytic_account_and_project_on_demand(self):
        campaign = self._campaign("Accounted")
        self.assertFalse(campaign.analytic_account_id)
        campaign.action_create_project()
        self.assertEqual(campaign.analytic_account_id.name, "Accounted")
        self.assertEqual(campaign.analytic_account_id.plan_id, self.env.ref("campaign_manager.analytic_plan_campaigns"))
        plan = self.env.ref("campaign_manager.analytic_plan_campaigns")
        self.assertEqual(campaign.project_id[plan._column_name()], campaign.analytic_account_id)
        project_plan, _other_plans = self.env["account.analytic.plan"]._get_all_plans()
        self.assertEqual(
            campaign.project_id.account_id.plan_id, project_plan, "timesheets need an account of the Project plan"
        )
        project = campaign.project_id
        campaign.action_create_project()
        self.assertEqual(campaign.project_id, project, "a second call creates nothing")

    def test_todo_lists_draft_actions_and_open_tasks(self):
        campaign = self._campaign("Todo")
        campaign.action_create_project()
        today = date.today()
        self.env["campaign.action"].create(
            {
                "campaign_id": campaign.id,
                "name": "Draft mail",
                "schedule_type": "at",
                "date_start": f"{today.isoformat()} 09:00:00",
            }
        )
        scheduled = self._email_action(campaign, name="Scheduled")
        self._manual_target(campaign, self._partners(1))
        scheduled.action_schedule()
        tasks = self.env["project.task"].create(
            [
                {
                    "name": "Write copy",
                    "project_id": campaign.project_id.id,
                    "date_deadline": f"{today.isoformat()} 12:00:00",
                },
                {"name": "Done already", "project_id": campaign.project_id.id, "state": "1_done"},
            ]
        )
        self.env.flush_all()
        campaign.invalidate_recordset(["todo_ids"])
        todo = campaign.todo_ids
        self.assertEqual(sorted(todo.mapped("name")), ["Draft mail", "Write copy"])
        self.assertEqual(todo.filtered(lambda t: t.kind == "task").task_id, tasks[0])
        self.assertEqual(set(todo.mapped("days_remaining")), {0})

    def test_action_schedule_rules(self):
        campaign = self._campaign("Sched")
        with self.assertRaises(ValidationError):
            self.env["campaign.action"].create({"campaign_id": campaign.id, "name": "At", "schedule_type": "at"})
        with self.assertRaises(ValidationError):
            self.env["campaign.action"].create({"campaign_id": campaign.id, "name": "After", "schedule_type": "after"})
        first = self.env["campaign.action"].create({"campaign_id": campaign.id, "name": "First"})
        second = self.env["campaign.action"].create(
            {"campaign_id": campaign.id, "name": "Second", "schedule_type": "after", "parent_id": first.id}
        )
        with self.assertRaises(ValidationError):
            first.write({"schedule_type": "after", "parent_id": second.id})
        with self.assertRaises(UserError) as ctx:
            first.action_schedule()
        self.assertIn("a target (the campaign has none)", str(ctx.exception))
        self.assertIn("an email: write it with", str(ctx.exception))
        self._manual_target(campaign, self._partners(1))
        first.mail_template_id = self.mail_template
        first.action_schedule()
        with self.assertRaises(UserError):
            first.write({"state": "done"})

    def test_recurring_next_occurrence(self):
        campaign = self._campaign("Recur")
        action = self.env["campaign.action"].create(
            {
                "campaign_id": campaign.id,
                "name": "Weekly",
                "schedule_type": "recurring",
                "date_start": "2026-01-05 09:00:00",
                "interval_number": 2,
                "interval_unit": "weeks",
                "recurring_until": "2026-02-01 00:00:00",
            }
        )
        self.assertEqual(action._next_occurrence(datetime(2026, 1, 1)), datetime(2026, 1, 5, 9))
        self.assertEqual(action._next_occurrence(datetime(2026, 1, 5, 9)), datetime(2026, 1, 19, 9))
        self.assertFalse(action._next_occurrence(datetime(2026, 1, 19, 9)))

    def test_delete_launched_campaign_refused(self):
        campaign = self._campaign("Launched")
        partner = self._partners(1)
        action = self.env["campaign.action"].create({"campaign_id": campaign.id, "name": "Mail"})
        self.env["campaign.touchpoint"].create({"action_id": action.id, "partner_id": partner.id})
        with self.assertRaises(UserError):
            campaign.unlink()
        with self.assertRaises(UserError):
            action.unlink()
