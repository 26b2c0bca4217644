"""Hostile and bad input: target filters that reach too far or break the database, HTML and
script in every name and text a user types, webhook host names resolving to private addresses,
and the wizards given what they cannot use. Each ends in a clear, translated error (nothing
written), or is shown as text wherever it is rendered."""

import base64
import re
import socket
from unittest.mock import patch

from lxml import etree

from odoo import Command
from odoo.addons.campaign_manager.reports.report_campaign_letter import REPORT_XMLID
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tools import SQL, mute_logger

from .common import CampaignCase, deliver_campaign_mails
from .smtp_server import LocalSMTPServer

SCRIPT = "<script>alert(1)</script>"
SCRIPT_TEXT = "&lt;script&gt;alert(1)&lt;/script&gt;"
# campaign names are one word: HTML that runs without spaces
IMG = "<img/src=x/onerror=alert(1)>"
IMG_TEXT = "&lt;img/src=x/onerror=alert(1)&gt;"


class FrenchMixin:
    def _french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)


@tagged("post_install", "-at_install")
class TestHostileFilters(CampaignCase, FrenchMixin):
    """Contact and lead filters: checked with the rights of the user who writes them, applied with
    the same rights by the campaign job (which runs as superuser), refused with the reason when
    they cannot be applied, and never allowed to stop the job for the other campaigns."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.campaign = cls._campaign("HostileFilters")
        cls.other_company = cls.env["res.company"].create({"name": "Other Company"})
        cls.partners = cls._partners(3, prefix="hostile", city="Hostile City")
        cls.foreign = cls._partners(1, prefix="foreign", city="Hostile City", company_id=cls.other_company.id)

    def _target(self, domain, user=None, source="filter", name="Hostile", campaign=None):
        targets = self.env["campaign.target"].with_user(user) if user else self.env["campaign.target"]
        field = "lead_domain" if source == "lead" else "partner_domain"
        return targets.create(
            {
                "campaign_id": (campaign or self.campaign).id,
                "name": name,
                "source": source,
                field: domain if isinstance(domain, str) else str(domain),
            }
        )

    def _assert_refused(self, domain, reason, user=None, source="filter"):
        count = self.env["campaign.target"].search_count([])
        with self.assertRaises(ValidationError, msg=domain) as ctx:
            self._target(domain, user=user, source=source)
        message = str(ctx.exception)
        self.assertIn("The filter of the target “Hostile” is not valid: ", message)
        self.assertIn(reason, message)
        self.assertEqual(self.env["campaign.target"].search_count([]), count, "nothing written")
        return message

    # ------------------------------------------------------------------
    def test_unknown_fields_and_malformed_text(self):
        refused = {
            "[('no_such_field', '=', 1)]": "Invalid field res.partner.no_such_field",
            "[('name', 'bad-op', 1)]": "Invalid operator",
            "[('name', '=', 'x')": "never closed",
            "__import__('os').system('id')": "malformed node or string",
            "{'name': 'x'}": "a filter is a list of conditions",
            "[" * 300 + "]" * 300: "too many nested parentheses",
            "[('name', '=', {'a': 1})]": "unhashable type",
            # accepted by Odoo's domain checks, refused by the database only
            "[('id', '=', 'abc')]": "the database refuses it (invalid input syntax for type integer",
            "[('create_date', '>', 'yesterday')]": "Invalid term 'yesterday'",
        }
        for domain, reason in refused.items():
            with self.subTest(domain=domain[:40]):
                self._assert_refused(domain, reason)
        target = self._target([("city", "=", "Hostile City")])
        with self.assertRaises(ValidationError):
            target.partner_domain = "[('id', '=', 'abc')]"
        self.assertEqual(target.partner_domain, str([("city", "=", "Hostile City")]), "kept as it was")
        self._french()
        with self.assertRaises(ValidationError) as ctx:
            self.env["campaign.target"].with_context(lang="fr_FR").create(
                {"campaign_id": self.campaign.id, "name": "Fr", "partner_domain": "{'name': 'x'}"}
            )
        self.assertIn("Le filtre de la cible « Fr » n'est pas valide", str(ctx.exception))
        self.assertIn("un filtre est une liste de conditions", str(ctx.exception))

    def test_fields_and_models_the_user_may_not_read(self):
        refused = {
            "[('employee_ids.name', '=', 'x')]": 'access the field "employee_ids"',
            # a computed field searched through its own method: Odoo's search alone lets it through
            "[('credit', '>', 1000)]": 'access the field "credit"',
            "[('child_ids', 'any', [('credit', '>', 1000)])]": 'access the field "credit"',
            "[('sale_order_ids.amount_total', '>', 0)]": "You are not allowed to access 'Sales Order'",
            "[('invoice_ids', '!=', False)]": "You are not allowed to access 'Journal Entry'",
        }
        for domain, reason in refused.items():
            with self.subTest(domain=domain):
                self._assert_refused(domain, reason, user=self.user_marketing)
        self._assert_refused("[]", "You are not allowed to access 'Lead'", user=self.user_marketing, source="lead")
        # written by someone who may read them, the same filters are fine
        self.assertTrue(self._target("[('credit', '>', 1000)]"))
        target = self._target([("city", "=", "Hostile City")], user=self.user_marketing)
        with self.assertRaises(ValidationError):
            target.with_user(self.user_marketing).partner_domain = "[('credit', '>', 1000)]"

    def test_filter_applied_with_its_author_rights_by_the_job(self):
        """The campaign job runs as superuser: it still reaches only the contacts the filter's
        author may see (here not those of a company they are not in), as the Calculate figures
        said."""
        target = self._target([("city", "=", "Hostile City")], user=self.user_marketing)
        self.assertEqual(target.filter_user_id, self.user_marketing)
        self.assertEqual(target.with_user(self.user_marketing).recipient_count, 3)
        self.assertEqual(target.recipient_count, 3, "the same, whoever looks")
        action = self._email_action(self.campaign)
        self.assertEqual(action._audience_stats()["final"], 3)
        self.env["campaign.campaign.launch"].create({"campaign_id": self.campaign.id}).action_launch()
        self.env["campaign.engine"]._cron_process()
        self.assertEqual(action.run_ids.touchpoint_ids.partner_id, self.partners)
        # the same filter written by someone who sees every company
        everyone = self._target([("city", "=", "Hostile City")], name="All")
        self.assertEqual(everyone.recipient_count, 4)

    def test_filter_author_cannot_be_forged(self):
        targets = self.env["campaign.target"].with_user(self.user_marketing)
        values = {
            "campaign_id": self.campaign.id,
            "name": "Forged",
            "partner_domain": str([("city", "=", "Hostile City")]),
        }
        admin = self.env.ref("base.user_admin")
        with self.assertRaises(AccessError):
            targets.create({**values, "filter_user_id": admin.id})
        target = targets.create(values)
        self.assertEqual(target.filter_user_id, self.user_marketing)
        for forged in ({"filter_user_id": admin.id}, {"filter_user_id": admin.id, "partner_domain": "[]"}):
            with self.assertRaises(AccessError):
                target.with_user(self.user_marketing).write(forged)
        self.assertEqual(target.filter_user_id, self.user_marketing)
        target.with_user(self.user_manager).partner_domain = str([("city", "=", "Lyon")])
        self.assertEqual(target.filter_user_id, self.user_manager, "whoever saves the filter applies it")
        copied = target.with_user(self.user_marketing_2).copy({"campaign_id": self._campaign("HostileCopy").id})
        self.assertEqual(copied.filter_user_id, self.user_marketing_2, "a copy is the copier's filter")

    def test_filter_its_author_may_no_longer_apply_stops_its_action(self):
        hr_group = self.env.ref("hr.group_hr_user")
        author = new_test_user(self.env, login="cm_hr", groups="campaign_manager.group_campaign_user,hr.group_hr_user")
        self._target(
            "[('employee_ids', '=', False), ('city', '=', 'Hostile City')]", user=author, name="<b>NotStaff</b>"
        )
        action = self._email_action(self.campaign)
        other = self._campaign("HostileOther")
        self._manual_target(other, self.partners[:1])
        other_action = self._email_action(other)
        for campaign in self.campaign | other:
            self.env["campaign.campaign.launch"].create({"campaign_id": campaign.id}).action_launch()
        self.env.flush_all()
        author.group_ids -= hr_group
        missing = action._missing_for_run()
        self.assertEqual(len(missing), 1)
        self.assertIn("a valid filter for the target “<b>NotStaff</b>”: ", missing[0])
        self.assertIn('access the field "employee_ids"', missing[0])
        self.env["campaign.engine"]._cron_process()
        self.assertEqual(action.state, "failed")
        self.assertFalse(action.run_ids, "nothing half done")
        self.assertIn("a valid filter for the target “&lt;b&gt;NotStaff&lt;/b&gt;”", action.message_ids[0].body)
        self.assertEqual(other_action.run_ids.state, "done", "the other campaigns go on")

    def test_filter_the_database_refuses_fails_its_action_alone(self):
        """A filter stored before these checks (or by hand in the database) that the database
        refuses: its action fails with the reason, the job goes on with the others."""
        target = self._target([("city", "=", "Hostile City")])
        action = self._email_action(self.campaign)
        other = self._campaign("HostileOther")
        self._manual_target(other, self.partners[:1])
        other_action = self._email_action(other)
        for campaign in self.campaign | other:
            self.env["campaign.campaign.launch"].create({"campaign_id": campaign.id}).action_launch()
        self.env.flush_all()
        self.env.cr.execute(
            SQL("UPDATE campaign_target SET partner_domain = %s WHERE id = %s", f"[('id', '=', '{SCRIPT}')]", target.id)
        )
        target.invalidate_recordset()
        with mute_logger("odoo.sql_db"):
            self.env["campaign.engine"]._cron_process()
        self.assertEqual(action.state, "failed")
        self.assertFalse(action.run_ids)
        body = action.message_ids[0].body
        self.assertIn("The action could not run: invalid input syntax for type integer", body)
        self.assertNotIn(SCRIPT, body, "the value is shown as text")
        self.assertIn(SCRIPT_TEXT, body)
        self.assertEqual(other_action.run_ids.state, "done", "the other campaigns go on")

    def test_huge_in_lists(self):
        message = self._assert_refused(str([("id", "in", list(range(1, 100001)))]), "it is too long (")
        self.assertIn("import them from a file, or give them a tag", message)
        self._assert_refused(str([("id", "in", list(range(1, 100001)))]), "it is too long (", source="lead")
        # below the limit, a long list works in one query
        ids = sorted(set(range(10**6, 10**6 + 10000)) | set(self.partners.ids))
        target = self._target(str([("id", "in", ids)]), name="Long")
        self.assertEqual(target.recipient_count, 3)
        self.assertEqual(target._audience_stats("email")["final"], 3)

    def test_lead_filter_applied_with_the_salesman_rights(self):
        salesman = new_test_user(
            self.env,
            login="cm_sales",
            groups="campaign_manager.group_campaign_user,sales_team.group_sale_salesman",
        )
        colleague = new_test_user(self.env, login="cm_sales2", groups="sales_team.group_sale_salesman")
        own, theirs = self._partners(2, prefix="leadcustomer")
        self.env["crm.lead"].create(
            [
                {"name": "Own lead", "partner_id": own.id, "user_id": salesman.id},
                {"name": "Their lead", "partner_id": theirs.id, "user_id": colleague.id},
                {"name": "Their new lead", "email_from": "orphan@example.com", "user_id": colleague.id},
            ]
        )
        target = self._target("[]", user=salesman, source="lead", name="MyLeads")
        stats = target._audience_stats("email")  # as the campaign job would
        self.assertEqual(stats["final"], 1)
        self.assertEqual(target.recipient_count, 1)
        self.assertFalse(
            self.env["res.partner"].search_count([("email", "=", "orphan@example.com")]),
            "no contact created for a lead the author may not see",
        )


@tagged("post_install", "-at_install")
class TestEscaping(CampaignCase, HttpCase):
    """HTML and script typed into names and texts come out as text everywhere they are rendered:
    printed reports, letters, emails, personal pages, chatter messages and activities, views."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.contact = cls._partners(1, prefix="escape", name=SCRIPT, lang="en_US")
        cls.campaign = cls._campaign(IMG)
        cls._manual_target(cls.campaign, cls.contact, name=SCRIPT)

    def _launch(self):
        self.env["campaign.campaign.launch"].create({"campaign_id": self.campaign.id}).action_launch()

    def _assert_text(self, html, *texts):
        """Each of ``texts`` appears escaped in ``html``, never as markup."""
        html = str(html)
        for text, escaped in ((SCRIPT, SCRIPT_TEXT), (IMG, IMG_TEXT)):
            self.assertNotIn(text, html)
            if text in texts:
                self.assertIn(escaped, html)

    # ------------------------------------------------------------------
    def test_printed_reports(self):
        action = self._email_action(self.campaign, name=SCRIPT)
        self._launch()
        self.env["campaign.engine"]._cron_process()
        self.assertTrue(action.run_ids)
        reports = self.env["ir.actions.report"]
        for xmlid in (
            "campaign_manager.campaign_campaign_report_roi",
            "campaign_manager.campaign_campaign_report_analysis",
        ):
            with self.subTest(report=xmlid):
                html = reports._render_qweb_html(xmlid, self.campaign.ids)[0].decode()
                self._assert_text(html, SCRIPT, IMG)

    def test_letters(self):
        action = self.env["campaign.action"].create(
            {
                "campaign_id": self.campaign.id,
                "name": SCRIPT,
                "channel": "letter",
                "letter_subject": "{{ object.name }} " + IMG,
                "letter_body": '<p>Dear <t t-out="object.name"/>,</p><script>alert(2)</script>',
            }
        )
        self.assertNotIn("alert(2)", action.letter_body, "scripts are taken out of the text when saved")
        self._launch()
        self.env["campaign.engine"]._start_due_runs()
        touchpoint = action.run_ids.touchpoint_ids
        html = self.env["ir.actions.report"]._render_qweb_html(REPORT_XMLID, touchpoint.ids)[0].decode()
        self._assert_text(html, SCRIPT, IMG)
        self.assertIn(f"Dear {SCRIPT_TEXT},", html)
        self.assertIn(f"Subject: <span>{SCRIPT_TEXT} {IMG_TEXT}</span>", html)
        self.assertEqual(html.count(SCRIPT_TEXT), 3, "address block, subject and text")

    def test_emails(self):
        template = self.mail_template.copy(
            {"body_html": '<p>Dear <t t-out="object.name"/>,</p><script>alert(2)</script>'}
        )
        self.assertNotIn("alert(2)", template.body_html)
        action = self._email_action(self.campaign, name=SCRIPT, mail_template_id=template.id)
        self._launch()
        self.env["campaign.engine"]._cron_process()
        self.env["ir.mail_server"].search([]).write({"active": False})
        with LocalSMTPServer() as server:
            self.env["ir.mail_server"].create(
                {"name": "Loopback", "smtp_host": "127.0.0.1", "smtp_port": server.port, "smtp_encryption": "none"}
            )
            deliver_campaign_mails(self.env)
        self.assertEqual(len(server.messages), 1)
        message = server.messages[0]["message"]
        body = LocalSMTPServer.body_of(message)
        self._assert_text(body, SCRIPT)
        self.assertIn(f"Dear {SCRIPT_TEXT},", body)
        self.assertNotIn("alert(2)", body)
        self.assertEqual(message["Subject"], f"Hello {SCRIPT}", "a subject is text, not html")
        self.assertEqual(action.run_ids.touchpoint_ids.state, "sent")

    def test_personal_page_and_its_form(self):
        action = self.env["campaign.action"].create(
            {
                "campaign_id": self.campaign.id,
                "name": SCRIPT,
                "channel": "landing",
                "landing_title": IMG + " {{ object.name }}",
                "landing_body": '<p>Hello <t t-out="object.name"/></p><script>alert(2)</script>',
                "landing_form": True,
            }
        )
        self._launch()
        self.env["campaign.engine"]._cron_process()
        touchpoint = action.run_ids.touchpoint_ids
        path = touchpoint.landing_url.removeprefix(touchpoint.get_base_url())
        page = self.url_open(path)
        self.assertEqual(page.status_code, 200)
        self._assert_text(page.text, SCRIPT, IMG)
        self.assertNotIn("alert(2)", page.text)
        self.assertIn(f"{IMG_TEXT} {SCRIPT_TEXT}</h1>", page.text)
        tokens = {key: re.search(rf'name="{key}" value="([^"]+)"', page.text).group(1) for key in ("form_token",)}
        # a reply refused (bad email): what was typed is shown again, as text
        form = {**tokens, "name": IMG, "email": "not an email", "message": SCRIPT}
        again = self.url_open(path, data=form)
        self.assertEqual(again.status_code, 200)
        self._assert_text(again.text, SCRIPT, IMG)
        self.assertIn(f'value="{IMG_TEXT}"', again.text)
        self.assertFalse(touchpoint.lead_id)
        response = self.url_open(path, data=form | {"email": "visitor@example.com"})
        self.assertEqual(response.status_code, 200)
        touchpoint.invalidate_recordset()
        lead = touchpoint.lead_id
        self.assertEqual(lead.name, f"{SCRIPT}: {SCRIPT}", "a lead's name is text")
        self._assert_text(lead.description, SCRIPT, IMG)

    def test_chatter_messages(self):
        # the import summary names the file as it was uploaded
        target = self.env["campaign.target"].create(
            {
                "campaign_id": self.campaign.id,
                "name": "File",
                "source": "file",
                "import_filename": SCRIPT + ".csv",
                "import_file": base64.b64encode(b"name,email\nAnn,ann.escape@example.com\n"),
            }
        )
        self.assertEqual(target.import_state, "done")
        self._assert_text(self.campaign.message_ids[0].body, SCRIPT)
        # the erasure note names the manager who asked for it
        manager = new_test_user(
            self.env, login="cm_escape_manager", name=SCRIPT, groups="campaign_manager.group_campaign_manager"
        )
        self.env["campaign.contact.erase"].with_user(manager).create(
            {"partner_ids": [Command.set(self.contact.ids)], "blacklist": False}
        ).action_erase()
        self._assert_text(self.contact.message_ids[0].body, SCRIPT)

    def test_activities(self):
        """Activity notes are html: the names they quote are text (a campaign named <b>…</b> is not
        bold in the note, an action named after an image loads no image)."""
        campaign = self._campaign("<b>Late</b>")
        action = self._email_action(campaign, name=IMG)
        action._schedule_late_activity()
        note = str(
            self.env["mail.activity"].search([("res_model", "=", "campaign.action"), ("res_id", "=", action.id)]).note
        )
        self.assertIn("The campaign &lt;b&gt;Late&lt;/b&gt; has ended", note)
        self.assertNotIn("<b>", note)
        call = self.env["campaign.touchpoint.type"].create(
            {"name": SCRIPT, "activity_type_id": self.env.ref("mail.mail_activity_data_call").id}
        )
        action.touchpoint_type_id = call
        self.env["campaign.touchpoint.record"].create(
            {"campaign_id": campaign.id, "action_id": action.id, "partner_id": self.contact.id}
        ).action_record()
        activity = self.contact.activity_ids
        self.assertEqual(len(activity), 1)
        self._assert_text(activity.note, IMG)
        self.assertIn(f"Outcome of “{IMG_TEXT}” (campaign &lt;b&gt;Late&lt;/b&gt;)", str(activity.note))
        self.assertEqual(activity.summary, f"<b>Late</b>: follow up {SCRIPT}", "a summary is text")

    def test_views_show_typed_text_as_text(self):
        """Every field the addon's views render as html is sanitized html, or the key figures
        banner built by QWeb from numbers and fixed labels; names and plain texts are text."""
        views = self.env["ir.ui.view"].browse(
            self.env["ir.model.data"]
            .search([("module", "=", "campaign_manager"), ("model", "=", "ir.ui.view")])
            .mapped("res_id")
        )
        checked = 0
        for view in views.filtered(lambda v: v.type in ("form", "list", "kanban", "calendar", "search")):
            model = self.env[view.model]
            arch = etree.fromstring(view.arch_db.encode())
            for node in arch.iter("field"):
                field = model._fields.get(node.get("name"))
                if field is None or (field.type != "html" and node.get("widget") != "html"):
                    continue
                checked += 1
                with self.subTest(view=view.name, field=field.name):
                    self.assertEqual(field.type, "html")
                    if field.name != "kpi_banner":
                        self.assertTrue(field.sanitize, "typed html is sanitized")
        self.assertGreater(checked, 5)
        action = self._email_action(self.campaign, name=SCRIPT)
        self.assertNotIn("alert", str(self.campaign.kpi_banner))
        self.assertEqual(self.campaign.with_context(lang="en_US").display_name, IMG, "stored as typed")
        self.assertEqual(action.read(["name"])[0]["name"], SCRIPT)

    def test_web_link_scripts_neutralised(self):
        action = self.env["campaign.action"].create(
            {"campaign_id": self.campaign.id, "name": "Links", "channel": "weblink"}
        )
        link = self.env["campaign.weblink"].create(
            {"action_id": action.id, "name": SCRIPT, "url": "javascript:alert(1)"}
        )
        self.assertEqual(link.url, "http://javascript:alert(1)", "only web addresses")
        self.assertTrue(link.tracked_url.startswith("http://"))


