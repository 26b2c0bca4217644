from datetime import datetime

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import CampaignCase, deliver_campaign_mails
from .smtp_server import LocalSMTPServer, free_port


@tagged("post_install", "-at_install")
class TestChannelEmail(CampaignCase):
    """Email end to end: one mailing per run through mass mailing, delivered by a real SMTP server
    on loopback, touchpoints following their traces, and the campaign's tracking settings."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(3, prefix="mail")
        cls.partners[2].email = "refuse@example.com"
        cls.campaign = cls._campaign("EmailChannel", reply_to="replies@example.com")
        cls._manual_target(cls.campaign, cls.partners)

    def _launch_and_queue(self, campaign=None, **action_values):
        campaign = campaign or self.campaign
        action = self._email_action(campaign, **action_values)
        Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id)).save().action_launch()
        self.env["campaign.engine"]._cron_process()
        return action

    def _use_server(self, port):
        self.env["ir.mail_server"].search([]).write({"active": False})
        return self.env["ir.mail_server"].create(
            {"name": "Loopback", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_encryption": "none"}
        )

    def _process_queue(self):
        deliver_campaign_mails(self.env)

    def _deliver(self, refuse=(), tempfail=()):
        """Run a delivery worker against a real SMTP server on loopback."""
        with LocalSMTPServer(refuse=refuse, tempfail=tempfail) as server:
            self._use_server(server.port)
            self._process_queue()
            return server.messages

    def test_emails_delivered_and_touchpoints_follow(self):
        action = self._launch_and_queue()
        run = action.run_ids
        touchpoints = run.touchpoint_ids
        self.assertEqual(set(touchpoints.mapped("state")), {"queued"})
        messages = self._deliver(refuse={"refuse@example.com"})
        self.assertEqual(len(messages), 2, "the refused recipient gets nothing")
        by_rcpt = {message["rcpt_tos"][0]: message["message"] for message in messages}
        self.assertEqual(set(by_rcpt), {"mail.0@example.com", "mail.1@example.com"})
        message = by_rcpt["mail.0@example.com"]
        self.assertEqual(message["Subject"], "Hello mail 0")
        self.assertEqual(message["Reply-To"], "replies@example.com")
        self.assertIn("/unsubscribe_oneclick", message["List-Unsubscribe"])
        html = LocalSMTPServer.body_of(message)
        self.assertIn("Dear mail 0", html)
        trace = touchpoints.filtered(lambda t: t.partner_id == self.partners[0]).mailing_trace_id
        signature = self.env["mailing.trace"]._campaign_tracking_signature(trace.id)
        self.assertIn(f"/cm/o/{trace.id}/{signature}.gif", html, "signed open tracking pixel")
        self.assertRegex(html, rf"/cm/r/[A-Za-z0-9]+/{trace.id}/{signature}", "signed tracked link of the trace")
        self.assertNotIn("shop.example.com/offer", html, "the real address is behind the tracked link")
        text = LocalSMTPServer.body_of(message, "plain")
        self.assertIn("/r/", text, "plain-text links are tracked too")
        sent = touchpoints.filtered(lambda t: t.partner_id in self.partners[:2])
        self.assertEqual(set(sent.mapped("state")), {"sent"})
        self.assertTrue(all(sent.mapped("date_done")))
        refused = touchpoints - sent
        self.assertEqual(refused.state, "failed")
        self.assertTrue(refused.failure_reason)
        # the queue runs again: nothing is sent twice
        self.assertFalse(self._deliver())
        self.assertEqual(run.carried_count, 2)
        self.assertEqual(run.failed_count, 1)

    def test_tracking_settings_applied(self):
        self.campaign.write(
            {"track_opens": False, "track_clicks": False, "track_sales_links": True, "reply_mode": "contact"}
        )
        action = self._launch_and_queue()
        self.assertEqual(action.run_ids.mailing_id.reply_to_mode, "update")
        messages = self._deliver(refuse={"refuse@example.com"})
        html = LocalSMTPServer.body_of(messages[0]["message"])
        self.assertNotIn("/cm/o/", html, "no open tracking pixel")
        self.assertNotIn("/r/", html, "links not shortened")
        self.assertIn("https://shop.example.com/offer?", html)
        self.assertIn("utm_campaign=EmailChannel", html, "sales link tracking adds the UTM parameters")
        self.assertIn("utm_medium=Email", html)

    def test_plain_text_clicks_off_keeps_real_addresses(self):
        self.campaign.track_plaintext_clicks = False
        self._launch_and_queue()
        messages = self._deliver(refuse={"refuse@example.com"})
        message = messages[0]["message"]
        self.assertIn("/r/", LocalSMTPServer.body_of(message), "HTML links stay tracked")
        text = LocalSMTPServer.body_of(message, "plain")
        self.assertNotIn("/r/", text)
        self.assertIn("https://shop.example.com/offer", text)

    def test_tracking_settings_locked_once_active(self):
        self._launch_and_queue()
        with self.assertRaises(UserError) as ctx:
            self.campaign.track_opens = False
        self.assertIn("cannot change once the campaign is active", str(ctx.exception))
        self.campaign.write({"track_opens": True, "budget": 10})  # unchanged value, other field: fine

    def test_campaign_mailings_not_sent_from_email_marketing(self):
        action = self._launch_and_queue()
        for mailing in action.run_ids.mailing_id | action.mailing_id.browse():
            with self.assertRaises(UserError) as ctx:
                mailing.action_launch()
            self.assertIn("Launch the campaign instead", str(ctx.exception))
        content = self._campaign("EditorContent")
        email_action = self.env["campaign.action"].create(
            {"campaign_id": content.id, "name": "Editor", "channel": "email"}
        )
        email_action.action_edit_email()
        self.assertEqual(email_action.mailing_id.campaign_action_id, email_action)
        self.assertEqual(email_action.mailing_id.campaign_id, content.utm_campaign_id)
        with self.assertRaises(UserError):
            email_action.mailing_id.action_put_in_queue()
        self.assertIn("a body for the email", email_action._missing_for_run())

    def test_editor_content_copied_per_run(self):
        campaign = self._campaign("EditorRuns")
        self._manual_target(campaign, self.partners[:2])
        action = self.env["campaign.action"].create({"campaign_id": campaign.id, "name": "News", "channel": "email"})
        action.action_edit_email()
        action.mailing_id.write({"subject": "News for {{ object.name }}", "body_html": "<p>Our news</p>"})
        self.assertFalse(action._missing_for_run())
        Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id)).save().action_launch()
        self.env["campaign.engine"]._cron_process()
        run_mailing = action.run_ids.mailing_id
        self.assertNotEqual(run_mailing, action.mailing_id)
        self.assertEqual(run_mailing.subject, "News for {{ object.name }}")
        self.assertEqual(run_mailing.source_id, action.source_id)
        self.assertEqual(action.mailing_id.state, "draft", "the content itself is never sent")
        mails = self.env["mail.mail"].search([("mailing_id", "=", run_mailing.id)])
        self.assertEqual(sorted(mails.mapped("subject")), ["News for mail 0", "News for mail 1"])

    def test_trace_events_move_touchpoints(self):
        action = self._launch_and_queue()
        touchpoints = action.run_ids.touchpoint_ids.sorted(lambda t: t.partner_id.id)
        traces = touchpoints.mailing_trace_id
        traces.set_sent()
        self.assertEqual(set(touchpoints.mapped("state")), {"sent"})
        first, second, third = touchpoints
        first.mailing_trace_id.set_opened()
        self.assertEqual((first.state, first.open_count), ("opened", 1))
        first.mailing_trace_id.set_clicked()
        first.mailing_trace_id.set_clicked()
        self.assertEqual((first.state, first.click_count), ("clicked", 2))
        first.mailing_trace_id.set_opened()  # an open after a click does not move it back
        self.assertEqual(first.state, "clicked")
        second.mailing_trace_id.set_replied()
        self.assertEqual(second.state, "replied")
        self.assertTrue(second.date_replied)
        third.mailing_trace_id.set_bounced(bounce_message="550 no such user")
        self.assertEqual(third.state, "bounced")
        self.assertIn("550 no such user", third.failure_reason)
        self.assertTrue(third.date_bounced)

    def test_reply_to_campaign_chatter(self):
        alias_domain = self.env["mail.alias.domain"].create({"name": "campaign.example.com"})
        campaign = self._campaign("Replies", reply_mode="campaign")
        self._manual_target(campaign, self.partners[:1])
        action = self._email_action(campaign)
        wizard = Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id)).save()
        with self.assertRaises(UserError) as ctx:
            wizard.action_launch()
        self.assertIn("an email alias for the replies", str(ctx.exception))
        campaign.write({"alias_name": "replies-test", "alias_domain_id": alias_domain.id})
        wizard.action_launch()
        self.env["campaign.engine"]._cron_process()
        mailing = action.run_ids.mailing_id
        self.assertEqual(mailing.reply_to, "replies-test@campaign.example.com")
        trace = action.run_ids.touchpoint_ids.mailing_trace_id
        trace.set_sent()
        raw = (
            "From: mail 0 <mail.0@example.com>\r\n"
            "To: replies-test@campaign.example.com\r\n"
            "Subject: Re: Hello mail 0\r\n"
            "Message-ID: <reply-42@example.com>\r\n"
            f"In-Reply-To: {trace.message_id}\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            "Yes, I am interested!\r\n"
        )
        self.env["mail.thread"].message_process(None, raw)
        self.assertEqual(action.run_ids.touchpoint_ids.state, "replied")
        self.assertIn("Yes, I am interested!", campaign.message_ids[0].body)

    def test_smtp_down_retried_with_backoff_then_sent_once(self):
        action = self._launch_and_queue()
        touchpoints = action.run_ids.touchpoint_ids
        port = free_port()
        self._use_server(port)  # nothing listens there: the server is down
        with freeze_time("2026-04-01 10:00:00"):
            self._process_queue()
            mails = self.env["mail.mail"].search([("mailing_id", "=", action.run_ids.mailing_id.id)])
            self.assertEqual(set(mails.mapped("state")), {"outgoing"}, "put back in the queue, not failed")
            self.assertEqual(set(mails.mapped("campaign_retry_count")), {1})
            self.assertEqual(set(mails.mapped("scheduled_date")), {datetime(2026, 4, 1, 10, 5)})
            self.assertEqual(set(touchpoints.mapped("state")), {"queued"})
        with freeze_time("2026-04-01 10:06:00"), LocalSMTPServer(refuse={"refuse@example.com"}, port=port) as server:
            self._process_queue()
            self._process_queue()
        self.assertEqual(len(server.messages), 2, "each email delivered once when the server is back")
        self.assertEqual(sorted(touchpoints.mapped("state")), ["failed", "sent", "sent"])

    def test_retries_exhausted_fail_with_reason(self):
        self.env["ir.config_parameter"].set_param("campaign_manager.mail_retry_max", 1)
        action = self._launch_and_queue()
        self._use_server(free_port())
        with freeze_time("2026-04-01 10:00:00"):
            self._process_queue()
        with freeze_time("2026-04-01 10:06:00"):
            self._process_queue()
        touchpoints = action.run_ids.touchpoint_ids
        self.assertEqual(set(touchpoints.mapped("state")), {"failed"})
        self.assertIn("Connection failed", touchpoints[0].failure_reason)

    def test_temporary_refusal_retried(self):
        action = self._launch_and_queue()
        with LocalSMTPServer(refuse={"refuse@example.com"}, tempfail={"mail.1@example.com"}) as server:
            self._use_server(server.port)
            with freeze_time("2026-04-01 10:00:00"):
                self._process_queue()
            self.assertEqual([m["rcpt_tos"] for m in server.messages], [["mail.0@example.com"]])
            with freeze_time("2026-04-01 10:06:00"):
                self._process_queue()
        self.assertEqual(len(server.messages), 2)
        self.assertEqual(server.messages[1]["rcpt_tos"], ["mail.1@example.com"])
        states = dict(
            zip(
                action.run_ids.touchpoint_ids.partner_id.mapped("email"),
                action.run_ids.touchpoint_ids.mapped("state"),
                strict=True,
            )
        )
        self.assertEqual(states["mail.1@example.com"], "sent")
        self.assertEqual(states["refuse@example.com"], "failed", "a permanent refusal is not retried")
