"""Faults: a slow mail server, the database lost in the middle of a batch, a campaign stopped while
its webhooks and pages wait. Each ends with every contact reached exactly once, or with nothing sent
after the stop."""

import datetime
import os
import ssl
import tempfile
import threading
import unittest
from contextlib import contextmanager
from http.server import HTTPServer
from unittest.mock import patch

import psycopg2
from freezegun import freeze_time

from odoo.addons.base.models import ir_mail_server
from odoo.addons.sms.tests.common import SMSCase
from odoo.sql_db import Cursor
from odoo.tests import Form, HttpCase, tagged
from odoo.tools import SQL
from odoo.tools.misc import find_in_path

from .common import CampaignCase, deliver_campaign_mails
from .smtp_server import LocalSMTPServer, SilentServer, free_port
from .test_channel_webhook import Receiver, _self_signed_certificate

T0 = datetime.datetime(2026, 4, 1, 10, 0, 0)
HAS_WKHTMLTOPDF = bool(find_in_path("wkhtmltopdf"))
# Statements of the engine where the tests lose the database.
EMAIL_SMS_LINK = "SET mailing_id = tr.mass_mailing_id"
LETTER_PLACE = "SET letter_attachment_id"
RUN_START = "INSERT INTO campaign_touchpoint"
WEBHOOK_STORE = "webhook_status = v.status"


class DatabaseLost(psycopg2.OperationalError):
    """What psycopg2 raises when the server closes the connection (no SQLSTATE)."""


@contextmanager
def database_lost(marker, from_occurrence=1):
    """Lose the database at the statements containing ``marker``: from its ``from_occurrence``-th
    execution on, each one fails as on a connection closed by the server. (The savepoints that
    stand for the transactions in tests still roll back, as the server would.)"""
    original = Cursor.execute
    seen = []

    def execute(cr, query, params=None, log_exceptions=True):
        code = query.code if isinstance(query, SQL) else str(query)
        if marker in code:
            seen.append(code)
            if len(seen) >= from_occurrence:
                raise DatabaseLost("server closed the connection unexpectedly")
        return original(cr, query, params, log_exceptions)

    with patch.object(Cursor, "execute", execute):
        yield seen


class FaultCase(CampaignCase):
    def _launch(self, campaign=None):
        campaign = campaign or self.campaign
        Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id)).save().action_launch()

    def _process(self, **kwargs):
        self.env["campaign.engine"]._cron_process(**kwargs)

    def _process_losing_database(self, marker, from_occurrence=1, **kwargs):
        """Run the job while the database is lost at ``marker``: the job must stop on it (not
        self.assertRaises: it would also roll back the batches committed before)."""
        with database_lost(marker, from_occurrence) as seen:
            try:
                self._process(**kwargs)
            except DatabaseLost:
                return seen
        self.fail("the job went on without its database")

    def _reached(self, action):
        return action.run_ids.touchpoint_ids.filtered(lambda t: t.state != "excluded").sorted("id")


