from datetime import date

from odoo.addons.campaign_manager.models.mailing_mailing import MailingMailing
from odoo.addons.sms.tests.common import SMSCase
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .common import CampaignCase
from .tour_common import TourCase


@tagged("post_install", "-at_install")
class TestChannelSms(CampaignCase, SMSCase):
    """SMS actions end to end on a real database: one SMS mailing per run, SMS queued through SMS
    Marketing and sent by the SMS queue; only the SMS provider's network call is mocked (Odoo's
    own gateway mock)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(4, prefix="sms")
        cls.no_phone = cls._partners(1, prefix="nophone", phone=False)
        cls.blacklisted = cls._partners(1, prefix="stopped")
        cls.env["phone.blacklist"].sudo().add(cls.blacklisted.phone_sanitized)
        cls.campaign = cls._campaign("SmsCampaign", date_start=date(2026, 3, 1))
        cls._manual_target(cls.campaign, cls.partners | cls.no_phone | cls.blacklisted)

    def _sms_action(self, **values):
        return self.env["campaign.action"].create(
            {
                "campaign_id": self.campaign.id,
                "name": "SMS reminder",
                "channel": "sms",
                "sms_body": "Hello {{ object.name }}, our offers wait for you.",
            }
            | values
        )

    def _launch(self):
        form = Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=self.campaign.id))
        form.save().action_launch()

    def _process(self, **kwargs):
        self.env["campaign.engine"]._cron_process(**kwargs)

    def _send_queue(self):
        """What the SMS queue does (without its commit): send the outgoing SMS."""
        self.env["sms.sms"].sudo().search([("state", "=", "outgoing")]).send()

    def _reached(self, action):
        return action.run_ids.touchpoint_ids.filtered(lambda t: t.state != "excluded")

    # ------------------------------------------------------------------
    def test_sms_run_end_to_end(self):
        action = self._sms_action()
        self._launch()
        self._process()
        run = action.run_ids
        self.assertEqual(run.state, "done")
        touchpoints = run.touchpoint_ids
        excluded = touchpoints.filtered(lambda t: t.state == "excluded")
        self.assertEqual(
            {(t.partner_id, t.exclusion_reason) for t in excluded},
            {(self.no_phone, "no_address"), (self.blacklisted, "blacklisted")},
        )
        reached = touchpoints - excluded
        self.assertEqual(reached.partner_id, self.partners)
        self.assertEqual(set(reached.mapped("state")), {"queued"})
        # one SMS mailing for the run, with the campaign's UTM, exactly the run's recipients
        mailing = run.mailing_id
        self.assertEqual(mailing.mailing_type, "sms")
        self.assertEqual(reached.mailing_id, mailing)
        self.assertEqual(mailing.campaign_id, self.campaign.utm_campaign_id)
        self.assertEqual(mailing.source_id, action.source_id)
        self.assertEqual(mailing.medium_id, self.env.ref("mass_mailing_sms.utm_medium_sms"))
        recipients = self.env["res.partner"].search(mailing._get_recipients_domain())
        self.assertEqual(recipients, self.partners | self.no_phone | self.blacklisted)
        traces = mailing.mailing_trace_ids
        self.assertEqual(set(traces.mapped("trace_type")), {"sms"})
        self.assertEqual(reached.mailing_trace_id, traces)
        self.assertEqual(sorted(traces.mapped("res_id")), sorted(self.partners.ids))
        # one SMS per contact in the SMS queue, written for the contact, with the opt-out link
        sms = self.env["sms.sms"].sudo().search([("mailing_id", "=", mailing.id)])
        self.assertEqual(len(sms), 4)
        self.assertEqual(set(sms.mapped("state")), {"outgoing"})
        for partner in self.partners:
            body = sms.filtered(lambda s, p=partner: s.partner_id == p).body
            self.assertTrue(body.startswith(f"Hello {partner.name}, our offers wait for you."), body)
            self.assertIn(f"/sms/{mailing.id}/", body)
        # the SMS queue sends them through the provider; touchpoints follow their traces
        with self.mockSMSGateway():
            self._send_queue()
        self.assertSMSIapSent(self.partners.mapped("phone_sanitized"), content="our offers wait for you")
        self.assertEqual(len(self._sms), 4, "exactly one SMS per contact")
        self.assertEqual(set(traces.mapped("trace_status")), {"pending"})
        self.assertEqual(set(reached.mapped("state")), {"sent"})
        self.assertTrue(all(reached.mapped("date_done")))
        # nothing more at the next pass
        self._process()
        self.assertEqual(len(action.run_ids), 1)
        self.assertEqual(self.env["sms.sms"].sudo().search_count([("mailing_id", "=", mailing.id)]), 4)

    def test_sms_template_content(self):
        template = self.env["sms.template"].create(
            {
                "name": "Campaign SMS template",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "body": "Dear {{ object.name }}, see you at the shop.",
            }
        )
        action = self.env["campaign.action"].create(
            {
                "campaign_id": self.campaign.id,
                "name": "SMS from a template",
                "channel": "sms",
                "sms_template_id": template.id,
            }
        )
        self.assertEqual(action.sms_body, template.body, "the template gives the text")
        self._launch()
        self._process()
        sms = self.env["sms.sms"].sudo().search([("mailing_id", "=", action.run_ids.mailing_id.id)])
        self.assertEqual(
            sorted(body.split("\n")[0] for body in sms.mapped("body")),
            sorted(f"Dear {name}, see you at the shop." for name in self.partners.mapped("name")),
        )

    def test_invalid_numbers_fail_alone(self):
        action = self._sms_action()
        self._launch()
        self.env["campaign.engine"]._start_due_runs()
        # the number became invalid after the run started, and the provider refuses another one
        self.partners[0].phone = "12345"
        refused = self.partners[1].phone_sanitized
        self._process()
        with self.mockSMSGateway(nbr_t_error={refused: "wrong_number_format"}):
            self._send_queue()
        by_partner = {t.partner_id: t for t in self._reached(action)}
        for partner in self.partners[:2]:
            self.assertEqual(by_partner[partner].state, "failed")
            self.assertIn("Wrong Number Format", by_partner[partner].failure_reason)
        self.assertEqual(by_partner[self.partners[0]].mailing_trace_id.trace_status, "cancel")
        self.assertEqual(by_partner[self.partners[1]].mailing_trace_id.trace_status, "error")
        for partner in self.partners[2:]:
            self.assertEqual(by_partner[partner].state, "sent", "the rest of the batch went")
        self.assertEqual(len(self._sms), 2)
        self.assertEqual(action.run_ids.state, "done")

    def test_render_error_fails_alone(self):
        self.partners[1].name = "Bo"
        action = self._sms_action(sms_body="Initial: {{ object.name[3] }}")
        self._launch()
        self._process()
        reached = self._reached(action)
        failed = reached.filtered(lambda t: t.state == "failed")
        self.assertEqual(failed.partner_id, self.partners[1])
        self.assertIn("Failed to render", failed.failure_reason)
        self.assertEqual(len(reached.filtered(lambda t: t.state == "queued")), 3, "the rest of the batch is queued")
        with self.mockSMSGateway():
            self._send_queue()
        self.assertEqual(len(self._sms), 3)

    def test_kill_in_the_middle_then_rerun_sends_once(self):
        action = self._sms_action()
        self._launch()
        self.assertWorkerKilled(MailingMailing, "_campaign_send", lambda: self._process(batch_size=2))
        run = action.run_ids
        self.assertEqual(sorted(self._reached(action).mapped("state")), ["planned", "planned", "queued", "queued"])
        self.assertEqual(self.env["sms.sms"].sudo().search_count([("mailing_id", "=", run.mailing_id.id)]), 2)
        self._process(batch_size=2)
        with self.mockSMSGateway():
            self._send_queue()
        traces = run.mailing_id.mailing_trace_ids
        self.assertEqual(sorted(traces.mapped("res_id")), sorted(self.partners.ids), "one trace per contact")
        self.assertEqual(sorted(sms["number"] for sms in self._sms), sorted(self.partners.mapped("phone_sanitized")))
        self.assertEqual(set(self._reached(action).mapped("state")), {"sent"})
        self.assertEqual(run.state, "done")

    def test_interrupted_after_sms_were_queued(self):
        """SMS queued for some contacts but the touchpoints not updated (worker died in between,
        or another worker's attempt): the next pass links them, never queues them twice."""
        action = self._sms_action()
        self._launch()
        self.env["campaign.engine"]._start_due_runs()
        run = action.run_ids
        mailing = self.env["mailing.mailing"]._campaign_run_mailing(run)
        mailing._campaign_send_to(self.partners[:2].ids)
        self._process()
        self.assertEqual(len(mailing.mailing_trace_ids), 4)
        self.assertEqual(self.env["sms.sms"].sudo().search_count([("mailing_id", "=", mailing.id)]), 4)
        self.assertEqual(set(self._reached(action).mapped("state")), {"queued"})

    def test_stop_holds_queued_sms_and_resume_sends_them_once(self):
        action = self._sms_action()
        self._launch()
        self._process()
        run = action.run_ids
        sms = self.env["sms.sms"].sudo().search([("mailing_id", "=", run.mailing_id.id)])
        self.assertEqual(len(sms), 4)
        self.campaign.action_stop()
        self.assertFalse(sms.exists(), "queued SMS are withdrawn from the SMS queue")
        self.assertFalse(run.mailing_id.mailing_trace_ids)
        self.assertEqual(set(self._reached(action).mapped("state")), {"planned"})
        self.assertEqual(run.state, "sending")
        with self.mockSMSGateway():
            self._process()
            self._send_queue()
        self.assertFalse(self._sms, "nothing goes out while the campaign is stopped")
        self.campaign.action_resume()
        self._process()
        with self.mockSMSGateway():
            self._send_queue()
        self.assertEqual(sorted(s["number"] for s in self._sms), sorted(self.partners.mapped("phone_sanitized")))
        self.assertEqual(set(self._reached(action).mapped("state")), {"sent"})
        self.assertEqual(run.state, "done")

    def test_stop_saved_while_the_queue_holds_the_sms(self):
        """The SMS queue took the SMS before the stop withdrew them: once the stop is saved, the
        queue does not send them (it withdraws them itself)."""
        action = self._sms_action()
        self._launch()
        self._process()
        self.campaign.write({"state": "stopped"})  # the stop, without the withdrawal
        with self.mockSMSGateway():
            self._send_queue()
        self.assertFalse(self._sms)
        self.assertFalse(self.env["sms.sms"].sudo().search([("mailing_id", "=", action.run_ids.mailing_id.id)]))
        self.assertEqual(set(self._reached(action).mapped("state")), {"planned"})

    def test_opt_out_link_marks_unsubscribed(self):
        action = self._sms_action()
        self._launch()
        self._process()
        with self.mockSMSGateway():
            self._send_queue()
        touchpoint = self._reached(action).filtered(lambda t: t.partner_id == self.partners[0])
        trace = touchpoint.mailing_trace_id
        response = self.url_open(
            f"/sms/{trace.mass_mailing_id.id}/unsubscribe/{trace.sms_code}",
            data={"sms_number": trace.sms_number},
            method="GET",
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(touchpoint.state, "unsubscribed")
        self.assertTrue(touchpoint.date_unsubscribed)
        self.assertTrue(self.partners[0].phone_blacklisted)
        others = self._reached(action) - touchpoint
        self.assertEqual(set(others.mapped("state")), {"sent"})
        # a wrong code changes nothing
        other = others[0].mailing_trace_id
        self.url_open(
            f"/sms/{other.mass_mailing_id.id}/unsubscribe/xyz", data={"sms_number": other.sms_number}, method="GET"
        )
        self.assertEqual(others[0].state, "sent")

    def test_delivery_reports_move_touchpoints(self):
        action = self._sms_action()
        self._launch()
        self._process()
        with self.mockSMSGateway():
            self._send_queue()
        by_partner = {t.partner_id: t for t in self._reached(action)}
        bounced, lost, delivered = (by_partner[p] for p in self.partners[:3])
        statuses = [
            {"sms_status": "invalid_destination", "uuids": [bounced.mailing_trace_id.sms_tracker_ids.sms_uuid]},
            {"sms_status": "not_delivered", "uuids": [lost.mailing_trace_id.sms_tracker_ids.sms_uuid]},
            {"sms_status": "delivered", "uuids": [delivered.mailing_trace_id.sms_tracker_ids.sms_uuid]},
        ]
        self.assertEqual(self.make_jsonrpc_request("/sms/status", {"message_statuses": statuses}), "OK")
        self.assertEqual(bounced.state, "bounced")
        self.assertTrue(bounced.date_bounced)
        self.assertEqual(lost.state, "failed")
        self.assertIn("Not Delivered", lost.failure_reason)
        self.assertEqual(delivered.state, "sent")
        self.assertEqual(delivered.mailing_trace_id.trace_status, "sent")

    def test_bad_input(self):
        action = self._sms_action(sms_body=False)
        with self.assertRaises(UserError) as ctx:
            action.action_schedule()
        self.assertIn("an SMS text", str(ctx.exception))
        email_template = self.env["sms.template"].create(
            {"name": "Leads SMS", "model_id": self.env["ir.model"]._get_id("crm.lead"), "body": "Hi"}
        )
        with self.assertRaises(ValidationError):
            action.sms_template_id = email_template
        # campaign SMS mailings are sent by the campaign only
        action.sms_body = "Hello"
        self._launch()
        self.env["campaign.engine"]._start_due_runs()
        mailing = self.env["mailing.mailing"]._campaign_run_mailing(action.run_ids)
        with self.assertRaises(UserError):
            mailing.action_send_sms()

    def test_code_in_placeholders_needs_template_editor(self):
        action = self._sms_action().with_user(self.user_marketing)
        action.sms_body = "Hi {{ object.name }}"
        with self.assertRaises(AccessError):
            action.sms_body = "Hi {{ object.sudo().env['res.users'].search([]).mapped('password') }}"


@tagged("post_install", "-at_install")
class TestSmsActionForm(TourCase):
    """The form of an SMS action opens with its opt-out link on (SMS Marketing's widget read a field of the
    same name as Odoo's mailings and broke the form), counts the SMS and saves what is typed."""

    def test_sms_action_form_tour(self):
        campaign = self.env["campaign.campaign"].create({"name": "SmsTourCampaign"})
        action = self.env["campaign.action"].create(
            {"campaign_id": campaign.id, "name": "Tour SMS", "channel": "sms", "sms_body": "Hello {{ object.name }}"}
        )
        self.assertTrue(action.sms_opt_out_link)
        self.start_tour(
            f"/odoo/action-campaign_manager.campaign_action_action/{action.id}",
            "campaign_sms_action_tour",
            login="admin",
        )
        self.assertEqual(action.sms_body, "Hello {{ object.name }}, the tour offer ends tonight.")
        self.assertFalse(action.sms_opt_out_link)
