import json
from unittest.mock import patch

from odoo.addons.campaign_manager.webhook import WebhookResponse
from odoo.tests import new_test_user, tagged

from .tour_common import TourCase

CHANNELS = {"email", "sms", "letter", "landing", "webhook"}


@tagged("post_install", "-at_install")
class TestOrderTour(TourCase):
    """In a real browser, as a user holding only "Marketing Campaigns / User": from the Campaigns
    menu, order a campaign of two targets and five channels step by step and launch it; once its
    actions ran, open it, Calculate, and its Execution Info."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        country = cls.env.ref("base.fr")
        cls.contacts = cls.env["res.partner"].create(
            [
                {
                    "name": f"Tour Contact {word}",
                    "email": f"tour.contact.{index}@example.com",
                    "phone": f"+33 6 12 34 56 {index:02d}",
                    "street": f"{index} rue de la Paix",
                    "zip": "75002",
                    "city": "Paris",
                    "country_id": country.id,
                }
                for index, word in enumerate(("One", "Two"), start=1)
            ]
        )
        cls.template = cls.env["mail.template"].create(
            {
                "name": "Tour Template",
                "model_id": cls.env["ir.model"]._get_id("res.partner"),
                "subject": "Spring offers for {{ object.name }}",
                "body_html": "<p>Hello</p>",
            }
        )
        cls.marketer = new_test_user(
            cls.env, login="tour_marketer", name="Tess Marketer", groups="campaign_manager.group_campaign_user"
        )

    def test_order_tour_as_campaign_user(self):
        self.assertEqual(
            self.marketer.all_group_ids,
            self.env.ref("campaign_manager.group_campaign_user").all_implied_ids,
            "the marketer holds the campaign group and what it implies, nothing more",
        )
        self.start_tour("/odoo", "campaign_order_tour", login=self.marketer.login, timeout=300)
        self.env.invalidate_all()
        campaign = self.env["campaign.campaign"].search([("name", "=", "TourSpring")])
        self.assertEqual(len(campaign), 1)
        self.assertEqual((campaign.state, campaign.order_step), ("active", "done"))
        self.assertEqual((campaign.user_id, campaign.create_uid), (self.marketer, self.marketer))
        self.assertEqual(campaign.target_ids.mapped("name"), ["First pick", "Second pick"])
        self.assertEqual(campaign.target_ids.partner_ids, self.contacts)
        actions = {action.channel: action for action in campaign.action_ids}
        self.assertEqual(set(actions), CHANNELS)
        self.assertEqual(set(campaign.action_ids.mapped("state")), {"scheduled"})
        self.assertEqual(set(campaign.action_ids.mapped("schedule_type")), {"now"})
        self.assertEqual(actions["email"].mail_template_id, self.template)
        self.assertEqual(actions["sms"].sms_body, "Spring offers for you: see your email.")
        self.assertIn("Our spring offers are in the shop.", actions["letter"].letter_body)
        self.assertEqual(actions["landing"].landing_title, "Your spring offer")
        self.assertIn("Welcome to your spring offer.", actions["landing"].landing_body)
        self.assertEqual(actions["webhook"].webhook_url, "https://hooks.example.com/spring")

        # The scheduled job runs the actions, as the server's does; only the receiver of the webhook
        # is a stand-in (no network in tests).
        calls = []

        def receiver(url, body, headers, timeout, **_options):
            calls.append((url, json.loads(body)))
            return WebhookResponse(200, "ok")

        with patch("odoo.addons.campaign_manager.models.channels.webhook.post", receiver):
            self.env["campaign.engine"]._cron_process()
        self.env.invalidate_all()
        self.assertEqual(len(calls), 2, "one call per contact")
        self.assertEqual({call[0] for call in calls}, {"https://hooks.example.com/spring"})
        runs = campaign.action_ids.run_ids
        self.assertEqual(set(runs.mapped("channel")), CHANNELS)
        self.assertEqual(set(runs.mapped("planned_count")), {2})

        self.start_tour(
            "/odoo/action-campaign_manager.campaign_campaign_action",
            "campaign_order_results_tour",
            login=self.marketer.login,
            timeout=120,
        )
