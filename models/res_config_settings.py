from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    campaign_revenue_source = fields.Selection(related="company_id.campaign_revenue_source", readonly=False)