@tagged("post_install", "-at_install")
class TestSlowMailServer(FaultCase):
    """A mail server that answers after the timeout: the emails are retried later with the backoff
    of temporary failures, and each is delivered once when the server answers again."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(3, prefix="slow")
        cls.campaign = cls._campaign("SlowServer")
        cls._manual_target(cls.campaign, cls.partners)

    def _use_server(self, port):
        self.env["ir.mail_server"].search([]).write({"active": False})
        return self.env["ir.mail_server"].create(
            {"name": "Loopback", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_encryption": "none"}
        )

    def _process_queue(self):
        with patch.object(ir_mail_server, "SMTP_TIMEOUT", 0.5):
            deliver_campaign_mails(self.env)

    def _queued_action(self):
        action = self._email_action(self.campaign)
        self._launch()
        self._process()
        mails = self.env["mail.mail"].search([("mailing_id", "=", action.run_ids.mailing_id.id)])
        self.assertEqual(len(mails), 3)
        return action, mails

    def _deliver_later(self, port, when):
        with freeze_time(when), LocalSMTPServer(port=port) as server:
            self._process_queue()
        return server.messages

    def test_server_too_slow_to_greet(self):
        action, mails = self._queued_action()
        with SilentServer() as silent, freeze_time(T0):
            self._use_server(silent.port)
            self._process_queue()
        self.assertEqual(silent.connections, 1)
        self.assertEqual(set(mails.mapped("state")), {"outgoing"}, "back in the queue, not failed")
        self.assertEqual(set(mails.mapped("campaign_retry_count")), {1})
        self.assertEqual(set(mails.mapped("scheduled_date")), {T0 + datetime.timedelta(minutes=5)})
        self.assertIn("timed out", mails[0].failure_reason)
        self.assertEqual(set(self._reached(action).mapped("state")), {"queued"})
        self.assertFalse(self._deliver_later(silent.port, T0 + datetime.timedelta(minutes=1)), "not before the retry")
        messages = self._deliver_later(silent.port, T0 + datetime.timedelta(minutes=6))
        self.assertEqual(sorted(message["rcpt_tos"][0] for message in messages), sorted(self.partners.mapped("email")))
        self.assertEqual(set(self._reached(action).mapped("state")), {"sent"})

    def test_server_too_slow_to_accept_recipients(self):
        """The server stops answering in the middle of the session (after the timeout): the email
        being sent goes back to the queue with the backoff (Odoo alone would leave it failed with
        no reason, its contact never reached); the next ones wait for the next pass."""
        action, mails = self._queued_action()
        port = free_port()
        with LocalSMTPServer(port=port, slow_rcpt=3) as slow, freeze_time(T0):
            self._use_server(port)
            self._process_queue()
            self.assertFalse(slow.messages)
        first = mails.sorted("id")[0]
        self.assertEqual((first.state, first.campaign_retry_count), ("outgoing", 1))
        self.assertEqual(first.scheduled_date, T0 + datetime.timedelta(minutes=5))
        self.assertIn("Temporary failure, retry 1 planned", first.failure_reason)
        others = mails - first
        self.assertEqual(set(others.mapped("state")), {"outgoing"}, "not tried on a lost session")
        self.assertEqual(set(others.mapped("campaign_retry_count")), {0})
        messages = self._deliver_later(port, T0 + datetime.timedelta(minutes=1))
        self.assertEqual(len(messages), 2, "the others go at the next pass")
        self.assertNotIn(first.email_to, [message["rcpt_tos"][0] for message in messages])
        messages += self._deliver_later(port, T0 + datetime.timedelta(minutes=6))
        self.assertEqual(
            sorted(message["rcpt_tos"][0] for message in messages),
            sorted(self.partners.mapped("email")),
            "each email delivered once",
        )
        self.assertEqual(set(self._reached(action).mapped("state")), {"sent"})

    def test_server_always_too_slow_fails_with_the_reason(self):
        self.env["ir.config_parameter"].set_param("campaign_manager.mail_retry_max", 1)
        action, mails = self._queued_action()
        port = free_port()
        first = mails.sorted("id")[0]
        for minutes in (0, 6):
            with LocalSMTPServer(port=port, slow_rcpt=3), freeze_time(T0 + datetime.timedelta(minutes=minutes)):
                self._use_server(port)
                self._process_queue()
        self.assertEqual(first.state, "exception")
        self.assertIn("Connection unexpectedly closed", first.failure_reason)
        touchpoint = self._reached(action).filtered(lambda t: t.mailing_trace_id.mail_mail_id == first)
        self.assertEqual(touchpoint.state, "failed")
        self.assertEqual(touchpoint.failure_reason, "Connection failed (outgoing mail server problem)")


@tagged("post_install", "-at_install")
class TestDatabaseLost(FaultCase, SMSCase):
    """The connection to the database lost in the middle of a batch: the batch is undone with its
    transaction, the job stops, and the next pass carries out the same touchpoints, each once. Its
    contacts are never marked failed for it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(5, prefix="dblost")
        cls.campaign = cls._campaign("DatabaseLost")
        cls._manual_target(cls.campaign, cls.partners)

    def test_email_batch(self):
        action = self._email_action(self.campaign)
        self._launch()
        self._process_losing_database(EMAIL_SMS_LINK, from_occurrence=2, batch_size=2)
        run = action.run_ids
        touchpoints = self._reached(action)
        self.assertEqual(touchpoints.mapped("state"), ["queued"] * 2 + ["planned"] * 3, "batch 2 undone")
        self.assertEqual(touchpoints.mapped("attempt_count"), [0] * 5)
        self.assertFalse(any(touchpoints.mapped("failure_reason")))
        self.assertFalse(any(touchpoints[2:].mapped("date_dispatched")), "its claim undone too")
        self.assertEqual(self.env["mail.mail"].search_count([("mailing_id", "=", run.mailing_id.id)]), 2)
        self.assertEqual(run.state, "sending")
        self._process(batch_size=2)
        traces = run.mailing_id.mailing_trace_ids
        self.assertEqual(sorted(traces.mapped("res_id")), sorted(self.partners.ids), "exactly once each")
        self.assertEqual(self.env["mail.mail"].search_count([("mailing_id", "=", run.mailing_id.id)]), 5)
        self.assertEqual(set(touchpoints.mapped("state")), {"queued"})
        self.assertEqual(run.state, "done")

    def test_sms_batch(self):
        action = self.env["campaign.action"].create(
            {"campaign_id": self.campaign.id, "name": "Text", "channel": "sms", "sms_body": "Hi {{ object.name }}"}
        )
        self._launch()
        self._process_losing_database(EMAIL_SMS_LINK, from_occurrence=2, batch_size=2)
        run = action.run_ids
        touchpoints = self._reached(action)
        self.assertEqual(touchpoints.mapped("state"), ["queued"] * 2 + ["planned"] * 3)
        self.assertFalse(any(touchpoints.mapped("failure_reason")))
        self.assertEqual(self.env["sms.sms"].sudo().search_count([("mailing_id", "=", run.mailing_id.id)]), 2)
        self._process(batch_size=2)
        with self.mockSMSGateway():
            self.env["sms.sms"].sudo().search([("state", "=", "outgoing")]).send()
        self.assertEqual(sorted(sms["number"] for sms in self._sms), sorted(self.partners.mapped("phone_sanitized")))
        self.assertEqual(set(touchpoints.mapped("state")), {"sent"})
        self.assertEqual(run.state, "done")

    def test_run_start(self):
        """Lost while a run starts: the action is not failed for it, the run starts at the next pass."""
        action = self._email_action(self.campaign)
        self._launch()
        self._process_losing_database(RUN_START)
        self.assertFalse(action.run_ids)
        self.assertEqual(action.state, "scheduled")
        self._process()
        self.assertEqual(len(action.run_ids), 1)
        self.assertEqual(len(self._reached(action)), 5)
        self.assertEqual(action.run_ids.state, "done")


