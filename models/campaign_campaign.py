import re
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .campaign_action import CHANNELS

CAMPAIGN_STATES = [
    ("draft", "Draft"),
    ("ready", "Ready"),
    ("active", "Active"),
    ("done", "Done"),
    ("stopped", "Stopped"),
    ("cancelled", "Cancelled"),
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
    _inherit = ["mail.thread", "mail.activity.mixin", "mail.alias.mixin.optional"]
    _order = "date_start desc, id desc"
    _check_company_auto = True

    # ------------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------------
    name = fields.Char(
        required=True,
        tracking=True,
        help="Unique identifier of the campaign within the company, without spaces "
        "(e.g. JanOffers). It is also the name of its UTM campaign.",
    )
    active = fields.Boolean(default=True, tracking=True)
    color = fields.Integer()
    campaign_type = fields.Selection(
        selection=[
            ("promotion", "Promotion"),
            ("fidelity", "Fidelity"),
            ("information", "Information"),
            ("event", "Event"),
            ("other", "Other"),
        ],
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
        selection=[*CHANNELS, ("multi", "Multichannel")],
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
    touchpoint_count = fields.Integer(string="Touchpoints Count", compute="_compute_counts")
    audience_size = fields.Integer(
        compute="_compute_audience_size",
        help="Distinct active contacts across all the campaign's targets, before the exclusions "
        "of each channel (use Calculate for those).",
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

    # Links to Odoo
    utm_campaign_id = fields.Many2one(
        "utm.campaign",
        string="UTM Campaign",
        readonly=True,
        copy=False,
        ondelete="restrict",
        index="btree_not_null",
        help="UTM campaign created with the campaign and kept in sync: mailings, leads, "
        "orders and invoices carrying it are attributed to the campaign.",
    )
    analytic_account_id = fields.Many2one(
        "account.analytic.account",
        copy=False,
        check_company=True,
        index="btree_not_null",
        help="Analytic account carrying the campaign's costs (expenses, timesheets, bills).",
    )
    project_id = fields.Many2one(
        "project.project",
        copy=False,
        check_company=True,
        index="btree_not_null",
        help="Project holding the campaign's tasks; time logged on it counts as campaign cost.",
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
    @api.depends("action_ids.channel", "action_ids.state", "action_ids.schedule_type")
    def _compute_channels(self):
        for campaign in self:
            actions = campaign.action_ids.filtered(lambda a: a.state != "cancelled")
            channels = set(actions.mapped("channel"))
            schedules = set(actions.mapped("schedule_type"))
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
            ("campaign.touchpoint", "touchpoint_count"),
            ("campaign.action.run", "run_count"),
        ):
            groups = self.env[model]._read_group([("campaign_id", "in", self.ids)], ["campaign_id"], ["__count"])
            counts[field] = {campaign.id: count for campaign, count in groups}
        for campaign in self:
            for field, by_campaign in counts.items():
                campaign[field] = by_campaign.get(campaign.id, 0)

    @api.depends("target_ids")
    def _compute_audience_size(self):
        for campaign in self:
            if not campaign.id or not campaign.target_ids:
                campaign.audience_size = 0
                continue
            campaign.audience_size = campaign.target_ids._count_distinct_active_partners()

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
    @api.model_create_multi
    def create(self, vals_list):
        campaigns = super().create(vals_list)
        campaigns._sync_utm_campaign()
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

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        default = default or {}
        for campaign, vals in zip(self, vals_list, strict=True):
            if "name" not in default:
                vals["name"] = campaign._unique_copy_name()
        return vals_list

    def copy(self, default=None):
        """Duplicate the campaign with its settings, targets and actions, without touchpoints
        nor results. Dates are shifted by ``campaign_date_shift`` days (context) when given."""
        shift = self.env.context.get("campaign_date_shift")
        new_campaigns = self.env["campaign.campaign"]
        for campaign in self:
            values = dict(default or {})
            if shift is not None:
                delta = timedelta(days=shift)
                values.setdefault("date_start", campaign.date_start and campaign.date_start + delta)
                values.setdefault("date_end", campaign.date_end and campaign.date_end + delta)
            new_campaign = super(CampaignCampaign, campaign).copy(values)
            campaign.action_ids._copy_to_campaign(new_campaign, date_shift=shift)
            new_campaigns |= new_campaign
        return new_campaigns

    def _unique_copy_name(self):
        self.ensure_one()
        base = f"{self.name}Copy"
        taken = set(
            self.with_context(active_test=False)
            .search([("name", "=like", f"{base}%"), ("company_id", "=", self.company_id.id)])
            .mapped("name")
        )
        name, index = base, 2
        while name in taken:
            name = f"{base}{index}"
            index += 1
        return name

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
        self.action_ids._trigger_engine()

    def action_launch(self):
        """Open the launch wizard (seed 003: immediately, at a date and time, or recurring)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Launch %(campaign)s", campaign=self.name),
            "res_model": "campaign.campaign.launch",
            "view_mode": "form",
            "target": "new",
            "context": {"default_campaign_id": self.id},
        }

    def action_stop(self):
        """Stop the campaign: once saved, nothing more goes out. Emails waiting in the mail queue
        are withdrawn; their contacts are reached when the campaign resumes."""
        self.write({"state": "stopped"})
        # the UPDATE of the campaign row waits for any email being sent right now (it holds a share
        # lock on the row until it is sent and committed); later emails see the stop
        self.env.flush_all()
        self._hold_queued_emails()
        for campaign in self:
            campaign.message_post(body=self.env._("Campaign stopped: nothing more goes out until it resumes."))

    def action_resume(self):
        self.write({"state": "active"})
        self.action_ids._trigger_engine()

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

    def action_open_duplicate(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Duplicate Campaign"),
            "res_model": "campaign.campaign.duplicate",
            "view_mode": "form",
            "target": "new",
            "context": {"default_campaign_id": self.id},
        }

    def action_create_analytic_account(self):
        for campaign in self.filtered(lambda c: not c.analytic_account_id):
            plan = self.env["account.analytic.plan"]._campaign_plan()
            campaign.analytic_account_id = self.env["account.analytic.account"].create(
                {
                    "name": campaign.name,
                    "code": campaign.name[:20],
                    "plan_id": plan.id,
                    "company_id": campaign.company_id.id,
                }
            )
        return True

    def action_create_project(self):
        for campaign in self.filtered(lambda c: not c.project_id):
            campaign.action_create_analytic_account()
            campaign.project_id = self.env["project.project"].create(
                {
                    "name": campaign.name,
                    "company_id": campaign.company_id.id,
                    "user_id": campaign.user_id.id,
                    "account_id": campaign.analytic_account_id.id,
                    "allow_timesheets": True,
                    "type_ids": [fields.Command.set(self._campaign_task_stages().ids)],
                }
            )
        return True

    @api.model
    def _campaign_task_stages(self):
        """Stages of the campaigns' projects (seed 004): Not started, In progress, Done."""
        xmlids = ("not_started", "in_progress", "done")
        stages = self.env["project.task.type"]
        for xmlid in xmlids:
            stages |= self.env.ref(f"campaign_manager.project_task_type_{xmlid}", raise_if_not_found=False) or stages
        return stages

    def action_view_actions(self):
        return self._action_view_related("campaign_manager.campaign_action_action")

    def action_view_targets(self):
        return self._action_view_related("campaign_manager.campaign_target_action")

    def action_view_touchpoints(self):
        return self._action_view_related("campaign_manager.campaign_touchpoint_action")

    def action_view_project(self):
        self.ensure_one()
        self.action_create_project()
        return {
            "type": "ir.actions.act_window",
            "res_model": "project.project",
            "res_id": self.project_id.id,
            "view_mode": "form",
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

    def _hold_queued_emails(self):
        """Withdraw the campaign's emails queued but not sent yet: mails and traces are removed and
        their touchpoints planned again, so that a resume sends them once."""
        if not self:
            return
        self.env.cr.execute(
            SQL(
                """SELECT mm.id FROM mail_mail mm
                     JOIN mailing_mailing m ON m.id = mm.mailing_id
                     JOIN campaign_action_run r ON r.id = m.campaign_run_id
                    WHERE r.campaign_id IN %s AND mm.state = 'outgoing'""",
                tuple(self.ids),
            )
        )
        mail_ids = [row[0] for row in self.env.cr.fetchall()]
        if not mail_ids:
            return
        # mails and traces are technical records of the mail queue and Email Marketing
        mails = self.env["mail.mail"].sudo().browse(mail_ids)
        traces = self.env["mailing.trace"].sudo().search([("mail_mail_id", "in", mail_ids)])
        if traces:
            self.env.cr.execute(
                SQL(
                    """UPDATE campaign_touchpoint
                          SET state = 'planned', mailing_trace_id = NULL, res_model = NULL, res_id = NULL,
                              date_dispatched = NULL, mail_server_id = NULL
                        WHERE mailing_trace_id IN %s AND state = 'queued'
                    RETURNING run_id""",
                    tuple(traces.ids),
                )
            )
            run_ids = {row[0] for row in self.env.cr.fetchall()}
            self.env["campaign.touchpoint"].invalidate_model()
            traces.unlink()
            runs = self.env["campaign.action.run"].browse(run_ids).filtered(lambda r: r.state == "done")
            runs.write({"state": "sending", "date_done": False})
        mails.unlink()

    def _missing_for_launch(self):
        """Everything the campaign and its actions still need before a launch (user's language)."""
        self.ensure_one()
        # launching starts the campaign today when it has no start date yet
        missing = self._missing_for_ready(require_start=False) if self.state == "draft" else []
        for action in self.action_ids.filtered(lambda a: a.state in ("draft", "scheduled")):
            missing += [
                self.env._("%(action)s: %(missing)s", action=action.name, missing=item)
                for item in action._missing_for_run()
            ]
        if self.reply_mode == "campaign" and not self.alias_email:
            missing.append(self.env._("an email alias for the replies (Tracking tab), with an alias domain"))
        return missing

    def _missing_for_ready(self, require_start=True):
        """List, in the user's language, what the campaign still needs before it can run."""
        self.ensure_one()
        missing = []
        if require_start and not self.date_start:
            missing.append(self.env._("a start date"))
        if not self.target_ids:
            missing.append(self.env._("at least one target"))
        if not self.action_ids.filtered(lambda a: a.state != "cancelled"):
            missing.append(self.env._("at least one action"))
        return missing

    def _sync_utm_campaign(self):
        """Create the UTM campaign of each campaign, or copy its name, owner and activity on it."""
        utm_model = self.env["utm.campaign"].sudo()  # utm records are technical: users may lack rights on them
        for campaign in self:
            utm = campaign.utm_campaign_id.sudo()
            if not utm:
                campaign.sudo().utm_campaign_id = utm_model.create(
                    {
                        "name": campaign.name,
                        "title": campaign.name,
                        "user_id": campaign.user_id.id,
                        "active": campaign.active,
                    }
                )
                continue
            values = {}
            if utm.title != campaign.name:
                values["title"] = campaign.name
            if utm.user_id != campaign.user_id:
                values["user_id"] = campaign.user_id.id
            if utm.active != campaign.active:
                values["active"] = campaign.active
            if values:
                utm.write(values)

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
