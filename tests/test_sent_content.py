from datetime import date

from freezegun import freeze_time

from odoo.tests import Form, HttpCase, new_test_user, tagged

from .common import CampaignCase, deliver_campaign_mails
from .smtp_server import LocalSMTPServer

PAGE_EMAIL_BODY = (
    "<p>Dear {{ object.name }}, your page: {{ object.campaign_landing_url }}</p>"
    '<p><a href="{{ object.campaign_landing_url }}">Open your page</a> · <a href="#">Back to top</a> · '
    '<a href="https://shop.example.com/offer">See the offer</a> · {{ object.name ||| friend }}</p>'
)
PAGE_LETTER_BODY = "<p>Dear {{ object.name }},</p><p>Your page: {{ object.campaign_landing_url }}</p>"


@tagged("post_install", "-at_install")
class TestSentContent(CampaignCase, HttpCase):
    """What the channels send, through the real paths (the campaign job, Odoo's mail queue, a real
    SMTP server on loopback, the letters' printing): one placeholder syntax in subjects and
    bodies, the sender of campaign emails, links, the names of what the job creates and the
    language it writes in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = new_test_user(
            cls.env,
            login="cm_owner",
            name="Léa Owner",
            email="lea.owner@example.com",
            groups="campaign_manager.group_campaign_user",
        )
        cls.partners = cls._partners(2, prefix="sent")
        cls.campaign = cls._campaign("WinterOffers", date_start=date(2026, 12, 1), user_id=cls.owner.id)
        cls._manual_target(cls.campaign, cls.partners)

    def setUp(self):
        super().setUp()
        # wkhtmltopdf fetches the letters' styles from this test's server
        self.env["ir.config_parameter"].sudo().set_param("report.url", self.base_url())

    def _template(self, body, **values):
        return self.env["mail.template"].create(
            {
                "name": "Winter email",
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "subject": "Hello {{ object.name }}",
                "body_html": body,
            }
            | values
        )

    def _launch(self, campaign=None):
        campaign = campaign or self.campaign
        Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id)).save().action_launch()

    def _process(self, passes=3):
        """The campaign job, a few passes: a follow-up starts once the run it follows is done."""
        for _index in range(passes):
            self.env["campaign.engine"]._cron_process()

    def _deliver(self):
        """A delivery worker against a real SMTP server on loopback: {recipient: message}."""
        return {message["rcpt_tos"][0]: message["message"] for message in self._deliver_all()}

    def _deliver_all(self):
        """A delivery worker against a real SMTP server on loopback: the messages it received."""
        with LocalSMTPServer() as server:
            self.env["ir.mail_server"].search([]).write({"active": False})
            self.env["ir.mail_server"].create(
                {"name": "Loopback", "smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_encryption": "none"}
            )
            deliver_campaign_mails(self.env)
            return list(server.messages)

    def _landing_action(self, **values):
        return self.env["campaign.action"].create(
            {
                "campaign_id": self.campaign.id,
                "name": "Personal page",
                "channel": "landing",
                "user_id": self.owner.id,
                "landing_title": "{{ object.name }}, your winter offer",
                "landing_body": "<p>Hello {{ object.name }}, here is your offer.</p>",
            }
            | values
        )

    def _follow_up(self, parent, **values):
        return self.env["campaign.action"].create(
            {
                "campaign_id": self.campaign.id,
                "user_id": self.owner.id,
                "schedule_type": "after",
                "parent_id": parent.id,
                "delay": 0,
                "delay_unit": "hours",
            }
            | values
        )

    # ------------------------------------------------------------------
    def test_placeholders_in_subjects_and_bodies_of_emails_letters_and_pages(self):
        landing = self._landing_action()
        template = self._template(PAGE_EMAIL_BODY, email_from="Winter Shop <shop@example.com>")
        email = self._follow_up(landing, name="Winter email", channel="email", mail_template_id=template.id)
        letter = self._follow_up(
            landing,
            name="Winter letter",
            channel="letter",
            letter_subject="Offers for {{ object.name }}",
            letter_body=PAGE_LETTER_BODY,
        )
        self.assertFalse(email._missing_for_run() + letter._missing_for_run())
        self._launch()
        self._process()
        pages = {tp.partner_id: tp.landing_url for tp in landing.run_ids.touchpoint_ids}
        self.assertEqual(len(pages), 2)
        received = self._deliver()
        self.assertEqual(set(received), set(self.partners.mapped("email")))
        for partner in self.partners:
            with self.subTest(partner=partner.name):
                message = received[partner.email]
                self.assertEqual(message["Subject"], f"Hello {partner.name}")
                html = LocalSMTPServer.body_of(message)
                self.assertNotIn("{{", html, "every placeholder replaced")
                self.assertIn(f"Dear {partner.name}, your page: {pages[partner]}", html)
                self.assertIn(f'href="{pages[partner]}"', html, "a link to the page itself (its visits are counted)")
                self.assertIn('href="#"', html, "an anchor is no address to track")
                self.assertRegex(html, r'href="[^"]*/cm/r/[A-Za-z0-9]+/\d+/[0-9a-f]+"', "the offer link is tracked")
                self.assertIn(f"· {partner.name}</p>", html, "the default is used only without a name")
        trackers = self.env["link.tracker"].search([("mass_mailing_id", "=", email.run_ids.mailing_id.id)])
        self.assertEqual(trackers.mapped("url"), ["https://shop.example.com/offer"], "only the real address")
        # the letters, printed by the job with the same placeholders
        letters = letter.run_ids.touchpoint_ids
        texts, errors = self.env["report.campaign_manager.report_campaign_letter"]._campaign_render_texts(letters)
        self.assertFalse(errors)
        for touchpoint in letters:
            partner = touchpoint.partner_id
            self.assertEqual(texts[touchpoint.id]["subject"], f"Offers for {partner.name}")
            self.assertEqual(
                str(texts[touchpoint.id]["body"]), f"<p>Dear {partner.name},</p><p>Your page: {pages[partner]}</p>"
            )
        self.assertEqual(set(letters.mapped("state")), {"done"})
        self.assertTrue(letter.run_ids.attachment_id, "printed into the run's PDF")
        # the page itself
        touchpoint = landing.run_ids.touchpoint_ids[:1]
        response = self.url_open(touchpoint.landing_url)
        self.assertIn(f"Hello {touchpoint.partner_id.name}, here is your offer.", response.text)

    def test_placeholders_that_cannot_be_replaced_are_said(self):
        template = self._template("<p>Your email: {{ object.email }}, {{ object.name }}</p>")
        email = self._follow_up(
            self._landing_action(), name="Winter email", channel="email", mail_template_id=template.id
        )
        missing = email._missing_for_run()
        self.assertEqual(len(missing), 1)
        self.assertIn("instead of {{ object.email }}", missing[0])
        self.assertNotIn("{{ object.name }},", missing[0].split("instead of")[1].split(":")[0])

    def test_sender_chosen_else_responsible_else_owner_never_odoobot(self):
        responsible = new_test_user(
            self.env,
            login="cm_responsible",
            name="Rémi Responsible",
            email="remi@example.com",
            groups="campaign_manager.group_campaign_user",
        )
        signed = self._template('<p>Best regards, <t t-out="user.name"/></p>')  # a template of an editor
        chosen_template = self._template("<p>Chosen</p>", email_from="Winter Shop <shop@example.com>")
        chosen = self._email_action(
            self.campaign, name="Chosen", user_id=responsible.id, mail_template_id=chosen_template.id
        )
        by_responsible = self._email_action(
            self.campaign, name="Responsible", user_id=responsible.id, mail_template_id=signed.id
        )
        by_owner = self._email_action(self.campaign, name="Owner", user_id=False, mail_template_id=signed.id)
        # an email written in the editor by the job's user (OdooBot) before: its sender is not kept
        editor = self.env["campaign.action"].create(
            {"campaign_id": self.campaign.id, "name": "Editor", "channel": "email", "user_id": responsible.id}
        )
        editor.action_edit_email()
        editor.mailing_id.write({"subject": "News", "body_html": "<p>News</p>"})
        self.assertIn("odoobot", editor.mailing_id.email_from.lower())
        self._launch()
        self._process(passes=1)
        senders = {
            action.name: action.run_ids.mailing_id.email_from for action in chosen | by_responsible | by_owner | editor
        }
        self.assertEqual(
            senders,
            {
                "Chosen": "Winter Shop <shop@example.com>",
                "Responsible": '"Rémi Responsible" <remi@example.com>',
                "Owner": '"Léa Owner" <lea.owner@example.com>',
                "Editor": '"Rémi Responsible" <remi@example.com>',
            },
        )
        messages = [received["message"] for received in self._deliver_all()]
        self.assertEqual(len(messages), 8, "four actions, two contacts")
        self.assertFalse([message["From"] for message in messages if "odoobot" in message["From"].lower()])
        bodies = [LocalSMTPServer.body_of(message) for message in messages]
        signed_bodies = [body for body in bodies if "Best regards" in body]
        self.assertEqual(len(signed_bodies), 4, "two contacts, two actions with the signed template")
        self.assertEqual(
            sorted(body.split("Best regards, ")[1].split("<")[0] for body in signed_bodies),
            ["Léa Owner", "Léa Owner", "Rémi Responsible", "Rémi Responsible"],
            "the job sends as the responsible: the template's user is theirs, not OdooBot",
        )

    def test_names_and_notifications_of_run_mailings(self):
        action = self.env["campaign.action"].create(
            {"campaign_id": self.campaign.id, "name": "Our winter offers", "channel": "email", "user_id": self.owner.id}
        )
        action.with_user(self.owner).action_edit_email()
        content = action.mailing_id
        content.with_user(self.owner).write(
            {
                "subject": "Our winter offers, {{ object.name }}",
                "body_html": '<p><a href="https://shop.example.com/w">Shop</a></p>',
            }
        )
        self.assertEqual(action.source_id.name, "WinterOffers - Our winter offers", "a new subject renames nothing")
        self.assertEqual(content.name, "WinterOffers - Our winter offers")
        before = self.env["mail.message"].search([]).ids
        self._launch()
        self._process(passes=1)
        mailing = action.run_ids.mailing_id
        self.assertEqual(mailing.source_id, action.source_id)
        self.assertEqual(mailing.name, "WinterOffers - Our winter offers")
        self.assertEqual(mailing.display_name, "WinterOffers - Our winter offers, run 1", "not its raw subject")
        self.assertEqual(action.run_ids.touchpoint_ids.mailing_id.display_name, mailing.display_name)
        self.assertEqual(content.display_name, "WinterOffers - Our winter offers")
        trackers = self.env["link.tracker"].search([("mass_mailing_id", "=", mailing.id)])
        self.assertEqual(trackers.source_id.name, "WinterOffers - Our winter offers")
        new_messages = self.env["mail.message"].search([("id", "not in", before)])
        self.assertFalse(
            new_messages.filtered(lambda m: "assigned" in str(m.body) or "{{" in (m.subject or "")),
            "no “You have been assigned to Email Marketing Our winter offers, {{ object.name }}” at each run",
        )
        self.assertFalse(new_messages.filtered(lambda m: m.model == "mailing.mailing"), "no note on run mailings")
        # the content mailing tells who receives it instead of its empty domain
        self.assertIn(
            "The contacts of the action “Our winter offers” of the campaign WinterOffers", content.campaign_recipients
        )
        self.assertFalse(mailing.campaign_recipients, "a run's mailing has its recipients")
        # the mailings of A/B test combinations
        ab_action = self._email_action(
            self.campaign,
            name="Gift",
            ab_testing=True,
            ab_delay=1,
            ab_delay_unit="hours",
            ab_variant_ids=[(0, 0, {"subject": "One"}), (0, 0, {"subject": "Two"})],
        )
        self._launch_more(ab_action)
        names = sorted(ab_action.run_ids.ab_mailing_ids.mapped("name"))
        self.assertEqual(
            names, ["WinterOffers - Gift, run 1, combination A", "WinterOffers - Gift, run 1, combination B"]
        )

    def _launch_more(self, action):
        action.action_schedule()
        self._process(passes=1)

    def test_the_job_writes_in_the_campaign_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        self.owner.lang = "fr_FR"
        letter = self.env["campaign.action"].create(
            {
                "campaign_id": self.campaign.id,
                "name": "Courrier",
                "channel": "letter",
                "user_id": self.owner.id,
                "letter_body": "<p>Bonjour {{ object.name }}</p>",
            }
        )
        # contacts left once the test share has its own: the rest waits for the winner
        self._manual_target(self.campaign, self._partners(8, prefix="reste"), name="Reste")
        ab_action = self._email_action(
            self.campaign,
            name="Cadeau",
            ab_testing=True,
            ab_delay=1,
            ab_delay_unit="hours",
            ab_variant_ids=[(0, 0, {"subject": "Un"}), (0, 0, {"subject": "Deux"})],
        )
        with freeze_time("2026-12-01 09:00:00"):
            self._launch()  # by an English-speaking user
            self._process()
        with freeze_time("2026-12-01 10:01:00"):
            self._process(passes=1)
        notes = letter.message_ids.filtered(lambda m: m.attachment_ids).mapped("body")
        self.assertEqual(len(notes), 1)
        self.assertIn("10 lettres de Courrier n°1 sont prêtes à imprimer.", notes[0])
        self.assertIn(
            "Test A/B : le choix du gagnant attend que tous les e-mails de test soient remis.", ab_action.run_ids.log
        )
        self.assertEqual(
            sorted(ab_action.run_ids.ab_mailing_ids.mapped("name")),
            ["WinterOffers - Cadeau, exécution 1, combinaison A", "WinterOffers - Cadeau, exécution 1, combinaison B"],
        )
        # the company's language when the owner has none installed
        self.owner.lang = "en_US"
        self.campaign.company_id.partner_id.lang = "fr_FR"
        self.assertEqual(self.campaign._job_lang(), "en_US", "the owner's first")
        self.owner.lang = False
        self.assertEqual(self.campaign._job_lang(), "fr_FR")

    def test_notes_say_what_happened_in_the_reader_language(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        french = new_test_user(
            self.env, login="cm_french", name="Jeanne", lang="fr_FR", groups="campaign_manager.group_campaign_user"
        )
        created = (
            self.env["campaign.campaign"]
            .with_user(french)
            .with_context(lang="fr_FR", mail_create_nolog=False, tracking_disable=False)  # as the web client
            .create({"name": "Hiver"})
        )
        self.assertEqual(created.message_ids.mapped("body"), ["<p>Campagne créée</p>"], "not “Marketing Campaign créé”")
        english = (
            self.env["campaign.campaign"]
            .with_context(mail_create_nolog=False, tracking_disable=False)
            .create({"name": "Winter"})
        )
        self.assertEqual(english.message_ids.mapped("body"), ["<p>Campaign created</p>"])
        # the order wizard launches "as planned" once its schedule step wrote "immediately" on the actions
        action = self._email_action(self.campaign, name="Now", schedule_type="now")
        self.env["campaign.campaign.launch"].create(
            {"campaign_id": self.campaign.id, "mode": "planned"}
        ).action_launch()
        self.assertIn("Campaign launched: its actions start immediately.", self.campaign.message_ids[0].body)
        self.assertNotIn("as planned", self.campaign.message_ids[0].body)
        # several schedules: as planned on each action
        other = self._campaign("Mixed", date_start=date(2026, 12, 1))
        self._manual_target(other, self.partners)
        self._email_action(other, name="Now", schedule_type="now")
        self._email_action(other, name="Later", schedule_type="at", date_start="2026-12-24 09:00:00")
        self.env["campaign.campaign.launch"].create({"campaign_id": other.id, "mode": "planned"}).action_launch()
        self.assertIn("Campaign launched: each action runs as planned on it.", other.message_ids[0].body)
        self.assertEqual(action.state, "scheduled")
