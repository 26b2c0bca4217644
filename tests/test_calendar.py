from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import CampaignCase
from .tour_common import TourCase


@tagged("post_install", "-at_install")
class TestCalendar(CampaignCase):
    """Social posts, SMS and reminders planned beside the actions, with or without a campaign, on
    one calendar (seed 004)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Item = cls.env["campaign.calendar.item"]
        Action = cls.env["campaign.action"]
        cls.campaign = cls._campaign("SpringCalendar", user_id=cls.user_marketing_2.id)
        cls.personal = cls._campaign("BrunoOwn", scope="personal", user_id=cls.user_marketing_2.id)
        cls.other_company = cls.env["res.company"].create({"name": "Calendar Other Co"})
        cls.foreign = cls._campaign("ForeignCalendar", company_id=cls.other_company.id)
        cls.mail = Action.create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Spring email",
                "schedule_type": "at",
                "date_start": "2026-04-02 09:00:00",
            }
        )
        cls.undated = Action.create({"campaign_id": cls.campaign.id, "name": "Someday"})
        cls.personal_mail = Action.create(
            {
                "campaign_id": cls.personal.id,
                "name": "Own email",
                "schedule_type": "at",
                "date_start": "2026-04-03 09:00:00",
            }
        )
        cls.post, cls.sms, cls.reminder, cls.own_post, cls.foreign_post = Item.create(
            [
                {
                    "name": "Teaser on LinkedIn",
                    "kind": "social",
                    "network": "linkedin",
                    "text": "Spring is coming!",
                    "date_start": "2026-04-01 08:00:00",
                    "campaign_id": cls.campaign.id,
                },
                {"name": "Shop SMS", "kind": "sms", "text": "-20% today", "date_start": "2026-04-05 10:00:00"},
                {"name": "Book the photographer", "kind": "reminder", "date_start": "2026-03-20 09:00:00"},
                {
                    "name": "My own post",
                    "kind": "social",
                    "network": "x",
                    "date_start": "2026-04-04 12:00:00",
                    "campaign_id": cls.personal.id,
                },
                {
                    "name": "Foreign post",
                    "kind": "social",
                    "network": "facebook",
                    "date_start": "2026-04-04 12:00:00",
                    "campaign_id": cls.foreign.id,
                },
            ]
        )

    def _entries(self, user=None):
        self.env.flush_all()
        self.env.invalidate_all()
        Entry = self.env["campaign.calendar.entry"]
        if user:
            Entry = Entry.with_user(user)
        return Entry.search([("date_start", ">=", "2026-03-01"), ("date_start", "<", "2026-05-01")])

    def test_one_calendar_for_actions_and_items(self):
        entries = self._entries()
        self.assertEqual(entries.action_id, self.mail | self.personal_mail, "actions without a date are not shown")
        self.assertEqual(entries.item_id, self.post | self.sms | self.reminder | self.own_post | self.foreign_post)
        self.assertEqual(
            entries.mapped("name"),
            [
                "Book the photographer",
                "Teaser on LinkedIn",
                "Spring email",
                "Own email",
                "My own post",
                "Foreign post",
                "Shop SMS",
            ],
        )
        post_entry = entries.filtered(lambda e: e.item_id == self.post)
        self.assertEqual((post_entry.kind, post_entry.network, post_entry.state), ("social", "linkedin", "draft"))
        self.assertEqual(post_entry.campaign_id, self.campaign)
        self.assertEqual(str(post_entry.date_stop), "2026-04-01 08:30:00", "half an hour by default")
        mail_entry = entries.filtered(lambda e: e.action_id == self.mail)
        self.assertEqual((mail_entry.kind, mail_entry.user_id), ("email", self.env.user))

    def test_opening_an_entry_opens_the_record(self):
        entries = self._entries()
        for entry in entries:
            action = entry.action_open()
            record = entry.action_id or entry.item_id
            self.assertEqual((action["res_model"], action["res_id"]), (record._name, record.id))
        campaign_action = self.campaign.action_view_calendar()
        self.assertEqual(campaign_action["domain"], [("campaign_id", "=", self.campaign.id)])
        in_campaign = self.env["campaign.calendar.entry"].search(campaign_action["domain"])
        self.assertEqual(len(in_campaign), 2)

    def test_visibility_follows_campaigns_and_companies(self):
        # Camille sees items without campaign and company campaigns; not Bruno's personal campaign nor
        # the other company
        seen = self._entries(self.user_marketing)
        self.assertEqual(seen.item_id, self.post | self.sms | self.reminder)
        self.assertEqual(seen.action_id, self.mail)
        self.assertEqual(
            self.env["campaign.calendar.item"].with_user(self.user_marketing).search([]),
            self.post | self.sms | self.reminder,
        )
        with self.assertRaises(AccessError):
            self.own_post.with_user(self.user_marketing).read(["name"])
        self.assertEqual(
            self._entries(self.user_marketing_2).item_id, self.post | self.sms | self.reminder | self.own_post
        )
        self.assertEqual(len(self._entries(self.user_manager)), 6, "all but the other company's")
        # accountants read the calendar, change nothing
        self.assertEqual(len(self._entries(self.user_accountant)), 4)
        with self.assertRaises(AccessError):
            self.sms.with_user(self.user_accountant).write({"name": "Changed"})

    def test_campaign_user_plans_items(self):
        item = (
            self.env["campaign.calendar.item"]
            .with_user(self.user_marketing)
            .create(
                {
                    "name": "Instagram story",
                    "kind": "social",
                    "network": "instagram",
                    "date_start": "2026-04-10 18:00:00",
                }
            )
        )
        self.assertEqual(item.company_id, self.company)
        self.assertEqual(item.user_id, self.user_marketing)
        item.action_schedule()
        item.action_publish()
        self.assertEqual(item.state, "published")
        with self.assertRaises(UserError):
            item.action_cancel()
        foreign_item = self.env["campaign.calendar.item"].create(
            {"name": "Reminder abroad", "kind": "reminder", "campaign_id": self.foreign.id}
        )
        self.assertEqual(foreign_item.company_id, self.other_company, "an item belongs to its campaign's company")

    def test_social_post_needs_a_network(self):
        with self.assertRaises(ValidationError):
            self.env["campaign.calendar.item"].create({"name": "Where?", "kind": "social"})
        reminder = self.env["campaign.calendar.item"].create({"name": "Call the printer", "kind": "reminder"})
        self.assertFalse(reminder.network)

    def test_cancelled_and_archived_campaigns(self):
        self.post.action_cancel()
        self.assertEqual(self._entries().filtered(lambda e: e.item_id == self.post).state, "cancelled")
        self.campaign.active = False
        entries = self._entries()
        self.assertFalse(entries.filtered(lambda e: e.campaign_id == self.campaign))
        self.assertIn(self.sms, entries.item_id, "items without campaign stay")


@tagged("post_install", "-at_install")
class TestCalendarTour(TourCase):
    """A new user opens the campaign calendar, opens an action from it and plans a social post."""

    def test_calendar_tour(self):
        today = fields.Datetime.now().replace(hour=9, minute=0, second=0, microsecond=0)
        campaign = self.env["campaign.campaign"].create({"name": "TourCampaign"})
        self.env["campaign.action"].create(
            {"campaign_id": campaign.id, "name": "Tour email", "schedule_type": "at", "date_start": today}
        )
        self.env["campaign.calendar.item"].create(
            {"name": "Tour reminder", "kind": "reminder", "date_start": today.replace(hour=11)}
        )
        self.start_tour(
            "/odoo/action-campaign_manager.campaign_calendar_entry_action", "campaign_calendar_tour", login="admin"
        )
        post = self.env["campaign.calendar.item"].search([("name", "=", "Tour post")])
        self.assertEqual((post.kind, post.network), ("social", "facebook"))
