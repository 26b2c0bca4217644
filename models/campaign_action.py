import logging
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL, plaintext2html

from .. import placeholders
from ..const import (
    ACTION_STATES,
    ACTION_TRANSITIONS,
    AUDIENCE_LESS_CHANNELS,
    FOLLOWUP_FILTERS,
    PENDING_STATES,
    REACH_SELECTION,
)

_logger = logging.getLogger(__name__)


class CampaignAction(models.Model):
    _name = "campaign.action"
    _description = "Campaign Action"
    _inherit = ["mail.thread", "mail.activity.mixin", "campaign.access.mixin", "campaign.figures.mixin"]
    _figures_group_by = "action"
    _order = "date_start, sequence, id"
    _check_company_auto = True
    # the email content is the action's own mailing (created by Edit Email), never one chosen
    _campaign_engine_fields = frozenset({"mailing_id", "source_id", "run_ids", "touchpoint_ids"})

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    campaign_id = fields.Many2one(
        "campaign.campaign", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one(related="campaign_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="campaign_id.currency_id", store=True)
    campaign_state = fields.Selection(related="campaign_id.state", string="Campaign Status")
    # the channels are added by the files of models/channels/ (selection_add), the default by email.py
    channel = fields.Selection(selection=[], required=True, tracking=True)
    target_ids = fields.Many2many(
        "campaign.target",
        "campaign_action_target_rel",
        "action_id",
        "target_id",
        string="Targets",
        domain="[('campaign_id', '=', campaign_id)]",
        help="Targets this action reaches. Leave empty to reach all the campaign's targets.",
    )
    user_id = fields.Many2one(
        "res.users", string="Responsible", default=lambda self: self.env.user, tracking=True, check_company=True
    )
    state = fields.Selection(
        selection=ACTION_STATES, string="Status", required=True, default="draft", tracking=True, copy=False
    )
    color = fields.Integer(compute="_compute_color")

    # Schedule
    schedule_type = fields.Selection(
        selection=[
            ("now", "Immediately"),
            ("at", "At a date and time"),
            ("after", "After another action"),
            ("recurring", "Recurring"),
        ],
        string="Schedule",
        required=True,
        default="now",
        help="Immediately: as soon as the campaign is launched. At a date and time: at the start date. "
        "After another action: a delay after the other action is done. Recurring: from the start date, "
        "every interval until the end of the recurrence.",
    )
    date_start = fields.Datetime(
        string="Start",
        help="When the action runs (first run for recurring actions). For actions after another one "
        "it is computed from that action once known.",
    )
    date_stop = fields.Datetime(
        string="End",
        compute="_compute_date_stop",
        store=True,
        readonly=False,
        precompute=True,
        help="End of the action on the calendar (one hour after the start unless set).",
    )
    parent_id = fields.Many2one(
        "campaign.action",
        string="After Action",
        domain="[('campaign_id', '=', campaign_id), ('id', '!=', id)]",
        ondelete="restrict",
        index="btree_not_null",
        help="This action runs a delay after that action is done.",
    )
    delay = fields.Integer(default=1)
    delay_unit = fields.Selection(selection=[("hours", "Hours"), ("days", "Days")], default="days")
    interval_number = fields.Integer(string="Repeat Every", default=1)
    interval_unit = fields.Selection(
        selection=[("days", "Days"), ("weeks", "Weeks"), ("months", "Months")],
        default="weeks",
    )
    recurring_until = fields.Datetime(string="Until", help="Last date a recurring action may run.")
    # Organisations and their people (seed 001)
    reach = fields.Selection(
        selection=[("target", "As set on each target"), *REACH_SELECTION],
        string="Who to Reach",
        required=True,
        default="target",
        help="Whom the action reaches among the contacts of its targets. As set on each target: "
        "each target's own choice. Otherwise this choice applies to all the targets of the action: "
        "the companies of the contacts found, the contact persons (those found and those of the "
        "companies found), or both.",
    )
    person_function = fields.Char(
        string="Job Position Contains",
        help="Only the contact persons of the companies whose job position contains this text.",
    )
    person_category_ids = fields.Many2many(
        "res.partner.category",
        "campaign_action_person_category_rel",
        "action_id",
        "category_id",
        string="Person Tags",
        help="Only the contact persons of the companies who have one of these tags.",
    )
    touchpoint_type_id = fields.Many2one(
        "campaign.touchpoint.type",
        ondelete="restrict",
        index="btree_not_null",
        domain="['|', ('channel', '=', False), ('channel', '=', channel)]",
        help="Kind of touchpoint the action records for each contact: the fields to fill in when "
        "its outcome is recorded and the follow-up activity to schedule.",
    )
    audience_less = fields.Boolean(
        string="Reaches No Contact",
        compute="_compute_audience_less",
        help="The action reaches no contact of the targets (web links, one task for the action): no "
        "touchpoint is created.",
    )
    pending_after_end = fields.Boolean(
        string="Late",
        compute="_compute_pending_after_end",
        search="_search_pending_after_end",
        help="Still draft or scheduled while its campaign has ended: run it, move it or cancel it.",
    )
    once_per_contact = fields.Boolean(
        string="Once per Contact",
        help="A contact is reached at most once by this action, even when found again in later runs.",
    )
    followup_filter = fields.Selection(
        selection=FOLLOWUP_FILTERS,
        string="Reach",
        default="targets",
        required=True,
        help="For an action that follows another one: reach its targets as usual, or only the contacts of "
        "the previous action's run that opened, did not open, clicked, did not click, replied, visited "
        "the landing page or bounced.",
    )
    date_next_run = fields.Datetime(
        string="Next Run",
        readonly=True,
        copy=False,
        help="When the scheduler will run the action next (empty when it is not waiting for a date).",
    )
    content_model = fields.Char(
        compute="_compute_content_model",
        help="Model of the records the content is written for (placeholders refer to the contact).",
    )

    # Costs
    fixed_cost = fields.Monetary(currency_field="currency_id")
    unit_cost = fields.Monetary(
        string="Cost per Unit", currency_field="currency_id", help="Variable cost of each contact reached."
    )
    expected_units = fields.Integer(
        help="Units (messages, letters, tasks...) the action is expected to carry out, for its planned cost "
        "before it runs. Once it runs, the touchpoints of its runs are the planned units.",
    )
    units_planned = fields.Integer(
        string="Planned Units",
        compute="_compute_figures",
        help="Touchpoints of the action's runs that are neither excluded nor cancelled; before the first run, "
        "the expected units (0 when the action is cancelled).",
    )
    units_carried = fields.Integer(
        string="Units Carried Out",
        compute="_compute_figures",
        help="Touchpoints carried out: sent or done (opened, clicked, replied, converted, bounced and "
        "unsubscribed ones included).",
    )
    touchpoint_ids = fields.One2many("campaign.touchpoint", "action_id", string="Touchpoints")
    run_ids = fields.One2many("campaign.action.run", "action_id", string="Runs")
    run_count = fields.Integer(string="Runs Count", compute="_compute_run_count")
    touchpoint_count = fields.Integer(string="Touchpoints Count", compute="_compute_touchpoint_count")
    description = fields.Html(string="Notes", sanitize=True)

    # Attribution: everything the action sends carries the campaign's UTM campaign, this source and
    # this medium, so that leads, orders and invoices are attributed to the action.
    source_id = fields.Many2one(
        "utm.source",
        string="UTM Source",
        readonly=True,
        copy=False,
        ondelete="restrict",
        index="btree_not_null",
        help="UTM source created with the action: its mailings and links carry it.",
    )
    medium_id = fields.Many2one(
        "utm.medium",
        string="UTM Medium",
        compute="_compute_medium_id",
        store=True,
        readonly=False,
        precompute=True,
        ondelete="restrict",
        help="UTM medium of the action (Email, SMS, Letter...), set from its channel.",
    )

    campaign_order_step = fields.Selection(related="campaign_id.order_step", string="Campaign Order Step")

    _delay_positive = models.Constraint("CHECK(delay >= 0)", "The delay of an action cannot be negative.")
    _interval_positive = models.Constraint(
        "CHECK(interval_number > 0)", "A recurring action repeats at least every 1 day, week or month."
    )
    _costs_positive = models.Constraint(
        "CHECK(fixed_cost >= 0 AND unit_cost >= 0)", "The costs of an action cannot be negative."
    )
    _expected_units_positive = models.Constraint(
        "CHECK(expected_units >= 0)", "The expected units of an action cannot be negative."
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("date_start")
    def _compute_date_stop(self):
        for action in self:
            if action.date_start and (not action.date_stop or action.date_stop < action.date_start):
                action.date_stop = action.date_start + timedelta(hours=1)

    @api.depends("channel")
    def _compute_color(self):
        colors = {key: index + 1 for index, (key, _label) in enumerate(self._fields["channel"].selection)}
        for action in self:
            action.color = colors.get(action.channel, 0)

    def _compute_content_model(self):
        self.content_model = "res.partner"

    @api.depends("channel")
    def _compute_medium_id(self):
        for action in self:
            if action.channel:
                action.medium_id = action._default_medium()

    @api.depends("channel")
    def _compute_audience_less(self):
        # channels may add their own cases (one task for the action: models/channels/task.py)
        for action in self:
            action.audience_less = action.channel in AUDIENCE_LESS_CHANNELS

    @api.depends("state", "campaign_id.date_end")
    @api.depends_context("tz")
    def _compute_pending_after_end(self):
        today = fields.Date.context_today(self)
        for action in self:
            action.pending_after_end = bool(
                action.state in PENDING_STATES and action.campaign_id.date_end and action.campaign_id.date_end < today
            )

    def _search_pending_after_end(self, operator, value):
        if operator != "in":
            return NotImplemented
        today = fields.Date.context_today(self)
        late = Domain("state", "in", PENDING_STATES) & Domain("campaign_id.date_end", "<", today)
        if True in value and False in value:
            return Domain.TRUE
        return late if True in value else ~late

    def _compute_run_count(self):
        groups = self.env["campaign.action.run"]._read_group(
            [("action_id", "in", self.ids)], ["action_id"], ["__count"]
        )
        counts = {action.id: count for action, count in groups}
        for action in self:
            action.run_count = counts.get(action.id, 0)

    def _figures_campaign_ids(self):
        return self._origin.filtered("id").campaign_id.ids

    def _figures_own(self, facts, values):
        return {
            "units_planned": int(facts["sums"]["units_planned"]),
            "units_carried": int(facts["sums"]["sent_count"]),
        }

    def _compute_touchpoint_count(self):
        groups = self.env["campaign.touchpoint"]._read_group(
            [("action_id", "in", self.ids)], ["action_id"], ["__count"]
        )
        counts = {action.id: count for action, count in groups}
        for action in self:
            action.touchpoint_count = counts.get(action.id, 0)

    # ------------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------------
    @api.constrains("schedule_type", "date_start", "parent_id", "recurring_until")
    def _check_schedule(self):
        for action in self:
            if action.schedule_type in ("at", "recurring") and not action.date_start:
                raise ValidationError(
                    self.env._("The action “%(name)s” needs a start date and time.", name=action.name)
                )
            if action.schedule_type == "after" and not action.parent_id:
                raise ValidationError(
                    self.env._("The action “%(name)s” must say which action it follows.", name=action.name)
                )
            if (
                action.schedule_type == "recurring"
                and action.recurring_until
                and action.recurring_until < action.date_start
            ):
                raise ValidationError(
                    self.env._("The recurrence of “%(name)s” ends before it starts.", name=action.name)
                )
            if action.parent_id and action.parent_id.campaign_id != action.campaign_id:
                raise ValidationError(self.env._("An action can only follow an action of the same campaign."))
            if action.parent_id and action._has_parent_cycle():
                raise ValidationError(self.env._("Actions cannot follow each other in a loop."))

    @api.constrains("target_ids", "campaign_id")
    def _check_targets(self):
        for action in self:
            if action.target_ids.campaign_id - action.campaign_id:
                raise ValidationError(self.env._("An action can only use targets of its own campaign."))

    @api.constrains("touchpoint_type_id", "channel")
    def _check_touchpoint_type(self):
        for action in self:
            message = action._touchpoint_type_error(action.touchpoint_type_id)
            if message:
                raise ValidationError(message)

    def _touchpoint_type_error(self, touchpoint_type):
        """Why ``touchpoint_type`` does not suit the action's channel (translated), or False."""
        self.ensure_one()
        if not touchpoint_type.channel or touchpoint_type.channel == self.channel:
            return False
        labels = dict(self._fields["channel"]._description_selection(self.env))
        return self.env._(
            "The touchpoint type “%(type)s” is for %(type_channel)s actions, "
            "not for the %(channel)s action “%(action)s”.",
            type=touchpoint_type.name,
            type_channel=labels[touchpoint_type.channel],
            channel=labels[self.channel],
            action=self.name,
        )

    def _content_fields(self):
        """Fields of the texts the scheduler renders per contact, whose placeholders are checked like
        Odoo's templates (see ``_check_content_placeholders``): each channel adds its own."""
        return set()

    def _content_has_code(self, render):
        """Whether the action's texts rendered per contact hold code (more than plain field paths).

        :param render: the ``mail.render.mixin`` model
        """
        self.ensure_one()
        return False

    def _check_content_placeholders(self):
        """The texts the scheduler renders per contact (SMS, letters): like Odoo's templates, only
        template editors may put code in their placeholders (plain field paths are allowed).
        Checked on create and write, where the user is known (constraints run as superuser)."""
        if self.env.su or self.env.user.has_group("mail.group_mail_template_editor"):
            return
        render = self.env["mail.render.mixin"]
        for action in self:
            if action._content_has_code(render):
                raise AccessError(
                    self.env._(
                        "Only template editors may use placeholders with code in the texts of “%(name)s”: "
                        "keep to fields of the contact such as {{ object.name }}.",
                        name=action.name,
                    )
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    def _creation_message(self):
        # one translatable sentence, in the creator's language (see campaign.campaign)
        return self.env._("Action created")

    @api.model_create_multi
    def create(self, vals_list):
        actions = super().create(vals_list)
        if any(self._content_fields() & set(vals) for vals in vals_list):
            actions._check_content_placeholders()
        actions._sync_utm_source()
        return actions

    def write(self, vals):
        if "state" in vals:
            self._check_state_transition(vals["state"])
        if "touchpoint_type_id" in vals:
            changed = self.filtered(lambda a: a.touchpoint_type_id.id != vals["touchpoint_type_id"])
            if changed and self.env["campaign.touchpoint"].search_count([("action_id", "in", changed.ids)], limit=1):
                raise UserError(
                    self.env._(
                        "The touchpoint type of an action that already reached contacts cannot be changed: "
                        "their recorded outcomes follow it."
                    )
                )
        res = super().write(vals)
        if self._content_fields() & set(vals):
            self._check_content_placeholders()
        if {"name", "campaign_id"} & set(vals):
            self._sync_utm_source()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_executed(self):
        if self.touchpoint_ids:
            raise UserError(self.env._("An action that already reached contacts cannot be deleted: cancel it."))

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_schedule(self):
        for action in self:
            if action.campaign_id.state in ("done", "cancelled"):
                raise UserError(
                    self.env._(
                        "The campaign %(campaign)s is over: its actions can no longer be scheduled.",
                        campaign=action.campaign_id.name,
                    )
                )
            missing = action._missing_for_run()
            if missing:
                raise UserError(
                    self.env._(
                        "The action “%(name)s” cannot be scheduled yet:\n%(missing)s",
                        name=action.name,
                        missing="\n".join(f"- {item}" for item in missing),
                    )
                )
        self._channel_prepare_schedule()
        self.write({"state": "scheduled"})
        self.env["campaign.engine"]._trigger()

    def action_set_draft(self):
        self.write({"state": "draft", "date_next_run": False})

    def action_cancel(self):
        """Cancel the action: what has not been carried out yet is cancelled, nothing more goes out."""
        self.write({"state": "cancelled", "date_next_run": False})
        self.run_ids.filtered(lambda r: r.state in ("pending", "sending"))._cancel_run()

    def action_resume_order(self):
        """Back to the order of the action's campaign, at the step it reached."""
        self.ensure_one()
        return self.campaign_id.action_order()

    def action_open_duplicate(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Duplicate into Campaigns"),
            "res_model": "campaign.action.duplicate",
            "view_mode": "form",
            "target": "new",
            "context": {"default_action_ids": self.ids},
        }

    def action_view_touchpoints(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_touchpoint_action")
        action["domain"] = [("action_id", "=", self.id)]
        return action

    def action_view_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_action_run_action")
        action["domain"] = [("action_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------------
    def _check_state_transition(self, new_state):
        labels = dict(self._fields["state"]._description_selection(self.env))
        for action in self:
            if action.state != new_state and new_state not in ACTION_TRANSITIONS[action.state]:
                raise UserError(
                    self.env._(
                        "The action “%(name)s” cannot go from “%(old)s” to “%(new)s”.",
                        name=action.name,
                        old=labels[action.state],
                        new=labels[new_state],
                    )
                )

    def _default_medium(self):
        """UTM medium matching the action's channel (each channel file gives its own)."""
        self.ensure_one()
        return self.env["utm.medium"]

    def _utm_source_name(self):
        self.ensure_one()
        return f"{self.campaign_id.name} - {self.name}"

    def _sync_utm_source(self):
        """Create the UTM source of each action, or keep its name in line with the action's."""
        # utm records are technical: campaign users may lack the rights to create or rename them
        sources = self.env["utm.source"].sudo()
        missing = self.filtered(lambda a: not a.source_id)
        if missing:
            created = sources.create([{"name": action._utm_source_name()} for action in missing])
            for action, source in zip(missing, created, strict=True):
                action.sudo().source_id = source
        for action in self - missing:
            name = action._utm_source_name()
            if action.source_id.name != name:
                action.source_id.sudo().name = name

    def _schedule_late_activity(self):
        """Give the responsible of each action still pending after its campaign's end a to-do."""
        today = fields.Date.context_today(self)
        activity_type = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        values = []
        for action in self:
            env = action.with_context(lang=action.campaign_id._job_lang()).env  # written by the job
            values.append(
                {
                    "res_model_id": self.env["ir.model"]._get_id(self._name),
                    "res_id": action.id,
                    "activity_type_id": activity_type.id if activity_type else False,
                    "summary": env._("Still pending after the end of the campaign"),
                    # the note is html: the campaign's name is text
                    "note": plaintext2html(
                        env._(
                            "The campaign %(campaign)s has ended but this action has not run: "
                            "run it, move it or cancel it.",
                            campaign=action.campaign_id.name,
                        )
                    ),
                    "date_deadline": today,
                    "user_id": (action.user_id or action.campaign_id.user_id).id,
                }
            )
        self.env["mail.activity"].create(values)

    def _campaign_sender(self):
        """The user the action's messages come from: its responsible, else its campaign's owner
        (active internal users only; empty when there is none).

        :return: res.users record (at most one)
        """
        users = self[:1].user_id | self[:1].campaign_id.user_id
        return users.filtered(lambda user: user.active and user._is_internal())[:1]

    def _has_parent_cycle(self):
        self.ensure_one()
        seen, current = set(), self
        while current.parent_id:
            if current.id in seen:
                return True
            seen.add(current.id)
            current = current.parent_id
        return current.id in seen

    def _effective_targets(self):
        """Targets reached by the action: its own, or all the campaign's when none is chosen."""
        self.ensure_one()
        return self.target_ids or self.campaign_id.target_ids

    def _audience_stats(self):
        self.ensure_one()
        return self._effective_targets()._audience_stats(self.channel, action=self)

    def _next_occurrence(self, after):
        """Next run of a recurring action strictly after ``after``, or False past its end."""
        self.ensure_one()
        step = {
            "days": relativedelta(days=self.interval_number),
            "weeks": relativedelta(weeks=self.interval_number),
            "months": relativedelta(months=self.interval_number),
        }[self.interval_unit or "weeks"]
        occurrence = self.date_start
        while occurrence and occurrence <= after:
            occurrence += step
        if self.recurring_until and occurrence > self.recurring_until:
            return False
        return occurrence

    def _copy_to_campaign(self, campaign, date_shift=None):
        """Copy the actions into ``campaign``: same settings, targets matched by name, no touchpoints.
        ``after`` links are kept between the copied actions."""
        targets_by_name = {target.name: target for target in campaign.target_ids}
        mapping = {}
        pending = list(self)
        while pending:
            # parents first, so that the copy of a follow-up points to the copy of its parent
            ready = [a for a in pending if a.parent_id not in self or a.parent_id.id in mapping] or pending
            for action in ready:
                pending.remove(action)
                mapping[action.id] = action._copy_into(campaign, targets_by_name, mapping, date_shift)
        return self.browse(list(mapping.values()))

    def _copy_into(self, campaign, targets_by_name, mapping, date_shift):
        self.ensure_one()
        values = {
            "campaign_id": campaign.id,
            "target_ids": [
                fields.Command.set([targets_by_name[t.name].id for t in self.target_ids if t.name in targets_by_name])
            ],
            "parent_id": mapping.get(self.parent_id.id, False),
        }
        if self.schedule_type == "after" and not values["parent_id"]:
            values["schedule_type"] = "now"
        if date_shift is not None:
            delta = timedelta(days=date_shift)
            for field in ("date_start", "date_stop", "recurring_until"):
                if self[field]:
                    values[field] = self[field] + delta
        return self.copy(values).id

    # ------------------------------------------------------------------
    # ENGINE: readiness
    # ------------------------------------------------------------------
    def _run_has_audience(self):
        """Whether a run of the action reaches contacts (and so creates touchpoints): not for the
        channels that reach nobody (web links), nor for one task for the action (see
        ``audience_less``)."""
        self.ensure_one()
        return not self.audience_less

    def _missing_for_run(self):
        """What the action still needs before it can run, in the user's language (empty when ready)."""
        self.ensure_one()
        missing = []
        if self._reads_targets() and not self._effective_targets():
            missing.append(self.env._("a target (the campaign has none)"))
        for target in self._effective_targets().filtered(lambda t: t.import_state == "queued"):
            missing.append(
                self.env._("the end of the import of the target “%(target)s” (in progress)", target=target.name)
            )
        for target in self._effective_targets() if self._reads_targets() else []:
            error = target._filter_error()
            if error:
                missing.append(
                    self.env._("a valid filter for the target “%(target)s”: %(error)s", target=target.name, error=error)
                )
        if self.followup_filter != "targets" and self.schedule_type != "after":
            missing.append(
                self.env._("a previous action: only an action that follows another can be limited to its contacts")
            )
        if not self._channel_can_run():
            missing.append(self.env._("a channel that can run (this one is not available)"))
        missing += self._channel_missing()
        return missing

    def _reads_targets(self):
        """Whether a run of the action reads its targets (not a follow-up limited to the contacts of
        the previous action, nor a step of a journey: models/campaign_journey.py)."""
        self.ensure_one()
        return self._run_has_audience() and self.followup_filter == "targets"

    @api.model
    def _render_for_contacts(self, partners, subject, body, post_process=False):
        """{partner id: (subject, body)}: a text (subject, title, SMS) and an html body (email,
        letter, page) written for each of ``partners`` the way Odoo writes mail templates
        (``object`` is the contact): ``{{ ... }}`` placeholders in both (in the body, those that
        placeholders.to_qweb converts), QWeb in the body, with the rights and in the language of the
        environment. The one renderer of the letters, the personal pages and the journey's test.

        :param post_process: make the body's links absolute, as in an email
        """
        render = self.env["mail.render.mixin"]
        subjects = render._render_template(subject, "res.partner", partners.ids) if subject else {}
        bodies = {}
        if body:
            allowed = self.env["mailing.mailing"]._campaign_placeholder_allowed
            bodies = render._render_template(
                placeholders.to_qweb(body, allowed),
                "res.partner",
                partners.ids,
                engine="qweb",
                options={"post_process": post_process},
            )
        # output of QWeb rendering: values are escaped, the text itself is sanitized html
        return {
            partner.id: (subjects.get(partner.id) or "", Markup(bodies.get(partner.id) or "")) for partner in partners
        }

    def _missing_placeholders(self, html, text_name):
        """The placeholders of a body (email, letter, page) that will not be replaced, as a missing item.

        :param html: the body
        :param str text_name: what the body is, translated ("the email")
        :return: list of at most one translated item
        """
        found = placeholders.unreplaced(html, self.env["mailing.mailing"]._campaign_placeholder_allowed)
        if not found:
            return []
        return [
            self.env._(
                "placeholders that can be replaced in %(text)s instead of %(placeholders)s: in a text, "
                "{{ object.name }} (the contact's name) and {{ object.campaign_landing_url }} (their page) "
                "are; other fields need a template editor",
                text=text_name,
                placeholders=", ".join(found),
            )
        ]

    # ------------------------------------------------------------------
    # CHANNELS: what each file of models/channels/ implements for its channel, calling super()
    # for the others (``if self.channel != <its key>: return super()._channel_dispatch(...)``)
    # ------------------------------------------------------------------
    @api.model
    def _selection_channel(self):
        """The channels the installed channel files add, labels in the user's language: the
        selection of the other models that list channels."""
        return self._fields["channel"]._description_selection(self.env)

    def _channel_can_run(self):
        """Whether the engine can carry out the action's channel."""
        self.ensure_one()
        return False

    def _channel_missing(self):
        """What the action's content still lacks for its channel, in the user's language."""
        self.ensure_one()
        return []

    def _channel_dispatch(self, run, touchpoints):
        """Carry out a batch of touchpoints of a run. It must give every touchpoint a state other
        than 'planned' (or leave it planned to retry it later), never commit, and raise on errors
        that concern the whole batch; the engine then retries each touchpoint alone."""
        raise UserError(self.env._("The channel of this action cannot run."))

    def _channel_finish(self, run):
        """Called once when a run has carried out all its touchpoints."""

    def _channel_batch_size(self, batch_size):
        """Touchpoints a batch of the action may take (the engine's batch size unless the channel
        needs smaller batches)."""
        self.ensure_one()
        return batch_size

    def _channel_prepare_schedule(self):
        """What the channels of the actions need before they are scheduled (a project for tasks)."""

    @api.model
    def _channel_audience_rules(self, channel, action=None):
        """How the audience SQL (``campaign.target._classified_sql``) finds the address of a contact
        ``p`` (res_partner) on ``channel``: SQL expressions ``address`` (contacts sharing it are
        duplicates), ``no_address`` and ``blacklisted`` (exclusion reasons), and ``opt_out``:
        whether the opt-outs of the campaign's lists and its unsubscribed contacts apply. By default
        every contact has an address of its own (its id) and nothing is excluded.

        :param action: the action counted for, if any (a landing page: the channel of its link)
        """
        return {
            "address": SQL("p.id::varchar"),
            "no_address": SQL("FALSE"),
            "blacklisted": SQL("FALSE"),
            "opt_out": False,
        }

    def _is_ab_test(self):
        """Whether the action's runs are A/B tests (see models/channels/ab_test.py)."""
        self.ensure_one()
        return False
