from odoo import api, fields, models
from odoo.exceptions import ValidationError

# Contact fields a webhook may send: stored, simple, readable by every internal user.
WEBHOOK_FIELD_TYPES = (
    "boolean",
    "char",
    "date",
    "datetime",
    "float",
    "integer",
    "many2one",
    "monetary",
    "selection",
    "text",
)


class CampaignWebhookField(models.Model):
    """A contact field that webhook actions may send: the simple stored fields of ``res.partner``
    that every user may read. Internal users cannot read Odoo's field definitions
    (``ir.model.fields``), so the actions point at these records instead, the way CRM's lead
    scoring points at ``crm.lead.scoring.frequency.field``. They are kept in line with the
    contact's fields by :meth:`_sync` (at install and upgrade, and when a webhook action is made)."""

    _name = "campaign.webhook.field"
    _description = "Webhook Contact Field"
    _inherit = ["campaign.access.mixin"]
    _order = "label, id"
    _rec_name = "label"

    field_id = fields.Many2one("ir.model.fields", required=True, ondelete="cascade", index=True)
    name = fields.Char(string="Technical Name", related="field_id.name", store=True)
    label = fields.Char(related="field_id.field_description", string="Contact Field")
    ttype = fields.Selection(related="field_id.ttype", string="Type")

    _field_unique = models.UniqueIndex("(field_id)")

    @api.model
    def _eligible_domain(self):
        return [
            ("model", "=", "res.partner"),
            ("store", "=", True),
            ("groups", "=", False),
            ("ttype", "in", WEBHOOK_FIELD_TYPES),
        ]

    @api.constrains("field_id")
    def _check_field(self):
        # field definitions are readable by administrators only: checked as the system
        domain = [*self._eligible_domain(), ("id", "in", self.field_id.ids)]
        eligible = self.env["ir.model.fields"].sudo().search(domain)
        wrong = self.field_id - eligible
        if wrong:
            raise ValidationError(
                self.env._(
                    "A webhook can only send simple stored fields of the contact that every user may read; "
                    "not: %(fields)s",
                    fields=", ".join(wrong.mapped("field_description")),
                )
            )

    @api.model
    def _sync(self):
        """Add the contact fields that became eligible (a module installed since) and remove those
        that are no longer (a field restricted to a group, or gone). Runs as superuser: the list
        is the same for everyone and only the system maintains it."""
        model = self.sudo().with_context(active_test=False)
        eligible = self.env["ir.model.fields"].sudo().search(self._eligible_domain())
        existing = model.search([("field_id", "!=", False)])
        existing.filtered(lambda record: record.field_id not in eligible).unlink()
        missing = eligible - existing.field_id
        if missing:
            model.create([{"field_id": field.id} for field in missing])
        return True

    @api.model
    def _by_names(self, names):
        """The records of the contact fields named ``names`` (technical names), in that order."""
        records = self.sudo().search([("name", "in", list(names))])
        by_name = {record.name: record for record in records}
        return self.browse([by_name[name].id for name in names if name in by_name])
