from odoo.tests import HttpCase, tagged

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestTrackingRoutes(HttpCase, CampaignCase):
    """Open pixel, click redirect and unsubscribe reached over HTTP move the touchpoints; altered
    tokens change nothing. Campaign emails carry the campaign's signed routes (/cm/o, /cm/r);
    mass mailing's own routes keep working for them too."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(2, prefix="route")
        cls.campaign = cls._campaign("Routes")
        cls._manual_target(cls.campaign, cls.partners)
        cls.action = cls._email_action(cls.campaign)
        wizard = cls.env["campaign.campaign.launch"].create({"campaign_id": cls.campaign.id, "mode": "now"})
        wizard.action_launch()
        cls.env["campaign.engine"]._cron_process()
        cls.run_record = cls.action.run_ids
        cls.mailing = cls.run_record.mailing_id
        cls.touchpoints = cls.run_record.touchpoint_ids.sorted(lambda t: t.partner_id.id)
        cls.touchpoints.mailing_trace_id.set_sent()

    def test_open_pixel_counts_opens(self):
        touchpoint = self.touchpoints[0]
        mail_id = touchpoint.mailing_trace_id.mail_mail_id_int
        token = self.env["mail.mail"]._generate_mail_recipient_token(mail_id)
        response = self.url_open(f"/mail/track/{mail_id}/{token}/blank.gif")
        self.assertEqual(response.status_code, 200)
        self.assertEqual((touchpoint.state, touchpoint.open_count), ("opened", 1))
        self.url_open(f"/mail/track/{mail_id}/{token}/blank.gif")
        self.assertEqual(touchpoint.open_count, 2, "total opens counted")
        bad = self.url_open(f"/mail/track/{mail_id}/{token[:-1]}x/blank.gif")
        self.assertNotEqual(bad.status_code, 200)
        self.assertEqual(touchpoint.open_count, 2)
        self.assertEqual(self.touchpoints[1].state, "sent", "the other contact is untouched")

    def test_click_redirect_counts_clicks_with_utm(self):
        touchpoint = self.touchpoints[0]
        tracker = self.env["link.tracker"].search([("mass_mailing_id", "=", self.mailing.id)])
        self.assertEqual(len(tracker), 1, "one tracked link for the mailing, shared by its recipients")
        self.assertEqual(tracker.campaign_id, self.campaign.utm_campaign_id)
        self.assertEqual(tracker.source_id, self.action.source_id)
        response = self.url_open(f"/r/{tracker.code}/m/{touchpoint.mailing_trace_id.id}", allow_redirects=False)
        self.assertIn(response.status_code, (301, 302, 303))
        location = response.headers["Location"]
        self.assertTrue(location.startswith("https://shop.example.com/offer"))
        self.assertIn("utm_campaign=Routes", location)
        self.assertEqual((touchpoint.state, touchpoint.click_count), ("clicked", 1))
        self.assertTrue(touchpoint.date_clicked)
        self.url_open(f"/r/{tracker.code}/m/{touchpoint.mailing_trace_id.id}", allow_redirects=False)
        self.assertEqual(touchpoint.click_count, 2)

    def test_unsubscribe_marks_touchpoint_and_blacklists(self):
        touchpoint = self.touchpoints[1]
        partner = touchpoint.partner_id
        url = self.mailing._get_unsubscribe_oneclick_url(partner.email, partner.id)
        tampered = url.replace("hash_token=", "hash_token=0")
        self.url_open(tampered, data={"List-Unsubscribe": "One-Click"})
        self.assertEqual(touchpoint.state, "sent", "a wrong token changes nothing")
        self.assertFalse(self.env["mail.blacklist"].search([("email", "=", partner.email)]))
        response = self.url_open(url, data={"List-Unsubscribe": "One-Click"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(touchpoint.state, "unsubscribed")
        self.assertTrue(touchpoint.date_unsubscribed)
        self.assertTrue(self.env["mail.blacklist"].search([("email", "=", partner.email)]))
        stats = self.campaign._resolve_recipients("email")
        self.assertEqual(stats["excluded"].get("blacklisted"), 1, "later runs leave them out")

    def _signed(self, touchpoint):
        trace = touchpoint.mailing_trace_id
        return trace, self.env["mailing.trace"]._campaign_tracking_signature(trace.id)

    def test_signed_open_pixel(self):
        touchpoint = self.touchpoints[0]
        trace, signature = self._signed(touchpoint)
        response = self.url_open(f"/cm/o/{trace.id}/{signature}.gif")
        self.assertEqual((response.status_code, response.headers["Content-Type"]), (200, "image/gif"))
        self.assertFalse(response.cookies, "no session for a pixel")
        touchpoint.invalidate_recordset()
        trace.invalidate_recordset()
        self.assertEqual((touchpoint.state, touchpoint.open_count, trace.trace_status), ("opened", 1, "open"))
        self.url_open(f"/cm/o/{trace.id}/{signature}.gif")
        touchpoint.invalidate_recordset()
        self.assertEqual(touchpoint.open_count, 2)
        other = self.touchpoints[1]
        for forged in (
            f"/cm/o/{trace.id}/{signature[:-1]}{'1' if signature[-1] == '0' else '0'}.gif",  # altered
            f"/cm/o/{trace.id}/{signature[:8]}.gif",  # truncated
            f"/cm/o/{other.mailing_trace_id.id}/{signature}.gif",  # replayed on another trace
            f"/cm/o/999999999/{signature}.gif",  # a trace that does not exist
        ):
            forged_response = self.url_open(forged)
            self.assertEqual(forged_response.status_code, 200, forged)
            self.assertEqual(forged_response.content, response.content, "the same answer: nothing revealed")
        self.env.invalidate_all()
        self.assertEqual(touchpoint.open_count, 2)
        self.assertEqual((other.state, other.open_count), ("sent", 0), "nothing recorded with a forged address")

    def test_signed_click(self):
        touchpoint = self.touchpoints[0]
        trace, signature = self._signed(touchpoint)
        tracker = self.env["link.tracker"].search([("mass_mailing_id", "=", self.mailing.id)])
        response = self.url_open(f"/cm/r/{tracker.code}/{trace.id}/{signature}", allow_redirects=False)
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response.headers["Location"].startswith("https://shop.example.com/offer"))
        self.assertIn("utm_campaign=Routes", response.headers["Location"])
        self.env.invalidate_all()
        self.assertEqual((touchpoint.state, touchpoint.click_count), ("clicked", 1))
        self.assertTrue(touchpoint.date_opened, "a click proves the email was opened")
        clicks = self.env["link.tracker.click"].search([("link_id", "=", tracker.id)])
        self.assertEqual(len(clicks), 1)
        self.env["campaign.engine"]._cron_process()
        self.assertEqual(tracker.count, 1, "the link's click count is brought up to date by the campaign job")
        self.assertEqual((clicks.mailing_trace_id, clicks.campaign_id), (trace, self.campaign.utm_campaign_id))
        self.assertEqual(trace.trace_status, "open")
        self.assertTrue(trace.links_click_datetime)
        # a forged signature still leads to the link (the reader is not punished), records nothing
        forged = self.url_open(f"/cm/r/{tracker.code}/{trace.id}/{'0' * 20}", allow_redirects=False)
        self.assertEqual(forged.headers["Location"], response.headers["Location"])
        unknown = self.url_open(f"/cm/r/NoSuchCode/{trace.id}/{signature}", allow_redirects=False)
        self.assertEqual(unknown.status_code, 404)
        self.env.invalidate_all()
        self.assertEqual(touchpoint.click_count, 1)
        self.assertEqual(self.env["link.tracker.click"].search_count([("link_id", "=", tracker.id)]), 1)
