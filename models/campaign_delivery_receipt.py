from odoo import fields, models


class CampaignDeliveryReceipt(models.Model):
    """An email a delivery worker handed over to the mail server, recorded (and committed) the
    moment the server accepted it, before the next email of the batch is sent.

    The worker records the sent mails themselves (state, traces) once at the end of its batch; if it
    dies before, its batch is undone with its transaction but these receipts stay: the next worker
    to take those mails records them as sent instead of sending them again. A receipt lives as long
    as its batch (deleted with the batch's records), so the table stays small."""

    _name = "campaign.delivery.receipt"
    _description = "Campaign Delivery Receipt"
    _log_access = False

    mail_id = fields.Integer(string="Email", required=True, readonly=True, help="The mail.mail record sent.")
    message_id = fields.Char(string="Message-ID", readonly=True)
    date = fields.Datetime(string="Accepted On", required=True, readonly=True)

    _mail_uniq = models.Constraint("UNIQUE(mail_id)", "An email has one delivery receipt.")
