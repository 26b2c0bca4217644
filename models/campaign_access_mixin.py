from collections import defaultdict

from odoo import api, models, tools
from odoo.exceptions import AccessError, ValidationError
from odoo.fields import Command
from odoo.tools import frozendict

ADDON = "campaign_manager"
# Field types that point at other records.
LINK_TYPES = ("many2one", "many2many", "one2many", "many2one_reference")
# A link to one of these (a campaign and what it holds) needs the right to change it: a record only
# moves between campaigns its user may change, so that the campaign job never acts inside another.
CAMPAIGN_RECORD_MODELS = frozenset(
    {
        "campaign.campaign",
        "campaign.target",
        "campaign.action",
        "campaign.action.variant",
        "campaign.action.run",
        "campaign.touchpoint",
        "campaign.weblink",
        "campaign.calendar.item",
    }
)
# Records of Odoo that belong to one campaign (its UTM campaign, analytic account and project, an
# action's UTM source, the UTM source of a campaign's mailing), readable by every user: only those who
# may change that campaign (the record holding them) may link them, or renaming one's own record
# would rename the other campaign's, and its costs, leads and sales would be counted in one's own.
# {model: [(owner model, owner field, extra domain on the owners)]}
CAMPAIGN_OWNED_RECORDS = {
    "utm.campaign": [("campaign.campaign", "utm_campaign_id", [])],
    "utm.source": [
        ("campaign.action", "source_id", []),
        ("mailing.mailing", "source_id", [("campaign_action_id", "!=", False)]),
    ],
    "account.analytic.account": [("campaign.campaign", "analytic_account_id", [])],
    "project.project": [("campaign.campaign", "project_id", [])],
}


