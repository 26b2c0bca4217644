from datetime import date

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import MockSMS
from odoo.tests import new_test_user, tagged

from .common import CampaignHttpCase, RpcError
from .tour_common import TourCase

TEST_EMAIL = "tester@example.com"
TEST_MOBILE = "+33 6 99 88 77 66"


@tagged("post_install", "-at_install")
class TestJourneyTestMode(CampaignHttpCase, MockEmail, MockSMS):
    """Test mode of a journey (issue 14, item 5), as a plain campaign user through the web client's
    JSON-RPC: the steps carried out one by one for a test contact, each message written with that
    contact's data and delivered to the test address only; the campaign's contacts get nothing and
    its figures do not move. Only the SMTP connection and the SMS provider are mocked."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_create_nolog=True))
        template = cls.env["mail.template"].create(
            {
                "name": "Welcome",
                "model_id": cls.env["ir.model"]._get_id("res.partner"),
                "subject": "Welcome {{ object.name }}",
                "body_html": '<p>Dear <t t-out="object.name"/>, welcome.</p>',
            }
        )
        cls.newsletter = cls.env["mailing.list"].create({"name": "Newsletter"})
        cls.real_contact = cls.env["res.partner"].create(
            {"name": "Real Customer", "email": "real@example.com", "phone": "+33 6 11 11 11 11"}
        )
        cls.tester = cls.env["res.partner"].create({"name": "Tess Tester", "email": "tess@example.com", "city": "Lyon"})
        cls.campaign = cls.env["campaign.campaign"].create(
            {"name": "WelcomeJourney", "date_start": date(2026, 3, 1), "user_id": cls.user_marketing.id}
        )
        cls.env["campaign.trigger"].create(
            {"campaign_id": cls.campaign.id, "trigger_type": "mailing_list", "mailing_list_id": cls.newsletter.id}
        )
        cls.env["campaign.target"].create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Customers",
                "source": "manual",
                "partner_ids": [(6, 0, cls.real_contact.ids)],
            }
        )
        actions = cls.env["campaign.action"]
        cls.welcome = actions.create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Welcome email",
                "channel": "email",
                "mail_template_id": template.id,
                "schedule_type": "entry",
                "sequence": 1,
            }
        )
        follow = {"campaign_id": cls.campaign.id, "schedule_type": "after", "parent_id": cls.welcome.id, "delay": 3}
        cls.clicked = actions.create(
            {
                **follow,
                "name": "Thanks for your click",
                "channel": "email",
                "mail_template_id": template.id,
                "followup_filter": "clicked",
                "sequence": 2,
            }
        )
        cls.reminder = actions.create(
            {
                **follow,
                "name": "SMS reminder",
                "channel": "sms",
                "sms_body": "Hello {{ object.name }}, our offer ends soon.",
                "followup_filter": "not_clicked",
                "sequence": 3,
            }
        )
        cls.letter = actions.create(
            {
                "campaign_id": cls.campaign.id,
                "schedule_type": "after",
                "parent_id": cls.reminder.id,
                "delay": 2,
                "name": "Printed offer",
                "channel": "letter",
                "letter_subject": "Your offer, {{ object.name }}",
                "letter_body": '<p>Dear <t t-out="object.name"/>, here is your offer.</p>',
            }
        )

    def _figures(self):
        env = self.env
        self.env.invalidate_all()
        return {
            "touchpoints": env["campaign.touchpoint"].search_count([("campaign_id", "=", self.campaign.id)]),
            "runs": env["campaign.action.run"].search_count([("campaign_id", "=", self.campaign.id)]),
            "enrolments": env["campaign.enrolment"].search_count([("campaign_id", "=", self.campaign.id)]),
            "traces": env["mailing.trace"].search_count([("res_id", "in", (self.real_contact | self.tester).ids)]),
            "state": self.campaign.state,
        }

    def _test_record(self, test_id):
        return self.call_kw(
            self.user_marketing,
            "campaign.journey.test",
            "read",
            [[test_id], ["state", "next_action_id", "candidate_action_ids", "line_ids", "date_clock"]],
        )[0]

    def _lines(self, test):
        return self.call_kw(
            self.user_marketing,
            "campaign.journey.test.line",
            "read",
            [test["line_ids"], ["action_id", "recipient", "result", "summary"]],
        )

    def test_steps_reach_only_the_test_address_and_change_no_figure(self):
        before = self._figures()
        user = self.user_marketing
        opened = self.call_kw(user, "campaign.campaign", "action_test_journey", [[self.campaign.id]])
        test_id = opened["res_id"]
        self.assertEqual(opened["res_model"], "campaign.journey.test")
        self.call_kw(
            user,
            "campaign.journey.test",
            "write",
            [[test_id], {"partner_id": self.tester.id, "email_to": TEST_EMAIL, "phone_to": TEST_MOBILE}],
        )
        test = self._test_record(test_id)
        self.assertEqual(test["next_action_id"][0], self.welcome.id, "the journey starts at its entry step")

        # step 1: the welcome email, written for the test contact, to the test address only
        with self.mock_mail_gateway():
            self.call_kw(user, "campaign.journey.test", "action_next_step", [[test_id]])
        self.assertEqual(len(self._mails), 1)
        mail = self._mails[0]
        self.assertEqual(mail["email_to"], [TEST_EMAIL])
        self.assertEqual(mail["subject"], "[TEST] Welcome Tess Tester")
        self.assertIn("Dear Tess Tester, welcome.", mail["body"])
        test = self._test_record(test_id)
        self.assertEqual(
            set(test["candidate_action_ids"]),
            {self.clicked.id, self.reminder.id},
            "after it: clicked within 3 days, else the reminder",
        )
        self.assertEqual(test["next_action_id"][0], self.clicked.id)

        # the user tries the branch of a contact who did not click: the SMS goes to the test mobile
        self.call_kw(user, "campaign.journey.test", "write", [[test_id], {"next_action_id": self.reminder.id}])
        with self.mockSMSGateway():
            self.call_kw(user, "campaign.journey.test", "action_next_step", [[test_id]])
        self.assertEqual(
            [(sms["number"], sms["body"]) for sms in self._sms],
            [("+33699887766", "Hello Tess Tester, our offer ends soon.")],
        )

        # then straight to the end, the delays compressed: the letter, written for the test contact
        with self.mock_mail_gateway():
            self.call_kw(user, "campaign.journey.test", "action_run_to_end", [[test_id]])
        self.assertEqual([m["email_to"] for m in self._mails], [[TEST_EMAIL]])
        self.assertEqual(self._mails[0]["subject"], "[TEST] Letter: Your offer, Tess Tester")
        self.assertIn("Dear Tess Tester, here is your offer.", self._mails[0]["body"])

        test = self._test_record(test_id)
        self.assertEqual(test["state"], "done")
        lines = self._lines(test)
        self.assertEqual([line["action_id"][0] for line in lines], [self.welcome.id, self.reminder.id, self.letter.id])
        self.assertEqual([line["result"] for line in lines], ["sent", "sent", "sent"])
        self.assertEqual([line["recipient"] for line in lines], [TEST_EMAIL, "+33699887766", TEST_EMAIL])
        # the clock stands for the delays: 3 days, then 2 days after the entry
        clock = self.env["campaign.journey.test"].browse(test_id).date_clock
        first = self.env["campaign.journey.test.line"].browse(test["line_ids"][0]).date_clock
        self.assertEqual((clock - first).days, 5)
        # nothing reached the campaign's contacts, nothing counts in its figures
        self.assertEqual(self._figures(), before)
        self.assertFalse(self.env["mail.mail"].sudo().search([("email_to", "ilike", "real@example.com")]))
        self.assertFalse(self.env["sms.sms"].sudo().search([("number", "=", self.real_contact.phone_sanitized)]))

        # no further step: a clear error, nothing changes
        with self.assertRaises(RpcError) as caught:
            self.call_kw(user, "campaign.journey.test", "action_next_step", [[test_id]])
        self.assertEqual(caught.exception.name, "odoo.exceptions.UserError")
        self.assertIn("The journey ends after “Printed offer” for Tess Tester", caught.exception.message)

        # restart: the history is cleared, the journey starts again at its entry
        self.call_kw(user, "campaign.journey.test", "action_restart", [[test_id]])
        test = self._test_record(test_id)
        self.assertEqual((test["state"], test["line_ids"], test["next_action_id"][0]), ("draft", [], self.welcome.id))

    def test_bad_test_address_is_refused_and_nothing_is_recorded(self):
        user = self.user_marketing
        test_id = self.call_kw(user, "campaign.campaign", "action_test_journey", [[self.campaign.id]])["res_id"]
        self.call_kw(user, "campaign.journey.test", "write", [[test_id], {"email_to": "not an address"}])
        with self.mock_mail_gateway(), self.assertRaises(RpcError) as caught:
            self.call_kw(user, "campaign.journey.test", "action_next_step", [[test_id]])
        self.assertEqual(caught.exception.name, "odoo.exceptions.UserError")
        self.assertIn(
            "Give a valid test email address: the step “Welcome email” sends an email there.", caught.exception.message
        )
        self.assertFalse(self._mails)
        self.assertEqual(self._test_record(test_id)["line_ids"], [])
        # the address fixed, the same test goes on
        self.call_kw(user, "campaign.journey.test", "write", [[test_id], {"email_to": TEST_EMAIL}])
        with self.mock_mail_gateway():
            self.call_kw(user, "campaign.journey.test", "action_next_step", [[test_id]])
        self.assertEqual([m["email_to"] for m in self._mails], [[TEST_EMAIL]])
        # a step missing its test mobile number says so too
        self.call_kw(
            user, "campaign.journey.test", "write", [[test_id], {"next_action_id": self.reminder.id, "phone_to": ""}]
        )
        with self.mockSMSGateway(), self.assertRaises(RpcError) as caught:
            self.call_kw(user, "campaign.journey.test", "action_next_step", [[test_id]])
        self.assertIn("Give a valid test mobile number", caught.exception.message)
        self.assertFalse(self._sms)

    def test_a_test_belongs_to_its_user(self):
        test_id = self.call_kw(self.user_marketing, "campaign.campaign", "action_test_journey", [[self.campaign.id]])[
            "res_id"
        ]
        with self.assertRaises(RpcError) as caught:
            self.call_kw(self.user_marketing_2, "campaign.journey.test", "action_next_step", [[test_id]])
        self.assertEqual(caught.exception.name, "odoo.exceptions.AccessError")
        # a step of another campaign cannot be chosen
        other = self.env["campaign.campaign"].create({"name": "Other"})
        stranger = self.env["campaign.action"].create(
            {"campaign_id": other.id, "name": "Elsewhere", "channel": "email", "schedule_type": "entry"}
        )
        self.call_kw(
            self.user_marketing, "campaign.journey.test", "write", [[test_id], {"next_action_id": stranger.id}]
        )
        with self.assertRaises(RpcError) as caught:
            self.call_kw(self.user_marketing, "campaign.journey.test", "action_next_step", [[test_id]])
        self.assertIn("The next step must be an action of the campaign under test.", caught.exception.message)


@tagged("post_install", "-at_install")
class TestJourneyTestModeTour(TourCase):
    """The test mode in a real browser, as a plain campaign user: its list of steps shows a long step
    name and the address the test email went to in full."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env, login="tour_tester", name="Théo Tester", groups="campaign_manager.group_campaign_user"
        )
        cls.env["res.partner"].create({"name": "Tess Tester", "email": "tess@example.com"})
        env = cls.env(user=cls.user)
        cls.campaign = env["campaign.campaign"].create({"name": "TestModeTour", "user_id": cls.user.id})
        newsletter = env["mailing.list"].create({"name": "Tour newsletter"})
        env["campaign.trigger"].create(
            {"campaign_id": cls.campaign.id, "trigger_type": "mailing_list", "mailing_list_id": newsletter.id}
        )
        template = cls.env["mail.template"].create(
            {
                "name": "Tour welcome",
                "model_id": cls.env["ir.model"]._get_id("res.partner"),
                "subject": "Welcome {{ object.name }}",
                "body_html": "<p>Welcome.</p>",
            }
        )
        call = env["campaign.action"].create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Call the customers who asked for the spring catalogue",
                "channel": "task",
                "schedule_type": "entry",
            }
        )
        env["campaign.action"].create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Welcome",
                "channel": "email",
                "mail_template_id": template.id,
                "schedule_type": "after",
                "parent_id": call.id,
                "delay": 1,
                "delay_unit": "days",
            }
        )

    def test_steps_list_names_each_step_in_full(self):
        self.start_tour(
            f"/odoo/action-campaign_manager.campaign_campaign_action/{self.campaign.id}",
            "campaign_journey_test_steps_tour",
            login=self.user.login,
        )
        lines = self.env["campaign.journey.test"].search([("campaign_id", "=", self.campaign.id)]).line_ids
        self.assertEqual(
            [(line.action_id.name, line.recipient) for line in lines],
            [
                ("Call the customers who asked for the spring catalogue", False),
                ("Welcome", "marketing.campaign.tester@example.com"),
            ],
        )
