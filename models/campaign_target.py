import ast
import logging

import psycopg2

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL, mute_logger

from ..const import REACH_SELECTION

_logger = logging.getLogger(__name__)

# Exclusion reasons, in the order they are checked: a contact is counted under the first that applies.
EXCLUSION_REASONS = [
    ("archived", "Archived contact"),
    ("no_address", "No usable address for the channel"),
    ("blacklisted", "Blacklisted"),
    ("opted_out", "Opted out"),
    ("already_reached", "Already reached"),
    ("duplicate", "Duplicate address"),
    ("held_out", "Held out (control group)"),
    ("pressure", "Marketing pressure"),
]

# Longest filter accepted, in characters (Odoo reads no longer expression): a list of ids that long
# is a hand-picked or imported target, or a tag, not a filter.
FILTER_MAX_LENGTH = 100000
# Fields whose change makes the filter the current user's (see filter_user_id).
FILTER_FIELDS = {"source", "partner_domain", "lead_domain"}

IMPORT_BATCH = 1000


class CampaignTarget(models.Model):
    _name = "campaign.target"
    _description = "Campaign Target"
    _inherit = ["campaign.access.mixin"]
    # whoever saves a filter applies it (see create and write): never someone else
    _campaign_self_fields = frozenset({"filter_user_id"})
    _order = "campaign_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True)
    sequence = fields.Integer(default=10)
    campaign_id = fields.Many2one(
        "campaign.campaign", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one(related="campaign_id.company_id", store=True, index=True)
    source = fields.Selection(
        selection=[
            ("filter", "Contact filter"),
            ("mailing_list", "Mailing lists"),
            ("lead", "CRM leads filter"),
            ("file", "Imported file"),
            ("manual", "Hand-picked contacts"),
        ],
        required=True,
        default="filter",
        help="Where the recipients come from.",
    )
    target_type = fields.Selection(
        selection=[("static", "Static"), ("dynamic", "Dynamic")],
        string="Kind",
        required=True,
        default="dynamic",
        help="A dynamic target is read again at each run (new contacts matching the filter are "
        "included). A static target is a snapshot of its contacts taken when you click Take Snapshot "
        "(or automatically at the first calculation). Imported files and hand-picked contacts are "
        "always static.",
    )
    partner_domain = fields.Char(
        string="Contact Filter",
        default="[]",
        help="Contacts matching this filter are targeted.",
    )
    lead_domain = fields.Char(
        string="Leads Filter",
        default="[]",
        help="The customers of the leads and opportunities matching this filter are targeted; "
        "a contact is created for leads without one.",
    )
    filter_user_id = fields.Many2one(
        "res.users",
        string="Filter Applied As",
        readonly=True,
        copy=False,
        help="The filter finds what this user may see, also when the campaign job applies it: the user "
        "who last saved it. A filter this user may no longer apply stops the actions using the target, "
        "with the reason.",
    )
    mailing_list_ids = fields.Many2many(
        "mailing.list",
        "campaign_target_mailing_list_rel",
        "target_id",
        "list_id",
        string="Mailing Lists",
        help="Subscribers of these lists are targeted; a contact is created for subscribers "
        "without one. Subscribers who opted out are excluded.",
    )
    partner_ids = fields.Many2many(
        "res.partner",
        "campaign_target_partner_rel",
        "target_id",
        "partner_id",
        string="Contacts",
        copy=True,
        help="Hand-picked or imported contacts, or the snapshot of a static target.",
    )
    snapshot_date = fields.Datetime(
        string="Snapshot Taken On",
        readonly=True,
        copy=False,
        help="When the contacts of this static target were frozen.",
    )
    reach = fields.Selection(
        selection=REACH_SELECTION,
        string="Who to Reach",
        required=True,
        default="contacts",
        help="Contacts as found: the contacts of the source, as they are. Companies: the companies of "
        "the contacts found (a contact person is replaced by their company; private individuals are "
        "left out). Contact persons: the persons found, plus the contact persons of the companies "
        "found. Both: the companies and their contact persons.",
    )
    person_function = fields.Char(
        string="Job Position Contains",
        help="Only the contact persons of the companies whose job position contains this text "
        "(e.g. Purchas). Persons found directly in the source are always kept.",
    )
    person_category_ids = fields.Many2many(
        "res.partner.category",
        "campaign_target_person_category_rel",
        "target_id",
        "category_id",
        string="Person Tags",
        help="Only the contact persons of the companies who have one of these tags.",
    )

    # ------------------------------------------------------------------
    # CONSTRAINTS AND ONCHANGE
    # ------------------------------------------------------------------
    @api.constrains("source", "partner_domain", "lead_domain")
    def _check_domains(self):
        for target in self.filtered(lambda t: t.source in ("filter", "lead")):
            target._parse_domain(execute=True)

    @api.constrains("source", "target_type")
    def _check_static_sources(self):
        for target in self:
            if target.source in ("file", "manual") and target.target_type != "static":
                raise ValidationError(
                    self.env._(
                        "Imported and hand-picked targets are static: their contacts do not change by themselves."
                    )
                )

    @api.onchange("source")
    def _onchange_source(self):
        if self.source in ("file", "manual"):
            self.target_type = "static"

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("source") in ("file", "manual"):
                vals["target_type"] = "static"
            # whoever saves a filter applies it: someone else given in the values is refused
            vals.setdefault("filter_user_id", self.env.uid)
        self._check_import_file_given(vals_list)
        targets = super().create(vals_list)
        targets.filtered("import_file").action_import_file()
        # list subscribers and leads get their contact now, so that the figures shown on the
        # campaign count them as Calculate and the runs will
        targets.filtered(lambda t: t.source in ("mailing_list", "lead"))._sync_source_partners()
        return targets

    def write(self, vals):
        if vals.get("source") in ("file", "manual"):
            vals["target_type"] = "static"
        if FILTER_FIELDS & set(vals):
            vals.setdefault("filter_user_id", self.env.uid)
        self._check_import_file_given([vals])
        res = super().write(vals)
        if vals.get("import_file"):
            self.filtered("import_file").action_import_file()
        if {"source", "mailing_list_ids", "lead_domain"} & set(vals):
            self.filtered(lambda t: t.source in ("mailing_list", "lead"))._sync_source_partners()
        return res

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_take_snapshot(self):
        """Freeze the contacts of static targets built from a filter, lists or leads."""
        for target in self:
            if target.source in ("file", "manual"):
                continue
            target._sync_source_partners()
            live = target._live_partner_ids_sql()
            self.env.cr.execute(SQL("DELETE FROM campaign_target_partner_rel WHERE target_id = %s", target.id))
            self.env.cr.execute(
                SQL(
                    """INSERT INTO campaign_target_partner_rel (target_id, partner_id)
                       SELECT DISTINCT %s, partner_id FROM (%s) AS t(partner_id)
                       WHERE partner_id IS NOT NULL""",
                    target.id,
                    live,
                )
            )
            target.snapshot_date = fields.Datetime.now()
        self.invalidate_recordset(["partner_ids"])
        self._invalidate_audience()
        return True

    def action_remove_from_order(self):
        """Remove the targets from within the order wizard (context ``campaign_order_id``), whose
        figures are brought up to date; the web client then reloads it where it is."""
        order = self.env["campaign.campaign.order"].browse(self.env.context.get("campaign_order_id")).exists()
        self.unlink()
        order._refresh_counts()
        return True

    # ------------------------------------------------------------------
    # RECIPIENTS (set-based)
    # ------------------------------------------------------------------
    def _filter_model_name(self):
        self.ensure_one()
        return "crm.lead" if self.source == "lead" else "res.partner"

    def _parse_domain(self, execute=False):
        """The target's filter (contacts or leads) as a domain list, checked with the rights of the
        user who saved it.

        :param bool execute: also run it once, to catch what only the database refuses
        :raise ValidationError: saying what is wrong with it
        """
        self.ensure_one()
        text = self.lead_domain if self.source == "lead" else self.partner_domain
        domain, error = self._check_filter(text, self._filter_model_name(), self.filter_user_id, execute=execute)
        if error:
            raise ValidationError(
                self.env._(
                    "The filter of the target “%(target)s” is not valid: %(error)s", target=self.name, error=error
                )
            )
        return domain

    def _filter_error(self):
        """Why the target's filter cannot be applied (any more) by the user who saved it, translated,
        or False."""
        self.ensure_one()
        if self.source not in ("filter", "lead"):
            return False
        text = self.lead_domain if self.source == "lead" else self.partner_domain
        return self._check_filter(text, self._filter_model_name(), self.filter_user_id)[1]

    @api.model
    def _filter_model(self, model_name, user=None):
        """The model a filter is applied on, with the access rights of ``user`` (the current user by
        default): the campaign job, which runs as superuser, finds what the filter's author may see.
        All the user's companies count, whatever companies the current session has enabled."""
        model = self.env[model_name]
        if user:
            model = model.with_env(self.env(user=user.id, su=False)).with_context(allowed_company_ids=False)
        return model

    @api.model
    def _check_filter(self, domain_text, model_name, user=None, execute=False):
        """Check a filter written by ``user`` (default: the current user) on ``model_name``: its size,
        its syntax, the fields and models it reads, and the user's rights on them (record rules
        included, as the filter is applied with them).

        :param bool execute: also run the query once (values the database refuses)
        :return: (domain list, False), or (None, the translated reason it is refused)
        """
        text = domain_text or "[]"
        if len(text) > FILTER_MAX_LENGTH:
            return None, self.env._(
                "it is too long (%(length)s characters, at most %(max)s). To reach a long list of "
                "contacts, pick them by hand, import them from a file, or give them a tag and filter on it.",
                length=len(text),
                max=FILTER_MAX_LENGTH,
            )
        model = self._filter_model(model_name, user)
        try:
            domain = ast.literal_eval(text)
            if not isinstance(domain, (list, tuple)):
                raise ValueError(self.env._("a filter is a list of conditions"))
            domain = list(domain)
            self._check_filter_access(Domain(domain), model)
            query = model.with_context(active_test=False)._search(Domain(domain), limit=1)
            if execute:
                self.env.flush_all()
                with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                    self.env.cr.execute(query.select())
        except (ValueError, SyntaxError, TypeError, KeyError, RecursionError, UserError) as error:
            return None, str(error.args[0] if error.args else error)
        except (psycopg2.DataError, psycopg2.ProgrammingError) as error:
            return None, self.env._("the database refuses it (%(error)s)", error=str(error).splitlines()[0])
        return domain, False

    @api.model
    def _check_filter_access(self, domain, model):
        """Refuse the fields and models of the domain the user of ``model``'s environment may not read,
        along every path (searching on some computed fields would skip Odoo's own check).

        :raise AccessError: naming the field or model refused
        """
        for condition in domain.iter_conditions():
            current = model
            for name in condition.field_expr.split("."):
                field = current._fields.get(name)
                if field is None:
                    break  # not a field: the search says what is wrong
                current._check_field_access(field, "read")
                if not field.relational:
                    break
                current = current.env[field.comodel_name]
                current.check_access("read")
            else:  # the path ends on a relation: its sub-filter is read on the related model
                if condition.operator in ("any", "not any", "any!", "not any!"):
                    value = condition.value
                    if isinstance(value, (list, tuple)):
                        value = Domain(list(value))
                    if isinstance(value, Domain):
                        self._check_filter_access(value, current)

    def _live_partner_ids_sql(self):
        """SQL selecting the partner ids the target's source gives right now (one column)."""
        self.ensure_one()
        if self.source == "filter":
            domain = self._parse_domain()
            # Archived contacts are included so that they are counted as excluded, with their reason.
            model = self._filter_model("res.partner", self.filter_user_id)
            query = model.with_context(active_test=False)._search(domain)
            return query.select()
        if self.source == "lead":
            domain = self._parse_domain()
            query = self._filter_model("crm.lead", self.filter_user_id)._search(domain)
            return query.select(SQL.identifier(query.table, "partner_id"))
        if self.source == "mailing_list":
            # sudo: only the ids of the target's lists, for the count; accountants read campaigns
            # without Email Marketing's right to read mailing lists.
            list_ids = self.sudo().mailing_list_ids.ids
            if not list_ids:
                return SQL("SELECT NULL::integer WHERE FALSE")
            # Lists are read through subscriptions; the partner is matched on the normalised email.
            return SQL(
                """SELECT p.id
                     FROM mailing_subscription s
                     JOIN mailing_contact mc ON mc.id = s.contact_id
                     JOIN res_partner p ON p.email_normalized = mc.email_normalized
                    WHERE s.list_id IN %s""",
                tuple(list_ids),
            )
        return SQL("SELECT partner_id FROM campaign_target_partner_rel WHERE target_id = %s", self.id)

    def _partner_ids_sql(self):
        """SQL selecting the partner ids of the target: its snapshot when static, its source when dynamic."""
        self.ensure_one()
        if self.target_type == "static" and (self.source in ("file", "manual") or self.snapshot_date):
            return SQL("SELECT partner_id FROM campaign_target_partner_rel WHERE target_id = %s", self.id)
        return self._live_partner_ids_sql()

    def _sync_source_partners(self):
        """Create the contacts that lists and leads need: subscribers and leads without a partner.
        Batched; idempotent (a second call creates nothing).

        The contacts are made as the campaign job makes them, with the system's rights (sudo below):
        a campaign user without Odoo's "Contact Creation" right may calculate, launch, or save a
        target of lists or leads; only the subscribers of the target's lists and the leads its
        filter finds (with its author's rights) get a contact, from their own name and email."""
        for target in self:
            list_ids = target.sudo().mailing_list_ids.ids  # sudo: ids only (accountants cannot read lists)
            if target.source == "mailing_list" and list_ids:
                self._create_subscriber_partners(SQL("s.list_id IN %s", tuple(list_ids)))
            elif target.source == "lead":
                domain = target._parse_domain()
                leads = target._filter_model("crm.lead", target.filter_user_id).search(
                    Domain.AND([domain, [("partner_id", "=", False)]])
                )
                if leads:
                    # the contacts of the leads the filter's author may see, created as the job does
                    leads.sudo()._handle_partner_assignment(create_missing=True)

    @api.model
    def _create_subscriber_partners(self, condition):
        """Create a contact for each subscriber of the subscriptions meeting ``condition`` (SQL on
        mailing_subscription aliased ``s``) whose email no contact has, from their own name and
        email (and country, for the splits on it), with the system's rights (see
        ``_sync_source_partners``). Batched; idempotent."""
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT ON (mc.email_normalized) mc.name, mc.email, mc.company_name, mc.country_id
                     FROM mailing_subscription s
                     JOIN mailing_contact mc ON mc.id = s.contact_id
                    WHERE %s AND mc.email_normalized IS NOT NULL
                      AND NOT EXISTS (
                          SELECT 1 FROM res_partner p WHERE p.email_normalized = mc.email_normalized)
                    ORDER BY mc.email_normalized, mc.id""",
                condition,
            )
        )
        rows = self.env.cr.fetchall()
        for start in range(0, len(rows), IMPORT_BATCH):
            self.env["res.partner"].sudo().create(
                [
                    {"name": name or email, "email": email, "company_name": company or False, "country_id": country}
                    for name, email, company, country in rows[start : start + IMPORT_BATCH]
                ]
            )

    def _prepare_for_run(self):
        """Bring sources up to date before recipients are resolved (snapshot of new static targets)."""
        self._sync_source_partners()
        self.filtered(
            lambda t: t.target_type == "static" and t.source not in ("file", "manual") and not t.snapshot_date
        ).action_take_snapshot()
        self._invalidate_audience()
