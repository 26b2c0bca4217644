from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

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
    campaign_pressure_count_mailings = fields.Boolean(
        string="Count Email Marketing's Mailings",
        help="The marketing pressure caps also count the emails and SMS of Email Marketing's own mailings "
        "(sent outside the campaigns) to the contacts, by contact or by email address.",
    )
    campaign_pressure_cap_ids = fields.One2many("campaign.pressure.cap", "company_id", string="Marketing Pressure Caps")
