from odoo import fields, models, tools
from odoo.tools import SQL


class CampaignTodo(models.Model):
    """What is left to do on a campaign (seed 004): its draft actions and its project's open tasks
    (not done, not in a folded stage such as “Done”), with the days remaining before each is due."""

    _name = "campaign.todo"
    _description = "Campaign To-Do Item"
    _auto = False
    _order = "date_due, id"

    campaign_id = fields.Many2one("campaign.campaign", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    kind = fields.Selection(selection=[("action", "Draft action"), ("task", "Open task")], readonly=True)
    name = fields.Char(string="Item", readonly=True)
    user_id = fields.Many2one("res.users", string="Responsible", readonly=True)
    date_due = fields.Date(string="Due On", readonly=True)
    days_remaining = fields.Integer(readonly=True)
    action_id = fields.Many2one("campaign.action", readonly=True)
    task_id = fields.Many2one("project.task", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        # ids: actions keep theirs (even), tasks get odd ones, so both live in one list.
        self.env.cr.execute(
            SQL(
                """
            CREATE OR REPLACE VIEW %s AS (
                SELECT a.id * 2 AS id, a.campaign_id, c.company_id, 'action' AS kind,
                       a.name, a.user_id, a.date_start::date AS date_due,
                       (a.date_start::date - CURRENT_DATE) AS days_remaining,
                       a.id AS action_id, NULL::integer AS task_id
                  FROM campaign_action a
                  JOIN campaign_campaign c ON c.id = a.campaign_id
                 WHERE a.state = 'draft' AND c.state NOT IN ('done', 'cancelled')
                UNION ALL
                SELECT t.id * 2 + 1, c.id, c.company_id, 'task', t.name,
                       (SELECT rel.user_id FROM project_task_user_rel rel WHERE rel.task_id = t.id
                         ORDER BY rel.user_id LIMIT 1),
                       t.date_deadline::date, (t.date_deadline::date - CURRENT_DATE),
                       NULL, t.id
                  FROM project_task t
                  JOIN campaign_campaign c ON c.project_id = t.project_id
                  LEFT JOIN project_task_type st ON st.id = t.stage_id
                 WHERE t.state NOT IN ('1_done', '1_canceled') AND t.active AND c.state NOT IN ('done', 'cancelled')
                   AND st.fold IS NOT TRUE
            )""",
                SQL.identifier(self._table),
            )
        )

    def action_open(self):
        self.ensure_one()
        record = self.action_id or self.task_id
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "view_mode": "form",
        }
