from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_datetime


class CampaignCampaignLaunch(models.TransientModel):
    """Launch a campaign (seed 003): immediately, at a date and time, or recurring, after showing
    the *Calculate* figures of each action that starts it."""

    _name = "campaign.campaign.launch"
    _description = "Launch a Campaign"
    _inherit = ["campaign.access.mixin"]

    campaign_id = fields.Many2one("campaign.campaign", required=True, ondelete="cascade")
    mode = fields.Selection(
        selection=[
            ("planned", "As planned on each action"),
            ("now", "Immediately"),
            ("at", "At a date and time"),
            ("recurring", "Recurring"),
        ],
        required=True,
        default="now",
        help="Applies to the actions that start the campaign (not to those following another action).",
    )
    date_start = fields.Datetime(string="Send On", default=fields.Datetime.now)
    interval_number = fields.Integer(string="Repeat Every", default=1)
    interval_unit = fields.Selection(
        selection=[("days", "Days"), ("weeks", "Weeks"), ("months", "Months")], default="weeks"
    )
    recurring_until = fields.Datetime(string="Until")
    once_per_contact = fields.Boolean(
        string="Once per Contact",
        help="A contact is reached at most once, even when the dynamic targets find them again at a later run.",
    )
    line_ids = fields.One2many(
        "campaign.campaign.launch.line", "wizard_id", string="Audience", compute="_compute_line_ids", store=True
    )
    missing = fields.Text(compute="_compute_missing", help="What must be completed before launching.")

    @api.depends("campaign_id")
    def _compute_line_ids(self):
        # the starting actions of one channel and the same targets are usually one classification
        with self.env["campaign.target"]._audience_pinned():
            for wizard in self:
                commands = [fields.Command.clear()]
                for action in wizard._starting_actions():
                    stats = action._audience_stats() if action._run_has_audience() else {}
                    excluded = stats.get("excluded", {})
                    commands.append(
                        fields.Command.create(
                            {
                                "action_id": action.id,
                                "total": stats.get("total", 0),
                                "duplicates": stats.get("duplicates", 0),
                                "excluded": sum(excluded.values()),
                                "final": stats.get("final", 0),
                            }
                        )
                    )
                wizard.line_ids = commands

    @api.depends("campaign_id")
    def _compute_missing(self):
        for wizard in self:
            missing = wizard.campaign_id._missing_for_launch() if wizard.campaign_id else []
            wizard.missing = "\n".join(f"- {item}" for item in missing) or False

    @api.constrains("campaign_id")
    def _check_access_campaign(self):
        # constraints run as superuser: the user's own rights decide, so that a wizard never shows nor
        # works on a record its user may not read
        self.campaign_id.sudo(False).check_access("read")

    def _apply_mode(self):
        """Write the chosen start on the actions that start the campaign (nothing when "as planned").
        Also used by the order wizard's schedule step, on a record in memory."""
        self.ensure_one()
        if self.mode in ("at", "recurring") and not self.date_start:
            raise UserError(self.env._("Choose when the campaign starts."))
        if self.mode == "recurring" and self.recurring_until and self.recurring_until < self.date_start:
            raise UserError(self.env._("The recurrence ends before it starts."))
        if self.mode == "planned":
            return
        values = {"schedule_type": self.mode}
        if self.mode in ("at", "recurring"):
            values["date_start"] = self.date_start
        if self.mode == "recurring":
            values.update(
                {
                    "interval_number": self.interval_number,
                    "interval_unit": self.interval_unit,
                    "recurring_until": self.recurring_until,
                    "once_per_contact": self.once_per_contact,
                }
            )
        self._starting_actions().write(values)

    def _starting_actions(self):
        """Draft or scheduled actions that do not follow another action (nor wait for contacts to
        enter a journey)."""
        self.ensure_one()
        return self.campaign_id.action_ids.filtered(
            lambda a: a.state in ("draft", "scheduled") and a.schedule_type not in ("after", "entry")
        )

    def action_launch(self):
        self.ensure_one()
        campaign = self.campaign_id
        if campaign.state not in ("draft", "ready", "stopped"):
            raise UserError(self.env._("Only a draft, ready or stopped campaign can be launched."))
        self._apply_mode()
        if not campaign.date_start:
            campaign.date_start = fields.Date.context_today(self)
        missing = campaign._missing_for_launch()
        if missing:
            raise UserError(
                self.env._(
                    "The campaign %(campaign)s cannot be launched yet:\n%(missing)s",
                    campaign=campaign.name,
                    missing="\n".join(f"- {item}" for item in missing),
                )
            )
        note = self._launch_note()
        campaign.order_step = "done"  # launched: nothing left to order, whichever way it got here
        campaign.action_ids.filtered(lambda a: a.state == "draft").action_schedule()
        if campaign.state == "draft":
            campaign.action_set_ready()
        if campaign.state == "stopped":
            campaign.action_resume()
        elif campaign.date_start <= fields.Date.context_today(self):
            campaign.action_set_active()
        campaign.message_post(body=note)
        return {"type": "ir.actions.act_window_close"}

    def _launch_note(self):
        """What the chatter says of the launch: when the actions that start the campaign run, as
        they are scheduled once the chosen mode is applied (the order wizard launches "as planned"
        after its schedule step wrote "immediately" on them)."""
        self.ensure_one()
        actions = self._starting_actions()
        kinds = set(actions.mapped("schedule_type"))
        mode = kinds.pop() if len(kinds) == 1 else "planned"
        if mode == "now":
            return self.env._("Campaign launched: its actions start immediately.")
        if mode == "at" and len(set(actions.mapped("date_start"))) == 1:
            return self.env._(
                "Campaign launched: its actions start on %(date)s.",
                date=format_datetime(self.env, actions[0].date_start, dt_format="short"),
            )
        if mode == "recurring" and len(set(actions.mapped("date_start"))) == 1:
            return self.env._(
                "Campaign launched: its actions recur from %(date)s.",
                date=format_datetime(self.env, actions[0].date_start, dt_format="short"),
            )
        return self.env._("Campaign launched: each action runs as planned on it.")
