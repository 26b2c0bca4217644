from odoo import api, fields, models
from odoo.exceptions import UserError


class CampaignActionDuplicate(models.TransientModel):
    """Copy actions into one or more other campaigns (seed 004 "Répliquer")."""

    _name = "campaign.action.duplicate"
    _description = "Duplicate Actions into Campaigns"
    _inherit = ["campaign.access.mixin"]

    action_ids = fields.Many2many("campaign.action", string="Actions", required=True)
    campaign_ids = fields.Many2many(
        "campaign.campaign",
        string="Into Campaigns",
        required=True,
        domain="[('state', 'not in', ('done', 'cancelled'))]",
    )

    @api.constrains("action_ids", "campaign_ids")
    def _check_access_campaign(self):
        # constraints run as superuser: the user's own rights decide, so that a wizard never shows nor
        # works on a record its user may not read
        self.action_ids.sudo(False).check_access("read")
        self.campaign_ids.sudo(False).check_access("read")

    def action_duplicate(self):
        self.ensure_one()
        closed = self.campaign_ids.filtered(lambda c: c.state in ("done", "cancelled"))
        if closed:
            raise UserError(
                self.env._(
                    "Actions cannot be added to finished or cancelled campaigns: %(names)s",
                    names=", ".join(closed.mapped("name")),
                )
            )
        copies = self.env["campaign.action"]
        for campaign in self.campaign_ids:
            copies |= self.action_ids._copy_to_campaign(campaign)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Duplicated Actions"),
            "res_model": "campaign.action",
            "view_mode": "list,form",
            "domain": [("id", "in", copies.ids)],
        }
