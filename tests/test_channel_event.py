from datetime import datetime
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo.addons.calendar.models.calendar_attendee import CalendarAttendee
from odoo.addons.campaign_manager.models.calendar_event import CalendarEvent
from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestChannelEvent(CampaignCase):
    """Event actions: one calendar event per run, the contacts as attendees added in batches,
    invitations through the calendar's own template when chosen, accepted invitations as replies."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("calendar.block_mail", False)
        cls.partners = cls._partners(4, prefix="guest")
        cls.no_email = cls._partners(1, prefix="noemail", email=False)
        cls.campaign = cls._campaign("Webinar", date_start=datetime(2026, 3, 1).date())
        cls._manual_target(cls.campaign, cls.partners | cls.no_email)

    def _process(self, **kwargs):
        self.env["campaign.engine"]._cron_process(**kwargs)

    def _launch(self, campaign=None):
        campaign = campaign or self.campaign
        Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id)).save().action_launch()

    def _event_action(self, **values):
        return self.env["campaign.action"].create(
            {
                "campaign_id": self.campaign.id,
                "name": "Launch webinar",
                "channel": "event",
                "user_id": self.user_marketing.id,
                "event_name": "Product launch",
                "event_delay": 7,
                "event_delay_unit": "days",
                "event_duration": 1.5,
                "event_location": "Online",
                "event_description": "<p>Agenda: the new range.</p>",
                "event_user_id": self.user_manager.id,
            }
            | values
        )

    def _invitations(self, event):
        """Invitation notifications posted on the event, by recipient."""
        messages = self.env["mail.message"].search(
            [("model", "=", "calendar.event"), ("res_id", "=", event.id), ("message_type", "=", "user_notification")]
        )
        return messages.partner_ids

    # ------------------------------------------------------------------
    def test_event_with_invitations(self):
        action = self._event_action(event_send_invitations=True, unit_cost=1.0)
        with freeze_time("2026-03-02 09:00:00"):
            self._launch()
            self._process()
        run = action.run_ids
        self.assertEqual(run.state, "done")
        event = run.event_id
        self.assertEqual(event.name, "Product launch")
        self.assertEqual((event.start, event.stop), (datetime(2026, 3, 9, 9, 0), datetime(2026, 3, 9, 10, 30)))
        self.assertEqual(event.location, "Online")
        self.assertIn("Agenda", str(event.description))
        self.assertEqual(event.user_id, self.user_manager)
        self.assertEqual(event.campaign_run_id, run)
        self.assertEqual(event.partner_ids, self.partners | self.no_email | self.user_manager.partner_id)
        touchpoints = run.touchpoint_ids
        attendees = event.attendee_ids.filtered(lambda a: a.partner_id != self.user_manager.partner_id)
        self.assertEqual(set(touchpoints.mapped("res_model")), {"calendar.attendee"})
        self.assertEqual(sorted(touchpoints.mapped("res_id")), sorted(attendees.ids))
        sent = touchpoints.filtered(lambda t: t.state == "sent")
        self.assertEqual(sent.partner_id, self.partners, "invited: the contacts with an email")
        done = touchpoints.filtered(lambda t: t.state == "done")
        self.assertEqual(done.partner_id, self.no_email, "added without invitation: no email")
        self.assertEqual(set(touchpoints.mapped("date_done")), {datetime(2026, 3, 2, 9, 0)})
        self.assertEqual(self._invitations(event), self.partners, "one invitation per contact with an email")
        # each invitation keeps the other contacts private: neither the email nor the .ics lists them
        message = self.env["mail.message"].search(
            [
                ("model", "=", "calendar.event"),
                ("res_id", "=", event.id),
                ("message_type", "=", "user_notification"),
                ("partner_ids", "in", self.partners[0].ids),
            ]
        )
        self.assertEqual(message.subject, "Invitation: Product launch")
        self.assertIn("guest 0", str(message.body))
        self.assertIn("/calendar/meeting/accept?token=", str(message.body))
        self.assertNotIn("guest 1", str(message.body))
        ics = message.attachment_ids.filtered(lambda a: a.name == "invitation.ics")
        self.assertIn(b"Product launch", ics.raw)
        self.assertNotIn(b"guest.1@example.com", ics.raw)
        self.assertNotIn(b"guest.0@example.com", ics.raw)
        self.assertEqual(action.state, "done")
        self._process()
        self.assertEqual(len(self.env["calendar.event"].search([("campaign_run_id", "in", action.run_ids.ids)])), 1)

    def test_event_without_invitations_at_a_fixed_date_in_batches(self):
        action = self._event_action(event_start_mode="fixed", event_date_start=datetime(2026, 4, 1, 14, 0))
        with freeze_time("2026-03-02 09:00:00"):
            self._launch()
            self._process(batch_size=2)
        run = action.run_ids
        event = run.event_id
        self.assertEqual(len(event), 1, "one event for the run, whatever the number of batches")
        self.assertEqual(event.start, datetime(2026, 4, 1, 14, 0))
        self.assertEqual(event.partner_ids, self.partners | self.no_email | self.user_manager.partner_id)
        self.assertEqual(set(run.touchpoint_ids.mapped("state")), {"done"})
        self.assertFalse(self._invitations(event), "no invitation sent")
        self.assertEqual(run.state, "done")

    def test_event_starts_on_a_minute_and_its_organizer_attends(self):
        action = self._event_action(event_delay=2, event_delay_unit="hours")
        with freeze_time("2026-03-02 21:07:08"):
            self._launch()
            self._process()
        run = action.run_ids
        self.assertEqual(run.date_planned, datetime(2026, 3, 2, 21, 7, 8), "the run keeps its seconds")
        event = run.event_id
        self.assertEqual(event.start, datetime(2026, 3, 2, 23, 7), "two hours after the run, on the minute")
        self.assertEqual(event.stop, datetime(2026, 3, 3, 0, 37))
        organizer = event.attendee_ids.filtered(lambda a: a.partner_id == self.user_manager.partner_id)
        self.assertEqual(organizer.state, "accepted", "the organizer attends their own event")
        guests = event.attendee_ids - organizer
        self.assertEqual(set(guests.mapped("state")), {"needsAction"}, "the contacts are asked")
        self.assertEqual(set(run.touchpoint_ids.mapped("state")), {"done"}, "accepting it is no contact's reply")

    def test_accepted_invitation_is_a_reply(self):
        action = self._event_action(event_send_invitations=True)
        with freeze_time("2026-03-02 09:00:00"):
            self._launch()
            self._process()
        event = action.run_ids.event_id
        touchpoints = action.run_ids.touchpoint_ids
        by_partner = {attendee.partner_id: attendee for attendee in event.attendee_ids}
        with freeze_time("2026-03-03 10:00:00"):
            by_partner[self.partners[0]].do_accept()
            (by_partner[self.partners[1]] | by_partner[self.no_email]).write({"state": "accepted"})
            by_partner[self.partners[2]].do_decline()
        replied = touchpoints.filtered(lambda t: t.state == "replied")
        self.assertEqual(replied.partner_id, self.partners[:2] | self.no_email)
        self.assertEqual(set(replied.mapped("date_replied")), {datetime(2026, 3, 3, 10, 0)})
        declined = touchpoints.filtered(lambda t: t.partner_id == self.partners[2])
        self.assertEqual((declined.state, declined.date_replied), ("sent", False))
        # a follow-up to those who replied reaches those who accepted
        thanks = self._email_action(
            self.campaign,
            name="See you there",
            schedule_type="after",
            parent_id=action.id,
            delay=1,
            delay_unit="hours",
            followup_filter="replied",
        )
        thanks.action_schedule()
        with freeze_time("2026-03-03 12:00:00"):
            self._process()
        reached = thanks.run_ids.touchpoint_ids.filtered(lambda t: t.state != "excluded")
        self.assertEqual(reached.partner_id, self.partners[:2], "the contact without email is excluded from emails")

    def test_kill_then_rerun_invites_each_contact_once(self):
        action = self._event_action(event_send_invitations=True)
        self._launch()
        self.assertWorkerKilled(CalendarEvent, "_campaign_invite", lambda: self._process(batch_size=2))
        run = action.run_ids
        event = run.event_id
        self.assertEqual(len(event.attendee_ids), 3, "the organizer and the first batch; the second is undone")
        self.assertEqual(sorted(run.touchpoint_ids.mapped("state")), ["planned", "planned", "planned", "sent", "sent"])
        self._process(batch_size=2)
        self.assertEqual(run.event_id, event)
        self.assertEqual(len(event.attendee_ids), 6)
        self.assertEqual(event.partner_ids, self.partners | self.no_email | self.user_manager.partner_id)
        messages = self.env["mail.message"].search(
            [("model", "=", "calendar.event"), ("res_id", "=", event.id), ("message_type", "=", "user_notification")]
        )
        self.assertEqual(len(messages), 4, "exactly one invitation per contact with an email")
        self.assertEqual(messages.partner_ids, self.partners)
        self.assertEqual(run.state, "done")

    def test_existing_attendee_is_linked_not_invited_again(self):
        action = self._event_action(event_send_invitations=True)
        self._launch()
        self.env["campaign.engine"]._start_due_runs()
        run = action.run_ids
        event = self.env["calendar.event"]._campaign_run_event(run)
        event.with_context(skip_attendee_notification=True).write({"partner_ids": [(4, self.partners[0].id)]})
        self._process()
        self.assertEqual(run.event_id, event)
        self.assertEqual(self._invitations(event), self.partners[1:], "the attendee already there is not invited")
        attendee = event.attendee_ids.filtered(lambda a: a.partner_id == self.partners[0])
        touchpoint = run.touchpoint_ids.filtered(lambda t: t.partner_id == self.partners[0])
        self.assertEqual((touchpoint.state, touchpoint.res_id), ("done", attendee.id))

    def test_bad_contact_fails_alone(self):
        action = self._event_action(event_send_invitations=True)
        self._launch()
        original = CalendarAttendee._notify_attendees
        bad = self.partners[1]

        def send(attendees, mail_template, notify_author=False, force_send=False):
            if bad in attendees.partner_id:
                raise ValueError("Mailbox refused")
            return original(attendees, mail_template, notify_author=notify_author, force_send=force_send)

        with patch.object(CalendarAttendee, "_notify_attendees", send):
            self._process()
        run = action.run_ids
        touchpoints = run.touchpoint_ids
        failed = touchpoints.filtered(lambda t: t.state == "failed")
        self.assertEqual(failed.partner_id, bad)
        self.assertEqual(failed.failure_reason, "Mailbox refused")
        self.assertEqual(len(touchpoints.filtered(lambda t: t.state in ("sent", "done"))), 4)
        self.assertEqual(len(run.event_id), 1)
        self.assertNotIn(bad, run.event_id.partner_ids, "its attendee was undone with it")
        self.assertEqual(run.state, "done")

    def test_bad_input(self):
        action = self._event_action(event_start_mode="fixed", event_name=False, name="Launch", user_id=False)
        action.event_user_id = False
        missing = action._missing_for_run()
        self.assertIn("the date of the event", missing)
        self.assertIn("an organizer for the event", missing)
        with self.assertRaises(UserError) as ctx:
            action.action_schedule()
        self.assertIn("the date of the event", str(ctx.exception))
        for values in ({"event_duration": 0}, {"event_delay": -1}):
            with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.env.cr.savepoint():
                action.write(values)
                self.env.flush_all()
        self.assertEqual(action.state, "draft")

    def test_bad_input_in_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        action = self._event_action(event_start_mode="fixed")
        with self.assertRaises(UserError) as ctx:
            action.with_context(lang="fr_FR").action_schedule()
        self.assertIn("la date de l'événement", str(ctx.exception))
