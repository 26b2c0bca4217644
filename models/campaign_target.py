import ast
import base64
import binascii
import csv
import io
import logging
import time

import psycopg2

from odoo import api, fields, models
from odoo.addons.phone_validation.tools import phone_validation
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL, email_normalize, mute_logger

from .campaign_action import AUDIENCE_LESS_CHANNELS, REACH_SELECTION

_logger = logging.getLogger(__name__)

# Exclusion reasons, in the order they are checked: a contact is counted under the first that applies.
EXCLUSION_REASONS = [
    ("archived", "Archived contact"),
    ("no_address", "No usable address for the channel"),
    ("blacklisted", "Blacklisted"),
    ("opted_out", "Opted out"),
    ("already_reached", "Already reached"),
    ("duplicate", "Duplicate address"),
]

# Channels that send something to the contact, for which opt-outs apply.
OPT_OUT_CHANNELS = {"email", "sms", "letter", "landing", "event"}

# Longest filter accepted, in characters (Odoo reads no longer expression): a list of ids that long
# is a hand-picked or imported target, or a tag, not a filter.
FILTER_MAX_LENGTH = 100000
# Fields whose change makes the filter the current user's (see filter_user_id).
FILTER_FIELDS = {"source", "partner_domain", "lead_domain"}

IMPORT_BATCH = 1000
IMPORT_MAX_ROWS = 200000
# Files up to this many rows are imported at once; bigger ones by the campaign job, in batches that
# commit and resume where they stopped.
IMPORT_SYNC_MAX = 2000
IMPORT_COLUMNS = ("name", "email", "phone", "street", "zip", "city", "country")
# A cell starting with one of these is a spreadsheet formula, never a name or a phone number.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


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
    import_file = fields.Binary(string="File to Import", attachment=False, copy=False)
    import_filename = fields.Char(string="File Name", copy=False)
    import_summary = fields.Text(string="Last Import", readonly=True, copy=False)
    import_state = fields.Selection(
        selection=[("queued", "Importing"), ("done", "Imported"), ("failed", "Failed")],
        readonly=True,
        copy=False,
        help="Big files are imported in the background by the campaign job; the target cannot run before.",
    )
    import_done = fields.Integer(string="Rows Imported", readonly=True, copy=False)
    import_total = fields.Integer(string="Rows in File", readonly=True, copy=False)
    import_stats = fields.Json(readonly=True, copy=False)
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
    # The target's share of the campaign's audience (see campaign.campaign's audience fields), for
    # the channel the campaign's audience is counted for.
    recipient_count = fields.Integer(
        string="Found",
        compute="_compute_audience",
        help="Distinct contacts the target selects right now (companies and contact persons expanded as "
        "it says), before any exclusion: opted-out subscribers, blacklisted or archived contacts are "
        "counted here, and a contact also found in another target too.",
    )
    reachable_count = fields.Integer(
        string="Reachable Now",
        compute="_compute_audience",
        help="Contacts of this target the campaign can reach right now on the channel it is counted for. "
        "A contact found in several targets counts in each; the campaign's Reachable Now counts them once.",
    )
    excluded_count = fields.Integer(
        string="Excluded",
        compute="_compute_audience",
        help="Contacts of this target left out on the channel counted (Found - Reachable Now): archived, "
        "without usable address, blacklisted, opted out, already reached or sharing an address with "
        "another contact. Calculate on the campaign shows how many for each reason.",
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("campaign_id.audience_figures")
    def _compute_audience(self):
        """From the figures of the target's campaign, computed once for all its targets."""
        for target in self:
            if not target.id:
                target.recipient_count = len(target.partner_ids)
                target.reachable_count = target.excluded_count = 0
                continue
            counts = (target.campaign_id._origin.audience_figures or {}).get("by_target", {}).get(str(target.id))
            counts = counts or {"found": 0, "reachable": 0}  # a filter that cannot be applied: counts nothing
            target.recipient_count = counts["found"]
            target.reachable_count = counts["reachable"]
            target.excluded_count = counts["found"] - counts["reachable"]

    def _invalidate_audience(self):
        """Forget the audience figures of the targets' campaigns (contacts changed behind the ORM)."""
        campaigns = self.campaign_id
        campaigns.invalidate_recordset(["audience_channel", "audience_size", "audience_excluded", "audience_figures"])
        campaigns.target_ids.invalidate_recordset(["recipient_count", "reachable_count", "excluded_count"])

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

    @api.model
    def _check_import_file_given(self, vals_list):
        """A file of no bytes (an empty text rather than no file) is refused as an empty file."""
        if any(vals.get("import_file") in ("", b"") for vals in vals_list):
            raise UserError(self.env._("The file is empty."))

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

    def action_import_file(self):
        """Import the contacts of a CSV file (name, email, phone, street, zip, city, country columns):
        existing contacts are matched by email (or phone), the others created, and all are added to
        the target. Big files are queued for the campaign job, which imports them in batches."""
        for target in self:
            if not target.import_file:
                raise UserError(self.env._("Choose a file to import first."))
            rows, headers = target._read_import_file()
            target.write(
                {
                    "source": "file",
                    "import_state": "queued",
                    "import_done": 0,
                    "import_total": len(rows),
                    "import_stats": {"ignored": [h for h in headers if h and h not in IMPORT_COLUMNS]},
                }
            )
            if len(rows) <= IMPORT_SYNC_MAX:
                target._import_next_batch(rows, len(rows), set())
            else:
                target.import_summary = target._import_progress_text()
                # triggering a cron only sets a date: no rights on the cron needed
                self.env.ref("campaign_manager.ir_cron_campaign_process").sudo()._trigger()
        return True

    def action_remove_from_order(self):
        """Remove the targets from within the order wizard (context ``campaign_order_id``), whose
        figures are brought up to date; the web client then reloads it where it is."""
        order = self.env["campaign.campaign.order"].browse(self.env.context.get("campaign_order_id")).exists()
        self.unlink()
        order._refresh_counts()
        return True

    def action_view_recipients(self):
        self.ensure_one()
        query = self._reached_partner_ids_sql()
        self.env.cr.execute(SQL("SELECT DISTINCT partner_id FROM (%s) AS t(partner_id)", query))
        partner_ids = [row[0] for row in self.env.cr.fetchall()]
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Recipients of %(target)s", target=self.name),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": [("id", "in", partner_ids)],
            "context": {"active_test": False},
        }

    def action_view_reachable(self):
        """The contacts of the target the campaign can reach right now (its Reachable Now)."""
        self.ensure_one()
        campaign = self.campaign_id
        channel = campaign._audience_default_channel()
        targets = campaign.target_ids.filtered(lambda t: not t._filter_error())
        partner_ids = []
        if self in targets:
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    """SELECT c.partner_id FROM (%s) AS c
                        WHERE c.reason IS NULL
                          AND c.partner_id IN (SELECT partner_id FROM (%s) AS t(partner_id))""",
                    targets._classified_sql(channel),
                    self._reached_partner_ids_sql(),
                )
            )
            partner_ids = [row[0] for row in self.env.cr.fetchall()]
        labels = dict(campaign._fields["audience_channel"]._description_selection(self.env))
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reachable now in %(target)s (%(channel)s)", target=self.name, channel=labels[channel]),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": [("id", "in", partner_ids)],
        }

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

    def _reach_settings(self, action=None):
        """Whom to reach among the contacts found: the action's choice when it overrides the
        targets', else the target's.

        :return: (reach key, job position text, res.partner.category recordset)
        """
        self.ensure_one()
        source = action if action and action.reach and action.reach != "target" else self
        return source.reach or "contacts", source.person_function, source.person_category_ids

    def _reached_partner_ids_sql(self, action=None):
        """SQL selecting the partner ids the target reaches (one column): its contacts, expanded to
        their companies and/or the companies' contact persons as the reach settings say."""
        self.ensure_one()
        reach, function, categories = self._reach_settings(action)
        return self._expand_reach_sql(self._partner_ids_sql(), reach, function, categories)

    @api.model
    def _expand_reach_sql(self, base, reach, function=False, categories=None):
        """Expand the partner ids selected by ``base`` (one column) in SQL.

        :param SQL base: query of one column of res.partner ids
        :param str reach: a REACH_SELECTION key; ``contacts`` returns ``base`` unchanged
        :param str function: keep only the companies' contact persons whose job position contains it
        :param categories: res.partner.category recordset; keep only the companies' contact persons
            having one of them
        :return: SQL of one column of res.partner ids, without duplicates
        """
        if reach not in ("companies", "persons", "both"):
            return base
        parts = []
        if reach in ("companies", "both"):
            # the company of each contact found (itself for a company): commercial_partner_id
            parts.append(
                SQL(
                    """SELECT DISTINCT cp.id FROM base
                         JOIN res_partner p ON p.id = base.partner_id
                         JOIN res_partner cp ON cp.id = p.commercial_partner_id
                        WHERE cp.is_company"""
                )
            )
        if reach in ("persons", "both"):
            domain = []
            if function:
                domain.append(("function", "ilike", function))
            if categories:
                domain.append(("category_id", "in", categories.ids))
            person_filter = (
                SQL("ch.id IN (%s)", self.env["res.partner"]._search(domain).select()) if domain else SQL("TRUE")
            )
            parts.append(
                SQL(
                    """SELECT p.id FROM base
                         JOIN res_partner p ON p.id = base.partner_id
                        WHERE NOT p.is_company
                       UNION
                       SELECT ch.id FROM base
                         JOIN res_partner co ON co.id = base.partner_id AND co.is_company
                         JOIN res_partner ch ON ch.commercial_partner_id = co.id AND ch.id != co.id
                        WHERE NOT ch.is_company AND ch.type = 'contact' AND ch.active AND %s""",
                    person_filter,
                )
            )
        return SQL(
            """WITH base AS (SELECT DISTINCT partner_id FROM (%s) AS b(partner_id) WHERE partner_id IS NOT NULL)
               %s""",
            base,
            SQL(" UNION ").join(parts),
        )

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
                self.env.cr.execute(
                    SQL(
                        """SELECT DISTINCT ON (mc.email_normalized) mc.name, mc.email, mc.company_name
                             FROM mailing_subscription s
                             JOIN mailing_contact mc ON mc.id = s.contact_id
                            WHERE s.list_id IN %s AND mc.email_normalized IS NOT NULL
                              AND NOT EXISTS (
                                  SELECT 1 FROM res_partner p WHERE p.email_normalized = mc.email_normalized)
                            ORDER BY mc.email_normalized, mc.id""",
                        tuple(list_ids),
                    )
                )
                rows = self.env.cr.fetchall()
                for start in range(0, len(rows), IMPORT_BATCH):
                    self.env["res.partner"].sudo().create(
                        [
                            {"name": name or email, "email": email, "company_name": company or False}
                            for name, email, company in rows[start : start + IMPORT_BATCH]
                        ]
                    )
            elif target.source == "lead":
                domain = target._parse_domain()
                leads = target._filter_model("crm.lead", target.filter_user_id).search(
                    Domain.AND([domain, [("partner_id", "=", False)]])
                )
                if leads:
                    # the contacts of the leads the filter's author may see, created as the job does
                    leads.sudo()._handle_partner_assignment(create_missing=True)

    def _prepare_for_run(self):
        """Bring sources up to date before recipients are resolved (snapshot of new static targets)."""
        self._sync_source_partners()
        self.filtered(
            lambda t: t.target_type == "static" and t.source not in ("file", "manual") and not t.snapshot_date
        ).action_take_snapshot()
        self._invalidate_audience()

    def _union_sql(self, action=None):
        """One SQL of (target_id, partner_id) rows over all targets of ``self``, duplicates kept.
        Each target's contacts are expanded to companies / contact persons first (``action``'s reach
        settings when it overrides the targets'), so that de-duplication and exclusions apply after."""
        parts = [
            SQL(
                "SELECT %s AS target_id, partner_id FROM (%s) AS %s(partner_id)",
                target.id,
                target._reached_partner_ids_sql(action),
                SQL.identifier(f"t{index}"),
            )
            for index, target in enumerate(self)
        ]
        return SQL(" UNION ALL ").join(parts) if parts else SQL("SELECT NULL::integer, NULL::integer WHERE FALSE")

    def _classified_sql(self, channel, action=None, contacts_sql=None):
        """SQL of (partner_id, reason) for every distinct contact of the targets, ``reason`` being
        NULL for the contacts that will be reached and an EXCLUSION_REASONS key for the others.
        Everything happens in PostgreSQL: no contact is loaded in Python. Channels that reach no
        contact (AUDIENCE_LESS_CHANNELS: web links) give no row.

        :param contacts_sql: SQL selecting the partner ids to classify instead of the targets'
            (a follow-up reaching the contacts of the previous action)
        """
        campaign = action.campaign_id if action else self.campaign_id
        campaign.ensure_one()
        if channel in AUDIENCE_LESS_CHANNELS:
            return SQL("SELECT NULL::integer AS partner_id, NULL::varchar AS reason WHERE FALSE")
        if channel == "landing":
            # a landing page sends nothing itself: its contacts are those the channel delivering
            # their link (an email or a letter) can reach
            channel = (action.landing_delivery if action else False) or "email"
        if channel == "email":
            address = SQL("p.email_normalized")
            no_address = SQL("p.email_normalized IS NULL")
            blacklisted = SQL(
                "EXISTS (SELECT 1 FROM mail_blacklist bl WHERE bl.email = p.email_normalized AND bl.active)"
            )
        elif channel == "sms":
            address = SQL("p.phone_sanitized")
            no_address = SQL("p.phone_sanitized IS NULL")
            blacklisted = SQL(
                "EXISTS (SELECT 1 FROM phone_blacklist bl WHERE bl.number = p.phone_sanitized AND bl.active)"
            )
        elif channel == "letter":
            address = SQL("p.id::varchar")
            # a person without a full postal address is written to at their company's address
            no_address = SQL(
                "(%s AND NOT EXISTS (SELECT 1 FROM res_partner co WHERE co.id = p.parent_id AND NOT %s))",
                self.env["res.partner"]._campaign_incomplete_address_sql("p"),
                self.env["res.partner"]._campaign_incomplete_address_sql("co"),
            )
            blacklisted = SQL("FALSE")
        else:
            address = SQL("p.id::varchar")
            no_address = SQL("FALSE")
            blacklisted = SQL("FALSE")

        if channel in OPT_OUT_CHANNELS:
            # sudo: the ids of the targets' lists only, as above (accountants cannot read mailing lists).
            list_ids = tuple(campaign.target_ids.sudo().mailing_list_ids.ids) or (0,)
            opted_out = SQL(
                """(EXISTS (SELECT 1 FROM mailing_subscription s
                              JOIN mailing_contact mc ON mc.id = s.contact_id
                             WHERE s.opt_out AND s.list_id IN %s
                               AND mc.email_normalized = p.email_normalized)
                    OR EXISTS (SELECT 1 FROM campaign_touchpoint tu
                                WHERE tu.campaign_id = %s AND tu.partner_id = p.id AND tu.state = 'unsubscribed'))""",
                list_ids,
                campaign.id,
            )
        else:
            opted_out = SQL("FALSE")

        if action and action.once_per_contact:
            already = SQL(
                """EXISTS (SELECT 1 FROM campaign_touchpoint tp
                            WHERE tp.action_id = %s AND tp.partner_id = p.id
                              AND tp.state NOT IN ('failed', 'excluded', 'cancelled'))""",
                action.id,
            )
        else:
            already = SQL("FALSE")

        return SQL(
            """
            WITH contacts AS (
                SELECT DISTINCT u.partner_id FROM (%(union)s) AS u(partner_id) WHERE u.partner_id IS NOT NULL
            ),
            checked AS (
                SELECT p.id AS partner_id, %(address)s AS address,
                       CASE WHEN NOT p.active THEN 'archived'
                            WHEN %(no_address)s THEN 'no_address'
                            WHEN %(blacklisted)s THEN 'blacklisted'
                            WHEN %(opted_out)s THEN 'opted_out'
                            WHEN %(already)s THEN 'already_reached'
                       END AS reason
                  FROM contacts c
                  JOIN res_partner p ON p.id = c.partner_id
            ),
            ranked AS (
                SELECT partner_id, reason,
                       CASE WHEN reason IS NULL
                            THEN row_number() OVER (PARTITION BY reason IS NULL, address ORDER BY partner_id)
                            ELSE 1 END AS rank
                  FROM checked
            )
            SELECT partner_id, CASE WHEN rank > 1 THEN 'duplicate' ELSE reason END AS reason FROM ranked
            """,
            union=contacts_sql
            if contacts_sql is not None
            else SQL("SELECT partner_id FROM (%s) AS x", self._union_sql(action)),
            address=address,
            no_address=no_address,
            blacklisted=blacklisted,
            opted_out=opted_out,
            already=already,
        )

    def _audience_stats(self, channel, action=None):
        """Figures of the *Calculate* button for the targets ``self`` of one campaign and a channel,
        once the sources are brought up to date (contacts made for list subscribers and leads,
        snapshots of new static targets).

        :return: dict with ``total`` (rows over all targets), ``contacts`` (distinct contacts),
            ``duplicates`` (contacts found in several targets, counted once), ``excluded`` (dict
            reason -> count, including duplicate addresses), ``final`` (contacts to reach),
            ``audience_less`` (True for a channel that reaches no contact, all figures then 0) and
            ``by_target`` (see ``_audience_figures``)
        """
        if self and channel not in AUDIENCE_LESS_CHANNELS:
            self._prepare_for_run()
        return self._audience_figures(channel, action=action)

    def _audience_figures(self, channel, action=None):
        """The *Calculate* figures of the targets ``self`` (of one campaign) as their sources stand,
        without changing anything: one SQL statement, the contacts classified once.

        :return: dict as ``_audience_stats``; ``by_target`` maps each target id to its ``found``
            (distinct contacts it selects, before exclusions) and ``reachable`` (those of them the
            campaign reaches: not excluded for any reason, duplicate addresses included)
        """
        figures = {
            "total": 0,
            "contacts": 0,
            "duplicates": 0,
            "excluded": {},
            "final": 0,
            "audience_less": channel in AUDIENCE_LESS_CHANNELS,
            "by_target": {target.id: {"found": 0, "reachable": 0} for target in self},
        }
        if not self or channel in AUDIENCE_LESS_CHANNELS:
            return figures
        self.env.flush_all()
        # PostgreSQL's JIT compiles this one-off statement for longer than it runs (10 s of compilation
        # for 3 s of work over 100,000 contacts on the benchmark's machine); the setting ends with
        # the transaction, as for the touchpoint generation.
        self.env.cr.execute("SET LOCAL jit = off")
        self.env.cr.execute(
            SQL(
                """
            WITH audience_rows AS MATERIALIZED (
                SELECT target_id, partner_id FROM (%(union)s) AS u WHERE partner_id IS NOT NULL
            ),
            classified AS MATERIALIZED (%(classified)s)
            SELECT 'reason' AS kind, NULL::integer AS target_id, reason, COUNT(*) AS found, 0 AS reachable
              FROM classified GROUP BY reason
            UNION ALL
            SELECT 'target', r.target_id, NULL, COUNT(DISTINCT r.partner_id),
                   COUNT(DISTINCT r.partner_id) FILTER (WHERE c.reason IS NULL)
              FROM audience_rows r JOIN classified c ON c.partner_id = r.partner_id
          GROUP BY r.target_id
            UNION ALL
            SELECT 'total', NULL, NULL, COUNT(*), 0 FROM audience_rows""",
                union=self._union_sql(action),
                classified=self._classified_sql(
                    channel, action, contacts_sql=SQL("SELECT partner_id FROM audience_rows")
                ),
            )
        )
        for kind, target_id, reason, found, reachable in self.env.cr.fetchall():
            if kind == "total":
                figures["total"] = found
            elif kind == "target":
                figures["by_target"][target_id] = {"found": found, "reachable": reachable}
            elif reason is None:
                figures["final"] = found
            else:
                figures["excluded"][reason] = found
        figures["contacts"] = figures["final"] + sum(figures["excluded"].values())
        figures["duplicates"] = figures["total"] - figures["contacts"]
        return figures

    # ------------------------------------------------------------------
    # IMPORT
    # ------------------------------------------------------------------
    def _read_import_file(self):
        """Decode the uploaded CSV into (rows as dicts of the known columns, lower-case headers); a
        clear error for anything that is not a CSV text file with an email or phone column."""
        self.ensure_one()
        data = self.import_file.encode() if isinstance(self.import_file, str) else self.import_file
        try:
            raw = base64.b64decode(b"".join(data.split()), validate=True)
        except (binascii.Error, ValueError) as error:
            raise UserError(
                self.env._(
                    "The file cannot be read as CSV (it arrived damaged): save it as CSV UTF-8 and send it again."
                )
            ) from error
        encodings = ("utf-16",) if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else ("utf-8-sig", "cp1252")
        for encoding in encodings:
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise UserError(self.env._("The file is neither UTF-8 nor Windows-1252 text: save it as CSV UTF-8."))
        if "\x00" in text:
            raise UserError(self.env._("The file is not a CSV text file (it looks binary): save it as CSV UTF-8."))
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        try:
            reader = csv.DictReader(io.StringIO(text), dialect=dialect)
            if not reader.fieldnames:
                raise UserError(self.env._("The file is empty."))
            headers = [(h or "").strip().lower() for h in reader.fieldnames]
            if "email" not in headers and "phone" not in headers:
                raise UserError(
                    self.env._(
                        "The file needs an “email” or a “phone” column (found: %(columns)s).",
                        columns=", ".join(h for h in headers if h) or "-",
                    )
                )
            reader.fieldnames = headers
            rows = []
            for row in reader:
                rows.append({key: (value or "").strip() for key, value in row.items() if key in IMPORT_COLUMNS})
                if len(rows) > IMPORT_MAX_ROWS:
                    raise UserError(self.env._("The file has more than %(max)s rows: split it.", max=IMPORT_MAX_ROWS))
        except csv.Error as error:
            raise UserError(
                self.env._("The file cannot be read as CSV (%(error)s): save it as CSV UTF-8.", error=error)
            ) from error
        return rows, headers

    def _import_rows(self, rows, seen):
        """Match a slice of rows to contacts by normalised email, else sanitised phone (creating the
        missing ones, batched). ``seen`` holds the keys of the rows before the slice, to count
        duplicates inside the file. Returns (partner ids, counters)."""
        self.ensure_one()
        country_ids = self._import_country_ids()
        counters = {"matched": 0, "created": 0, "duplicates": 0, "skipped": 0, "bad_phone": 0, "formulas": 0}
        wanted = []
        for row in rows:
            email, phone = self._import_key(row, country_ids)
            if row.get("phone") and not phone:
                counters["bad_phone"] += 1
            if not email and not phone:
                counters["skipped"] += 1
                continue
            key = email or phone
            if key in seen:
                counters["duplicates"] += 1
                continue
            seen.add(key)
            values = {field: self._import_cell(row.get(field), counters) for field in ("name", "street", "zip", "city")}
            values.update(
                {
                    "name": values["name"] or email or phone,
                    "email": email,
                    "phone": phone,
                    "country_id": country_ids.get((row.get("country") or "").lower(), False),
                }
            )
            wanted.append(values)
        existing = self._import_existing(wanted)
        partner_ids = []
        to_create = []
        for values in wanted:
            partner_id = existing.get(values["email"] or values["phone"])
            if partner_id:
                partner_ids.append(partner_id)
            else:
                to_create.append(values)
        counters["matched"] = len(partner_ids)
        counters["created"] = len(to_create)
        for start in range(0, len(to_create), IMPORT_BATCH):
            partner_ids += self.env["res.partner"].create(to_create[start : start + IMPORT_BATCH]).ids
        return partner_ids, counters

    @api.model
    def _import_country_ids(self):
        # ~250 countries, read once per import
        rows = self.env["res.country"].search_read([], ["code", "name"])  # pylint: disable=no-search-all
        return {r["code"].lower(): r["id"] for r in rows} | {r["name"].lower(): r["id"] for r in rows}

    @api.model
    def _import_key(self, row, country_ids):
        """(normalised email, formatted phone) of a row, each False when not valid."""
        email = email_normalize(row.get("email") or "", strict=True) or False
        phone = self._import_phone(row.get("phone"), country_ids.get((row.get("country") or "").lower()))
        return email, phone

    @api.model
    def _import_cell(self, value, counters):
        """A text cell, with spreadsheet formulas neutralised (a quote keeps them inert)."""
        value = (value or "").strip()
        if value.startswith(FORMULA_PREFIXES):
            counters["formulas"] += 1
            return "'" + value
        return value or False

    @api.model
    def _import_phone(self, value, country_id):
        """The phone of a row, formatted, or False when it is not a phone number (a formula, text)."""
        value = (value or "").strip()
        digits = value.lstrip("+").replace(" ", "").replace(".", "").replace("-", "")
        if not value or not digits.isdigit() or len(digits) < 6 or value.startswith(("=", "@")):
            return False
        country = self.env["res.country"].browse(country_id) if country_id else self.env.company.country_id
        formatted = phone_validation.phone_format(
            value, country.code, country.phone_code, force_format="E164", raise_exception=False
        )
        return formatted or False

    def _import_existing(self, wanted):
        """{email or phone: partner id} of the existing contacts matching the rows (one query each)."""
        self.env["res.partner"].flush_model(["email_normalized", "phone_sanitized", "active"])
        existing = {}
        emails = tuple(values["email"] for values in wanted if values["email"])
        if emails:
            self.env.cr.execute(
                SQL(
                    "SELECT DISTINCT ON (email_normalized) email_normalized, id FROM res_partner "
                    "WHERE email_normalized IN %s ORDER BY email_normalized, active DESC, id",
                    emails,
                )
            )
            existing.update(self.env.cr.fetchall())
        phones = tuple(values["phone"] for values in wanted if not values["email"])
        if phones:
            self.env.cr.execute(
                SQL(
                    "SELECT DISTINCT ON (phone_sanitized) phone_sanitized, id FROM res_partner "
                    "WHERE phone_sanitized IN %s ORDER BY phone_sanitized, active DESC, id",
                    phones,
                )
            )
            existing.update(self.env.cr.fetchall())
        return existing

    def _import_next_batch(self, rows, size, seen):
        """Import the next ``size`` rows of the file after those already imported, link the contacts
        to the target and record the progress (one transaction: a crash redoes the whole batch).
        ``seen``: keys of the rows already imported (updated), to count duplicates across batches."""
        self.ensure_one()
        start = self.import_done
        partner_ids, counters = self._import_rows(rows[start : start + size], seen)
        if partner_ids:
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    """INSERT INTO campaign_target_partner_rel (target_id, partner_id)
                       SELECT %s, unnest(%s::int[]) ON CONFLICT DO NOTHING""",
                    self.id,
                    partner_ids,
                )
            )
            self.invalidate_recordset(["partner_ids"])
            self._invalidate_audience()
        stats = dict(self.import_stats or {})
        for key, value in counters.items():
            stats[key] = stats.get(key, 0) + value
        done = min(start + size, len(rows))
        values = {"import_done": done, "import_stats": stats}
        if done >= len(rows):
            values.update({"import_state": "done", "import_file": False})
        self.write(values)
        self.import_summary = self._import_progress_text()
        if done >= len(rows) and self.campaign_id:
            self.campaign_id.message_post(body=self.import_summary)

    def _import_progress_text(self):
        self.ensure_one()
        stats = self.import_stats or {}
        if self.import_state == "queued":
            return self.env._(
                "%(file)s: importing in the background, %(done)s of %(total)s rows done.",
                file=self.import_filename or "",
                done=self.import_done,
                total=self.import_total,
            )
        summary = self.env._(
            "%(file)s: %(rows)s rows, %(matched)s existing contacts, %(created)s created, "
            "%(duplicates)s duplicates in the file, %(skipped)s skipped without a valid email or phone, "
            "%(bad_phone)s invalid phone numbers, %(formulas)s formula cells neutralised.",
            file=self.import_filename or "",
            rows=self.import_total,
            matched=stats.get("matched", 0),
            created=stats.get("created", 0),
            duplicates=stats.get("duplicates", 0),
            skipped=stats.get("skipped", 0),
            bad_phone=stats.get("bad_phone", 0),
            formulas=stats.get("formulas", 0),
        )
        if stats.get("ignored"):
            summary += " " + self.env._("Columns not imported: %(columns)s.", columns=", ".join(stats["ignored"]))
        return summary

    @api.model
    def _process_queued_imports(self, deadline):
        """Scheduled job: import the queued files, batch after batch, each committed; a file resumes
        after the rows already imported."""
        commit = self.env["campaign.engine"]._commit_batch
        country_ids = self._import_country_ids()
        for queued in self.search([("import_state", "=", "queued")]):
            # the import summary is written in the campaign's language
            target = queued.with_context(lang=queued.campaign_id._job_lang())
            try:
                rows, _headers = target._read_import_file()
            except UserError as error:
                target.write({"import_state": "failed", "import_summary": str(error), "import_file": False})
                commit()
                continue
            seen = set()
            for row in rows[: target.import_done]:
                email, phone = self._import_key(row, country_ids)
                if email or phone:
                    seen.add(email or phone)
            while target.import_state == "queued" and time.monotonic() < deadline:
                with self.env["campaign.engine"]._batch():  # one transaction per batch
                    target._import_next_batch(rows, IMPORT_BATCH, seen)
