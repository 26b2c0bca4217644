from odoo import api, fields, models
from odoo.tools import SQL


class ProjectTask(models.Model):
    """Task actions create project tasks in the campaign's project (seed 004: to-do list, state Not
    started / In progress / Done through the project's stages; timesheets count as the campaign's
    cost through the project's analytic account)."""

    _name = "project.task"
    _inherit = ["project.task", "campaign.carrier.mixin"]

    campaign_action_id = fields.Many2one(
        groups="campaign_manager.group_campaign_user", help="Campaign action that created this task."
    )
    campaign_run_id = fields.Many2one(groups="campaign_manager.group_campaign_user")
    campaign_touchpoint_id = fields.Many2one(
        "campaign.touchpoint",
        readonly=True,
        copy=False,
        ondelete="set null",
        groups="campaign_manager.group_campaign_user",
        help="Contact of the campaign this task is about (one task per contact).",
    )

    # one task per touchpoint, whatever happens to the worker that creates them
    _campaign_touchpoint_uniq = models.UniqueIndex(
        "(campaign_touchpoint_id) WHERE campaign_touchpoint_id IS NOT NULL",
        "A campaign touchpoint has one task only.",
    )

    # ------------------------------------------------------------------
    # ENGINE
    # ------------------------------------------------------------------
    @api.model
    def _campaign_create_for_touchpoints(self, run, touchpoints):
        """One task per contact for a batch of touchpoints: created in one ``create``, then the
        touchpoints marked done in one UPDATE. A touchpoint whose task exists already (an earlier
        attempt) is only linked to it."""
        action = run.action_id
        values = action._task_values(run)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT tp.id, tp.partner_id, COALESCE(p.complete_name, p.name, '')
                     FROM campaign_touchpoint tp
                     JOIN res_partner p ON p.id = tp.partner_id
                    WHERE tp.id IN %s AND tp.state = 'planned'
                      AND NOT EXISTS (SELECT 1 FROM project_task t WHERE t.campaign_touchpoint_id = tp.id)
                    ORDER BY tp.id""",
                tuple(touchpoints.ids),
            )
        )
        vals_list = [
            {
                **values,
                "name": action._task_title(contact_name),
                "partner_id": partner_id,
                "campaign_touchpoint_id": touchpoint_id,
            }
            for touchpoint_id, partner_id, contact_name in self.env.cr.fetchall()
        ]
        if vals_list:
            # one notification per task would flood the assignees: they find the tasks in the project
            self.with_context(mail_auto_subscribe_no_notify=True, mail_create_nolog=True, tracking_disable=True).create(
                vals_list
            )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint tp
                      SET state = 'done', date_done = %(now)s, res_model = 'project.task', res_id = t.id
                     FROM project_task t
                    WHERE t.campaign_touchpoint_id = tp.id AND tp.id IN %(ids)s AND tp.state = 'planned'""",
                now=fields.Datetime.now(),
                ids=tuple(touchpoints.ids),
            )
        )
        touchpoints.invalidate_recordset()

    @api.model
    def _campaign_create_for_run(self, run):
        """The single task of a run of a “one task for the action” action (called once, when the
        run finishes, in the transaction that closes it)."""
        if self.with_context(active_test=False).search_count([("campaign_run_id", "=", run.id)], limit=1):
            return self.browse()
        action = run.action_id
        return self.create({**action._task_values(run), "name": action._task_title()})
