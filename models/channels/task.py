"""The task channel: project tasks in the campaign's project (their timesheets count as its cost),
one per contact of the targets or one for the action."""

from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

# In the title of per-contact tasks, replaced by the contact's name.
CONTACT_PLACEHOLDER = "{contact}"


class CampaignAction(models.Model):
    _inherit = "campaign.action"

    channel = fields.Selection(selection_add=[("task", "Task")], ondelete={"task": "cascade"})
    # Task channel: project tasks in the campaign's project (their timesheets count as its cost).
    campaign_project_id = fields.Many2one(related="campaign_id.project_id", string="Campaign Project")
    task_mode = fields.Selection(
        selection=[("action", "One task for the action"), ("contact", "One task per contact")],
        string="Tasks",
        default="contact",
        required=True,
        help="One task for the action: a single task of the campaign's project, reaching no contact (e.g. "
        "“Print the letters”). One task per contact: a task for each contact of the targets (e.g. “Call "
        "{contact}”), each one a touchpoint.",
    )
    task_name = fields.Char(
        string="Task Title",
        help="Title of the tasks (default: the action's name). With one task per contact, {contact} is "
        "replaced by the contact's name.",
    )
    task_description = fields.Html(sanitize=True)
    task_user_ids = fields.Many2many(
        "res.users",
        "campaign_action_task_user_rel",
        "action_id",
        "user_id",
        string="Assignees",
        help="Users the tasks are assigned to (default: the action's responsible).",
    )
    task_deadline_days = fields.Integer(
        string="Deadline After (days)",
        help="The tasks are due this many days after the run (0: no deadline).",
    )
    task_stage_id = fields.Many2one(
        "project.task.type",
        string="Initial Stage",
        domain="[('project_ids', 'in', campaign_project_id)]",
        ondelete="set null",
        help="Stage of the campaign's project the tasks start in (default: its first stage).",
    )
    task_tag_ids = fields.Many2many(
        "project.tags", "campaign_action_task_tag_rel", "action_id", "tag_id", string="Task Tags"
    )

    _task_deadline_positive = models.Constraint(
        "CHECK(task_deadline_days >= 0)", "The deadline of the tasks cannot be before the run."
    )

    @api.depends("task_mode")
    def _compute_audience_less(self):
        # one task for the action is internal work (“Print the letters”): it concerns no contact, so
        # it creates no touchpoint, costs no unit cost and counts nobody as reached
        res = super()._compute_audience_less()
        for action in self:
            if action.channel == "task" and action.task_mode == "action":
                action.audience_less = True
        return res

    @api.constrains("task_stage_id", "campaign_id")
    def _check_task_stage(self):
        for action in self:
            project = action.campaign_id.project_id
            if action.task_stage_id and project and project not in action.task_stage_id.project_ids:
                raise ValidationError(
                    self.env._(
                        "The stage “%(stage)s” is not a stage of the project %(project)s of the campaign.",
                        stage=action.task_stage_id.name,
                        project=project.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        actions = super().create(vals_list)
        actions._ensure_task_project()
        return actions

    def write(self, vals):
        res = super().write(vals)
        if {"channel", "campaign_id"} & set(vals):
            self._ensure_task_project()
        return res

    def _channel_prepare_schedule(self):
        res = super()._channel_prepare_schedule()
        self._ensure_task_project()
        return res

    def _default_medium(self):
        if self.channel != "task":
            return super()._default_medium()
        return self.env.ref("utm.utm_medium_direct", raise_if_not_found=False)

    def _channel_can_run(self):
        return self.channel == "task" or super()._channel_can_run()

    def _channel_missing(self):
        if self.channel != "task":
            return super()._channel_missing()
        missing = []
        name = self._task_title()
        if not name:
            missing.append(self.env._("a title for the tasks"))
        elif self.task_mode == "action" and CONTACT_PLACEHOLDER in name:
            missing.append(
                self.env._(
                    "a task title without %(placeholder)s: one task for the action concerns no contact",
                    placeholder=CONTACT_PLACEHOLDER,
                )
            )
        if not (self.task_user_ids or self.user_id):
            missing.append(self.env._("someone to assign the tasks to (assignees or a responsible)"))
        return missing

    def _channel_dispatch(self, run, touchpoints):
        if self.channel != "task":
            return super()._channel_dispatch(run, touchpoints)
        self.env["project.task"]._campaign_create_for_touchpoints(run, touchpoints)

    def _channel_finish(self, run):
        if self.channel != "task":
            return super()._channel_finish(run)
        if not self._run_has_audience():
            self.env["project.task"]._campaign_create_for_run(run)

    def _ensure_task_project(self):
        """Task actions put their tasks in the campaign's project: create it when missing."""
        campaigns = self.filtered(lambda a: a.channel == "task" and not a.campaign_id.project_id).campaign_id
        if campaigns:
            # the project is part of the campaign's set-up; campaign users need no Project rights for it
            campaigns.sudo().action_create_project()

    def _task_title(self, contact_name=None):
        """Title of a task of the action; ``{contact}`` replaced by ``contact_name`` when given."""
        self.ensure_one()
        title = (self.task_name or self.name or "").strip()
        if contact_name is not None:
            title = title.replace(CONTACT_PLACEHOLDER, contact_name)
        return title

    def _task_values(self, run):
        """Values shared by the tasks a run of the action creates."""
        self.ensure_one()
        project = self.campaign_id.project_id
        if not project:
            raise UserError(
                self.env._(
                    "The campaign %(campaign)s has no project for the tasks of “%(action)s”: create it from the "
                    "campaign (Project button).",
                    campaign=self.campaign_id.name,
                    action=self.name,
                )
            )
        stage = self.task_stage_id if project in self.task_stage_id.project_ids else False
        deadline = run.date_planned + timedelta(days=self.task_deadline_days) if self.task_deadline_days else False
        return {
            "project_id": project.id,
            "company_id": project.company_id.id,
            "description": self.task_description or False,
            "user_ids": [fields.Command.set((self.task_user_ids or self.user_id).ids)],
            "tag_ids": [fields.Command.set(self.task_tag_ids.ids)],
            "date_deadline": deadline,
            "campaign_action_id": self.id,
            "campaign_run_id": run.id,
            **({"stage_id": stage.id} if stage else {}),
        }
