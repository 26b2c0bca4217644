import re
from collections import defaultdict

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..const import AUDIENCE_LESS_CHANNELS

# Channels whose actions send messages (sent, opened, clicked): their campaigns' analysis opens on these.
MESSAGE_CHANNELS = ("email", "sms", "letter")
# At most this many figures highlighted at the top of a campaign (seed 004, "jusqu'à quatre").
KPI_MAX = 4

CAMPAIGN_STATES = [
    ("draft", "Draft"),
    ("ready", "Ready"),
    ("active", "Active"),
    ("done", "Done"),
    ("stopped", "Stopped"),
    ("cancelled", "Cancelled"),
]

CAMPAIGN_TYPES = [
    ("promotion", "Promotion"),
    ("fidelity", "Fidelity"),
    ("information", "Information"),
    ("event", "Event"),
    ("other", "Other"),
]

# Allowed status changes: {from: {to, ...}}. Anything else is refused with a clear error.
CAMPAIGN_TRANSITIONS = {
    "draft": {"ready", "cancelled"},
    "ready": {"draft", "active", "cancelled"},
    "active": {"done", "stopped", "cancelled"},
    "stopped": {"active", "done", "cancelled"},
    "done": set(),
    "cancelled": {"draft"},
}

NAME_PATTERN = re.compile(r"^\S+$")
# Longest campaign name: one word (JanOffers, FebSale), also the name of its UTM campaign, analytic
# account and project.
NAME_MAX_LENGTH = 64

# Steps of the order wizard (seed 000), in the only order they can be done. The campaign keeps the
# step reached: it exists from "contacts" on, so a campaign created elsewhere starts there.
ORDER_STEPS = [
    ("summary", "Summary"),
    ("name", "Create and Name"),
    ("contacts", "Contacts"),
    ("media", "Media"),
    ("schedule", "Schedule"),
    ("launch", "Launch"),
    ("done", "Done"),
]
ORDER_STEP_INDEX = {key: index for index, (key, _label) in enumerate(ORDER_STEPS)}

# Tracking settings: the same for all the emails of a campaign, so locked once it has run.
TRACKING_FIELDS = {
    "track_opens",
    "track_clicks",
    "track_plaintext_clicks",
    "track_sales_links",
    "reply_mode",
    "reply_to",
}


