from odoo import fields, models

from .campaign_delivery import MAX_DELIVERY_WORKERS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    campaign_revenue_source = fields.Selection(related="company_id.campaign_revenue_source", readonly=False)
    campaign_attribution_model = fields.Selection(related="company_id.campaign_attribution_model", readonly=False)
    campaign_attribution_days = fields.Integer(related="company_id.campaign_attribution_days", readonly=False)
    campaign_pressure_count_mailings = fields.Boolean(
        related="company_id.campaign_pressure_count_mailings", readonly=False
    )
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
    campaign_delivery_workers = fields.Integer(
        string="Delivery Workers",
        compute="_compute_campaign_delivery_workers",
        inverse="_inverse_campaign_delivery_workers",
        readonly=False,
        help="Scheduled jobs sending the campaigns' emails and SMS in parallel (at most "
        f"{MAX_DELIVERY_WORKERS}). Each one needs a scheduler worker of Odoo: run it with "
        "--max-cron-threads of at least this number plus one, or on several servers sharing the database.",
    )

    def _compute_campaign_delivery_workers(self):
        count = self.env["campaign.delivery"]._worker_count() or 1
        for settings in self:
            settings.campaign_delivery_workers = count

    def _inverse_campaign_delivery_workers(self):
        for settings in self:
            # the jobs are technical records; only administrators reach these settings
            self.env["campaign.delivery"].sudo()._sync_worker_crons(settings.campaign_delivery_workers)
