from odoo import api, fields, models

TOUCHPOINT_STATES = [
    ("planned", "Planned"),
    ("sent", "Sent"),
    ("done", "Done"),
    ("opened", "Opened"),
    ("clicked", "Clicked"),
    ("replied", "Replied"),
    ("converted", "Converted"),
    ("bounced", "Bounced"),
    ("unsubscribed", "Unsubscribed"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]


class CampaignTouchpoint(models.Model):
    _name = "campaign.touchpoint"
    _description = "Campaign Touchpoint"
    _order = "id desc"
    _rec_name = "partner_id"
    _check_company_auto = True

    action_id = fields.Many2one("campaign.action", required=True, ondelete="restrict", index=True, check_company=True)
    campaign_id = fields.Many2one(
        "campaign.campaign", string="Campaign", related="action_id.campaign_id", store=True, index=True
    )
    company_id = fields.Many2one(related="action_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="action_id.currency_id", store=True)
    partner_id = fields.Many2one("res.partner", string="Contact", required=True, ondelete="restrict", index=True)
    channel = fields.Selection(string="Channel", related="action_id.channel", store=True)
    run_number = fields.Integer(
        string="Run", default=1, required=True, help="Run of the action that created this touchpoint (1 for the first)."
    )
    state = fields.Selection(selection=TOUCHPOINT_STATES, string="Status", required=True, default="planned", index=True)
    date_planned = fields.Datetime(string="Planned On", default=fields.Datetime.now)
    date_done = fields.Datetime(string="Sent On", help="When the message was sent or the item carried out.")
    date_opened = fields.Datetime(string="Opened On")
    date_clicked = fields.Datetime(string="Clicked On")
    date_replied = fields.Datetime(string="Replied On")
    unit_cost = fields.Monetary(currency_field="currency_id", help="Variable cost of the action for this contact.")
    res_model = fields.Char(string="Carried by Model", help="Technical name of the record that carried the touchpoint.")
    res_id = fields.Many2oneReference(string="Carried by Record", model_field="res_model")
    failure_reason = fields.Text()

    _action_run_partner_uniq = models.Constraint(
        "UNIQUE(action_id, run_number, partner_id)",
        "A contact is reached only once per run of an action.",
    )
    _campaign_state_idx = models.Index("(campaign_id, state)")

    @api.model_create_multi
    def create(self, vals_list):
        actions = self.env["campaign.action"].browse({vals["action_id"] for vals in vals_list if vals.get("action_id")})
        unit_costs = {action.id: action.unit_cost for action in actions}
        for vals in vals_list:
            vals.setdefault("unit_cost", unit_costs.get(vals.get("action_id"), 0.0))
        return super().create(vals_list)

    def action_open_record(self):
        self.ensure_one()
        if not self.res_model or not self.res_id:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }
