from odoo import api, fields, models
from odoo.tools import SQL

from ..const import CARRIED_STATES

RUN_STATES = [
    ("pending", "Pending"),
    ("sending", "Sending"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]


class CampaignActionRun(models.Model):
    """One execution of an action: the recipients resolved at that moment become the run's
    touchpoints, which the engine (campaign.engine) then carries out in batches that commit."""

    _name = "campaign.action.run"
    _description = "Campaign Action Run"
    _inherit = ["campaign.access.mixin"]
    _order = "date_planned desc, id desc"
    _check_company_auto = True
    # everything a run links to is the engine's (its other links are read-only)
    _campaign_engine_fields = frozenset({"action_id", "touchpoint_ids"})

    action_id = fields.Many2one(
        "campaign.action", required=True, ondelete="cascade", index=True, check_company=True, readonly=True
    )
    campaign_id = fields.Many2one(related="action_id.campaign_id", store=True, index=True)
    company_id = fields.Many2one(related="action_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="action_id.currency_id")
    channel = fields.Selection(related="action_id.channel", store=True)
    run_number = fields.Integer(required=True, readonly=True, help="1 for the first run of the action.")
    parent_run_id = fields.Many2one(
        "campaign.action.run",
        string="After Run",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="Run of the previous action this follow-up run comes after.",
    )
    state = fields.Selection(selection=RUN_STATES, string="Status", required=True, default="pending", index=True)
    date_planned = fields.Datetime(string="Due On", readonly=True, help="When the run was due.")
    date_started = fields.Datetime(string="Started On", readonly=True)
    date_done = fields.Datetime(string="Finished On", readonly=True)

    # Audience figures frozen when the run's touchpoints were generated.
    total_count = fields.Integer(string="Contacts in Targets", readonly=True)
    duplicate_count = fields.Integer(string="Duplicates Removed", readonly=True)
    excluded_count = fields.Integer(string="Excluded", readonly=True)
    planned_count = fields.Integer(string="To Reach", readonly=True, help="Touchpoints to carry out in this run.")

    touchpoint_ids = fields.One2many("campaign.touchpoint", "run_id", string="Touchpoints")
    carried_count = fields.Integer(
        string="Carried Out", compute="_compute_counts", help="Touchpoints sent or done in this run."
    )
    waiting_count = fields.Integer(
        string="Waiting", compute="_compute_counts", help="Touchpoints planned or queued, not carried out yet."
    )
    failed_count = fields.Integer(string="Failed", compute="_compute_counts")
    mailing_id = fields.Many2one("mailing.mailing", readonly=True, index="btree_not_null")
    attachment_id = fields.Many2one("ir.attachment", string="Document", readonly=True)
    log = fields.Text(readonly=True, help="What happened during the run: errors and notes of the dispatcher.")
    event_id = fields.Many2one("calendar.event", readonly=True, index="btree_not_null", ondelete="set null")
    task_count = fields.Integer(string="Tasks Count", compute="_compute_task_count")

    _action_run_uniq = models.Constraint(
        "UNIQUE(action_id, run_number)", "An action cannot have two runs with the same number."
    )

    @api.depends("action_id.name", "run_number")
    def _compute_display_name(self):
        for run in self:
            run.display_name = self.env._("%(action)s #%(number)s", action=run.action_id.name, number=run.run_number)

    def _compute_counts(self):
        groups = self.env["campaign.touchpoint"]._read_group(
            [("run_id", "in", self.ids)], ["run_id", "state"], ["__count"]
        )
        counts = {}
        for run, state, count in groups:
            bucket = counts.setdefault(run.id, {"carried": 0, "waiting": 0, "failed": 0})
            if state in CARRIED_STATES:
                bucket["carried"] += count
            elif state in ("planned", "queued"):
                bucket["waiting"] += count
            elif state == "failed":
                bucket["failed"] += count
        for run in self:
            bucket = counts.get(run.id, {})
            run.carried_count = bucket.get("carried", 0)
            run.waiting_count = bucket.get("waiting", 0)
            run.failed_count = bucket.get("failed", 0)

    def _compute_task_count(self):
        # sudo: a count of the run's tasks, shown to campaign users who may lack Project rights
        tasks = self.env["project.task"].sudo()
        groups = tasks._read_group([("campaign_run_id", "in", self.ids)], ["campaign_run_id"], ["__count"])
        counts = {run.id: count for run, count in groups}
        for run in self:
            run.task_count = counts.get(run.id, 0)

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_view_touchpoints(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_touchpoint_action")
        action["domain"] = [("run_id", "=", self.id)]
        return action

    def action_view_tasks(self):
        self.ensure_one()
        domain = [("campaign_run_id", "=", self.id)]
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Tasks"),
            "res_model": "project.task",
            "view_mode": "list,form",
            "domain": domain,
        }

    # ------------------------------------------------------------------
    # WHAT THE ENGINE ASKS OF A RUN (the engine itself: campaign.engine)
    # ------------------------------------------------------------------
    def _campaign_is_active(self):
        """Lock the campaign row in share mode for the batch: stopping the campaign (which updates
        that row) waits until the batch is over, and no batch starts once the stop is saved."""
        self.env.cr.execute(SQL("SELECT state FROM campaign_campaign WHERE id = %s FOR SHARE", self.campaign_id.id))
        row = self.env.cr.fetchone()
        return bool(row) and row[0] == "active"

    def _mail_server(self):
        """Outgoing mail server the run's messages go through, for its sending caps: none, unless
        the channel sends emails (models/channels/email.py)."""
        self.ensure_one()
        return self.env["ir.mail_server"]

    def _cancel_run(self):
        """Cancel runs: what they have not carried out yet is cancelled (letters printed but not
        bound into the run's PDF yet included: they will not be posted)."""
        if not self:
            return
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint SET state = 'cancelled'
                    WHERE run_id IN %s AND (state = 'planned' OR (state = 'queued' AND channel = 'letter'))""",
                tuple(self.ids),
            )
        )
        self.env["campaign.touchpoint"].invalidate_model(["state"])
        self.write({"state": "cancelled", "date_done": fields.Datetime.now()})

    def _append_log(self, message):
        for run in self:
            stamp = fields.Datetime.to_string(fields.Datetime.now())
            line = f"{stamp} {message}"
            if run.log and run.log.endswith(message):
                continue  # do not repeat the same note at every pass of the job
            run.log = f"{run.log}\n{line}" if run.log else line
