from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    campaign_revenue_source = fields.Selection(related="company_id.campaign_revenue_source", readonly=False)
    campaign_webhook_allow_private = fields.Boolean(
        string="Webhooks to Local Addresses",
        config_parameter="campaign_manager.webhook_allow_private",
        help="Allow campaign webhooks to call loopback, private and link-local addresses (servers of your "
        "own network). Leave it off unless you need it: otherwise any campaign user could make the server "
        "call internal services.",
    )
    campaign_webhook_allow_ports = fields.Boolean(
        string="Webhooks to Other Ports",
        config_parameter="campaign_manager.webhook_allow_ports",
        help="Allow campaign webhooks to call other ports than the https port 443. Leave it off unless a "
        "receiver needs it: other ports are those of services that are not web sites.",
    )
