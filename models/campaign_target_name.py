from pathlib import PurePath

from odoo import api, models
from odoo.fields import Domain
from odoo.orm.domains import DomainAnd, DomainBool, DomainCondition, DomainNot, DomainOr

# Longest generated target name, in characters (a list shows about this much).
NAME_MAX_LENGTH = 80
# Contacts or lists named one by one before "and N more".
NAMES_SHOWN = 3


class CampaignTarget(models.Model):
    """The name a target gets when none is given: what it selects, in the user's language (the
    contacts picked, the filter in words, the lists, the file), never just its kind of source."""

    _inherit = "campaign.target"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not (vals.get("name") or "").strip():
                vals["name"] = self._name_from_values(vals)
        return super().create(vals_list)

    def write(self, vals):
        if "name" in vals and not (vals["name"] or "").strip():
            for target in self:
                super(CampaignTarget, target).write(
                    dict(vals, name=self._name_from_values({**target._name_values(), **vals}))
                )
            return True
        return super().write(vals)

    # ------------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------------
    def _name_values(self):
        """The values the name of the target is made from, as create() would receive them."""
        self.ensure_one()
        return {
            "source": self.source,
            "partner_domain": self.partner_domain,
            "lead_domain": self.lead_domain,
            "mailing_list_ids": [(6, 0, self.mailing_list_ids.ids)],
            "partner_ids": [(6, 0, self.partner_ids.ids)],
            "import_filename": self.import_filename,
        }

    @api.model
    def _name_from_values(self, vals):
        """A name for a target created with ``vals`` and no name: what it selects."""
        fields_given = {key: value for key, value in vals.items() if key in self._fields and key != "name"}
        return self.new(fields_given)._describe_selection()

    def _describe_selection(self):
        """What the target selects, in words and in the user's language, at most NAME_MAX_LENGTH long."""
        self.ensure_one()
        source = self.source or "filter"
        if source == "manual":
            text = self._describe_names(self.partner_ids.mapped("display_name")) or self.env._("Hand-picked contacts")
        elif source == "mailing_list":
            # sudo: the names of the lists given only (accountants cannot read mailing lists)
            text = self._describe_names(self.sudo().mailing_list_ids.mapped("name")) or self.env._("Mailing lists")
        elif source == "file":
            text = PurePath(self.import_filename).stem if self.import_filename else self.env._("Imported file")
        elif source == "lead":
            text = self.env._(
                "Leads: %(filter)s", filter=self._describe_domain(self.lead_domain, "crm.lead", self.env._("all"))
            )
        else:
            text = self._describe_domain(self.partner_domain, "res.partner", self.env._("All contacts"))
        text = " ".join(text.split())
        return text if len(text) <= NAME_MAX_LENGTH else text[: NAME_MAX_LENGTH - 1].rstrip() + "…"

    def _describe_names(self, names):
        """``names`` joined: "A, B and C", or "A, B, C and 4 more"."""
        names = [name for name in names if name]
        if not names:
            return ""
        if len(names) == 1:
            return names[0]
        if len(names) <= NAMES_SHOWN:
            return self.env._("%(names)s and %(last)s", names=", ".join(names[:-1]), last=names[-1])
        return self.env._(
            "%(names)s and %(count)s more", names=", ".join(names[:NAMES_SHOWN]), count=len(names) - NAMES_SHOWN
        )

    def _describe_domain(self, domain_text, model_name, empty_text):
        """A filter in words ("Tags: VIP and City contains Paris"), ``empty_text`` for no filter, the
        filter itself when it cannot be read."""
        domain, error = self._check_filter(domain_text, model_name)
        if error:
            return domain_text or empty_text
        tree = Domain(domain)
        if isinstance(tree, DomainBool):
            return empty_text if tree.value else self.env._("No contact")
        return self._describe_tree(tree, self.env[model_name])

    def _describe_tree(self, tree, model, nested=False):
        if isinstance(tree, DomainCondition):
            return self._describe_condition(tree, model)
        if isinstance(tree, DomainNot):
            return self.env._("not (%(condition)s)", condition=self._describe_tree(tree.child, model, nested=True))
        if isinstance(tree, (DomainAnd, DomainOr)):
            joiner = self.env._(" and ") if isinstance(tree, DomainAnd) else self.env._(" or ")
            text = joiner.join(self._describe_tree(child, model, nested=True) for child in tree.children)
            return f"({text})" if nested and isinstance(tree, DomainOr) else text
        return str(tree)

    def _describe_condition(self, condition, model):
        """One condition in words: the field's label (path labels joined by " > "), the operator, the
        value (record names for relations, labels for selections)."""
        labels, field, current = [], None, model
        for name in condition.field_expr.split("."):
            field = current._fields.get(name)
            if field is None:
                return f"{condition.field_expr} {condition.operator} {condition.value}"
            labels.append(field._description_string(self.env))
            if field.relational:
                current = self.env[field.comodel_name]
        label = " > ".join(labels)
        operator, value = condition.operator, condition.value
        if value is False or value is None or value == []:
            if operator in ("=", "in"):
                return self.env._("%(field)s is not set", field=label)
            if operator in ("!=", "not in"):
                return self.env._("%(field)s is set", field=label)
        if field.type == "boolean" and operator in ("=", "!="):
            positive = bool(value) == (operator == "=")
            return label if positive else self.env._("not %(field)s", field=label)
        text = self._describe_value(field, current, value)
        if operator in ("=", "in", "any"):
            return self.env._("%(field)s: %(value)s", field=label, value=text)
        if operator in ("!=", "not in", "not any"):
            return self.env._("%(field)s is not %(value)s", field=label, value=text)
        if operator in ("ilike", "like", "=ilike", "=like"):
            return self.env._("%(field)s contains %(value)s", field=label, value=text)
        if operator in ("not ilike", "not like"):
            return self.env._("%(field)s does not contain %(value)s", field=label, value=text)
        return f"{label} {operator} {text}"

    def _describe_value(self, field, comodel, value):
        if isinstance(value, Domain):
            return self._describe_tree(value, comodel, nested=True)
        values = list(value) if isinstance(value, (list, tuple, set)) else [value]
        if field.relational and values and all(isinstance(item, int) for item in values):
            # the names of the records the user may read (the others stay numbers)
            found = comodel.with_context(active_test=False).search([("id", "in", values)])
            names = dict(zip(found.ids, found.mapped("display_name"), strict=True))
            return self.env._(" or ").join(names.get(item, str(item)) for item in values)
        if field.type == "selection":
            labels = dict(field._description_selection(self.env))
            return self.env._(" or ").join(str(labels.get(item, item)) for item in values)
        return self.env._(" or ").join(str(item) for item in values)
