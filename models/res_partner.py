from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    campaign_touchpoint_ids = fields.One2many(
        "campaign.touchpoint", "partner_id", string="Campaign Touchpoints", readonly=True
    )
