import re
from unittest.mock import patch

from odoo import Command, fields
from odoo.addons.campaign_manager.controllers.landing import CampaignLandingController
from odoo.exceptions import AccessError
from odoo.tests import Form, HttpCase, tagged

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestChannelLanding(CampaignCase, HttpCase):
    """Personal landing pages (PURL), reached over HTTP through Odoo's test server: signed
    addresses, visits counted, plain 404 for anything wrong, reply form creating the lead."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(3, prefix="purl", lang="en_US")
        cls.partners[2].name = '<script>alert("purl")</script>'
        cls.team = cls.env["crm.team"].create({"name": "Campaign follow-up", "use_leads": True})
        cls.campaign = cls._campaign("PurlOffers", team_id=cls.team.id, date_start=fields.Date.today())
        cls._manual_target(cls.campaign, cls.partners)
        cls.action = cls._landing_action(cls.campaign)
        cls.other_campaign = cls._campaign("OtherPurl", date_start=fields.Date.today())
        cls._manual_target(cls.other_campaign, cls.partners[:1])
        cls.other_action = cls._landing_action(cls.other_campaign)

    @classmethod
    def _landing_action(cls, campaign, **values):
        return cls.env["campaign.action"].create(
            {
                "campaign_id": campaign.id,
                "name": "Offer page",
                "channel": "landing",
                "landing_title": "{{ object.name }}, your offer",
                "landing_body": '<p>Hello <t t-out="object.name"/>, here is your offer.</p>',
                "landing_form": True,
                "landing_thanks": "<p>Thanks, an advisor will call you.</p>",
            }
            | values
        )

    def _launch(self, campaign):
        Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id)).save().action_launch()
        self.env["campaign.engine"]._cron_process()

    def _touchpoint(self, partner, action=None):
        return (action or self.action).touchpoint_ids.filtered(lambda t: t.partner_id == partner)

    def _path(self, touchpoint):
        return touchpoint.landing_url.removeprefix(touchpoint.get_base_url())

    def _without_csrf(self, html):
        # the layout of every page carries a CSRF token salted with the time
        return re.sub(r'csrf_token: "[^"]*"', "", html)

    def _csrf(self, html):
        """The token of the page's form (bound to the page, not to a session)."""
        return {"form_token": re.search(r'name="form_token" value="([^"]+)"', html).group(1)}

    # ------------------------------------------------------------------
    def test_run_publishes_one_signed_address_per_contact(self):
        self._launch(self.campaign)
        touchpoints = self.action.touchpoint_ids
        self.assertEqual(len(touchpoints), 3)
        self.assertEqual(set(touchpoints.mapped("state")), {"sent"})
        self.assertTrue(all(touchpoints.mapped("date_done")))
        self.assertEqual(self.action.run_ids.state, "done")
        self.assertEqual(self.action.state, "done")
        keys = touchpoints.mapped("landing_token")
        self.assertEqual(len(set(keys)), 3)
        self.assertEqual({len(key) for key in keys}, {32})
        for touchpoint in touchpoints:
            self.assertRegex(touchpoint.landing_url, r"/c/[A-Za-z0-9_-]{32}[0-9a-f]{32}$")
        # the address an email or a letter shows, campaign by campaign
        self._launch(self.other_campaign)
        partner = self.partners[0]
        own = self._touchpoint(partner)
        other = self._touchpoint(partner, self.other_action)
        in_campaign = partner.with_context(campaign_landing_campaign_id=self.campaign.id)
        self.assertEqual(in_campaign.campaign_landing_url, own.landing_url)
        self.assertEqual(partner.campaign_landing_url, other.landing_url, "outside a campaign: the latest page")
        self.assertFalse(self._partners(1, prefix="nopage").campaign_landing_url)

    def test_email_after_the_page_carries_its_address(self):
        template = self.env["mail.template"].create(
            {
                "name": "Page email",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "subject": "Your page",
                "body_html": '<p>Your page: <t t-out="object.campaign_landing_url"/></p>',
            }
        )
        self._launch(self.campaign)
        self._launch(self.other_campaign)  # the latest page of contact 0 is now the other campaign's
        email = self._email_action(
            self.campaign,
            name="Page email",
            mail_template_id=template.id,
            schedule_type="after",
            parent_id=self.action.id,
            delay=0,
            delay_unit="hours",
            followup_filter="reached",
        )
        email.action_schedule()
        self.env["campaign.engine"]._cron_process()
        mails = self.env["mail.mail"].search([("mailing_id", "=", email.run_ids.mailing_id.id)])
        self.assertEqual(len(mails), 3)
        for touchpoint in self.action.touchpoint_ids:
            with self.subTest(touchpoint.partner_id.name):
                self.assertEqual(len(mails.filtered(lambda m, t=touchpoint: t.landing_url in m.body_html)), 1)
        other_url = self._touchpoint(self.partners[0], self.other_action).landing_url
        self.assertFalse(mails.filtered(lambda m: other_url in m.body_html), "the page of the campaign sent")

    def test_visits_are_counted(self):
        self._launch(self.campaign)
        touchpoint = self._touchpoint(self.partners[0])
        response = self.url_open(self._path(touchpoint))
        self.assertEqual(response.status_code, 200)
        self.assertIn("purl 0, your offer</h1>", response.text)
        self.assertIn("<p>Hello purl 0, here is your offer.</p>", response.text)
        self.assertEqual(response.headers["Cache-Control"], "no-store")
        self.assertEqual(response.headers["Referrer-Policy"], "no-referrer")
        touchpoint.invalidate_recordset()
        self.assertEqual(touchpoint.visit_count, 1)
        first = touchpoint.date_visited
        self.assertTrue(first)
        self.assertEqual(touchpoint.date_last_visited, first)
        self.url_open(self._path(touchpoint))
        self.url_open(self._path(touchpoint))
        touchpoint.invalidate_recordset()
        self.assertEqual(touchpoint.visit_count, 3)
        self.assertEqual(touchpoint.date_visited, first, "the first visit stays")
        self.assertEqual(self.url_open(self._path(touchpoint), method="HEAD").status_code, 200)
        touchpoint.invalidate_recordset()
        self.assertEqual(touchpoint.visit_count, 3, "a link checker's HEAD is not a visit")
        self.assertGreaterEqual(touchpoint.date_last_visited, first)
        self.assertEqual(touchpoint.state, "sent")
        self.assertEqual(self._touchpoint(self.partners[1]).visit_count, 0)
        # a follow-up "visited the landing page" reaches this contact only
        self.assertEqual(
            self.action.touchpoint_ids.filtered_domain([("date_visited", "!=", False)]).partner_id, self.partners[0]
        )

    def test_page_kept_then_made_again_when_its_content_changes(self):
        """A page is rendered once, then served from the worker's copy (every visit still counted);
        a change of the action's content or a reply makes it again."""
        self._launch(self.campaign)
        touchpoint = self._touchpoint(self.partners[0])
        path = self._path(touchpoint)
        renders = []
        original = CampaignLandingController._landing_html

        def counting(controller, *args):
            renders.append(args[0].id)
            return original(controller, *args)

        with patch.object(CampaignLandingController, "_landing_html", counting):
            first = self.url_open(path).text
            self.assertEqual(self.url_open(path).text, first)
            self.assertEqual(len(renders), 1, "served from the copy")
            self.action.landing_body = '<p>New offer for <t t-out="object.name"/>.</p>'
            page = self.url_open(path).text
            self.assertIn("<p>New offer for purl 0.</p>", page, "the content changed: made again")
            self.assertEqual(len(renders), 2)
            form = {**self._csrf(page), "name": "Purl", "email": "purl.0@example.com"}
            self.url_open(path, data=form)
            self.assertIn("Thanks, an advisor will call you.", self.url_open(path).text, "after a reply")
        touchpoint.invalidate_recordset()
        self.assertEqual(touchpoint.visit_count, 4, "every visit counted, the reply is not a visit")
        wrong = self.url_open(path, data=dict(form, form_token="0" * 32))
        self.assertEqual(wrong.status_code, 400, "the form's token is the page's")

    def test_colleague_preview_is_not_a_visit(self):
        self._launch(self.campaign)
        touchpoint = self._touchpoint(self.partners[0])
        self.authenticate("cm_user", "cm_user")
        response = self.url_open(self._path(touchpoint))
        self.assertEqual(response.status_code, 200)
        touchpoint.invalidate_recordset()
        self.assertEqual(touchpoint.visit_count, 0)

    def test_bad_tokens_get_a_plain_404(self):
        self._launch(self.campaign)
        self._launch(self.other_campaign)
        touchpoint = self._touchpoint(self.partners[0])
        token = self._path(touchpoint).removeprefix("/c/")
        other_token = self._path(self._touchpoint(self.partners[0], self.other_action)).removeprefix("/c/")
        missing = self.url_open("/c-no-such-page/x")
        self.assertEqual(missing.status_code, 404)
        last = "0" if token[-1] != "0" else "1"
        bad_tokens = {
            "wrong": "A" * 64,
            "altered last char": token[:-1] + last,
            "altered key": ("B" if token[0] != "B" else "C") + token[1:],
            "truncated": token[:-1],
            "key only": token[:32],
            "another campaign's key with this signature": other_token[:32] + token[32:],
            "upper-case signature": token[:32] + token[32:].upper(),
        }
        for label, bad in bad_tokens.items():
            with self.subTest(label):
                response = self.url_open(f"/c/{bad}")
                self.assertEqual(response.status_code, 404)
                self.assertEqual(
                    self._without_csrf(response.text),
                    self._without_csrf(missing.text),
                    "the same answer as a page that does not exist",
                )
        self.assertEqual(self.url_open("/c/").status_code, 404, "empty token")
        touchpoint.invalidate_recordset()
        self.assertEqual(touchpoint.visit_count, 0)
        # a page whose touchpoint is no longer live is gone too
        touchpoint.state = "cancelled"
        self.assertEqual(self.url_open(f"/c/{token}").status_code, 404)
        self.assertEqual(self.url_open(f"/c/{other_token}").status_code, 200, "the other campaign's page is fine")

    def test_erased_contact_has_no_page_any_more(self):
        self._launch(self.campaign)
        touchpoint = self._touchpoint(self.partners[1])
        path = self._path(touchpoint)
        self.assertEqual(self.url_open(path).status_code, 200)
        erase = self.env["campaign.contact.erase"].create({"partner_ids": [Command.set(self.partners[1].ids)]})
        erase.action_erase()
        touchpoint.invalidate_recordset()
        self.assertFalse(touchpoint.landing_token)
        self.assertEqual(self.url_open(path).status_code, 404)
        blacklisted = self.env["phone.blacklist"].search([("number", "=", self.partners[1].phone_sanitized)])
        self.assertEqual(len(blacklisted), 1, "the whole number is blacklisted")

    def test_form_creates_one_lead_with_the_campaign_utm(self):
        self._launch(self.campaign)
        touchpoint = self._touchpoint(self.partners[1])
        path = self._path(touchpoint)
        page = self.url_open(path)
        self.assertIn('value="purl.1@example.com"', page.text, "the form is filled in for the contact")
        self.assertIn('name="message"', page.text)
        csrf = self._csrf(page.text)
        form = {
            **csrf,
            "name": "Purl One",
            "email": "new.address@example.com",
            "phone": "+33 6 11 22 33 44",
            "message": "Call me <b>tomorrow</b>\nplease",
        }
        response = self.url_open(path, data=form)
        self.assertEqual(response.status_code, 200)
        self.assertIn("Thanks, an advisor will call you.", response.text)
        self.assertNotIn('name="message"', response.text, "the form is gone once answered")
        touchpoint.invalidate_recordset()
        lead = touchpoint.lead_id
        self.assertEqual(len(lead), 1)
        self.assertEqual(touchpoint.state, "converted")
        self.assertTrue(touchpoint.date_converted)
        self.assertEqual(lead.campaign_id, self.campaign.utm_campaign_id)
        self.assertEqual(lead.source_id, self.action.source_id)
        self.assertEqual(lead.medium_id, self.env.ref("utm.utm_medium_website"))
        self.assertEqual(lead.partner_id, self.partners[1])
        self.assertEqual(lead.team_id, self.team)
        self.assertEqual(lead.type, "lead")
        self.assertEqual(lead.name, "Offer page: purl 1")
        self.assertIn("new.address@example.com", lead.description)
        self.assertIn("+33 6 11 22 33 44", lead.description)
        self.assertIn("Call me &lt;b&gt;tomorrow&lt;/b&gt;<br>please", str(lead.description))
        self.assertEqual(self.partners[1].email, "purl.1@example.com", "an anonymous form never changes the contact")
        # sent again (reload, double click): no second lead
        again = self.url_open(path, data=form | {"message": "again"})
        self.assertEqual(again.status_code, 200)
        self.assertIn("Thanks, an advisor will call you.", again.text)
        leads = self.env["crm.lead"].search([("campaign_id", "=", self.campaign.utm_campaign_id.id)])
        self.assertEqual(leads, lead)

    def test_form_needs_csrf_and_valid_input(self):
        self._launch(self.campaign)
        touchpoint = self._touchpoint(self.partners[0])
        path = self._path(touchpoint)
        page = self.url_open(path)
        csrf = self._csrf(page.text)
        refused = self.url_open(path, data={"name": "X", "email": "x@example.com"})
        self.assertEqual(refused.status_code, 400, "no form token, no lead")
        # the token of another page (Odoo's CSRF token would be the session's, good on any page),
        # an altered one, or the page's token under another name: refused
        other = self.url_open(self._path(self._touchpoint(self.partners[1])))
        for form in (
            {**self._csrf(other.text), "name": "X", "email": "x@example.com"},
            {"form_token": "é" * 64, "name": "X", "email": "x@example.com"},
            {"form_token": csrf["form_token"][:-1], "name": "X", "email": "x@example.com"},
            {"csrf_token": csrf["form_token"], "name": "X", "email": "x@example.com"},
        ):
            with self.subTest(form=form):
                self.assertEqual(self.url_open(path, data=form).status_code, 400)
        wrong = self.url_open(path, data={**csrf, "name": "", "email": "not-an-email", "phone": "abc"})
        self.assertEqual(wrong.status_code, 200)
        self.assertIn("Please enter your name.", wrong.text)
        self.assertIn("This email address is not valid.", wrong.text)
        self.assertIn("This phone number is not valid.", wrong.text)
        self.assertIn('value="not-an-email"', wrong.text, "what was typed is kept")
        kept = self.url_open(path, data={**csrf, "name": "", "email": "a@example.com", "message": "<i>Hi"})
        self.assertIn(">&lt;i&gt;Hi</textarea>", kept.text)
        too_long = self.url_open(path, data={**csrf, "name": "N" * 129, "email": "n@example.com"})
        self.assertIn("At most 128 characters.", too_long.text)
        nothing = self.url_open(path, data={**csrf, "name": "Name"})
        self.assertIn("Please enter an email address or a phone number.", nothing.text)
        touchpoint.invalidate_recordset()
        self.assertFalse(touchpoint.lead_id)
        self.assertEqual(touchpoint.state, "sent")
        # without a form on the action, posting is a 404
        self.action.landing_form = False
        self.assertEqual(self.url_open(path, data={**csrf, "name": "N"}).status_code, 404)

    def test_page_in_the_contact_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        self.partners[0].lang = "fr_FR"
        self._launch(self.campaign)
        page = self.url_open(self._path(self._touchpoint(self.partners[0]))).text
        self.assertIn('<html lang="fr-FR"', page)
        self.assertIn(">Envoyer</button>", page)
        self.assertIn(">Téléphone</label>", page)

    def test_contact_values_are_escaped(self):
        self._launch(self.campaign)
        response = self.url_open(self._path(self._touchpoint(self.partners[2])))
        self.assertEqual(response.status_code, 200)
        self.assertNotIn('<script>alert("purl")', response.text)
        self.assertIn("&lt;script&gt;alert(&#34;purl&#34;)&lt;/script&gt;, your offer", response.text)
        self.assertIn("Hello &lt;script&gt;alert(&#34;purl&#34;)&lt;/script&gt;, here is your offer.", response.text)

    def test_page_code_needs_the_template_editor_group(self):
        self.env.ref("mail.group_mail_template_editor").write({"implied_by_ids": [Command.clear()]})
        self.assertFalse(self.user_marketing.has_group("mail.group_mail_template_editor"))
        action = self.action.with_user(self.user_marketing)
        action.landing_body = '<p>Hi <t t-out="object.name"/></p>'  # simple placeholders are fine
        with self.assertRaises(AccessError):
            action.landing_body = '<p t-out="object.env[&quot;res.users&quot;].search([]).mapped(&quot;login&quot;)"/>'
        with self.assertRaises(AccessError):
            action.landing_title = "{{ object.env.user.login }}"

    def test_schedule_lists_missing_page_content(self):
        action = self._landing_action(self.campaign, landing_title=False, landing_body="<p><br></p>")
        self.assertEqual(action._missing_for_run(), ["a title for the page", "a content for the page"])
        self.assertEqual(self.action._missing_for_run(), [])

    def test_exclusions_follow_the_channel_delivering_the_link(self):
        no_email = self._partners(1, prefix="letteronly", email=False)
        campaign = self._campaign("PurlByLetter")
        self._manual_target(campaign, self.partners[:2] | no_email)
        by_email = self._landing_action(campaign)
        by_letter = self._landing_action(campaign, name="Letter page", landing_delivery="letter")
        self.assertEqual(by_email._audience_stats()["final"], 2, "no email address, no page")
        self.assertEqual(by_letter._audience_stats()["final"], 3)