@tagged("post_install", "-at_install")
class TestDatabaseLostLetters(FaultCase, HttpCase):
    """Letters: a printing batch and the binding of the run's PDF lost with the database are done
    again at the next pass, each letter printed and bound once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(3, prefix="dbletter")
        cls.campaign = cls._campaign("DatabaseLostLetters")
        cls._manual_target(cls.campaign, cls.partners)

    def setUp(self):
        super().setUp()
        # wkhtmltopdf fetches the report's styles from this test's server
        self.env["ir.config_parameter"].sudo().set_param("report.url", self.base_url())

    def _letter_action(self):
        return self.env["campaign.action"].create(
            {
                "campaign_id": self.campaign.id,
                "name": "Letter",
                "channel": "letter",
                "letter_subject": "For {{ object.name }}",
                "letter_body": '<p>Dear <t t-out="object.name"/>, our offers.</p>',
            }
        )

    @unittest.skipUnless(HAS_WKHTMLTOPDF, "wkhtmltopdf is not installed")
    def test_printing_batch(self):
        action = self._letter_action()
        self._launch()
        self._process_losing_database(LETTER_PLACE, from_occurrence=2, batch_size=2)
        run = action.run_ids
        touchpoints = self._reached(action)
        self.assertEqual(touchpoints.mapped("state"), ["queued", "queued", "planned"], "second batch undone")
        self.assertFalse(touchpoints[2].letter_attachment_id)
        self.assertEqual(
            self.env["ir.attachment"].search_count(
                [("res_model", "=", "campaign.action.run"), ("res_id", "=", run.id)]
            ),
            1,
            "the PDF of the undone batch is gone with it",
        )
        self._process(batch_size=2)
        self.assertEqual(run.state, "done")
        self.assertEqual(set(touchpoints.mapped("state")), {"done"})
        self.assertEqual(
            [(t.letter_page_from, t.letter_page_to) for t in touchpoints], [(1, 1), (2, 2), (3, 3)], "once each"
        )

    @unittest.skipUnless(HAS_WKHTMLTOPDF, "wkhtmltopdf is not installed")
    def test_binding(self):
        action = self._letter_action()
        self._launch()
        # the batch places its letters (1st statement), the binding then places them in the run's PDF
        self._process_losing_database(LETTER_PLACE, from_occurrence=2)
        run = action.run_ids
        self.assertEqual(run.state, "sending", "not failed: the binding waits for the next pass")
        self.assertFalse(run.log)
        self.assertEqual(set(self._reached(action).mapped("state")), {"queued"})
        self._process()
        self.assertEqual(run.state, "done")
        self.assertEqual(set(self._reached(action).mapped("state")), {"done"})
        self.assertEqual(len(run.attachment_id), 1)


@tagged("post_install", "-at_install")
class TestStoppedWhileWaiting(FaultCase):
    """A campaign stopped while its webhook calls, personal pages and tasks wait: once the stop is
    saved, no call is made, no page goes online, no task is created; after the resume, each contact
    once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        directory = tempfile.mkdtemp(prefix="campaign_faults_")
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
        env_patcher = patch.dict(os.environ, {"REQUESTS_CA_BUNDLE": cert_path})
        env_patcher.start()
        cls.addClassCleanup(env_patcher.stop)
        cls.env["ir.config_parameter"].set_param("campaign_manager.webhook_allow_private", "True")
        cls.env["ir.config_parameter"].set_param("campaign_manager.webhook_allow_ports", "True")
        cls.partners = cls._partners(3, prefix="stopped")
        cls.campaign = cls._campaign("StoppedWhileWaiting", date_start=T0.date())
        cls._manual_target(cls.campaign, cls.partners)

    def setUp(self):
        super().setUp()
        self.server.calls = []
        self.server.answer = lambda call: (200, b"ok", {})

    def _webhook_action(self):
        fields = self.env["campaign.webhook.field"]._by_names(["name", "email"])
        return self.env["campaign.action"].create(
            {
                "campaign_id": self.campaign.id,
                "name": "Notify",
                "channel": "webhook",
                "webhook_url": f"https://127.0.0.1:{self.server.server_address[1]}/hook",
                "webhook_secret": "s3cret",
                "webhook_field_ids": [(6, 0, fields.ids)],
            }
        )

    def _keys(self):
        return [call["headers"]["X-Campaign-Delivery"] for call in self.server.calls]

    def test_webhook_calls_not_made_after_the_stop(self):
        action = self._webhook_action()
        with freeze_time(T0):
            self._launch()
            self.env["campaign.engine"]._start_due_runs()
            self.campaign.action_stop()
            self._process()
        self.assertFalse(self.server.calls, "no call once the stop is saved")
        self.assertEqual(set(action.run_ids.touchpoint_ids.mapped("state")), {"planned"})
        with freeze_time(T0 + datetime.timedelta(minutes=5)):
            self.campaign.action_resume()
            self._process()
        self.assertEqual(len(self._keys()), 3)
        self.assertEqual(len(set(self._keys())), 3, "each contact once")
        self.assertEqual(set(action.run_ids.touchpoint_ids.mapped("state")), {"sent"})

    def test_webhook_retries_not_made_after_the_stop(self):
        answers = iter([(503, b"busy", {})] * 3 + [(200, b"ok", {})] * 3)
        self.server.answer = lambda call: next(answers)
        action = self._webhook_action()
        with freeze_time(T0):
            self._launch()
            self._process()
        touchpoints = action.run_ids.touchpoint_ids
        self.assertEqual(set(touchpoints.mapped("state")), {"planned"}, "waiting for their retry")
        self.assertEqual(len(self.server.calls), 3)
        self.campaign.action_stop()
        with freeze_time(T0 + datetime.timedelta(minutes=10)):
            self._process()
        self.assertEqual(len(self.server.calls), 3, "the retries wait for the resume")
        self.assertEqual(set(touchpoints.mapped("attempt_count")), {1})
        with freeze_time(T0 + datetime.timedelta(minutes=11)):
            self.campaign.action_resume()
            self._process()
        self.assertEqual(len(self.server.calls), 6)
        self.assertEqual(len(set(self._keys())), 3, "the same three deliveries, tried again")
        self.assertEqual(set(touchpoints.mapped("state")), {"sent"})

    def test_webhook_database_lost_after_the_calls(self):
        """The calls went, then the database was lost before their answers were stored: they are
        made again with the same idempotency keys, the receiver handles each contact once."""
        action = self._webhook_action()
        with freeze_time(T0):
            self._launch()
            self._process_losing_database(WEBHOOK_STORE)
            touchpoints = action.run_ids.touchpoint_ids
            self.assertEqual(set(touchpoints.mapped("state")), {"planned"})
            self.assertFalse(any(touchpoints.mapped("failure_reason")))
            self.assertEqual(len(self.server.calls), 3)
            self._process()
        self.assertEqual(len(self.server.calls), 6)
        self.assertEqual(len(set(self._keys())), 3)
        self.assertEqual(set(touchpoints.mapped("state")), {"sent"})

    def test_pages_not_published_after_the_stop(self):
        action = self.env["campaign.action"].create(
            {
                "campaign_id": self.campaign.id,
                "name": "Page",
                "channel": "landing",
                "landing_title": "Your offer",
                "landing_body": "<p>Hello</p>",
            }
        )
        with freeze_time(T0):
            self._launch()
            self.env["campaign.engine"]._start_due_runs()
            self.campaign.action_stop()
            self._process()
        touchpoints = action.run_ids.touchpoint_ids
        self.assertEqual(set(touchpoints.mapped("state")), {"planned"})
        self.assertFalse(any(touchpoints.mapped("landing_token")), "no page online")
        self.campaign.action_resume()
        self._process()
        self.assertEqual(set(touchpoints.mapped("state")), {"sent"})
        self.assertEqual(len(set(touchpoints.mapped("landing_token"))), 3)

    def test_tasks_not_created_after_the_stop(self):
        per_contact, for_action = self.env["campaign.action"].create(
            [
                {"campaign_id": self.campaign.id, "name": "Call", "channel": "task", "task_mode": "contact"},
                {"campaign_id": self.campaign.id, "name": "Print", "channel": "task", "task_mode": "action"},
            ]
        )
        tasks = self.env["project.task"].with_context(active_test=False)
        with freeze_time(T0):
            self._launch()
            self.env["campaign.engine"]._start_due_runs()
            self.campaign.action_stop()
            self._process()
        self.assertFalse(tasks.search_count([("campaign_action_id", "in", (per_contact | for_action).ids)]))
        self.assertEqual(set(per_contact.run_ids.touchpoint_ids.mapped("state")), {"planned"})
        self.campaign.action_resume()
        self._process()
        self.assertEqual(tasks.search_count([("campaign_action_id", "=", per_contact.id)]), 3, "one per contact")
        self.assertEqual(tasks.search_count([("campaign_action_id", "=", for_action.id)]), 1)
        self.assertEqual((per_contact | for_action).run_ids.mapped("state"), ["done", "done"])
