from odoo import models
from odoo.tools import SQL


class AccountMove(models.Model):
    """A customer invoice paid enrols its customer in the journeys listening to paid invoices, and
    takes them out of the journeys whose goal is a paid invoice."""

    _inherit = "account.move"

    def _invoice_paid_hook(self):
        result = super()._invoice_paid_hook()
        invoices = self.filtered(lambda move: move.move_type == "out_invoice")
        if invoices:
            self.env["campaign.enrolment"]._reach_goals("invoice_paid", invoices.partner_id.ids)
            self.env.flush_all()
            self.env["campaign.trigger"]._enrol_matching(
                "invoice_paid",
                SQL(
                    """SELECT t.id, am.partner_id, am.name
                         FROM account_move am
                         JOIN campaign_trigger t ON t.trigger_type = 'invoice_paid' AND t.company_id = am.company_id
                        WHERE am.id IN %s""",
                    tuple(invoices.ids),
                ),
            )
        return result
