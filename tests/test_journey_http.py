import json
import time
from unittest.mock import patch

from odoo.addons.campaign_manager.models import campaign_trigger_webhook
from odoo.addons.campaign_manager.models.campaign_trigger_webhook import webhook_signature
from odoo.tests import Form, tagged

from .common import CampaignHttpCase, RpcError


@tagged("post_install", "-at_install")
class TestJourneyHttp(CampaignHttpCase):
    """Journeys over real HTTP: the signed inbound webhook (good signature, bad signature, replay,
    stale timestamp, rate), and a plain campaign user configuring the triggers and the goal of their
    campaign over JSON-RPC, with the errors they are shown."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_create_nolog=True))
        cls.partner = cls.env["res.partner"].create({"name": "Hook Contact", "email": "hook@example.com"})
        template = cls.env["mail.template"].create(
            {"name": "Hook", "model_id": cls.env["ir.model"]._get_id("res.partner"), "subject": "Hi"}
        )
        cls.campaign = cls.env["campaign.campaign"].create({"name": "HookJourney"})
        cls.trigger = cls.env["campaign.trigger"].create({"campaign_id": cls.campaign.id, "trigger_type": "webhook"})
        cls.env["campaign.action"].create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Welcome",
                "channel": "email",
                "mail_template_id": template.id,
                "schedule_type": "entry",
            }
        )
        Form(
            cls.env["campaign.campaign.launch"].with_context(default_campaign_id=cls.campaign.id)
        ).save().action_launch()
        cls.product = cls.env["product.product"].create({"name": "Hook product"})

    def _post(self, payload, secret=None, timestamp=None, signature=None, trigger=None):
        body = json.dumps(payload).encode()
        timestamp = int(time.time()) if timestamp is None else timestamp
        secret = self.trigger.webhook_secret if secret is None else secret
        headers = {
            "Content-Type": "application/json",
            "X-Campaign-Timestamp": str(timestamp),
            "X-Campaign-Signature": signature or webhook_signature(secret, timestamp, body),
        }
        response = self.url_open(f"/campaign/journey/{(trigger or self.trigger).id}/enrol", data=body, headers=headers)
        return response.status_code, response.json()

    def _enrolled(self):
        return self.env["campaign.enrolment"].search([("campaign_id", "=", self.campaign.id)])

    # ------------------------------------------------------------------
    def test_signed_call_enrols_once_and_replays_are_refused(self):
        payload = {"delivery_id": "crm-42", "email": "Hook@Example.com"}
        status, answer = self._post(payload)
        self.assertEqual(status, 200, answer)
        self.assertTrue(answer["enrolled"])
        enrolment = self._enrolled()
        self.assertEqual(
            (enrolment.partner_id, enrolment.cause, enrolment.delivery_ref, enrolment.id),
            (self.partner, "webhook", "crm-42", answer["enrolment_id"]),
        )
        status, answer = self._post(payload)
        self.assertEqual((status, answer["error"]), (409, "This delivery was already received."))
        status, answer = self._post({"delivery_id": "crm-43", "email": "hook@example.com"})
        self.assertEqual(status, 200)
        self.assertEqual((answer["enrolled"], answer["reason"]), (False, "The contact is already in the journey."))
        self.assertEqual(len(self._enrolled()), 1)

    def test_bad_signature_stale_timestamp_and_bad_body_enrol_nobody(self):
        payload = {"delivery_id": "x-1", "email": "hook@example.com"}
        status, answer = self._post(payload, secret="not the secret")
        self.assertEqual((status, answer["error"]), (401, "The signature does not match the body."))
        status, answer = self._post(payload, signature="sha256=" + "0" * 64)
        self.assertEqual(status, 401)
        status, answer = self._post(payload, timestamp=int(time.time()) - 3600)
        self.assertEqual(status, 401)
        self.assertIn("replay window", answer["error"])
        status, answer = self._post({"email": "hook@example.com"})
        self.assertEqual(status, 400)
        self.assertIn("delivery_id", answer["error"])
        status, answer = self._post({"delivery_id": "x-2", "email": "nobody@example.com"})
        self.assertEqual((status, answer["error"]), (404, "No contact has this email."))
        other = self.env["campaign.trigger"].create(
            {"campaign_id": self.campaign.id, "trigger_type": "mailing_list", "mailing_list_id": self._list().id}
        )
        status, answer = self._post(payload, trigger=other)
        self.assertEqual(status, 404, "not a webhook trigger")
        self.assertFalse(self._enrolled())

    def test_rate_limited(self):
        with patch.object(campaign_trigger_webhook, "WEBHOOK_ENTRY_RATE", 2):
            statuses = [self._post({"delivery_id": f"r-{n}", "email": "hook@example.com"})[0] for n in range(3)]
        self.assertEqual(statuses, [200, 200, 429])

    def _list(self):
        return self.env["mailing.list"].create({"name": "Hook list"})

    def test_campaign_user_configures_the_journey_over_json_rpc(self):
        user = self.user_marketing
        campaign_id = self.json2(user, "campaign.campaign", "create", vals_list=[{"name": "RpcJourney"}])[0]
        with self.assertRaises(RpcError) as caught:
            self.json2(
                user,
                "campaign.trigger",
                "create",
                vals_list=[{"campaign_id": campaign_id, "trigger_type": "sale_order", "sale_filter": "product"}],
            )
        self.assertEqual(caught.exception.name, "odoo.exceptions.ValidationError")
        self.assertEqual(
            caught.exception.message,
            "The trigger of RpcJourney on orders containing a product needs the product.",
        )
        [trigger_id] = self.json2(
            user,
            "campaign.trigger",
            "create",
            vals_list=[
                {
                    "campaign_id": campaign_id,
                    "trigger_type": "sale_order",
                    "sale_filter": "product",
                    "product_id": self.product.id,
                }
            ],
        )
        self.call_kw(
            user,
            "campaign.campaign",
            "write",
            [[campaign_id], {"goal_type": "order", "journey_reentry": "after", "journey_reentry_days": 7}],
        )
        [read] = self.call_kw(
            user,
            "campaign.campaign",
            "read",
            [[campaign_id], ["trigger_ids", "goal_type", "journey_reentry_days", "enrolment_count"]],
        )
        self.assertEqual(
            (read["trigger_ids"], read["goal_type"], read["journey_reentry_days"], read["enrolment_count"]),
            ([trigger_id], "order", 7, 0),
        )
        # another user's personal campaign is out of reach for the trigger's campaign
        private = self.env["campaign.campaign"].create(
            {"name": "PrivateJourney", "scope": "personal", "user_id": self.user_marketing_2.id}
        )
        with self.assertRaises(RpcError):
            self.json2(user, "campaign.trigger", "write", ids=[trigger_id], vals={"campaign_id": private.id})
