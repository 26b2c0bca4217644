from odoo import api, models


class CampaignArchiveMixin(models.AbstractModel):
    """The web client offers Archive and Unarchive on any record whose ``active`` field is not
    read-only: that field is read-only to the users who may not change the records (accountants
    on campaigns, campaign users on touchpoint types), who are then not offered what they would
    be refused."""

    _name = "campaign.archive.mixin"
    _description = "Archiving offered to those who may change the records"

    @api.model
    def _has_field_access(self, field, operation):
        if operation == "write" and field.name == "active" and not self.env.su and not self.has_access("write"):
            return False
        return super()._has_field_access(field, operation)
