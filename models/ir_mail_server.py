from odoo import fields, models


class IrMailServer(models.Model):
    _inherit = "ir.mail_server"

    campaign_limit_hour = fields.Integer(
        string="Campaign Emails per Hour",
        help="Most campaign emails queued through this server per hour (0: no limit), to respect the "
        "provider's limits. The rest waits for the next window; nothing is dropped.",
    )
    campaign_limit_day = fields.Integer(
        string="Campaign Emails per Day",
        help="Most campaign emails queued through this server per 24 hours (0: no limit).",
    )

    _campaign_limits_check = models.Constraint(
        "CHECK(COALESCE(campaign_limit_hour, 0) >= 0 AND COALESCE(campaign_limit_day, 0) >= 0)",
        "Sending limits cannot be negative.",
    )