class CampaignAccessMixin(models.AbstractModel):
    """Access by construction for the links users write: every relational field that the addon
    defines on a model (and the Odoo fields whose meaning it changes, listed per model) is

    - either set by the engine only (``_campaign_engine_fields``, and every read-only one): users
      cannot set it through the ORM at all, only the addon's own code does (as superuser);
    - or checked on create and write against the user's own rights on the records it points to,
      record rules included: the right to change them for the records of a campaign
      (``CAMPAIGN_RECORD_MODELS``), to read them otherwise (``_campaign_read_fields`` lists the links
      to campaign records that only need reading), the right to change the campaign owning the
      UTM, analytic and project records of campaigns (``CAMPAIGN_OWNED_RECORDS``), the user
      themselves for ``_campaign_self_fields``.

    Refused values get the same translated error whether the record is out of reach or does not
    exist. Nothing is checked for the superuser (the engine, the addon's own code)."""

    _name = "campaign.access.mixin"
    _description = "Checked Links of Campaign Records"

    # Technical links set by the engine only (besides the read-only fields).
    _campaign_engine_fields = frozenset()
    # Fields of Odoo (not defined by the addon) whose meaning the addon changes: checked too.
    _campaign_checked_fields = frozenset()
    # Links to campaign records that only need the right to read them.
    _campaign_read_fields = frozenset()
    # Links that can only point at the user who writes.
    _campaign_self_fields = frozenset()

    @api.model_create_multi
    def create(self, vals_list):
        self._campaign_check_selections(vals_list)
        self._campaign_check_links(vals_list, create=True)
        return super(CampaignAccessMixin, self._campaign_without_engine_defaults()).create(vals_list)

    def write(self, vals):
        self._campaign_check_selections([vals])
        self._campaign_check_links([vals])
        return super().write(vals)

    # ------------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------------
    def _campaign_link(self, values):
        """Set technical links (engine fields) from the addon's own code, on records the current
        user may change: written as superuser, since users cannot set them."""
        self.check_access("write")
        self.sudo().write(values)
        return True

    @api.model
    @tools.ormcache()
    def _campaign_link_rules(self):
        """{field name: rule} of the links users may write, rule being ``engine``, ``write``,
        ``read`` or ``self``. A wizard holds what its user is doing: its links are only read."""
        rules = {}
        for name, field in self._fields.items():
            if name in self._campaign_engine_fields:
                rules[name] = "engine"
            elif field.type not in LINK_TYPES:
                continue
            elif ADDON not in field._modules and name not in self._campaign_checked_fields:
                continue  # Odoo's own field, as Odoo checks it
            elif name in self._campaign_self_fields:
                rules[name] = "self"
            elif self._transient and not field.related:
                rules[name] = "read"
            elif field.readonly or field.type == "many2one_reference":
                rules[name] = "engine"
            elif field.comodel_name in CAMPAIGN_RECORD_MODELS and name not in self._campaign_read_fields:
                rules[name] = "write"
            else:
                rules[name] = "read"
        return frozendict(rules)

    @api.model
    def _campaign_check_selections(self, vals_list):
        """A clear error for a value that is not one of a selection field's (the ORM would only
        answer a technical error)."""
        for vals in vals_list:
            for name, value in vals.items():
                field = self._fields.get(name)
                if not field or field.type != "selection" or value in (False, None):
                    continue
                if ADDON not in field._modules and name not in self._campaign_checked_fields:
                    continue
                choices = field._description_selection(self.env)
                if value not in dict(choices):
                    raise ValidationError(
                        self.env._(
                            "“%(value)s” is not a possible value of “%(field)s” (%(model)s): "
                            "choose one of %(choices)s.",
                            value=value,
                            field=field._description_string(self.env),
                            model=self._campaign_model_label(),
                            choices=", ".join(f"{key} ({label})" for key, label in choices),
                        )
                    )

    def _campaign_check_links(self, vals_list, create=False):
        """Refuse the values of ``vals_list`` (and, on create, the defaults of the context) that
        point where the current user may not, before anything is written."""
        if self.env.su:
            return
        rules = self._campaign_link_rules()
        context = self.env.context
        # the defaults of the context are values too (the engine's are dropped, see create)
        defaults = (
            {
                name: context[f"default_{name}"]
                for name, rule in rules.items()
                if rule != "engine" and f"default_{name}" in context
            }
            if create
            else {}
        )
        linked = defaultdict(set)  # field name -> ids
        for vals in vals_list:
            for name in rules.keys() & (set(vals) | set(defaults)):
                field = self._fields[name]
                value = vals[name] if name in vals else defaults[name]
                if rules[name] == "engine":
                    if self._campaign_changes(field, value, create):
                        raise AccessError(
                            self.env._(
                                "“%(field)s” (%(model)s) is set by the campaigns themselves: it cannot be set by hand.",
                                field=field._description_string(self.env),
                                model=self._campaign_model_label(),
                            )
                        )
                    continue
                linked[name].update(self._campaign_linked_ids(field, value))
        for name, ids in linked.items():
            if ids:
                self._campaign_check_reach(self._fields[name], rules[name], ids)

    @api.model
    def _campaign_without_engine_defaults(self):
        """The model without the defaults that the context gives to the engine's fields: they come
        from the screens the user came from (a campaign's ``default_campaign_id`` reaches its
        touchpoints), never set those fields."""
        if self.env.su:
            return self
        keys = {f"default_{name}" for name, rule in self._campaign_link_rules().items() if rule == "engine"}
        if not keys & set(self.env.context):
            return self
        # the keys must be gone, not emptied (an empty default would still be given to the field)
        context = {key: value for key, value in self.env.context.items() if key not in keys}
        return self.with_context(context)  # pylint: disable=context-overridden

    @api.model
    def _campaign_linked_ids(self, field, value):
        """Ids of the existing records ``value`` links to (created ones are checked by their model)."""
        if isinstance(value, models.BaseModel):
            return set(value._origin.ids)
        if field.type == "many2one":
            ids = {value} if value else set()
        else:
            ids = set()
            for command in value or ():
                if isinstance(command, (list, tuple)) and command:
                    if command[0] == Command.LINK:
                        ids.add(command[1])
                    elif command[0] == Command.SET:
                        ids.update(command[2] or ())
                else:
                    ids.add(command)
        if not all(isinstance(record_id, int) and not isinstance(record_id, bool) for record_id in ids):
            raise ValidationError(
                self.env._(
                    "“%(field)s” (%(model)s) can only be set to records given by their number.",
                    field=field._description_string(self.env),
                    model=self._campaign_model_label(),
                )
            )
        return ids

    def _campaign_changes(self, field, value, create):
        """Whether writing ``value`` would change the technical link ``field`` (an empty value on
        create, the current value on write, change nothing)."""
        if field.type in ("one2many", "many2many"):
            if not create:
                return bool(value)
            return bool(self._campaign_linked_ids(field, value)) or any(
                isinstance(command, (list, tuple)) and command and command[0] == Command.CREATE
                for command in value or ()
            )
        if isinstance(value, models.BaseModel):
            value = value.id
        if create:
            return bool(value)
        # the current values only, whatever the fields' groups
        current = {record[field.name].id if field.type == "many2one" else record[field.name] for record in self.sudo()}
        return bool(self) and current != {value or False}

    def _campaign_check_reach(self, field, rule, ids):
        """Refuse ``ids`` for ``field`` unless the current user may reach them by ``rule``."""
        records = self.env[field.comodel_name].browse(ids)
        allowed = len(records.exists()) == len(ids)
        if allowed and rule == "self":
            allowed = set(ids) == {self.env.uid}
        elif allowed:
            allowed = len(records._filtered_access(rule)) == len(ids) and self._campaign_owners_reachable(records)
        if allowed:
            return
        label = field._description_string(self.env)
        model = self._campaign_model_label()
        if rule == "self":
            message = self.env._("“%(field)s” (%(model)s) can only be yourself.", field=label, model=model)
        elif rule == "read":
            message = self.env._(
                "“%(field)s” (%(model)s) can only be set to records you may see: this one is out of your "
                "reach or does not exist.",
                field=label,
                model=model,
            )
        else:
            message = self.env._(
                "“%(field)s” (%(model)s) can only be set to records you may change: records move only "
                "between campaigns you may change, and this one is out of your reach or does not exist.",
                field=label,
                model=model,
            )
        raise AccessError(message)

    @api.model
    def _campaign_owners_reachable(self, records):
        """Whether the current user may change every campaign record owning ``records`` (see
        ``CAMPAIGN_OWNED_RECORDS``)."""
        for owner_model, owner_field, domain in CAMPAIGN_OWNED_RECORDS.get(records._name, ()):
            # the owners are looked for whoever they belong to: those out of reach are the point
            owners = (
                self.env[owner_model]
                .sudo()
                .with_context(active_test=False)
                .search([(owner_field, "in", records.ids), *domain])
            )
            if owners and len(owners.with_env(self.env)._filtered_access("write")) != len(owners):
                return False
        return True

    @api.model
    def _campaign_model_label(self):
        return self.env["ir.model"]._get(self._name).name or self._description
