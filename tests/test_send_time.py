import re
from datetime import datetime

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestSendTime(CampaignCase):
    """Send-time suggestion: the weekday and hour at which the action's own contacts opened and
    clicked most, in the responsible's timezone, and how many events it rests on."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_marketing.tz = "Europe/Paris"
        cls.audience = cls._partners(4, prefix="sendtime")
        cls.outsider = cls._partners(1, prefix="sendtime outsider")
        cls.campaign = cls._campaign("SendTime")
        cls.target = cls._manual_target(cls.campaign, cls.audience)
        cls.action = cls._email_action(cls.campaign, user_id=cls.user_marketing.id)
        cls.past_mailing = cls.env["mailing.mailing"].create(
            {
                "subject": "Past newsletter",
                "mailing_model_id": cls.env["ir.model"]._get_id("res.partner"),
                "body_html": "<p>Past</p>",
            }
        )

    def _events(self, partner, opens=(), clicks=(), model="res.partner"):
        """Traces of the past mailing for ``partner``: one per open date, one per click date (UTC)."""
        values = [{"open_datetime": moment} for moment in opens] + [{"links_click_datetime": m} for m in clicks]
        return self.env["mailing.trace"].create(
            [
                {
                    "mass_mailing_id": self.past_mailing.id,
                    "model": model,
                    "res_id": partner.id,
                    "email": partner.email,
                    "trace_status": "open",
                    **vals,
                }
                for vals in values
            ]
        )

    def _history(self):
        """20 events of the audience. In Paris time: 9 on Tuesday 09:xx (winter and summer time, and
        one that is Monday in UTC), 6 on Thursday 14:xx, 5 elsewhere."""
        first, second, third, fourth = self.audience
        self._events(
            first,
            opens=[datetime(2026, 1, 6, 8, 5), datetime(2026, 1, 13, 8, 40), datetime(2026, 7, 7, 7, 15)],
            clicks=[datetime(2026, 1, 6, 8, 10), datetime(2026, 7, 7, 7, 20)],
        )
        self._events(second, opens=[datetime(2026, 1, 20, 8, 0), datetime(2026, 1, 27, 8, 59)])
        self._events(third, opens=[datetime(2026, 2, 3, 8, 30)], clicks=[datetime(2026, 2, 3, 8, 31)])
        self._events(fourth, opens=[datetime(2026, 1, 8, 13, 0), datetime(2026, 1, 15, 13, 10)])
        self._events(fourth, clicks=[datetime(2026, 1, 22, 13, 20), datetime(2026, 1, 29, 13, 30)])
        self._events(third, opens=[datetime(2026, 2, 5, 13, 45), datetime(2026, 2, 12, 13, 50)])
        # elsewhere: Monday 23:30 UTC is Tuesday 00:30 in Paris, not Monday
        self._events(second, opens=[datetime(2026, 1, 5, 23, 30), datetime(2026, 1, 9, 16, 0)])
        self._events(first, opens=[datetime(2026, 1, 10, 10, 0), datetime(2026, 1, 11, 19, 0)])
        self._events(fourth, opens=[datetime(2026, 3, 2, 6, 0)])

    def test_suggestion_from_the_audience_history(self):
        self._history()
        # noise that must not count: another contact, and a trace of another model with a same id
        self._events(self.outsider, opens=[datetime(2026, 1, 8, 13, 0)] * 5)
        self._events(self.audience[3], opens=[datetime(2026, 1, 8, 13, 0)] * 5, model="mailing.contact")
        action = self.action.with_user(self.user_marketing)
        self.assertEqual(action.send_time_tz, "Europe/Paris")
        self.assertEqual(action.send_time_event_count, 20)
        self.assertEqual((action.send_time_weekday, action.send_time_hour), ("1", 9), "Tuesday, 9 o'clock")
        self.assertEqual(action.send_time_slot_count, 9)
        self.assertEqual(
            action.send_time_summary,
            "Tuesday at 09:00 (Europe/Paris): 9 of the 20 past opens and clicks of these contacts fell in that hour.",
        )

    def test_suggestion_worked_out_when_asked(self):
        """The action's form does not compute the suggestion (it reads the past opens and clicks of
        every contact of the targets): Suggest a Send Time opens it in a dialog of its own."""
        self._history()
        action = self.action.with_user(self.user_marketing)
        form = action.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="action_view_send_time"', form)
        self.assertNotIn('<field name="send_time_', form, "the form reads no suggestion field")
        dialog = action.action_view_send_time()
        self.assertEqual((dialog["res_model"], dialog["res_id"], dialog["target"]), (action._name, action.id, "new"))
        arch = action.get_views(dialog["views"])["views"]["form"]["arch"]
        spec = {name: {} for name in re.findall(r'<field name="(send_time_\w+)"', arch)}
        self.assertIn("send_time_summary", spec)
        values = action.web_read(spec)[0]
        self.assertEqual((values["send_time_weekday"], values["send_time_event_count"]), ("1", 20))
        self.assertTrue(values["send_time_summary"].startswith("Tuesday at 09:00 (Europe/Paris)"))
        with self.assertRaises(UserError) as ctx:
            self._email_action(self._campaign("NoHistory")).with_user(self.user_marketing).action_apply_send_time()
        self.assertIn("Suggest a Send Time says why", str(ctx.exception))

    def test_in_another_timezone(self):
        self._history()
        self.user_marketing.tz = "America/New_York"
        self.action.invalidate_recordset()
        # Tuesday 08:xx UTC in winter and 07:xx UTC in summer are both 03:xx in New York
        self.assertEqual((self.action.send_time_weekday, self.action.send_time_hour), ("1", 3))
        self.assertEqual(self.action.send_time_slot_count, 9)
        self.assertIn("Tuesday at 03:00 (America/New_York)", self.action.send_time_summary)

    def test_too_few_events_no_suggestion(self):
        self._events(self.audience[0], opens=[datetime(2026, 1, 6, 8, 0)] * 19)
        self.assertEqual(self.action.send_time_event_count, 19)
        self.assertFalse(self.action.send_time_weekday)
        self.assertIn("Not enough history: 19 past opens and clicks", self.action.send_time_summary)
        with self.assertRaises(UserError):
            self.action.action_apply_send_time()
        other = self._email_action(self._campaign("NoTargets"))
        self.assertFalse(other.send_time_summary)
        self.assertEqual(other.send_time_event_count, 0)

    def test_apply_sets_the_next_slot(self):
        self._history()
        action = self.action.with_user(self.user_marketing)
        # Wednesday 4 March 2026, 11:00 in Paris: next Tuesday 09:00 Paris is 08:00 UTC (winter time)
        with freeze_time("2026-03-04 10:00:00"):
            action.action_apply_send_time()
        self.assertEqual((action.schedule_type, action.date_start), ("at", datetime(2026, 3, 10, 8, 0)))
        # on a Tuesday before 09:00 Paris: that same day; after March 29 in summer time: 07:00 UTC
        with freeze_time("2026-03-31 06:30:00"):
            action.action_apply_send_time()
        self.assertEqual(action.date_start, datetime(2026, 3, 31, 7, 0))
        # on a Tuesday past 09:00 Paris: a week later
        with freeze_time("2026-03-31 07:00:00"):
            action.action_apply_send_time()
        self.assertEqual(action.date_start, datetime(2026, 4, 7, 7, 0))
        # a recurring action keeps its recurrence, its first run moves
        action.write({"schedule_type": "recurring"})
        with freeze_time("2026-03-04 10:00:00"):
            action.action_apply_send_time()
        self.assertEqual((action.schedule_type, action.date_start), ("recurring", datetime(2026, 3, 10, 8, 0)))

    def test_apply_refused_for_follow_ups(self):
        self._history()
        follow_up = self._email_action(
            self.campaign,
            name="Follow-up",
            schedule_type="after",
            parent_id=self.action.id,
            user_id=self.user_marketing.id,
        )
        self.assertEqual(follow_up.send_time_weekday, "1", "the suggestion is shown")
        with self.assertRaises(UserError) as ctx:
            follow_up.action_apply_send_time()
        self.assertIn("follows another action", str(ctx.exception))
