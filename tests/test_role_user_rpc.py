from odoo.tests import tagged

from .common import CampaignHttpCase, RpcError

CHANNEL_VALUES = {
    "email": {},
    "sms": {"sms_body": "Hello"},
    "letter": {"letter_body": "<p>Dear customer</p>"},
    "landing": {"landing_title": "Your offer", "landing_body": "<p>Welcome</p>"},
    "task": {"task_mode": "contact"},
    "event": {},
    "webhook": {"webhook_url": "https://hooks.example.com/campaign"},
    "weblink": {},
}


@tagged("post_install", "-at_install")
class TestCampaignUserThroughClients(CampaignHttpCase):
    """A user holding only "Marketing Campaigns / User" builds a campaign over the clients they
    really use: the web client's call_kw (the form's web_save) and the external /json/2 API."""

    def test_user_creates_campaign_and_every_channel_over_json2(self):
        user = self.user_marketing
        campaign_id = self.json2(user, "campaign.campaign", "create", vals_list=[{"name": "RpcSpring"}])[0]
        for channel, values in CHANNEL_VALUES.items():
            with self.subTest(channel=channel):
                action_ids = self.json2(
                    user,
                    "campaign.action",
                    "create",
                    vals_list=[{"campaign_id": campaign_id, "name": f"Step {channel}", "channel": channel, **values}],
                )
                [read] = self.json2(user, "campaign.action", "read", ids=action_ids, fields=["channel", "campaign_id"])
                self.assertEqual((read["channel"], read["campaign_id"][0]), (channel, campaign_id))
        webhook = self.env["campaign.action"].search([("campaign_id", "=", campaign_id), ("channel", "=", "webhook")])
        self.assertEqual(webhook.webhook_field_ids.mapped("name"), ["email", "name"], "the default fields are set")

    def test_user_saves_action_form_over_call_kw(self):
        """The form's save (web_save with the form's specification), the webhook fields included."""
        user = self.user_marketing
        campaign_id = self.call_kw(user, "campaign.campaign", "create", [{"name": "FormSpring"}])
        fields = self.call_kw(
            user,
            "campaign.webhook.field",
            "web_search_read",
            [[["name", "in", ["email", "city"]]]],
            {"specification": {"display_name": {}, "name": {}}},
        )["records"]
        self.assertEqual({record["name"] for record in fields}, {"email", "city"}, "the picker lists the fields")
        [saved] = self.call_kw(
            user,
            "campaign.action",
            "web_save",
            [
                [],
                {
                    "campaign_id": campaign_id,
                    "name": "Notify",
                    "channel": "webhook",
                    "webhook_url": "https://hooks.example.com/x",
                    "webhook_field_ids": [[6, 0, [record["id"] for record in fields]]],
                },
            ],
            {"specification": {"channel": {}, "webhook_field_ids": {"fields": {"display_name": {}}}}},
        )
        self.assertEqual(len(saved["webhook_field_ids"]), 2)
        [email_action] = self.call_kw(
            user,
            "campaign.action",
            "web_save",
            [[], {"campaign_id": campaign_id, "name": "Mail", "channel": "email"}],
            {"specification": {"channel": {}, "display_name": {}}},
        )
        self.assertEqual(email_action["channel"], "email")

    def test_other_user_personal_campaign_refused(self):
        """An action cannot be created in another user's personal campaign (the rule, over RPC)."""
        other = (
            self.env["campaign.campaign"]
            .with_user(self.user_marketing_2)
            .create({"name": "BrunoOwn", "scope": "personal"})
        )
        with self.assertRaises(RpcError) as caught:
            self.json2(
                self.user_marketing,
                "campaign.action",
                "create",
                vals_list=[{"campaign_id": other.id, "name": "Intrude", "channel": "email"}],
            )
        self.assertEqual(caught.exception.name, "odoo.exceptions.AccessError")
        self.assertFalse(self.env["campaign.action"].search([("campaign_id", "=", other.id)]))