@tagged("post_install", "-at_install")
class TestHostileWebhookUrls(CampaignCase):
    """Webhook host names that resolve to loopback, private, link-local or reserved addresses are
    refused when the URL is saved, and again at each call (the DNS answer may change)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("campaign_manager.webhook_allow_private", "False")
        cls.campaign = cls._campaign("HostileHooks")
        cls._manual_target(cls.campaign, cls._partners(2, prefix="hosthook"))

    @staticmethod
    def _resolving(answers):
        """Patch the DNS: ``answers`` maps host names to their addresses."""

        def getaddrinfo(host, port, *args, **kwargs):
            if host not in answers:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return [
                (socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in answers[host]
            ]

        return patch("odoo.addons.campaign_manager.webhook.socket.getaddrinfo", getaddrinfo)

    def _action(self, url):
        return self.env["campaign.action"].create(
            {
                "campaign_id": self.campaign.id,
                "name": "Hook",
                "channel": "webhook",
                "webhook_url": url,
                "webhook_secret": "s3cret",
            }
        )

    def test_names_resolving_to_private_addresses_refused(self):
        answers = {
            "private.example.com": ["10.0.0.7"],
            "mixed.example.com": ["93.184.215.14", "192.168.0.3"],
            "metadata.example.com": ["169.254.169.254"],
            "ula.example.com": ["fd12:3456::1"],
            "linklocal.example.com": ["fe80::1%eth0"],
            "mapped.example.com": ["::ffff:127.0.0.1"],
            "cgnat.example.com": ["100.64.1.1"],
            "public.example.com": ["93.184.215.14", "2606:2800:220:1:248:1893:25c8:1946"],
        }
        expected = {
            "private.example.com": "10.0.0.7",
            "mixed.example.com": "192.168.0.3",
            "metadata.example.com": "169.254.169.254",
            "ula.example.com": "fd12:3456::1",
            "linklocal.example.com": "fe80::1",
            "mapped.example.com": "::ffff:7f00:1",
            "cgnat.example.com": "100.64.1.1",
        }
        with self._resolving(answers):
            for host, address in expected.items():
                with self.subTest(host=host), self.assertRaises(ValidationError) as ctx:
                    self._action(f"https://{host}/hook")
                self.assertIn(f"The webhook URL leads to {address}, a loopback, private", str(ctx.exception))
            self.assertTrue(self._action("https://public.example.com/hook"))

    def test_name_resolving_to_a_private_address_at_call_time(self):
        """The DNS answered a public address when the URL was saved and the campaign launched, a
        private one when the call is due (DNS rebinding): nothing is sent, the touchpoints fail
        with the reason."""
        url = "https://rebind.example.com/hook"
        with self._resolving({"rebind.example.com": ["93.184.215.14"]}):
            action = self._action(url)
            Form(
                self.env["campaign.campaign.launch"].with_context(default_campaign_id=self.campaign.id)
            ).save().action_launch()
            self.env["campaign.engine"]._start_due_runs()
        with (
            self._resolving({"rebind.example.com": ["10.0.0.7"]}),
            patch("odoo.addons.campaign_manager.webhook.requests.Session.post") as post,
        ):
            self.env["campaign.engine"]._dispatch_pending()
        post.assert_not_called()
        touchpoints = action.run_ids.touchpoint_ids
        self.assertEqual(set(touchpoints.mapped("state")), {"failed"})
        self.assertIn("The webhook URL leads to 10.0.0.7", touchpoints[0].failure_reason)


@tagged("post_install", "-at_install")
class TestWizardBadInput(CampaignCase, FrenchMixin):
    """Every wizard given what it cannot use answers with a clear, translated error and writes
    nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(2, prefix="wizard")
        cls.campaign = cls._campaign("WizardInput")
        cls._manual_target(cls.campaign, cls.partners)
        cls.action = cls._email_action(cls.campaign)

    def test_launch(self):
        launch = self.env["campaign.campaign.launch"]
        with self.assertRaises(UserError) as ctx:
            launch.create({"campaign_id": self.campaign.id, "mode": "at", "date_start": False}).action_launch()
        self.assertEqual(str(ctx.exception), "Choose when the campaign starts.")
        with self.assertRaises(UserError) as ctx:
            launch.create(
                {
                    "campaign_id": self.campaign.id,
                    "mode": "recurring",
                    "date_start": "2026-05-01 09:00:00",
                    "recurring_until": "2026-04-01 09:00:00",
                }
            ).action_launch()
        self.assertEqual(str(ctx.exception), "The recurrence ends before it starts.")
        self.assertEqual((self.action.state, self.action.schedule_type), ("draft", "now"), "nothing written")
        self.assertEqual(self.campaign.state, "draft")
        self.campaign.state = "cancelled"
        self._french()
        with self.assertRaises(UserError) as ctx:
            launch.with_context(lang="fr_FR").create({"campaign_id": self.campaign.id}).action_launch()
        self.assertIn("Seule une campagne en brouillon, prête ou arrêtée peut être lancée", str(ctx.exception))

    def test_order_with_a_filter_the_user_may_not_read(self):
        order = self.env["campaign.campaign.order"].with_user(self.user_marketing)
        wizard = order.create({})
        wizard.action_next()
        wizard.write({"name": "OrderHostile", "date_start": "2026-05-01"})
        wizard.action_next()
        self.assertEqual(wizard.step, "contacts")
        campaign = wizard.campaign_id
        wizard.write({"target_source": "filter", "partner_domain": "[('credit', '>', 1000)]"})
        self.assertEqual(wizard.input_count, 0, "no figure for a filter that cannot be applied")
        with self.assertRaises(UserError) as ctx:
            wizard.action_add_targets()
        self.assertIn(
            'The contact filter is not valid: You do not have enough rights to access the field "credit"',
            str(ctx.exception),
        )
        wizard.write({"partner_domain": "[('name', 'bad-op', 1)]"})
        with self.assertRaises(UserError) as ctx:
            wizard.action_add_targets()
        self.assertIn("The contact filter is not valid: Invalid operator", str(ctx.exception))
        self.assertFalse(campaign.target_ids, "nothing written")

    def test_calculate_without_targets(self):
        campaign = self._campaign("NoTargets")
        self._email_action(campaign)
        with self.assertRaises(UserError) as ctx:
            campaign.action_calculate()
        self.assertEqual(
            str(ctx.exception),
            "The campaign NoTargets has no target yet: add the contacts to reach (Targets tab), then calculate.",
        )
        self.assertFalse(self.env["campaign.campaign.calculate"].search([("campaign_id", "=", campaign.id)]))
        self._french()
        with self.assertRaises(UserError) as ctx:
            campaign.with_context(lang="fr_FR").action_calculate()
        self.assertIn("La campagne NoTargets n'a pas encore de cible", str(ctx.exception))

    def test_duplicates(self):
        count = self.env["campaign.campaign"].search_count([])
        self._campaign("TakenCopy")
        wizard = self.env["campaign.campaign.duplicate"].create({"campaign_id": self.campaign.id, "name": "TakenCopy"})
        with self.assertRaises(UserError) as ctx:
            wizard.action_duplicate()
        self.assertIn("A campaign named TakenCopy already exists in this company", str(ctx.exception))
        wizard.name = "Two words"
        with self.assertRaises(ValidationError) as ctx:
            wizard.action_duplicate()
        self.assertIn("without spaces", str(ctx.exception))
        self.assertEqual(self.env["campaign.campaign"].search_count([]), count + 1, "no copy written")
        closed = self._campaign("ClosedOne")
        closed.action_cancel()
        self._french()
        with self.assertRaises(UserError) as ctx:
            self.env["campaign.action.duplicate"].with_context(lang="fr_FR").create(
                {"action_ids": [Command.set(self.action.ids)], "campaign_ids": [Command.set(closed.ids)]}
            ).action_duplicate()
        self.assertIn("ClosedOne", str(ctx.exception))
        self.assertIn("terminées ou annulées", str(ctx.exception))
        self.assertFalse(closed.action_ids)

    def test_record_outcome_with_a_wrong_type(self):
        sms_type = self.env["campaign.touchpoint.type"].create({"name": "Text answer", "channel": "sms"})
        touchpoints = self.env["campaign.touchpoint"].search_count([])
        wizard = self.env["campaign.touchpoint.record"].create(
            {"campaign_id": self.campaign.id, "action_id": self.action.id, "partner_id": self.partners[0].id}
        )
        wizard.type_id = sms_type  # as a call through the API could
        with self.assertRaises(UserError) as ctx:
            wizard.action_record()
        self.assertEqual(
            str(ctx.exception),
            "The touchpoint type “Text answer” is for SMS actions, not for the Email action “Mail”.",
        )
        self.assertEqual(self.env["campaign.touchpoint"].search_count([]), touchpoints, "nothing written")
        with self.assertRaises(ValidationError):
            self.action.touchpoint_type_id = sms_type
        self._french()
        with self.assertRaises(ValidationError) as ctx:
            self.action.with_context(lang="fr_FR").touchpoint_type_id = sms_type
        self.assertIn("Le type de point de contact « Text answer »", str(ctx.exception))

    def test_erase_and_web_link(self):
        wizard = self.env["campaign.contact.erase"].with_user(self.user_manager).create({})
        with self.assertRaises(UserError) as ctx:
            wizard.action_erase()
        self.assertEqual(str(ctx.exception), "Choose the contacts to erase.")
        links = self.env["campaign.action"].create(
            {"campaign_id": self.campaign.id, "name": "Links", "channel": "weblink"}
        )
        for url in ("", "?utm=1", "https://example.com/two words"):
            with self.subTest(url=url), self.assertRaises(UserError) as ctx:
                self.env["campaign.weblink"].create({"action_id": links.id, "name": "Link", "url": url})
            self.assertIn("is not a valid web address", str(ctx.exception))
        self.assertFalse(links.weblink_ids)
