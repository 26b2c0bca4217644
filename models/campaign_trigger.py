import calendar
import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..const import JOURNEY_REENTRY, TRIGGER_SALE_FILTERS, TRIGGER_TYPES

# Dates of every record, not of the contact's life.
MAGIC_DATES = {"create_date", "write_date"}
# What a trigger listens to: its name says it, and its checks need it.
TRIGGER_SETTINGS = (
    "trigger_type",
    "mailing_list_id",
    "sale_filter",
    "product_id",
    "product_category_id",
    "lead_stage_id",
    "date_field",
)


class CampaignTrigger(models.Model):
    """What enrols a contact in the journey of a campaign the moment it happens in the database:
    a subscription to a mailing list, a confirmed sale order, a paid customer invoice, a lead
    reaching a stage, or a signed call of another system (controllers/journey.py).

    The hooks on Odoo's models (models/mailing_subscription.py, sale_order.py, account_move.py,
    crm_lead.py) only insert enrolments, in SQL, for the active campaigns having such a trigger
    (``_enrol_matching``); the engine does the rest in batches."""

    _name = "campaign.trigger"
    _description = "Campaign Entry Trigger"
    _inherit = ["campaign.access.mixin"]
    _order = "campaign_id, sequence, id"
    _check_company_auto = True
    _campaign_engine_fields = frozenset({"enrolment_ids"})

    sequence = fields.Integer(default=10)
    campaign_id = fields.Many2one(
        "campaign.campaign", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one(related="campaign_id.company_id", store=True)
    trigger_type = fields.Selection(
        selection=TRIGGER_TYPES, string="When", required=True, default="mailing_list", help="What enrols a contact."
    )
    mailing_list_id = fields.Many2one("mailing.list", ondelete="cascade", help="Its new subscribers enter the journey.")
    sale_filter = fields.Selection(
        selection=TRIGGER_SALE_FILTERS,
        string="Orders",
        default="any",
        required=True,
        help="Which confirmed orders enrol their customer: any, or only those containing the product or a "
        "product of the category (or of its sub-categories).",
    )
    product_id = fields.Many2one("product.product", check_company=True, ondelete="cascade")
    product_category_id = fields.Many2one("product.category", ondelete="cascade")
    lead_stage_id = fields.Many2one(
        "crm.stage", string="Stage", ondelete="cascade", help="The contact of a lead or opportunity reaching it enters."
    )
    date_field = fields.Selection(
        selection="_selection_date_field",
        string="Date",
        help="The date of the contact (birthday, end of contract...) that enrols them when it comes round.",
    )
    date_offset = fields.Integer(
        string="Days Before", help="Enrol the contact this many days before the date (0: on the day; negative: after)."
    )
    date_yearly = fields.Boolean(
        string="Every Year", default=True, help="The day and month come round every year (an anniversary)."
    )
    date_checked = fields.Date(
        readonly=True, copy=False, help="Last day the contacts were enrolled for (the job catches up the days missed)."
    )
    webhook_secret = fields.Char(
        string="Signing Secret",
        compute="_compute_webhook_secret",
        store=True,
        readonly=False,
        precompute=True,
        copy=False,
        groups="campaign_manager.group_campaign_user",
        help="Key of the HMAC-SHA256 signature the other system computes over the timestamp and the body "
        "of each call (see Entry Address).",
    )
    webhook_url = fields.Char(
        string="Entry Address",
        compute="_compute_webhook_url",
        help="Address the other system posts its signed calls to.",
    )
    # fixed-window rate limit of the webhook (controllers/journey.py), written by the route only
    webhook_window_start = fields.Datetime(readonly=True, copy=False)
    webhook_window_count = fields.Integer(readonly=True, copy=False)
    enrolment_ids = fields.One2many("campaign.enrolment", "trigger_id", string="Enrolments")

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends(*TRIGGER_SETTINGS)
    def _compute_display_name(self):
        labels = dict(self._fields["trigger_type"]._description_selection(self.env))
        for trigger in self:
            detail = {
                "mailing_list": trigger.mailing_list_id.name,
                "sale_order": trigger.product_id.display_name or trigger.product_category_id.display_name,
                "lead_stage": trigger.lead_stage_id.name,
                "date": dict(self._selection_date_field()).get(trigger.date_field),
            }.get(trigger.trigger_type)
            label = labels.get(trigger.trigger_type, "")
            trigger.display_name = f"{label}: {detail}" if detail else label

    @api.model
    def _selection_date_field(self):
        """The stored dates of the contacts, labels in the user's language."""
        fields_ = self.env["res.partner"]._fields.values()
        dates = [f for f in fields_ if f.type in ("date", "datetime") and f.store and f.name not in MAGIC_DATES]
        return sorted(((f.name, f._description_string(self.env)) for f in dates), key=lambda item: item[1])

    @api.depends("trigger_type")
    def _compute_webhook_secret(self):
        for trigger in self:
            if trigger.trigger_type == "webhook" and not trigger.webhook_secret:
                trigger.webhook_secret = secrets.token_urlsafe(32)

    @api.depends("trigger_type")
    def _compute_webhook_url(self):
        base = self.get_base_url()
        for trigger in self:
            trigger.webhook_url = (
                f"{base}/campaign/journey/{trigger.id}/enrol"
                if trigger.trigger_type == "webhook" and trigger.id
                else False
            )

    # ------------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------------
    @api.constrains(*TRIGGER_SETTINGS)
    def _check_trigger(self):
        for trigger in self:
            campaign = trigger.campaign_id.name
            if trigger.trigger_type == "mailing_list" and not trigger.mailing_list_id:
                raise ValidationError(
                    self.env._("The trigger of %(campaign)s on a mailing list needs the list.", campaign=campaign)
                )
            if trigger.trigger_type == "sale_order" and trigger.sale_filter == "product" and not trigger.product_id:
                raise ValidationError(
                    self.env._(
                        "The trigger of %(campaign)s on orders containing a product needs the product.",
                        campaign=campaign,
                    )
                )
            if (
                trigger.trigger_type == "sale_order"
                and trigger.sale_filter == "category"
                and not trigger.product_category_id
            ):
                raise ValidationError(
                    self.env._(
                        "The trigger of %(campaign)s on orders containing a product category needs the category.",
                        campaign=campaign,
                    )
                )
            if trigger.trigger_type == "date" and not trigger.date_field:
                raise ValidationError(
                    self.env._(
                        "The trigger of %(campaign)s on a date of the contact needs the date.", campaign=campaign
                    )
                )
            if trigger.trigger_type == "lead_stage" and not trigger.lead_stage_id:
                raise ValidationError(
                    self.env._("The trigger of %(campaign)s on a lead stage needs the stage.", campaign=campaign)
                )

    # ------------------------------------------------------------------
    # HOOKS (called by the _inherit of Odoo's models, set-based)
    # ------------------------------------------------------------------
    @api.model
    def _enrol_matching(self, trigger_type, events):
        """Enrol the contacts of ``events`` in the active campaigns having a trigger of
        ``trigger_type`` that they match.

        Runs as superuser: whoever subscribes, confirms an order or pays an invoice (a visitor, a
        salesman without campaign rights) enrols the contact, and never sees the campaigns.

        :param SQL events: query of (trigger_id, partner_id, cause_ref) rows, the triggers aliased
            ``t`` (campaign_trigger) being joined in by this method: conditions on ``t`` are allowed
        :return: see ``campaign.enrolment._enrol``
        """
        self = self.sudo()  # see the docstring
        self.env.cr.execute(
            SQL(
                """SELECT 1 FROM campaign_trigger t JOIN campaign_campaign c ON c.id = t.campaign_id
                    WHERE t.trigger_type = %s AND c.state = 'active' LIMIT 1""",
                trigger_type,
            )
        )
        if not self.env.cr.fetchone():
            return []  # the common case: no journey listens, one indexed look-up
        return self.env["campaign.enrolment"]._enrol(
            SQL(
                """SELECT t.campaign_id, t.id, ev.partner_id, t.trigger_type, ev.cause_ref, NULL::varchar
                     FROM (%s) AS ev(trigger_id, partner_id, cause_ref)
                     JOIN campaign_trigger t ON t.id = ev.trigger_id
                    WHERE t.trigger_type = %s AND ev.partner_id IS NOT NULL""",
                events,
                trigger_type,
            )
        )

    @api.model
    def _enrol_on_dates(self, today=None):
        """Enrol the contacts whose date comes round (its day, ``date_offset`` days ahead) for the
        active campaigns' date triggers: the days since the trigger last ran (the day before its
        first run), so that a job down for a while catches up and a day is never enrolled twice.
        Called by the campaign job; set-based, one statement per trigger."""
        today = today or fields.Date.context_today(self)
        triggers = self.sudo().search([("trigger_type", "=", "date"), ("campaign_id.state", "=", "active")])
        for trigger in triggers.filtered("date_field"):
            first = (trigger.date_checked or today - timedelta(days=1)) + timedelta(days=1)
            if first > today:
                continue
            days = [first + timedelta(days=n) for n in range((today - first).days + 1)]
            targets = [day + timedelta(days=trigger.date_offset) for day in days]
            column = SQL.identifier("p", trigger.date_field)
            if trigger.date_yearly:
                keys = {day.strftime("%m-%d") for day in targets}
                if any(day.month == 2 and day.day == 28 and not calendar.isleap(day.year) for day in targets):
                    keys.add("02-29")  # a 29 February comes round on the 28th of the other years
                condition = SQL("to_char(%s, 'MM-DD') IN %s", column, tuple(sorted(keys)))
            else:
                condition = SQL("%s::date IN %s", column, tuple(targets))
            self.env["campaign.enrolment"]._enrol(
                SQL(
                    """SELECT %s, %s, p.id, 'date', to_char(%s, 'YYYY-MM-DD'), NULL::varchar
                         FROM res_partner p WHERE p.active AND %s""",
                    trigger.campaign_id.id,
                    trigger.id,
                    column,
                    condition,
                )
            )
            trigger.date_checked = today


class CampaignCampaign(models.Model):
    _inherit = "campaign.campaign"

    trigger_ids = fields.One2many("campaign.trigger", "campaign_id", string="Entry Triggers")
    enrolment_ids = fields.One2many("campaign.enrolment", "campaign_id", string="Enrolments")
    enrolment_count = fields.Integer(string="Enrolled", compute="_compute_enrolment_count")
    journey_reentry = fields.Selection(
        selection=JOURNEY_REENTRY,
        string="Re-entry",
        default="once",
        required=True,
        help="Whether a contact who already entered the journey may enter it again: never, or once the "
        "given number of days has passed since their last entry (they then start again from the first step).",
    )
    journey_reentry_days = fields.Integer(string="Re-entry After (days)", default=30)

    _journey_reentry_days_positive = models.Constraint(
        "CHECK(journey_reentry_days >= 0)", "The days before a contact may enter a journey again cannot be negative."
    )

    def _compute_enrolment_count(self):
        groups = self.env["campaign.enrolment"]._read_group(
            [("campaign_id", "in", self.ids)], ["campaign_id"], ["__count"]
        )
        counts = {campaign.id: count for campaign, count in groups}
        for campaign in self:
            campaign.enrolment_count = counts.get(campaign.id, 0)

    def action_view_enrolments(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_enrolment_action")
        action["domain"] = [("campaign_id", "=", self.id)]
        action["context"] = {"default_campaign_id": self.id}
        return action

    def _has_audience_source(self):
        return super()._has_audience_source() or bool(self.trigger_ids)

    def _audience_mailing_lists(self):
        # the opt-outs of the lists that enrol contacts apply as those of the targets' lists
        return super()._audience_mailing_lists() | self.trigger_ids.sudo().mailing_list_id
