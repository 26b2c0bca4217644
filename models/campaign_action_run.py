from odoo import api, fields, models

from .campaign_touchpoint import CARRIED_STATES

RUN_STATES = [
    ("pending", "Pending"),
    ("sending", "Sending"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]


class CampaignActionRun(models.Model):
    """One execution of an action: the recipients resolved at that moment become the run's
    touchpoints, which the dispatcher then carries out in batches."""

    _name = "campaign.action.run"
    _description = "Campaign Action Run"
    _order = "date_planned desc, id desc"
    _check_company_auto = True

    action_id = fields.Many2one(
        "campaign.action", required=True, ondelete="cascade", index=True, check_company=True, readonly=True
    )
    campaign_id = fields.Many2one(related="action_id.campaign_id", store=True, index=True)
    company_id = fields.Many2one(related="action_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="action_id.currency_id")
    channel = fields.Selection(related="action_id.channel", store=True)
    run_number = fields.Integer(required=True, readonly=True, help="1 for the first run of the action.")
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

    def action_view_touchpoints(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_touchpoint_action")
        action["domain"] = [("run_id", "=", self.id)]
        return action
