import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import socket
import ssl
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest.mock import patch

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from freezegun import freeze_time

from odoo.addons.campaign_manager.models.channels.webhook import CampaignTouchpoint
from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged

from .common import CampaignCase

T0 = datetime.datetime(2026, 3, 2, 9, 0, 0)


class Receiver(BaseHTTPRequestHandler):
    """The receiving end of the webhook: records every call and answers what the test asks."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        server = self.server
        call = {"headers": dict(self.headers), "body": body, "json": json.loads(body)}
        with server.lock:
            server.calls.append(call)
            status, answer, headers = server.answer(call)
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def _self_signed_certificate(directory):
    """A certificate for 127.0.0.1 and localhost, and its key, as PEM files in ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = os.path.join(directory, "cert.pem")
    key_path = os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as file:
        file.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as file:
        file.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return cert_path, key_path


@tagged("post_install", "-at_install")
class TestChannelWebhook(CampaignCase):
    """Webhooks end to end against a real HTTPS server on 127.0.0.1 (loopback allowed by the
    administrator's setting in these tests): signed JSON, answers stored, retries with backoff,
    refused addresses, and a worker killed around the calls."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        directory = tempfile.mkdtemp(prefix="campaign_webhook_")
        cert_path, key_path = _self_signed_certificate(directory)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        cls.server = HTTPServer(("127.0.0.1", 0), Receiver)
        cls.server.socket = context.wrap_socket(cls.server.socket, server_side=True)
        cls.server.lock = threading.Lock()
        cls.server.calls = []
        thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        thread.start()
        cls.addClassCleanup(thread.join)
        cls.addClassCleanup(cls.server.server_close)
        cls.addClassCleanup(cls.server.shutdown)
        # the client trusts the test certificate through the usual variable
        env_patcher = patch.dict(os.environ, {"REQUESTS_CA_BUNDLE": cert_path})
        env_patcher.start()
        cls.addClassCleanup(env_patcher.stop)
        cls.url = f"https://127.0.0.1:{cls.server.server_address[1]}/hooks/campaign?source=odoo"
        cls.env["ir.config_parameter"].set_param("campaign_manager.webhook_allow_private", "True")
        cls.env["ir.config_parameter"].set_param("campaign_manager.webhook_allow_ports", "True")
        cls.partners = cls._partners(3, prefix="hook", city="Lyon")
        cls.campaign = cls._campaign("HookCampaign", date_start=T0.date())
        cls._manual_target(cls.campaign, cls.partners)

    def setUp(self):
        super().setUp()
        self.server.calls = []
        self.server.answer = lambda call: (200, b'{"ok": true}', {})

    def _action(self, campaign=None, **values):
        fields = self.env["campaign.webhook.field"]._by_names(["name", "email", "city", "country_id"])
        return self.env["campaign.action"].create(
            {
                "campaign_id": (campaign or self.campaign).id,
                "name": "Notify",
                "channel": "webhook",
                "webhook_url": self.url,
                "webhook_secret": "s3cret",
                "webhook_field_ids": [(6, 0, fields.ids)],
            }
            | values
        )

    def _launch(self, campaign=None):
        campaign = campaign or self.campaign
        Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id)).save().action_launch()

    def _process(self, **kwargs):
        self.env["campaign.engine"]._cron_process(**kwargs)

    def _closed_port(self):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    def _assert_signed(self, call, secret="s3cret"):
        expected = hmac.new(secret.encode(), call["body"], hashlib.sha256).hexdigest()
        self.assertEqual(call["headers"]["X-Campaign-Signature"], f"sha256={expected}")

    # ------------------------------------------------------------------
    def test_one_signed_call_per_contact(self):
        action = self._action()
        with freeze_time(T0):
            self._launch()
            self._process()
        calls = self.server.calls
        self.assertEqual(len(calls), 3)
        for call in calls:
            self._assert_signed(call)
            self.assertEqual(call["headers"]["Content-Type"], "application/json")
            self.assertEqual(call["headers"]["X-Campaign-Attempt"], "1")
            self.assertEqual(call["headers"]["Host"], f"127.0.0.1:{self.server.server_address[1]}")
        payloads = sorted((call["json"] for call in calls), key=lambda p: p["contacts"][0]["id"])
        run = action.run_ids
        first = payloads[0]
        self.assertEqual(first["campaign"], {"id": self.campaign.id, "name": "HookCampaign"})
        self.assertEqual(first["action"], {"id": action.id, "name": "Notify"})
        self.assertEqual(first["run"], {"id": run.id, "number": 1})
        self.assertEqual(first["sent_at"], "2026-03-02T09:00:00Z")
        touchpoint = run.touchpoint_ids.filtered(lambda t: t.partner_id == self.partners[0])
        contact = first["contacts"][0]
        self.assertEqual(
            contact,
            {
                "id": self.partners[0].id,
                "touchpoint_id": touchpoint.id,
                "delivery_id": first["delivery_id"],
                "name": "hook 0",
                "email": "hook.0@example.com",
                "city": "Lyon",
                "country_id": {"id": self.env.ref("base.fr").id, "name": "France"},
            },
        )
        self.assertTrue(first["delivery_id"].endswith(f"-tp-{touchpoint.id}"))
        self.assertEqual(
            sorted(call["headers"]["X-Campaign-Delivery"] for call in calls),
            sorted(payload["delivery_id"] for payload in payloads),
        )
        touchpoints = run.touchpoint_ids
        self.assertEqual(set(touchpoints.mapped("state")), {"sent"})
        self.assertEqual(set(touchpoints.mapped("webhook_status")), {200})
        self.assertEqual(set(touchpoints.mapped("webhook_response")), {'{"ok": true}'})
        self.assertEqual(set(touchpoints.mapped("attempt_count")), {1})
        self.assertEqual(set(touchpoints.mapped("date_done")), {T0})
        self.assertFalse(any(touchpoints.mapped("next_retry")))
        self.assertEqual((run.state, action.state), ("done", "done"))

    def test_one_call_per_batch(self):
        action = self._action(webhook_mode="batch")
        with freeze_time(T0):
            self._launch()
            self._process(batch_size=2)
        calls = self.server.calls
        self.assertEqual([len(call["json"]["contacts"]) for call in calls], [2, 1], "batches of the engine's size")
        for call in calls:
            self._assert_signed(call)
            self.assertEqual(call["headers"]["X-Campaign-Delivery"], call["json"]["delivery_id"])
            self.assertIn(f"-run-{action.run_ids.id}-", call["json"]["delivery_id"])
        contact_ids = [contact["id"] for call in calls for contact in call["json"]["contacts"]]
        self.assertEqual(sorted(contact_ids), sorted(self.partners.ids))
        self.assertEqual(set(action.run_ids.touchpoint_ids.mapped("state")), {"sent"})

    def test_server_error_then_success_on_retry(self):
        answers = iter([(500, b"database is down", {}), (200, b"accepted", {})])
        self.server.answer = lambda call: next(answers)
        campaign = self._campaign("HookRetry", date_start=T0.date())
        self._manual_target(campaign, self.partners[:1])
        action = self._action(campaign)
        with freeze_time(T0):
            self._launch(campaign)
            self._process()
        touchpoint = action.run_ids.touchpoint_ids
        self.assertEqual(touchpoint.state, "planned")
        self.assertEqual((touchpoint.webhook_status, touchpoint.webhook_response), (500, "database is down"))
        self.assertEqual(touchpoint.attempt_count, 1)
        self.assertEqual(touchpoint.next_retry, T0 + datetime.timedelta(minutes=1))
        self.assertEqual(action.run_ids.state, "sending")
        with freeze_time(T0 + datetime.timedelta(seconds=30)):
            self._process()
        self.assertEqual(len(self.server.calls), 1, "not before the retry date")
        self.assertEqual(touchpoint.attempt_count, 1, "waiting is not an attempt")
        with freeze_time(T0 + datetime.timedelta(seconds=61)):
            self._process()
        first, second = self.server.calls
        self.assertEqual(first["headers"]["X-Campaign-Delivery"], second["headers"]["X-Campaign-Delivery"])
        self.assertEqual((first["headers"]["X-Campaign-Attempt"], second["headers"]["X-Campaign-Attempt"]), ("1", "2"))
        self._assert_signed(second)
        self.assertEqual(touchpoint.state, "sent")
        self.assertEqual((touchpoint.webhook_status, touchpoint.webhook_response), (200, "accepted"))
        self.assertEqual(touchpoint.attempt_count, 2)
        self.assertFalse(touchpoint.next_retry)
        self.assertEqual(action.run_ids.state, "done")

    def test_unreachable_retries_with_backoff_then_fails(self):
        url = f"https://127.0.0.1:{self._closed_port()}/hook"
        action = self._action(webhook_url=url, webhook_max_attempts=3)
        with freeze_time(T0):
            self._launch()
            self._process()
        touchpoints = action.run_ids.touchpoint_ids
        self.assertEqual(set(touchpoints.mapped("state")), {"planned"})
        self.assertEqual(set(touchpoints.mapped("next_retry")), {T0 + datetime.timedelta(minutes=1)})
        self.assertIn("could not be reached", touchpoints[0].webhook_response)
        self.assertEqual(set(touchpoints.mapped("webhook_status")), {0})
        second = T0 + datetime.timedelta(minutes=1, seconds=1)
        with freeze_time(second):
            self._process()
        self.assertEqual(set(touchpoints.mapped("next_retry")), {second + datetime.timedelta(minutes=2)}, "doubled")
        self.assertEqual(set(touchpoints.mapped("attempt_count")), {2})
        with freeze_time(second + datetime.timedelta(minutes=1)):
            self._process()
        self.assertEqual(set(touchpoints.mapped("attempt_count")), {2}, "not due yet")
        with freeze_time(second + datetime.timedelta(minutes=2, seconds=1)):
            self._process()
        self.assertEqual(set(touchpoints.mapped("state")), {"failed"})
        self.assertEqual(set(touchpoints.mapped("attempt_count")), {3}, "counted once per call, not by the engine too")
        reason = touchpoints[0].failure_reason
        self.assertIn("The receiver could not be reached", reason)
        self.assertIn("Given up after 3 attempts.", reason)
        self.assertFalse(any(touchpoints.mapped("next_retry")))
        self.assertEqual(action.run_ids.state, "done")
        self.assertFalse(self.server.calls)

    def test_client_error_fails_at_once_and_alone(self):
        def answer(call):
            if call["json"]["contacts"][0]["name"] == "hook 1":
                return 422, b"unknown customer", {}
            return 200, b"ok", {}

        self.server.answer = answer
        action = self._action()
        with freeze_time(T0):
            self._launch()
            self._process()
        touchpoints = action.run_ids.touchpoint_ids
        failed = touchpoints.filtered(lambda t: t.state == "failed")
        self.assertEqual(failed.partner_id, self.partners[1])
        self.assertEqual(failed.failure_reason, "The receiver refused the call (422): unknown customer")
        self.assertEqual((failed.webhook_status, failed.attempt_count), (422, 1))
        self.assertEqual(len(touchpoints.filtered(lambda t: t.state == "sent")), 2, "the others went")
        self.assertEqual(len(self.server.calls), 3)
        self.assertEqual(action.run_ids.state, "done")

    def test_redirect_is_not_followed(self):
        self.server.answer = lambda call: (302, b"", {"Location": "https://169.254.169.254/latest/meta-data"})
        action = self._action(webhook_mode="batch")
        with freeze_time(T0):
            self._launch()
            self._process()
        touchpoints = action.run_ids.touchpoint_ids
        self.assertEqual(set(touchpoints.mapped("state")), {"failed"})
        self.assertIn("redirects are not followed", touchpoints[0].failure_reason)
        self.assertEqual(len(self.server.calls), 1)

    def test_bad_urls_are_refused(self):
        self.env["ir.config_parameter"].set_param("campaign_manager.webhook_allow_private", "False")
        refused = {
            "http://93.184.215.14/hook": "must start with https://",
            "https://127.0.0.1/hook": "127.0.0.1, a loopback, private",
            "https://localhost:8443/hook": "a loopback, private, link-local or reserved address",
            "https://10.1.2.3/hook": "10.1.2.3",
            "https://192.168.1.20/hook": "192.168.1.20",
            "https://169.254.169.254/latest/meta-data": "169.254.169.254",
            "https://[::1]/hook": "::1",
            "https://[::ffff:127.0.0.1]/hook": "a loopback, private",
            "https://0.0.0.0/hook": "0.0.0.0",
            "https://224.0.0.1/hook": "224.0.0.1",
            "https://100.64.0.1/hook": "100.64.0.1",
            "https://user:password@93.184.215.14/hook": "user name or password",
            "https:///hook": "no valid host",
            "https://93.184.215.14:99999/hook": "no valid host",
        }
        self.env["ir.config_parameter"].set_param("campaign_manager.webhook_allow_ports", "False")
        refused |= {
            "https://93.184.215.14:8443/hook": "uses the port 8443: only the https port 443",
            "https://93.184.215.14:25/hook": "uses the port 25",
            "https://93.184.215.14:5432/hook": "uses the port 5432",
        }
        for url, message in refused.items():
            with self.subTest(url), self.assertRaises(ValidationError) as ctx:
                self._action(webhook_url=url)
            self.assertIn(message, str(ctx.exception))
        self.assertTrue(self._action(webhook_url="https://93.184.215.14/hook"), "a public address")
        self.assertTrue(self._action(webhook_url="https://93.184.215.14:443/hook"), "the https port, said")
        self.env["ir.config_parameter"].set_param("campaign_manager.webhook_allow_ports", "True")
        self.assertTrue(self._action(webhook_url="https://93.184.215.14:8443/hook"), "other ports when allowed")
        self.assertTrue(
            self._action(webhook_url="https://hooks.invalid/hook"), "unresolved: checked again at each call"
        )
        # the message is translated
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        with self.assertRaises(ValidationError) as ctx:
            self.env["campaign.action"].with_context(lang="fr_FR").create(
                {"campaign_id": self.campaign.id, "name": "Fr", "channel": "webhook", "webhook_url": "ftp://x"}
            )
        self.assertIn("doit commencer par https://", str(ctx.exception))

    def test_address_checked_again_at_call_time(self):
        action = self._action()
        with freeze_time(T0):
            self._launch()
            self.env["campaign.engine"]._start_due_runs()
            # between the run's start and its calls, the administrator withdraws the permission (or the
            # DNS now answers a private address)
            self.env["ir.config_parameter"].set_param("campaign_manager.webhook_allow_private", "False")
            self.env["campaign.engine"]._dispatch_pending()
        touchpoints = action.run_ids.touchpoint_ids
        self.assertEqual(set(touchpoints.mapped("state")), {"failed"})
        self.assertIn("127.0.0.1, a loopback, private", touchpoints[0].failure_reason)
        self.assertFalse(self.server.calls, "nothing was sent")

    def test_address_refused_before_the_run_starts(self):
        action = self._action()
        with freeze_time(T0):
            self._launch()
            self.env["ir.config_parameter"].set_param("campaign_manager.webhook_allow_private", "False")
            self._process()
        self.assertFalse(action.run_ids, "no run is started for an address that is refused")
        self.assertEqual(action.state, "failed")
        self.assertIn("a loopback, private", action.message_ids[0].body)
        self.assertFalse(self.server.calls)

    def test_kill_before_the_calls_then_rerun_sends_once(self):
        action = self._action()
        with freeze_time(T0):
            self._launch()
            self.assertWorkerKilled(
                CampaignTouchpoint, "_webhook_calls", lambda: self._process(batch_size=2), before=True
            )
            self.assertEqual(len(self.server.calls), 2, "the first batch went and was committed")
            self._process(batch_size=2)
        keys = [call["headers"]["X-Campaign-Delivery"] for call in self.server.calls]
        self.assertEqual(len(keys), 3)
        self.assertEqual(len(set(keys)), 3, "each contact exactly once")
        self.assertEqual(set(action.run_ids.touchpoint_ids.mapped("state")), {"sent"})

    def test_kill_between_call_and_commit_repeats_the_same_key(self):
        action = self._action()
        with freeze_time(T0):
            self._launch()
            # killed before storing: the receiver has the calls, the database does not know
            self.assertWorkerKilled(
                CampaignTouchpoint, "_webhook_store", lambda: self._process(batch_size=2), before=True
            )
            touchpoints = action.run_ids.touchpoint_ids
            self.assertEqual(sorted(touchpoints.mapped("state")), ["planned", "sent", "sent"])
            self._process(batch_size=2)
        keys = [call["headers"]["X-Campaign-Delivery"] for call in self.server.calls]
        self.assertEqual(len(keys), 4, "the call whose batch died is sent again...")
        self.assertEqual(len(set(keys)), 3, "...with the same idempotency key: the receiver handles it once")
        repeated = next(key for key in keys if keys.count(key) == 2)
        planned_then = touchpoints.filtered(lambda t: repeated.endswith(f"-tp-{t.id}"))
        self.assertEqual(planned_then.attempt_count, 1, "the lost attempt was not counted")
        self.assertEqual(set(touchpoints.mapped("state")), {"sent"})

    def test_only_simple_public_contact_fields(self):
        offered = self.env["campaign.webhook.field"].search([])
        self.assertIn("city", offered.mapped("name"))
        self.assertFalse(
            {"image_1920", "category_id"} & set(offered.mapped("name")),
            "binary and many2many fields are not offered",
        )
        fields = self.env["ir.model.fields"]._get_ids("res.partner")
        for name in ("image_1920", "category_id"):
            with self.assertRaises(ValidationError), self.cr.savepoint():
                self.env["campaign.webhook.field"].create({"field_id": fields[name]})
        default = self.env["campaign.action"].create(
            {"campaign_id": self.campaign.id, "name": "Defaults", "channel": "webhook", "webhook_url": self.url}
        )
        self.assertEqual(default.webhook_field_ids.mapped("name"), ["name", "email"])
        self.assertEqual(len(default.webhook_secret), 43, "a random secret is set")

    def test_schedule_lists_missing_webhook_settings(self):
        action = self.env["campaign.action"].create(
            {"campaign_id": self.campaign.id, "name": "Bare", "channel": "email"}
        )
        action.write({"channel": "webhook", "webhook_secret": False})
        self.assertEqual(action._missing_for_run(), ["a webhook URL", "a secret to sign the webhook calls"])
        self.assertEqual(self._action()._missing_for_run(), [])
