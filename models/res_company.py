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
