"""The event channel: one calendar event per run, the contacts as its attendees."""

from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError


class CampaignAction(models.Model):
    _inherit = "campaign.action"

    channel = fields.Selection(selection_add=[("event", "Event")], ondelete={"event": "cascade"})
    # Event channel: one calendar event per run, the contacts as attendees.
    event_name = fields.Char(string="Event Title", help="Title of the event (default: the action's name).")
    event_start_mode = fields.Selection(
        selection=[("run", "After the run"), ("fixed", "At a fixed date")],
        string="Event Starts",
        default="run",
        required=True,
        help="After the run: the event starts a delay after the run that invites the contacts. At a fixed "
        "date: always at the date given.",
    )
    event_delay = fields.Integer(string="Starts After", default=7, help="Delay between the run and the event.")
    event_delay_unit = fields.Selection(selection=[("hours", "Hours"), ("days", "Days")], default="days", required=True)
    event_date_start = fields.Datetime(string="Event Date")
    event_duration = fields.Float(default=1.0, help="Duration of the event, in hours.")
    event_location = fields.Char()
    event_description = fields.Html(sanitize=True)
    event_user_id = fields.Many2one(
        "res.users", string="Organizer", help="Organizer of the event (default: the action's responsible)."
    )
    event_send_invitations = fields.Boolean(
        string="Send Invitations",
        help="Email each contact the calendar's invitation (with the event's .ics file and answer buttons). "
        "Otherwise the contacts are only added as attendees.",
    )

    _event_delay_positive = models.Constraint(
        "CHECK(event_delay >= 0)", "The event cannot start before the run that invites its attendees."
    )
    _event_duration_positive = models.Constraint("CHECK(event_duration > 0)", "An event lasts more than 0 hours.")

    def _default_medium(self):
        if self.channel != "event":
            return super()._default_medium()
        return self.env.ref("campaign_manager.utm_medium_event", raise_if_not_found=False)

    def _channel_can_run(self):
        return self.channel == "event" or super()._channel_can_run()

    def _channel_missing(self):
        if self.channel != "event":
            return super()._channel_missing()
        missing = []
        if not (self.event_name or self.name):
            missing.append(self.env._("a title for the event"))
        if self.event_start_mode == "fixed" and not self.event_date_start:
            missing.append(self.env._("the date of the event"))
        if not (self.event_user_id or self.user_id):
            missing.append(self.env._("an organizer for the event"))
        return missing

    def _channel_dispatch(self, run, touchpoints):
        if self.channel != "event":
            return super()._channel_dispatch(run, touchpoints)
        self.env["calendar.event"]._campaign_invite(run, touchpoints)

    @api.model
    def _channel_audience_rules(self, channel, action=None):
        rules = super()._channel_audience_rules(channel, action=action)
        if channel != "event":
            return rules
        # an invitation goes to the contact: the opt-outs apply
        return {**rules, "opt_out": True}

    def _event_values(self, run):
        """Values of the calendar event of a run of the action."""
        self.ensure_one()
        if self.event_start_mode == "fixed":
            start = self.event_date_start
        else:
            unit = "hours" if self.event_delay_unit == "hours" else "days"
            start = run.date_planned + relativedelta(**{unit: self.event_delay})
        if not start:
            raise UserError(self.env._("The event of “%(action)s” has no date.", action=self.name))
        # the run's date keeps its seconds (21:07:08): an event starts on a minute
        start = start.replace(second=0, microsecond=0)
        organizer = self.event_user_id or self.user_id
        values = {
            "name": self.event_name or self.name,
            "start": start,
            "stop": start + timedelta(hours=self.event_duration or 1.0),
            "location": self.event_location or False,
            "description": self.event_description or False,
            "user_id": organizer.id,
            "partner_ids": [fields.Command.set(organizer.partner_id.ids)],
        }
        if self.campaign_id.scope == "personal":
            # the attendees are the owner's own contacts: colleagues see the time taken, not who comes
            values["privacy"] = "private"
        return values
