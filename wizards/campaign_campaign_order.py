from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..models.campaign_campaign import ORDER_STEP_INDEX, ORDER_STEPS

WIZARD_STEPS = [step for step in ORDER_STEPS if step[0] != "done"]
WIZARD_STEP_KEYS = [key for key, _label in WIZARD_STEPS]
TARGET_SOURCES = [
    ("manual", "Pick contacts"),
    ("filter", "Filter contacts"),
    ("mailing_list", "Mailing lists"),
    ("file", "Import a file"),
]


class CampaignCampaignOrder(models.TransientModel):
    """Order a campaign step by step (seed 000): summary, create and name, contacts, media, schedule,
    launch. Every step is saved on the campaign, which remembers the step reached so that the order
    can be resumed there; steps are done in order and the launch lists whatever is still missing."""

    _name = "campaign.campaign.order"
    _description = "Order a Campaign"
    _inherit = ["campaign.access.mixin", "campaign.audience.breakdown.mixin"]

    campaign_id = fields.Many2one("campaign.campaign", readonly=True, ondelete="cascade")
    step = fields.Selection(selection=WIZARD_STEPS, required=True, default="summary", readonly=True)

    # Create and name
    name = fields.Char(
        string="Campaign Name",
        help="Unique name without spaces, for example JanOffers or FebSale.",
    )
    scope = fields.Selection(
        selection="_selection_scope",
        default="company",
        help="Company: the campaign uses the company's contacts. Personal: your own contacts; only you "
        "and the campaign managers see the campaign.",
    )
    campaign_type = fields.Selection(selection="_selection_campaign_type", string="Type", default="promotion")
    date_start = fields.Date(string="Start Date", default=fields.Date.context_today)
    date_end = fields.Date(string="End Date")

    # Contacts
    target_source = fields.Selection(
        selection=TARGET_SOURCES,
        string="Add Contacts By",
        default="manual",
        help="Each addition becomes a target of the campaign; contacts found in several targets are reached once.",
    )
    target_name = fields.Char(
        help="Name of the target to add (default: after what it selects: the contacts, the filter, the lists "
        "or the file)."
    )
    target_type = fields.Selection(
        selection=[("dynamic", "Dynamic"), ("static", "Static")],
        string="Kind",
        default="dynamic",
        help="A dynamic target is read again at each run; a static one is a snapshot taken at the first calculation.",
    )
    partner_ids = fields.Many2many(
        "res.partner", "campaign_campaign_order_partner_rel", "order_id", "partner_id", string="Contacts"
    )
    partner_domain = fields.Char(string="Contact Filter", default="[]")
    mailing_list_ids = fields.Many2many(
        "mailing.list", "campaign_campaign_order_mailing_list_rel", "order_id", "list_id", string="Mailing Lists"
    )
    import_file = fields.Binary(string="File to Import", attachment=False)
    import_filename = fields.Char(string="File Name")
    input_count = fields.Integer(
        string="Contacts Found", compute="_compute_input_count", help="Contacts the choice above finds right now."
    )
    target_ids = fields.One2many(related="campaign_id.target_ids", string="Targets")
    count_channel = fields.Selection(
        selection=lambda self: self.env["campaign.action"]._selection_channel(),
        string="Count For",
        default="email",
        help="Channel whose exclusions (no usable address, blacklist, opt-outs...) the figures apply.",
    )

    # Media
    line_ids = fields.One2many("campaign.campaign.order.line", "wizard_id", string="Actions")
    schedule_line_ids = fields.One2many("campaign.campaign.order.line", "wizard_id", string="Actions to Schedule")
    new_channel = fields.Selection(
        selection=lambda self: self.env["campaign.action"]._selection_channel(), string="Channel", default="email"
    )
    new_action_name = fields.Char(string="Action Name", help="Default: the channel's name.")
    new_mail_template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        domain="[('model', '=', 'res.partner')]",
        help="Contact template giving the email's subject and body. Leave empty to write the email with "
        "the Email Marketing editor (Edit Email).",
    )

    # Schedule (the same choices as the launch wizard)
    schedule_mode = fields.Selection(
        selection=[
            ("now", "Immediately"),
            ("at", "At a date and time"),
            ("recurring", "Recurring"),
            ("actions", "Per action"),
        ],
        string="Start",
        default="now",
        help="Applies to the actions that start the campaign (not to those following another action). "
        "Per action: the schedule given on each line below.",
    )
    schedule_date = fields.Datetime(string="Send On", default=fields.Datetime.now)
    interval_number = fields.Integer(string="Repeat Every", default=1)
    interval_unit = fields.Selection(
        selection=[("days", "Days"), ("weeks", "Weeks"), ("months", "Months")], default="weeks"
    )
    recurring_until = fields.Datetime(string="Until")
    once_per_contact = fields.Boolean(
        string="Once per Contact",
        help="A contact is reached at most once, even when the dynamic targets find them again at a later run.",
    )

    # Launch
    launch_id = fields.Many2one("campaign.campaign.launch", readonly=True)
    opened_from_form = fields.Boolean(
        readonly=True, help="Technical: the order was resumed from the campaign's form, which the launch goes back to."
    )
    launch_line_ids = fields.One2many(related="launch_id.line_ids", string="Audience")
    missing = fields.Text(compute="_compute_missing", help="What must be completed before launching.")

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("target_source", "partner_ids", "partner_domain", "mailing_list_ids")
    def _compute_input_count(self):
        for wizard in self:
            if wizard.target_source == "manual":
                wizard.input_count = len(wizard.partner_ids)
            elif wizard.target_source == "filter":
                domain = wizard._partner_domain_list()
                wizard.input_count = self.env["res.partner"].search_count(domain) if domain is not None else 0
            elif wizard.target_source == "mailing_list" and wizard.mailing_list_ids:
                wizard.input_count = self.env["mailing.contact"].search_count(
                    [("list_ids", "in", wizard.mailing_list_ids.ids)]
                )
            else:
                wizard.input_count = 0

    @api.depends("step", "campaign_id", "contacts")
    def _compute_missing(self):
        for wizard in self:
            missing = wizard._missing_for_launch() if wizard.step == "launch" and wizard.campaign_id else []
            wizard.missing = "\n".join(f"- {item}" for item in missing) or False

    @api.depends("campaign_id.name")
    def _compute_display_name(self):
        for wizard in self:
            wizard.display_name = (
                self.env._("Order of %(campaign)s", campaign=wizard.campaign_id.name)
                if wizard.campaign_id
                else self.env._("Order a Campaign")
            )

    def _selection_scope(self):
        return self.env["campaign.campaign"]._fields["scope"]._description_selection(self.env)

    def _selection_campaign_type(self):
        return self.env["campaign.campaign"]._fields["campaign_type"]._description_selection(self.env)

    # ------------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------------
    @api.constrains("step", "campaign_id")
    def _check_step(self):
        labels = dict(self._fields["step"]._description_selection(self.env))
        for wizard in self:
            reached = wizard.campaign_id.order_step if wizard.campaign_id else "name"
            if ORDER_STEP_INDEX[wizard.step] > ORDER_STEP_INDEX[reached]:
                raise ValidationError(
                    self.env._(
                        "The steps of an order are done in order: complete “%(step)s” first.",
                        step=labels.get(reached, reached),
                    )
                )

    @api.constrains("campaign_id", "launch_id")
    def _check_access_campaign(self):
        # constraints run as superuser: the user's own rights decide, so that a wizard never shows nor
        # works on a record its user may not read
        self.campaign_id.sudo(False).check_access("read")
        self.launch_id.sudo(False).check_access("read")

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_next(self):
        """Save the current step and go to the next one, refusing with the list of what is missing."""
        self.ensure_one()
        if self.step == "launch":
            return self.action_launch()
        self._raise_if_missing(self._missing_inputs())
        save = {
            "name": self._save_name,
            "contacts": self._save_contacts,
            "schedule": self._save_schedule,
        }.get(self.step)
        if save:
            save()
        # from here, nothing the audience depends on is written: the next step's figures are
        # those of the same classifications (campaign.target._audience_pinned)
        with self.env["campaign.target"]._audience_pinned():
            self._raise_if_missing(self._missing_for_step(self.step))
            next_step = WIZARD_STEP_KEYS[WIZARD_STEP_KEYS.index(self.step) + 1]
            self.campaign_id._reach_order_step(next_step)
            self.step = next_step
            self._enter_step()
        return True  # the web client reloads the order where it is: its breadcrumb entry stays one

    def action_back(self):
        self.ensure_one()
        index = WIZARD_STEP_KEYS.index(self.step)
        if index:
            self.step = WIZARD_STEP_KEYS[index - 1]
            self._enter_step()
        return True

    def action_add_targets(self):
        """Add the contacts given at the contacts step as a target of the campaign."""
        self.ensure_one()
        self._add_target(explicit=True)
        self._refresh_counts()
        return True

    def action_recalculate(self):
        self.ensure_one()
        self._refresh_counts()
        return True

    def action_add_action(self):
        """Quick add of an action of the chosen channel (its content is then edited on the action)."""
        self.ensure_one()
        if not self.campaign_id:
            raise UserError(self.env._("Create the campaign first."))
        labels = dict(self._fields["new_channel"]._description_selection(self.env))
        values = {
            "campaign_id": self.campaign_id.id,
            "channel": self.new_channel,
            "name": self.new_action_name or labels[self.new_channel],
        }
        if self.new_channel == "email" and self.new_mail_template_id:
            values["mail_template_id"] = self.new_mail_template_id.id
        self.env["campaign.action"].create(values)
        self.write({"new_action_name": False, "new_mail_template_id": False})
        self._refresh_lines()
        return True

    def action_launch(self):
        """Launch the campaign once every step is complete, through the launch wizard's logic."""
        self.ensure_one()
        campaign = self.campaign_id
        if self.step != "launch" or not campaign or campaign.order_step != "launch":
            raise UserError(self.env._("The steps of an order are done in order: reach the launch step first."))
        self._refresh_counts()
        missing = self._missing_for_launch()
        if missing:
            raise UserError(
                self.env._(
                    "The campaign %(campaign)s cannot be launched yet:\n%(missing)s",
                    campaign=campaign.name,
                    missing="\n".join(f"- {item}" for item in missing),
                )
            )
        launch = self.launch_id or self.env["campaign.campaign.launch"].create(
            {"campaign_id": campaign.id, "mode": "planned"}
        )
        launch.action_launch()  # marks the order done
        return campaign._action_show_instead(back=self.opened_from_form)

    # ------------------------------------------------------------------
    # STEPS
    # ------------------------------------------------------------------
    @api.model
    def _open_for_campaign(self, campaign):
        """Open the order of an existing campaign at the step it reached."""
        wizard = self.create(
            {
                "campaign_id": campaign.id,
                "step": campaign.order_step,
                "name": campaign.name,
                "scope": campaign.scope,
                "campaign_type": campaign.campaign_type,
                "date_start": campaign.date_start,
                "date_end": campaign.date_end,
                "opened_from_form": bool(self.env.context.get("campaign_order_from_form")),
            }
        )
        wizard._enter_step()
        return wizard._action_reopen()

    def _action_reopen(self):
        """The order in the main area of the web client (a breadcrumb entry of its own, which the
        Email Marketing editor and the action forms opened from it come back to)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Order a Campaign"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }

    def _enter_step(self):
        """Prepare what the step shows: figures, lines of actions, launch figures (the campaign's
        and each starting action's: one classification when they are the same)."""
        self.ensure_one()
        if self.step == "contacts":
            self._refresh_counts()
        elif self.step in ("media", "schedule"):
            self._refresh_lines()
        elif self.step == "launch":
            with self.env["campaign.target"]._audience_pinned():
                self._refresh_counts()
                self.launch_id = self.env["campaign.campaign.launch"].create(
                    {"campaign_id": self.campaign_id.id, "mode": "planned"}
                )
                # its lines computed now, within the block, rather than when the request is flushed
                self.launch_id.flush_recordset(["line_ids"])

    def _raise_if_missing(self, missing):
        if missing:
            labels = dict(self._fields["step"]._description_selection(self.env))
            raise UserError(
                self.env._(
                    "Complete the step “%(step)s” before going on:\n%(missing)s",
                    step=labels[self.step],
                    missing="\n".join(f"- {item}" for item in missing),
                )
            )

    def _missing_inputs(self):
        """What the current step's own fields lack (checked before anything is saved)."""
        self.ensure_one()
        missing = []
        if self.step == "name":
            if not (self.name or "").strip():
                missing.append(self.env._("a name for the campaign"))
            if not self.date_start:
                missing.append(self.env._("a start date"))
        elif self.step == "schedule":
            if self.schedule_mode in ("at", "recurring") and not self.schedule_date:
                missing.append(self.env._("the date and time of the first sending"))
            if self.schedule_mode == "actions":
                missing += [
                    self.env._("%(action)s: a start date and time", action=line.action_id.name)
                    for line in self.schedule_line_ids
                    if line.schedule_type in ("at", "recurring") and not line.date_start
                ]
        return missing

    def _missing_for_step(self, step):
        """What the campaign still lacks for ``step`` (the saved state, in the user's language)."""
        self.ensure_one()
        campaign = self.campaign_id
        if step == "name":
            return [] if campaign else [self.env._("a name for the campaign")]
        if step == "contacts":
            if not campaign.target_ids:
                return [self.env._("at least one target")]
            if not self.contacts:
                return [self.env._("contacts: the targets find none")]
            return []
        if step == "media":
            actions = campaign.action_ids.filtered(lambda a: a.state != "cancelled")
            if not actions:
                return [self.env._("at least one action")]
            return [
                self.env._("%(action)s: %(missing)s", action=action.name, missing=item)
                for action in actions.filtered(lambda a: a.state in ("draft", "scheduled"))
                for item in action._missing_for_run()
            ]
        if step == "launch":
            return campaign._missing_for_launch()
        return []

    def _missing_for_launch(self):
        """Everything missing from the steps before the launch and for the launch itself, once each."""
        self.ensure_one()
        missing = []
        for step in ("name", "contacts", "media", "schedule", "launch"):
            missing += [item for item in self._missing_for_step(step) if item not in missing]
        return missing

    def _save_name(self):
        """Create the campaign (draft) at this step, or carry the changes over to it."""
        self.ensure_one()
        values = {
            "name": self.name.strip(),
            "scope": self.scope,
            "campaign_type": self.campaign_type,
            "date_start": self.date_start,
            "date_end": self.date_end,
        }
        company = self.campaign_id.company_id or self.env.company
        duplicate = (
            self.env["campaign.campaign"]
            .with_context(active_test=False)
            .sudo()  # names are unique per company, whoever may see the other campaign
            .search_count(
                [("name", "=", values["name"]), ("company_id", "=", company.id), ("id", "!=", self.campaign_id.id)],
                limit=1,
            )
        )
        if duplicate:
            raise UserError(
                self.env._(
                    "A campaign named %(name)s already exists in this company: campaign names must be unique.",
                    name=values["name"],
                )
            )
        if self.campaign_id:
            self.campaign_id.write(values)
        else:
            self.campaign_id = self.env["campaign.campaign"].create(values)

    def _save_contacts(self):
        self._add_target()
        self._refresh_counts()

    def _save_schedule(self):
        """Write the schedule on the actions: the global choice through the launch wizard's logic,
        or each line's schedule (one write per distinct schedule)."""
        self.ensure_one()
        if self.schedule_mode != "actions":
            self.env["campaign.campaign.launch"].new(
                {
                    "campaign_id": self.campaign_id.id,
                    "mode": self.schedule_mode,
                    "date_start": self.schedule_date,
                    "interval_number": self.interval_number,
                    "interval_unit": self.interval_unit,
                    "recurring_until": self.recurring_until,
                    "once_per_contact": self.once_per_contact,
                }
            )._apply_mode()
            return
        groups = defaultdict(list)
        for line in self.schedule_line_ids.filtered(lambda ln: ln.action_id.state == "draft"):
            action = line.action_id
            if (line.schedule_type, line.date_start) != (action.schedule_type, action.date_start):
                groups[(line.schedule_type, line.date_start)].append(action.id)
        for (schedule_type, date_start), action_ids in groups.items():
            self.env["campaign.action"].browse(action_ids).write(
                {"schedule_type": schedule_type, "date_start": date_start}
            )

    # ------------------------------------------------------------------
    # HELPERS
    # ------------------------------------------------------------------
    def _partner_domain_list(self):
        """The contact filter as a list, or None when it is not a valid domain."""
        self.ensure_one()
        return self.env["campaign.target"]._check_filter(self.partner_domain, "res.partner")[0]

    def _add_target(self, explicit=False):
        """Create a target of the campaign from the contacts given at this step, then clear them.

        :param bool explicit: the user asked for it: an empty choice is refused, and an empty contact
            filter means every contact (otherwise it means no filter)
        :return: the new campaign.target, or an empty recordset when nothing was given
        """
        self.ensure_one()
        source = self.target_source
        values = {"campaign_id": self.campaign_id.id, "source": source}
        given = False
        if source == "manual" and self.partner_ids:
            values["partner_ids"] = [fields.Command.set(self.partner_ids.ids)]
            given = True
        elif source == "filter" and (explicit or (self.partner_domain or "[]").replace(" ", "") != "[]"):
            error = self.env["campaign.target"]._check_filter(self.partner_domain, "res.partner", execute=True)[1]
            if error:
                raise UserError(self.env._("The contact filter is not valid: %(error)s", error=error))
            values.update({"partner_domain": self.partner_domain or "[]", "target_type": self.target_type})
            given = True
        elif source == "mailing_list" and self.mailing_list_ids:
            values.update(
                {"mailing_list_ids": [fields.Command.set(self.mailing_list_ids.ids)], "target_type": self.target_type}
            )
            given = True
        elif source == "file" and self.import_file:
            values.update({"import_file": self.import_file, "import_filename": self.import_filename})
            given = True
        if not given:
            if explicit:
                raise UserError(
                    self.env._("Pick contacts, build a filter, choose mailing lists or a file to import first.")
                )
            return self.env["campaign.target"]
        values["name"] = self.target_name  # empty: named after what it selects
        target = self.env["campaign.target"].create(values)
        self.write(
            {
                "partner_ids": [fields.Command.clear()],
                "partner_domain": "[]",
                "mailing_list_ids": [fields.Command.clear()],
                "import_file": False,
                "import_filename": False,
                "target_name": False,
            }
        )
        return target

    def _refresh_counts(self):
        """The Calculate figures of the campaign's targets for the chosen channel."""
        for wizard in self.filtered("campaign_id"):
            stats = wizard.campaign_id._resolve_recipients(wizard.count_channel or "email")
            wizard.write(wizard._audience_breakdown_values(stats))

    def _refresh_lines(self):
        """One line per action of the campaign (cancelled ones aside), with its schedule."""
        self.line_ids.unlink()
        self.env["campaign.campaign.order.line"].create(
            [
                {
                    "wizard_id": wizard.id,
                    "action_id": action.id,
                    "schedule_type": action.schedule_type,
                    "date_start": action.date_start,
                }
                for wizard in self
                for action in wizard.campaign_id.action_ids.filtered(lambda a: a.state != "cancelled")
            ]
        )
