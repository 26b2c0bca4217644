from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..const import ATTRIBUTION_MAX_DAYS, ATTRIBUTION_MODELS


class ResCompany(models.Model):
    _name = "res.company"
    # the pressure caps are links of the addon: checked against what the writer may reach
    _inherit = ["res.company", "campaign.access.mixin"]

    campaign_revenue_source = fields.Selection(
        selection=[
            ("invoiced", "Invoiced"),
            ("ordered", "Ordered"),
            ("won", "Won opportunities"),
        ],
        string="Campaign Revenue for ROI",
        default="invoiced",
        required=True,
        help="Revenue of a campaign used for its ROI: posted customer invoices net of credit notes, "
        "confirmed sale orders, or expected revenue of won opportunities (all untaxed, through the "
        "campaign's UTM campaign).",
    )
    campaign_attribution_model = fields.Selection(
        selection=ATTRIBUTION_MODELS,
        string="Attribution by Contact",
        default="last",
        required=True,
        help="How a customer invoice is shared between the campaigns that reached its buyer in the look-back "
        "window before it: all to the last touchpoint, all to the first, the same share to each, or 40 % to "
        "the first, 40 % to the last and 20 % shared by those between (position-based).",
    )
    campaign_attribution_days = fields.Integer(
        string="Attribution Look-back (days)",
        default=30,
        required=True,
        help="Days before an invoice in which the touchpoints carried out to its buyer share its revenue.",
    )

    @api.constrains("campaign_attribution_days")
    def _check_campaign_attribution_days(self):
        for company in self:
            if not 0 < company.campaign_attribution_days <= ATTRIBUTION_MAX_DAYS:
                raise ValidationError(
                    self.env._(
                        "The attribution look-back window must be between 1 and %(max)s days, not %(days)s.",
                        max=ATTRIBUTION_MAX_DAYS,
                        days=company.campaign_attribution_days,
                    )
                )

    campaign_pressure_count_mailings = fields.Boolean(
        string="Count Email Marketing's Mailings",
        help="The marketing pressure caps also count the emails and SMS of Email Marketing's own mailings "
        "(sent outside the campaigns) to the contacts, by contact or by email address.",
    )
    campaign_pressure_cap_ids = fields.One2many("campaign.pressure.cap", "company_id", string="Marketing Pressure Caps")