class CampaignCampaign(models.Model):
    _name = "campaign.campaign"
    _description = "Marketing Campaign"
    _inherit = [
        "mail.thread",
        "mail.activity.mixin",
        "mail.alias.mixin.optional",
        "campaign.access.mixin",
        "campaign.archive.mixin",
        "campaign.figures.mixin",
    ]
    _order = "date_start desc, id desc"
    _check_company_auto = True
    _campaign_engine_fields = frozenset({"utm_campaign_id", "touchpoint_ids", "run_ids", "todo_ids"})

    # ------------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------------
    name = fields.Char(
        required=True,
        tracking=True,
        help="Unique identifier of the campaign within the company: one word without spaces, at most 64 "
        "characters (e.g. JanOffers). It is also the name of its UTM campaign.",
    )
    active = fields.Boolean(default=True, tracking=True)
    color = fields.Integer()
    campaign_type = fields.Selection(
        selection=CAMPAIGN_TYPES,
        required=True,
        default="promotion",
        tracking=True,
    )
    objective = fields.Char(translate=True, help="What the campaign must achieve, in one sentence.")
    description = fields.Html(translate=True, sanitize=True)
    product_id = fields.Many2one(
        "product.product",
        check_company=True,
        index="btree_not_null",
        help="Product promoted by the campaign.",
    )
    scope = fields.Selection(
        selection=[("company", "Company contacts"), ("personal", "Personal contacts")],
        required=True,
        default="company",
        tracking=True,
        help="A personal campaign targets your own contacts: only you and the campaign "
        "managers can see it. A company campaign is visible to every campaign user of the company.",
    )
    user_id = fields.Many2one(
        "res.users",
        string="Owner",
        required=True,
        default=lambda self: self.env.user,
        tracking=True,
        index=True,
        check_company=True,
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Assigned to",
        check_company=True,
        index="btree_not_null",
        help="Sales team that follows the campaign up.",
    )
    date_start = fields.Date(string="Start Date", tracking=True, copy=False)
    date_end = fields.Date(string="End Date", tracking=True, copy=False)
    state = fields.Selection(
        selection=CAMPAIGN_STATES,
        string="Status",
        required=True,
        default="draft",
        tracking=True,
        copy=False,
        group_expand="_group_expand_states",
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    currency_id = fields.Many2one(
        "res.currency", string="Currency", related="company_id.currency_id", store=True, readonly=True
    )

    target_ids = fields.One2many("campaign.target", "campaign_id", string="Targets", copy=True)
    action_ids = fields.One2many("campaign.action", "campaign_id", string="Actions", copy=False)
    touchpoint_ids = fields.One2many("campaign.touchpoint", "campaign_id", string="Touchpoints", copy=False)
    todo_ids = fields.One2many("campaign.todo", "campaign_id", string="To Do", readonly=True)

    main_channel = fields.Selection(
        selection="_selection_main_channel",
        string="Channel",
        compute="_compute_channels",
        store=True,
        help="Channel of the campaign's actions, or Multichannel when they use several.",
    )
    channels_display = fields.Char(
        string="Channels Used", compute="_compute_channels_display", help="Channels of the campaign's actions."
    )
    execution_mode = fields.Selection(
        selection=[
            ("unscheduled", "Unscheduled"),
            ("immediate", "Immediate"),
            ("scheduled", "Scheduled"),
            ("recurring", "Recurrent"),
        ],
        string="Execution",
        compute="_compute_channels",
        store=True,
        help="Recurrent when an action repeats, Scheduled when an action waits for a date, Immediate "
        "when actions run at launch, Unscheduled without actions.",
    )
    action_count = fields.Integer(string="Actions Count", compute="_compute_counts")
    target_count = fields.Integer(string="Targets Count", compute="_compute_counts")
    touchpoint_count = fields.Integer(
        string="Touchpoints Count",
        compute="_compute_counts",
        help="Touchpoints planned or carried out (sent, done, opened...); the contacts a run excluded, with "
        "their reason, and the cancelled touchpoints are not counted.",
    )
    # One definition of the audience: the figures of Calculate, for the channel of the campaign's first
    # action that reaches contacts (email without one), as the targets stand right now.
    audience_channel = fields.Selection(
        selection=lambda self: self.env["campaign.action"]._selection_channel(),
        string="Counted For",
        compute="_compute_audience",
        help="Channel the audience figures are counted for: that of the campaign's first action reaching "
        "contacts (email while there is none). Calculate counts them for any channel or action.",
    )
    audience_size = fields.Integer(
        string="Reachable Now",
        compute="_compute_audience",
        help="Distinct contacts of the targets the campaign can reach right now on the channel counted, once "
        "contacts found in several targets are counted once and the excluded ones are left out: the final "
        "figure of Calculate. Dynamic targets are read again each time, so it follows their filters and lists.",
    )
    audience_excluded = fields.Integer(
        string="Excluded Now",
        compute="_compute_audience",
        help="Distinct contacts of the targets left out right now on the channel counted: archived, without "
        "usable address, blacklisted, opted out, already reached, or sharing an address with another "
        "contact. Calculate shows how many for each reason.",
    )
    audience_figures = fields.Json(
        compute="_compute_audience",
        help="Technical: the Calculate figures behind the audience fields of the campaign and its targets.",
    )

    # Planning and expectations (seed 002)
    planned_sends = fields.Integer(help="Number of sends (emails, SMS, letters...) planned for the campaign.")
    budget = fields.Monetary(tracking=True, currency_field="currency_id")
    expected_revenue = fields.Monetary(currency_field="currency_id")
    expected_response_rate = fields.Float(
        string="Expected Response Rate (%)", help="Share of the contacts reached expected to respond, in percent."
    )
    expected_sales = fields.Integer(help="Number of sales expected from the campaign.")
    expected_returns = fields.Integer(help="Number of positive returns (answers, registrations...) expected.")
    expected_roi = fields.Float(
        string="Expected ROI (%)",
        compute="_compute_expected_roi",
        store=True,
        readonly=False,
        precompute=True,
        help="Expected return on investment: (expected revenue - budget) / budget x 100. "
        "Computed from the budget and the expected revenue; can be overwritten.",
    )

    notes = fields.Html(sanitize=True)

    # Tracking settings (seed 004): the same for every email of the campaign, locked once it runs.
    track_opens = fields.Boolean(default=True, help="Add an invisible image to emails to know who opens them.")
    track_clicks = fields.Boolean(
        default=True,
        help="Replace the links of emails by tracked short links to know who clicks what.",
    )
    track_plaintext_clicks = fields.Boolean(
        string="Track Plain-Text Clicks",
        default=True,
        help="Also track the links of the plain-text version of emails (otherwise it shows the real addresses).",
    )
    track_sales_links = fields.Boolean(
        string="Sales Link Tracking",
        default=True,
        help="Add the UTM parameters of the campaign to links, so that leads and orders coming from them "
        "(in Odoo or in an online shop) are attributed to the campaign.",
    )
    reply_mode = fields.Selection(
        selection=[
            ("address", "To a chosen address"),
            ("campaign", "To the campaign's chatter"),
            ("contact", "To the contact's chatter"),
        ],
        string="Replies",
        default="address",
        required=True,
        help="Where the replies to the campaign's emails go. To the campaign's chatter needs an email alias "
        "for the campaign: replies are then posted on it and counted on the touchpoints.",
    )
    reply_to = fields.Char(
        string="Reply-To Address", help="Address receiving the replies (default: the owner's email)."
    )
    send_limit_hour = fields.Integer(
        string="Sends per Hour",
        help="Most touchpoints the campaign may carry out per hour (0: no limit). The rest waits for the "
        "next window; nothing is dropped.",
    )
    send_limit_day = fields.Integer(
        string="Sends per Day", help="Most touchpoints the campaign may carry out per 24 hours (0: no limit)."
    )
    run_ids = fields.One2many("campaign.action.run", "campaign_id", string="Runs", readonly=True)
    run_count = fields.Integer(string="Runs Count", compute="_compute_counts")
    order_step = fields.Selection(
        selection=ORDER_STEPS,
        required=True,
        default="contacts",
        readonly=True,
        copy=False,
        help="Step of the order reached: Resume Order reopens the order wizard there.",
    )

    # Automatic status and late actions (seed 004)
    late_action_count = fields.Integer(
        string="Late Actions",
        compute="_compute_late_action_count",
        help="Actions still draft or scheduled after the end of the campaign.",
    )

    _name_company_uniq = models.Constraint(
        "UNIQUE(name, company_id)",
        "A campaign with this name already exists in this company: campaign names must be unique.",
    )
    _dates_check = models.Constraint(
        "CHECK(date_end IS NULL OR date_start IS NULL OR date_end >= date_start)",
        "The end date of a campaign cannot be before its start date.",
    )
    _budget_check = models.Constraint("CHECK(budget >= 0)", "The budget cannot be negative.")
    _send_limits_check = models.Constraint(
        "CHECK(COALESCE(send_limit_hour, 0) >= 0 AND COALESCE(send_limit_day, 0) >= 0)",
        "Sending limits cannot be negative.",
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.model
    def _selection_main_channel(self):
        return [*self.env["campaign.action"]._selection_channel(), ("multi", self.env._("Multichannel"))]

    @api.depends("action_ids.channel", "action_ids.state", "action_ids.schedule_type")
    def _compute_channels(self):
        for campaign in self:
            actions = campaign.action_ids.filtered(lambda a: a.state != "cancelled")
            channels = set(actions.mapped("channel"))
            # links placed outside are not executed: they do not make a campaign scheduled or recurring
            schedules = set(actions.filtered(lambda a: a.channel not in AUDIENCE_LESS_CHANNELS).mapped("schedule_type"))
            if "recurring" in schedules:
                campaign.execution_mode = "recurring"
            elif schedules & {"at", "after"}:
                campaign.execution_mode = "scheduled"
            else:
                campaign.execution_mode = "immediate" if schedules else "unscheduled"
            campaign.main_channel = channels.pop() if len(channels) == 1 else ("multi" if channels else False)

    @api.depends("action_ids.channel", "action_ids.state")
    def _compute_channels_display(self):
        labels = dict(self.env["campaign.action"]._fields["channel"]._description_selection(self.env))
        for campaign in self:
            actions = campaign.action_ids.filtered(lambda a: a.state != "cancelled")
            campaign.channels_display = ", ".join(labels[c] for c in dict.fromkeys(actions.mapped("channel")))

    def _compute_counts(self):
        counts = {}
        for model, field in (
            ("campaign.action", "action_count"),
            ("campaign.target", "target_count"),
            ("campaign.action.run", "run_count"),
        ):
            groups = self.env[model]._read_group([("campaign_id", "in", self.ids)], ["campaign_id"], ["__count"])
            counts[field] = {campaign.id: count for campaign, count in groups}
        # the contacts left out at a run are not touchpoints of the campaign: counted apart; the
        # touchpoints' groups are those the journey tree reads too
        counts["touchpoint_count"] = touchpoints = defaultdict(int)
        for campaign_id, _action_id, state, _reason, count in self.env["campaign.touchpoint"]._status_groups(self):
            if state not in ("excluded", "cancelled"):
                touchpoints[campaign_id] += count
        for campaign in self:
            for field, by_campaign in counts.items():
                campaign[field] = by_campaign.get(campaign.id, 0)

    @api.depends(
        "target_ids",
        "target_ids.source",
        "target_ids.target_type",
        "target_ids.partner_domain",
        "target_ids.lead_domain",
        "target_ids.mailing_list_ids",
        "target_ids.partner_ids",
        "target_ids.snapshot_date",
        "target_ids.reach",
        "target_ids.person_function",
        "target_ids.person_category_ids",
        "action_ids.channel",
        "action_ids.state",
    )
    def _compute_audience(self):
        """The Calculate figures of each campaign, as saved (a form being edited shows those of the
        saved campaign): one SQL statement per campaign, nothing written. Targets whose filter cannot
        be applied any more count for nothing here; running or calculating them says why."""
        for campaign in self:
            origin = campaign._origin
            channel = origin._audience_default_channel() if origin else "email"
            targets = origin.target_ids.filtered(lambda t: not t._filter_error()) if origin else origin.target_ids
            figures = targets._audience_figures(channel)
            campaign.audience_channel = channel
            campaign.audience_size = figures["final"]
            campaign.audience_excluded = sum(figures["excluded"].values())
            campaign.audience_figures = {
                "total": figures["total"],
                "final": figures["final"],
                "excluded": figures["excluded"],
                "by_target": {str(target_id): counts for target_id, counts in figures["by_target"].items()},
            }

    def _audience_default_channel(self):
        """The channel the campaign's audience is counted for: that of its first action reaching
        contacts (cancelled ones aside), else email."""
        self.ensure_one()
        for action in self.action_ids:
            if action.state != "cancelled" and action._run_has_audience():
                return action.channel
        return "email"

    def _compute_late_action_count(self):
        groups = self.env["campaign.action"]._read_group(
            [("campaign_id", "in", self.ids), ("pending_after_end", "=", True)], ["campaign_id"], ["__count"]
        )
        counts = {campaign.id: count for campaign, count in groups}
        for campaign in self:
            campaign.late_action_count = counts.get(campaign.id, 0)

    @api.depends("budget", "expected_revenue")
    def _compute_expected_roi(self):
        for campaign in self:
            if campaign.budget:
                campaign.expected_roi = (campaign.expected_revenue - campaign.budget) / campaign.budget * 100.0
            else:
                campaign.expected_roi = 0.0

    @api.model
    def _group_expand_states(self, states, domain):
        return [key for key, _label in CAMPAIGN_STATES]

    # ------------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------------
    @api.constrains("name")
    def _check_name(self):
        for campaign in self:
            if len(campaign.name or "") > NAME_MAX_LENGTH:
                raise ValidationError(
                    self.env._(
                        "The campaign name “%(name)s…” is too long: use one word of at most %(max)s characters, "
                        "for example JanOffers or FebSale.",
                        name=campaign.name[:NAME_MAX_LENGTH],
                        max=NAME_MAX_LENGTH,
                    )
                )
            if not NAME_PATTERN.match(campaign.name or ""):
                raise ValidationError(
                    self.env._(
                        "The campaign name “%(name)s” is not valid: use one word without spaces, "
                        "for example JanOffers or FebSale.",
                        name=campaign.name,
                    )
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    def _creation_message(self):
        # one translatable sentence, in the creator's language ("Marketing Campaign créé" mixed the
        # model's name, not translated yet when demo data loads, with a verb of the wrong gender)
        return self.env._("Campaign created")

    @api.model_create_multi
    def create(self, vals_list):
        campaigns = super().create(vals_list)
        campaigns._sync_utm_campaign()
        campaigns._sync_project_account()
        return campaigns

    def write(self, vals):
        if "state" in vals:
            self._check_state_transition(vals["state"])
        if "company_id" in vals and self._has_touchpoints():
            raise UserError(self.env._("The company of a campaign that already reached contacts cannot be changed."))
        changed_tracking = TRACKING_FIELDS & set(vals)
        if changed_tracking:
            self._check_tracking_unlocked(vals)
        res = super().write(vals)
        if {"name", "user_id", "active"} & set(vals):
            self._sync_utm_campaign()
        if "name" in vals:
            self.action_ids._sync_utm_source()
        if {"project_id", "analytic_account_id"} & set(vals):
            self._sync_project_account()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_started(self):
        for campaign in self:
            if campaign.state not in ("draft", "cancelled") or campaign.touchpoint_ids:
                raise UserError(
                    self.env._(
                        "The campaign %(name)s has been launched: archive it instead of deleting it.",
                        name=campaign.name,
                    )
                )

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_set_ready(self):
        for campaign in self:
            missing = campaign._missing_for_ready()
            if missing:
                raise UserError(
                    self.env._(
                        "The campaign %(name)s is not ready yet:\n%(missing)s",
                        name=campaign.name,
                        missing="\n".join(f"- {m}" for m in missing),
                    )
                )
        self.write({"state": "ready"})

    def action_set_draft(self):
        self.write({"state": "draft"})

    def action_set_active(self):
        self.write({"state": "active"})
        self.env["campaign.engine"]._trigger()

    def action_view_runs(self):
        """Execution info: runs of the campaign's actions with their counts and errors."""
        return self._action_view_related("campaign_manager.campaign_action_run_action")

    def action_done(self):
        self.write({"state": "done"})

    def action_cancel(self):
        self.write({"state": "cancelled"})
        self.action_ids.filtered(lambda a: a.state in ("draft", "scheduled")).write({"state": "cancelled"})

    def action_calculate(self):
        self.ensure_one()
        wizard = self.env["campaign.campaign.calculate"].create({"campaign_id": self.id})
        return wizard._action_open()

    def action_view_actions(self):
        return self._action_view_related("campaign_manager.campaign_action_action")

    def action_view_targets(self):
        return self._action_view_related("campaign_manager.campaign_target_action")

    def action_view_touchpoints(self):
        """The touchpoints the smart button counts; the Excluded filter shows the contacts left out."""
        action = self._action_view_related("campaign_manager.campaign_touchpoint_action")
        action["context"]["search_default_filter_not_excluded"] = 1
        return action

    def action_view_late_actions(self):
        action = self._action_view_related("campaign_manager.campaign_action_action")
        action["domain"] = [("campaign_id", "=", self.id), ("pending_after_end", "=", True)]
        action["view_mode"] = "list,form"
        action["views"] = [(False, "list"), (False, "form")]
        return action

    def action_view_calendar(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_calendar_entry_action")
        action["domain"] = [("campaign_id", "=", self.id)]
        action["context"] = {"search_default_filter_not_cancelled": 1}
        if self.date_start:
            action["context"]["initial_date"] = fields.Date.to_string(self.date_start)
        return action

    def _action_open_wizard(self, res_model, name, context=None):
        """The window action opening the wizard ``res_model`` in a dialog, on the campaign.

        :param str name: title of the dialog, in the user's language
        :param dict context: context of the wizard (default: the campaign as its ``campaign_id``)
        """
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": res_model,
            "view_mode": "form",
            "target": "new",
            "context": {"default_campaign_id": self.id} if context is None else context,
        }

    def _action_view_related(self, xmlid):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = [("campaign_id", "=", self.id)]
        action["context"] = {"default_campaign_id": self.id}
        return action

    # ------------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------------
    def _check_state_transition(self, new_state):
        labels = dict(self._fields["state"]._description_selection(self.env))
        for campaign in self:
            if campaign.state == new_state:
                continue
            if new_state not in CAMPAIGN_TRANSITIONS[campaign.state]:
                raise UserError(
                    self.env._(
                        "The campaign %(name)s cannot go from “%(old)s” to “%(new)s”.",
                        name=campaign.name,
                        old=labels[campaign.state],
                        new=labels[new_state],
                    )
                )

    def _has_touchpoints(self):
        return bool(self.ids) and bool(
            self.env["campaign.touchpoint"].sudo().search_count([("campaign_id", "in", self.ids)], limit=1)
        )  # sudo: a count across the rules, to protect the data whoever asks

    def _check_tracking_unlocked(self, vals):
        for campaign in self:
            if campaign.state in ("active", "stopped", "done") and any(
                campaign[field] != vals[field] for field in TRACKING_FIELDS & set(vals)
            ):
                raise UserError(
                    self.env._(
                        "The tracking settings of %(campaign)s cannot change once the campaign is active: "
                        "all its emails must be tracked the same way. Duplicate the campaign to change them.",
                        campaign=campaign.name,
                    )
                )

    def _mailing_reply_values(self):
        """Reply-to values of the campaign's mailings, from its reply setting."""
        self.ensure_one()
        if self.reply_mode == "contact":
            return {"reply_to_mode": "update", "reply_to": False}
        if self.reply_mode == "campaign":
            return {"reply_to_mode": "new", "reply_to": self.alias_email}
        return {"reply_to_mode": "new", "reply_to": self.reply_to or self.user_id.email_formatted}

    def _alias_get_creation_values(self):
        """Replies sent to the campaign's alias are posted on the campaign."""
        values = super()._alias_get_creation_values()
        values["alias_model_id"] = self.env["ir.model"]._get_id("campaign.campaign")
        if self.id:
            values["alias_force_thread_id"] = self.id
            values["alias_parent_thread_id"] = self.id
        return values

    def _missing_for_ready(self, require_start=True):
        """List, in the user's language, what the campaign still needs before it can run."""
        self.ensure_one()
        missing = []
        if require_start and not self.date_start:
            missing.append(self.env._("a start date"))
        actions = self.action_ids.filtered(lambda a: a.state != "cancelled")
        if not self._has_audience_source() and not (actions and all(a.audience_less for a in actions)):
            missing.append(self.env._("at least one target"))
        if not self.action_ids.filtered(lambda a: a.state != "cancelled"):
            missing.append(self.env._("at least one action"))
        return missing

    def _has_audience_source(self):
        """Whether the campaign has contacts to reach: targets (journeys add their triggers)."""
        self.ensure_one()
        return bool(self.target_ids)

    def _audience_mailing_lists(self):
        """The mailing lists whose opt-outs exclude contacts from the campaign: its targets' (with
        the system's rights: the ids only, accountants cannot read mailing lists)."""
        self.ensure_one()
        return self.target_ids.sudo().mailing_list_ids

    def _job_lang(self):
        """Language the scheduled job writes in for the campaign (chatter notes, run logs, names
        of the records it creates): its owner's, else its company's, else the job's own.

        :return: code of an installed language
        """
        self.ensure_one()
        langs = self.env["res.lang"]
        return (
            langs._get_code(self.user_id.lang)
            or langs._get_code(self.company_id.partner_id.lang)
            or self.env.lang
            or "en_US"
        )

    def _reach_order_step(self, step):
        """Record that the order reached ``step`` (never goes back)."""
        for campaign in self:
            if ORDER_STEP_INDEX[step] > ORDER_STEP_INDEX[campaign.order_step]:
                campaign.order_step = step

    def _resolve_recipients(self, channel, targets=None, action=None):
        """Resolve the recipients of the campaign for a channel, set-based.

        :param str channel: one of CHANNELS' keys
        :param targets: campaign.target recordset (default: all of the campaign's)
        :param action: campaign.action used for the "once per contact" exclusion
        :return: campaign.audience result (see ``campaign.target._audience_sql``)
        """
        self.ensure_one()
        targets = targets or self.target_ids
        return targets._audience_stats(channel, action=action)

    # ------------------------------------------------------------------
    # AUTOMATIC STATUS (seed 004)
    # ------------------------------------------------------------------
    @api.model
    def _cron_update_states(self):
        """Scheduled job: a ready campaign becomes active on its start date, an active one done
        after its end date. Each change goes through the usual transitions, so it is tracked in the
        chatter; actions still pending when a campaign ends get a to-do for their responsible."""
        today = fields.Date.context_today(self)
        to_start = self.search([("state", "=", "ready"), ("date_start", "!=", False), ("date_start", "<=", today)])
        # the job writes (status tracking, notes, to-dos) in each campaign's language
        for lang, group in to_start.grouped(lambda campaign: campaign._job_lang()).items():
            campaigns = group.with_context(lang=lang)
            campaigns.action_set_active()
            note = Markup("<p>%s</p>") % campaigns.env._("Started on its start date.")
            campaigns._message_log_batch(bodies=dict.fromkeys(campaigns.ids, note))
        to_finish = self.search([("state", "=", "active"), ("date_end", "!=", False), ("date_end", "<", today)])
        for lang, group in to_finish.grouped(lambda campaign: campaign._job_lang()).items():
            campaigns = group.with_context(lang=lang)
            campaigns.action_done()
            note = Markup("<p>%s</p>") % campaigns.env._("Finished after its end date.")
            campaigns._message_log_batch(bodies=dict.fromkeys(campaigns.ids, note))
        to_finish.action_ids.filtered("pending_after_end")._schedule_late_activity()
        return True
