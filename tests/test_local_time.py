from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.addons.campaign_manager.const import LOCAL_WEEKDAY_FIELDS
from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestLocalTime(CampaignCase):
    """Local send times: the action's time of day (09:00 in Paris, the responsible's) in each
    contact's time zone (its own, else its country's, else the company's), allowed 08:00-20:00,
    Monday to Saturday, not on the company's public holidays; contacts held until their slot."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_marketing.tz = "Europe/Paris"
        cls.company.partner_id.tz = "America/Sao_Paulo"  # UTC-3, no daylight saving time since 2019
        cls.company.resource_calendar_id.tz = "Europe/Paris"
        cls.paris = cls._partners(1, prefix="paris", tz="Europe/Paris")
        cls.newyork = cls._partners(1, prefix="newyork", tz="America/New_York", country_id=cls.env.ref("base.us").id)
        cls.tokyo = cls._partners(1, prefix="tokyo", tz=False, country_id=cls.env.ref("base.jp").id)
        cls.nowhere = cls._partners(1, prefix="nowhere", tz=False, country_id=False)
        cls.campaign = cls._campaign("LocalTime")
        cls._manual_target(cls.campaign, cls.paris | cls.newyork | cls.tokyo | cls.nowhere)
        cls.action = cls._email_action(cls.campaign, user_id=cls.user_marketing.id, local_time=True)

    def _launch_at(self, moment):
        with freeze_time(moment):
            Form(
                self.env["campaign.campaign.launch"].with_context(default_campaign_id=self.campaign.id)
            ).save().action_launch()
            self.env["campaign.engine"]._cron_process()

    def _process_at(self, moment):
        with freeze_time(moment):
            self.env["campaign.engine"]._cron_process()

    def _by_contact(self, action=None):
        """{contact: (state, not before)} of the action's touchpoints."""
        touchpoints = (action or self.action).run_ids.touchpoint_ids
        return {tp.partner_id: (tp.state, tp.date_not_before or False) for tp in touchpoints}

    def test_time_zones(self):
        # Tuesday 5 January 2027, 08:00 UTC: 09:00 in Paris
        self._launch_at(datetime(2027, 1, 5, 8, 0))
        self.assertEqual(
            self._by_contact(),
            {
                self.paris: ("queued", False),  # 09:00 in Paris
                self.tokyo: ("queued", False),  # by its country: 17:00 in Tokyo, 09:00 has passed, allowed
                self.newyork: ("planned", datetime(2027, 1, 5, 14, 0)),  # 09:00 in New York
                self.nowhere: ("planned", datetime(2027, 1, 5, 12, 0)),  # the company's: 09:00 in Sao Paulo
            },
        )
        self._process_at(datetime(2027, 1, 5, 12, 0, 30))
        self.assertEqual(self._by_contact()[self.nowhere][0], "queued")
        self.assertEqual(self._by_contact()[self.newyork][0], "planned")
        self._process_at(datetime(2027, 1, 5, 14, 0, 30))
        self.assertEqual({state for state, _date in self._by_contact().values()}, {"queued"})
        self.assertEqual(self.action.run_ids.state, "done")

    def test_unknown_time_zone_falls_back_to_the_country(self):
        """A time zone PostgreSQL does not know (written by SQL, as an import script may) counts
        as none: the contact gets its country's, and the run does not fail."""
        self.env.cr.execute("UPDATE res_partner SET tz = 'Mars/Olympus_Mons' WHERE id = %s", [self.tokyo.id])
        self.tokyo.invalidate_recordset(["tz"])
        self._launch_at(datetime(2027, 1, 5, 8, 0))
        self.assertEqual(self._by_contact()[self.tokyo], ("queued", False), "17:00 in Tokyo, by its country")
        self.assertEqual(self._by_contact()[self.newyork], ("planned", datetime(2027, 1, 5, 14, 0)))

    def test_daylight_saving_change(self):
        """Saturday 27 March 2027, 20:00 UTC (21:00 in Paris, the evening before Europe's change to
        summer time; New York changed on the 14th): too late everywhere, Sunday not allowed, so
        Monday 08:00 local: 06:00 UTC in Paris (07:00 the week before), 12:00 in New York."""
        self._launch_at(datetime(2027, 3, 27, 20, 0))
        self.assertEqual(
            self._by_contact(),
            {
                self.paris: ("planned", datetime(2027, 3, 29, 6, 0)),
                self.newyork: ("planned", datetime(2027, 3, 29, 12, 0)),
                # Tokyo is already at Sunday 05:00: Monday 08:00 there is Sunday 23:00 UTC
                self.tokyo: ("planned", datetime(2027, 3, 28, 23, 0)),
                self.nowhere: ("planned", datetime(2027, 3, 29, 11, 0)),
            },
        )
        self._process_at(datetime(2027, 3, 28, 12, 0))
        self.assertEqual({state for state, _date in self._by_contact().values()}, {"planned"}, "nothing on Sunday")
        self._process_at(datetime(2027, 3, 29, 6, 0, 30))
        states = {partner: state for partner, (state, _date) in self._by_contact().items()}
        self.assertEqual(
            states,
            {self.paris: "queued", self.tokyo: "queued", self.newyork: "planned", self.nowhere: "planned"},
        )

    def test_quiet_hours_and_holidays(self):
        """Whit Monday 24 May 2027 is a public holiday of the company: the Parisian contact reached
        on Saturday evening is held over Sunday and the holiday, then sent on Tuesday at 08:00."""
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Whit Monday",
                "calendar_id": self.company.resource_calendar_id.id,
                "company_id": self.company.id,
                "date_from": datetime(2027, 5, 23, 22, 0),
                "date_to": datetime(2027, 5, 24, 21, 59, 59),
            }
        )
        self.campaign.target_ids.partner_ids = self.paris
        self._launch_at(datetime(2027, 5, 22, 19, 30))  # 21:30 in Paris
        tuesday = datetime(2027, 5, 25, 6, 0)
        self.assertEqual(self._by_contact(), {self.paris: ("planned", tuesday)})
        self.assertEqual(self.action._local_holidays(datetime(2027, 5, 22)), [datetime(2027, 5, 24).date()])
        self._process_at(datetime(2027, 5, 24, 10, 0))
        self.assertEqual(self._by_contact(), {self.paris: ("planned", tuesday)}, "held on the holiday")
        self._process_at(datetime(2027, 5, 25, 6, 0, 30))
        self.assertEqual(self._by_contact(), {self.paris: ("queued", tuesday)})
        # without the holidays, Monday; early in the morning, held until 08:00 the same day
        second = self._email_action(self.campaign, name="Second", local_time=True, local_skip_holidays=False)
        with freeze_time(datetime(2027, 5, 22, 19, 30)):
            second.action_schedule()
            self.env["campaign.engine"]._cron_process()
        self.assertEqual(self._by_contact(second), {self.paris: ("planned", datetime(2027, 5, 24, 6, 0))})
        third = self._email_action(self.campaign, name="Third", local_time=True, local_hour_from=8.5)
        with freeze_time(datetime(2027, 5, 26, 4, 0)):  # Wednesday 06:00 in Paris
            third.action_schedule()
            self.env["campaign.engine"]._cron_process()
        self.assertEqual(self._by_contact(third), {self.paris: ("planned", datetime(2027, 5, 26, 6, 30))})

    def test_pressure_release_waits_for_the_next_slot(self):
        """A contact held by a pressure cap until 20:00 in Paris, the end of its allowed hours, is
        sent the next morning."""
        self.env["campaign.pressure.cap"].create({"channel": "email", "period": "week", "limit": 1})
        self.campaign.target_ids.partner_ids = self.paris
        earlier = self._campaign("LocalTimeEarlier")
        self._manual_target(earlier, self.paris)
        self._email_action(earlier, name="Earlier")
        with freeze_time(datetime(2027, 1, 4, 19, 0)):  # Monday 20:00 in Paris
            Form(
                self.env["campaign.campaign.launch"].with_context(default_campaign_id=earlier.id)
            ).save().action_launch()
            self.env["campaign.engine"]._cron_process()
        self._launch_at(datetime(2027, 1, 5, 8, 0))
        # the cap allows it again on Monday 11 at 19:00 UTC, 20:00 in Paris: Tuesday 08:00 then
        self.assertEqual(self._by_contact(), {self.paris: ("planned", datetime(2027, 1, 12, 7, 0))})
        self._process_at(datetime(2027, 1, 12, 7, 0, 30))
        self.assertEqual(self._by_contact()[self.paris][0], "queued")

    def test_bad_hours_refused(self):
        for values, message in (
            ({"local_hour_from": 20.0, "local_hour_to": 8.0}, "the first before the last"),
            ({"local_hour_from": -1.0}, "from 00:00 to 24:00"),
            ({"local_hour_to": 25.0}, "from 00:00 to 24:00"),
            (dict.fromkeys(LOCAL_WEEKDAY_FIELDS, False), "at least one weekday"),
        ):
            with self.subTest(values=values), self.assertRaises(ValidationError) as caught:
                self.action.write(values)
            self.assertIn(message, str(caught.exception))
        # the same hours on an action that does not send at local time are not checked
        self.action.write({"local_time": False, "local_hour_from": 20.0, "local_hour_to": 8.0})

    def test_send_time_suggestion_in_local_time(self):
        """In January, 8 opens of the Parisian contact at 08:xx UTC (09:xx in Paris) and 12 of the New
        Yorker at 14:xx UTC (09:xx in New York): in the responsible's time zone the best hour is
        15:00, in each contact's local time 09:00 with all 20."""
        mailing = self.env["mailing.mailing"].create(
            {"subject": "Past", "mailing_model_id": self.env["ir.model"]._get_id("res.partner")}
        )
        tuesday = datetime(2026, 1, 6)
        events = [(self.paris, tuesday + timedelta(weeks=week, hours=8, minutes=5)) for week in range(8)]
        events += [(self.newyork, tuesday + timedelta(weeks=n % 3, hours=14, minutes=n)) for n in range(12)]
        self.env["mailing.trace"].create(
            [
                {
                    "mass_mailing_id": mailing.id,
                    "model": "res.partner",
                    "res_id": partner.id,
                    "email": partner.email,
                    "trace_status": "open",
                    "open_datetime": moment,
                }
                for partner, moment in events
            ]
        )
        self.action.local_time = False
        self.assertEqual((self.action.send_time_weekday, self.action.send_time_hour), ("1", 15))
        self.assertEqual(self.action.send_time_slot_count, 12)
        self.action.local_time = True
        self.assertEqual((self.action.send_time_weekday, self.action.send_time_hour), ("1", 9))
        self.assertEqual(self.action.send_time_slot_count, 20)
        self.assertIn("each contact's local time", self.action.send_time_summary)
