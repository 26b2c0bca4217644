from odoo import api, fields, models
from odoo.exceptions import UserError


class CampaignCampaignDuplicate(models.TransientModel):
    """Duplicate a campaign (seed 004): settings, targets, budget, tracking options and actions,
    dates shifted on request; no touchpoints nor results."""

    _name = "campaign.campaign.duplicate"
    _description = "Duplicate a Campaign"
    _inherit = ["campaign.access.mixin"]

    campaign_id = fields.Many2one("campaign.campaign", required=True, ondelete="cascade")
    name = fields.Char(string="New Name", required=True, compute="_compute_name", store=True, readonly=False)
    new_date_start = fields.Date(
        string="New Start Date",
        help="Leave empty to keep the dates; otherwise every date of the campaign and its actions "
        "is shifted by the same number of days.",
    )

    @api.depends("campaign_id")
    def _compute_name(self):
        for wizard in self:
            wizard.name = wizard.campaign_id._unique_copy_name() if wizard.campaign_id else False

    @api.constrains("campaign_id")
    def _check_access_campaign(self):
        # constraints run as superuser: the user's own rights decide, so that a wizard never shows nor
        # works on a record its user may not read
        self.campaign_id.sudo(False).check_access("read")

    def action_duplicate(self):
        self.ensure_one()
        campaign = self.campaign_id
        taken = (
            self.env["campaign.campaign"]
            .with_context(active_test=False)
            .sudo()  # names are unique per company, whoever may see the other campaign
            .search_count([("name", "=", self.name), ("company_id", "=", campaign.company_id.id)], limit=1)
        )
        if taken:
            raise UserError(
                self.env._(
                    "A campaign named %(name)s already exists in this company: campaign names must be unique.",
                    name=self.name,
                )
            )
        shift = None
        if self.new_date_start and campaign.date_start:
            shift = (self.new_date_start - campaign.date_start).days
        new_campaign = campaign.with_context(campaign_date_shift=shift).copy({"name": self.name})
        if self.new_date_start and not campaign.date_start:
            new_campaign.date_start = self.new_date_start
        return {
            "type": "ir.actions.act_window",
            "res_model": "campaign.campaign",
            "res_id": new_campaign.id,
            "view_mode": "form",
        }
