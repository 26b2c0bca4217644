from odoo import api, fields, models
from odoo.tools import SQL

try:
    import vobject
except ImportError:  # the calendar then sends no .ics file at all
    vobject = None


class CalendarEvent(models.Model):
    """Event actions: one calendar event per run, the run's contacts added as its attendees batch
    after batch, invited through the calendar's invitation machinery (answer links, .ics file) when
    the action says so, with an invitation that keeps the other attendees private."""

    _name = "calendar.event"
    _inherit = ["calendar.event", "campaign.carrier.mixin"]

    # an event is made per run: its action is its run's
    campaign_action_id = fields.Many2one(
        related="campaign_run_id.action_id", index=False, groups="campaign_manager.group_campaign_user"
    )
    campaign_run_id = fields.Many2one(
        groups="campaign_manager.group_campaign_user",
        help="Run of the campaign action that invited the attendees of this event.",
    )

    def _get_ics_file(self):
        """The .ics file of a campaign event lists no attendee: each invitee receives it, and must
        not learn the addresses of the campaign's other contacts."""
        result = super()._get_ics_file()
        # sudo: only to tell campaign events apart, whoever sends the invitation
        for event in self.sudo().filtered("campaign_run_id"):
            if not vobject or event.id not in result:
                continue
            calendar = vobject.readOne(result[event.id].decode())
            for vevent in calendar.vevent_list:
                vevent.contents.pop("attendee", None)
            result[event.id] = calendar.serialize().encode()
        return result

    # ------------------------------------------------------------------
    # ENGINE
    # ------------------------------------------------------------------
    @api.model
    def _campaign_run_event(self, run):
        """The event of a run, created on its first batch (run row locked, so that two workers
        dispatching the same run create one event)."""
        if run.event_id:
            return run.event_id
        self.env.cr.execute(SQL("SELECT id FROM campaign_action_run WHERE id = %s FOR UPDATE", run.id))
        run.invalidate_recordset(["event_id"])
        if run.event_id:
            return run.event_id
        values = run.action_id._event_values(run)
        values["campaign_run_id"] = run.id
        # no invitation to the organizer, no contact details added to the description
        event = self.with_context(no_mail_to_attendees=True, skip_contact_description=True).create(values)
        # the calendar accepts on behalf of the user who creates the event, here the scheduled job: the
        # organizer attends their own event, they are not asked to answer
        organizer = event.attendee_ids.filtered(lambda attendee: attendee.partner_id == event.user_id.partner_id)
        organizer.filtered(lambda attendee: attendee.state == "needsAction").write({"state": "accepted"})
        run.event_id = event
        return event

    @api.model
    def _campaign_invite(self, run, touchpoints):
        """Add a batch of contacts to the run's event (one write creating their attendees), invite
        those with an email when the action sends invitations, and mark the touchpoints: sent when
        invited, done when only added. Contacts already attending (an earlier attempt, or the
        organizer) are linked to their attendee, never invited twice."""
        action = run.action_id
        event = self._campaign_run_event(run)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT tp.partner_id FROM campaign_touchpoint tp
                    WHERE tp.id IN %s AND tp.state = 'planned'
                      AND NOT EXISTS (SELECT 1 FROM calendar_attendee a
                                       WHERE a.event_id = %s AND a.partner_id = tp.partner_id)""",
                tuple(touchpoints.ids),
                event.id,
            )
        )
        new_partner_ids = [row[0] for row in self.env.cr.fetchall()]
        invited = self.env["calendar.attendee"]
        if new_partner_ids:
            event.with_context(skip_attendee_notification=True, dont_notify=True).write(
                {"partner_ids": [fields.Command.link(partner_id) for partner_id in new_partner_ids]}
            )
            if action.event_send_invitations:
                attendees = self.env["calendar.attendee"].search(
                    [("event_id", "=", event.id), ("partner_id", "in", new_partner_ids)]
                )
                invited = attendees.filtered(lambda a: a.email and a._should_notify_attendee())
                # the calendar's sending (accept/decline tokens, .ics file), with an invitation that
                # does not disclose the other attendees, unlike the calendar's meeting invitation
                invited._notify_attendees(
                    self.env.ref("campaign_manager.mail_template_campaign_event_invitation"), force_send=True
                )
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint tp
                      SET state = CASE WHEN a.id IN %(invited)s THEN 'sent' ELSE 'done' END,
                          date_done = %(now)s, res_model = 'calendar.attendee', res_id = a.id
                     FROM calendar_attendee a
                    WHERE tp.id IN %(ids)s AND tp.state = 'planned'
                      AND a.event_id = %(event)s AND a.partner_id = tp.partner_id""",
                invited=tuple(invited.ids) or (0,),
                now=fields.Datetime.now(),
                ids=tuple(touchpoints.ids),
                event=event.id,
            )
        )
        touchpoints.invalidate_recordset()
