from odoo import api, models


class MailingContact(models.Model):
    """Contacts created with their lists (``list_ids``, written straight into the subscriptions'
    table, as imports do) enrol like the subscriptions created one by one."""

    _inherit = "mailing.contact"

    @api.model_create_multi
    def create(self, vals_list):
        contacts = super().create(vals_list)
        if any("list_ids" in vals for vals in vals_list):
            contacts.subscription_ids._campaign_enrol()
        return contacts
