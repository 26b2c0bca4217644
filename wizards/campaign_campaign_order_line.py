from odoo import api, fields, models


class CampaignCampaignOrderLine(models.TransientModel):
    """An action of the campaign being ordered: what its content still lacks, and its schedule."""

    _name = "campaign.campaign.order.line"
    _description = "Action of a Campaign Order"
    _inherit = ["campaign.access.mixin"]

    wizard_id = fields.Many2one("campaign.campaign.order", required=True, ondelete="cascade")
    action_id = fields.Many2one("campaign.action", required=True, readonly=True, ondelete="cascade")
    name = fields.Char(related="action_id.name")
    channel = fields.Selection(related="action_id.channel")
    state = fields.Selection(related="action_id.state")
    mail_template_id = fields.Many2one(related="action_id.mail_template_id")
    schedule_type = fields.Selection(selection="_selection_schedule_type", string="Schedule")
    date_start = fields.Datetime(string="Start")
    missing = fields.Text(string="Still Missing", compute="_compute_missing")
    is_complete = fields.Boolean(string="Complete", compute="_compute_missing")

    @api.depends("action_id")
    def _compute_missing(self):
        for line in self:
            missing = line.action_id._missing_for_run() if line.action_id else []
            line.missing = "\n".join(missing) or False
            line.is_complete = not missing

    @api.constrains("wizard_id", "action_id")
    def _check_access_campaign(self):
        # constraints run as superuser: the user's own rights decide, so that a wizard never shows nor
        # works on a record its user may not read
        self.wizard_id.sudo(False).check_access("read")
        self.action_id.sudo(False).check_access("read")

    def _selection_schedule_type(self):
        return self.env["campaign.action"]._fields["schedule_type"]._description_selection(self.env)

    def action_open(self):
        """Open the action's form to edit its content (letter, landing page, webhook...)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "campaign.action",
            "res_id": self.action_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    def action_edit_email(self):
        self.ensure_one()
        return self.action_id.action_edit_email()
