from odoo import api, fields, models
from odoo.exceptions import UserError


class CampaignCampaignExpense(models.TransientModel):
    """Tie existing expenses to a campaign from the campaign: the campaign is set on each expense,
    as on the expense's own form (its analytic distribution then goes to the campaign's account).
    Expenses' own rules decide which expenses the user may change."""

    _name = "campaign.campaign.expense"
    _description = "Tie Expenses to a Campaign"
    _inherit = ["campaign.access.mixin"]

    campaign_id = fields.Many2one("campaign.campaign", required=True, readonly=True, ondelete="cascade")
    company_id = fields.Many2one(related="campaign_id.company_id")
    expense_ids = fields.Many2many(
        "hr.expense",
        string="Expenses",
        domain="[('campaign_id', '=', False), ('company_id', '=', company_id), "
        "('state', 'in', ('draft', 'submitted', 'approved'))]",
        help="Expenses not tied to a campaign yet, until they are posted.",
    )

    @api.constrains("campaign_id", "expense_ids")
    def _check_access_campaign(self):
        # constraints run as superuser: the user's own rights decide, so that a wizard never shows nor
        # works on a record its user may not read, nor holds expenses they may not change
        self.campaign_id.sudo(False).check_access("read")
        self.expense_ids.sudo(False).check_access("write")

    def action_tie(self):
        self.ensure_one()
        if not self.expense_ids:
            raise UserError(self.env._("Add the expenses to tie to the campaign %(name)s.", name=self.campaign_id.name))
        # as the user: Expenses' rules and the expense's own checks apply
        self.expense_ids.write({"campaign_id": self.campaign_id.id})
        return {"type": "ir.actions.act_window_close"}
