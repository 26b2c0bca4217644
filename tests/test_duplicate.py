from datetime import date, datetime

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestDuplicate(CampaignCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(3)
        cls.campaign = cls._campaign(
            "Source",
            campaign_type="fidelity",
            objective="Keep customers",
            budget=500,
            expected_revenue=2000,
            date_start=date(2026, 1, 10),
            date_end=date(2026, 1, 31),
        )
        cls.target = cls._manual_target(cls.campaign, cls.partners, name="Picked")
        cls.filter_target = cls._filter_target(cls.campaign, [("id", "in", cls.partners[:1].ids)], name="First")
        actions = cls.env["campaign.action"]
        cls.mail = actions.create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Mail",
                "channel": "email",
                "schedule_type": "at",
                "date_start": datetime(2026, 1, 12, 9),
                "target_ids": [(4, cls.filter_target.id)],
                "fixed_cost": 100,
                "unit_cost": 0.5,
            }
        )
        cls.reminder = actions.create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Reminder",
                "channel": "sms",
                "schedule_type": "after",
                "parent_id": cls.mail.id,
                "delay": 2,
            }
        )
        cls.env["campaign.touchpoint"].create(
            {"action_id": cls.mail.id, "partner_id": cls.partners[0].id, "state": "sent"}
        )
        cls.mail.state = "scheduled"

    def _duplicate(self, **values):
        form = Form(self.env["campaign.campaign.duplicate"].with_context(default_campaign_id=self.campaign.id))
        for key, value in values.items():
            setattr(form, key, value)
        wizard = form.save()
        return self.env["campaign.campaign"].browse(wizard.action_duplicate()["res_id"])

    def test_duplicate_keeps_settings_not_results(self):
        copy = self._duplicate()
        self.assertEqual(copy.name, "SourceCopy")
        self.assertEqual(
            (copy.campaign_type, copy.objective, copy.budget, copy.expected_revenue),
            ("fidelity", "Keep customers", 500, 2000),
        )
        self.assertEqual(copy.state, "draft")
        self.assertFalse(copy.date_start, "dates are not copied unless shifted")
        self.assertNotEqual(copy.utm_campaign_id, self.campaign.utm_campaign_id)
        self.assertEqual(copy.target_ids.mapped("name"), ["Picked", "First"])
        self.assertEqual(copy.target_ids[0].partner_ids, self.partners)
        self.assertFalse(copy.touchpoint_ids)
        self.assertEqual(len(copy.action_ids), 2)
        mail = copy.action_ids.filtered(lambda a: a.name == "Mail")
        reminder = copy.action_ids.filtered(lambda a: a.name == "Reminder")
        self.assertEqual(mail.state, "draft")
        self.assertEqual(mail.target_ids, copy.target_ids.filtered(lambda t: t.name == "First"))
        self.assertEqual((mail.fixed_cost, mail.unit_cost), (100, 0.5))
        self.assertEqual(reminder.parent_id, mail, "follow-ups point to the copied action")
        self.assertEqual(mail.date_start, datetime(2026, 1, 12, 9), "action dates kept when not shifted")

    def test_duplicate_with_date_shift(self):
        copy = self._duplicate(name="NextYear", new_date_start=date(2027, 1, 9))
        self.assertEqual(copy.name, "NextYear")
        self.assertEqual((copy.date_start, copy.date_end), (date(2027, 1, 9), date(2027, 1, 30)))
        mail = copy.action_ids.filtered(lambda a: a.name == "Mail")
        self.assertEqual(mail.date_start, datetime(2027, 1, 11, 9))

    def test_second_copy_gets_a_new_name(self):
        self.assertEqual(self._duplicate().name, "SourceCopy")
        self.assertEqual(self._duplicate().name, "SourceCopy2")

    def test_duplicate_action_into_other_campaigns(self):
        others = self._campaign("OtherA") | self._campaign("OtherB")
        wizard = self.env["campaign.action.duplicate"].create(
            {"action_ids": [(6, 0, (self.mail | self.reminder).ids)], "campaign_ids": [(6, 0, others.ids)]}
        )
        result = wizard.action_duplicate()
        copies = self.env["campaign.action"].search(result["domain"])
        self.assertEqual(len(copies), 4)
        for campaign in others:
            mail = campaign.action_ids.filtered(lambda a: a.name == "Mail")
            reminder = campaign.action_ids.filtered(lambda a: a.name == "Reminder")
            self.assertFalse(mail.target_ids, "targets of another campaign are not carried over")
            self.assertEqual(reminder.parent_id, mail)
            self.assertFalse(mail.touchpoint_ids)

    def test_duplicate_action_into_closed_campaign_refused(self):
        closed = self._campaign("Closed")
        closed.action_cancel()
        wizard = self.env["campaign.action.duplicate"].create(
            {"action_ids": [(6, 0, self.mail.ids)], "campaign_ids": [(6, 0, closed.ids)]}
        )
        with self.assertRaises(UserError):
            wizard.action_duplicate()
        self.assertFalse(closed.action_ids)
