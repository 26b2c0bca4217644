import base64
from unittest.mock import patch

from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestAudience(CampaignCase):
    """One set-based resolution: union of targets, de-duplication, exclusions with reasons."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.campaign = cls._campaign("Audience")
        cls.a = cls._partners(10, prefix="a")
        cls.b = cls._partners(5, prefix="b", category_id=[(4, cls.tag.id)])
        cls.a[5:].write({"category_id": [(4, cls.tag.id)]})
        cls.d0 = cls._partners(1, prefix="d")
        # a0 archived, a1 without email, a2 blacklisted, b1 shares b0's email
        cls.a[0].active = False
        cls.a[1].email = False
        cls.env["mail.blacklist"]._add(cls.a[2].email)
        cls.b[1].email = cls.b[0].email
        # a mailing list: b3, b4, a subscriber without contact (c0) and d0 who opted out
        cls.mailing_list = cls.env["mailing.list"].create({"name": "Audience list"})
        cls.env["mailing.contact"].create(
            [
                {"name": "b3", "email": cls.b[3].email, "list_ids": [(4, cls.mailing_list.id)]},
                {"name": "b4", "email": cls.b[4].email, "list_ids": [(4, cls.mailing_list.id)]},
                {"name": "Carla Zero", "email": "c0@example.com", "list_ids": [(4, cls.mailing_list.id)]},
                {
                    "name": "d0",
                    "email": cls.d0.email,
                    "subscription_ids": [(0, 0, {"list_id": cls.mailing_list.id, "opt_out": True})],
                },
            ]
        )
        cls.t_manual = cls._manual_target(cls.campaign, cls.a, name="Manual")
        cls.t_filter = cls._filter_target(cls.campaign, [("category_id", "in", cls.tag.ids)], name="Tagged")
        cls.t_list = cls.env["campaign.target"].create(
            {
                "campaign_id": cls.campaign.id,
                "name": "List",
                "source": "mailing_list",
                "mailing_list_ids": [(4, cls.mailing_list.id)],
            }
        )
        # a3 unsubscribed from this campaign; a4 already reached by the once-per-contact action
        cls.action = cls.env["campaign.action"].create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Weekly",
                "channel": "email",
                "schedule_type": "recurring",
                "date_start": "2026-01-05 09:00:00",
                "once_per_contact": True,
            }
        )
        cls.env["campaign.touchpoint"].create(
            [
                {"action_id": cls.action.id, "partner_id": cls.a[3].id, "state": "unsubscribed"},
                {"action_id": cls.action.id, "partner_id": cls.a[4].id, "state": "sent"},
            ]
        )

    def test_email_deduplication_and_exclusions(self):
        stats = self.campaign._resolve_recipients("email")
        self.assertEqual(stats["total"], 24, "10 manual + 10 tagged + 4 subscribers")
        self.assertEqual(stats["contacts"], 17)
        self.assertEqual(stats["duplicates"], 7, "a5-a9 and b3-b4 are in two targets")
        self.assertEqual(
            stats["excluded"],
            {"archived": 1, "no_address": 1, "blacklisted": 1, "opted_out": 2, "duplicate": 1},
        )
        self.assertEqual(stats["final"], 11)

    def _counting_classifications(self):
        """A list that receives each classification of an audience run on the test's cursor, and
        the ``execute`` to patch the cursor with."""
        classifications = []
        real_execute = self.env.cr.execute

        def execute(query, *args, **kwargs):
            if "audience_rows AS MATERIALIZED" in str(getattr(query, "code", query)):
                classifications.append(query)
            return real_execute(query, *args, **kwargs)

        return classifications, execute

    def test_audience_classified_once_per_request(self):
        """Issue 17: the campaign form's audience fields, its KPI banner and the figures of its
        targets read in one request classify the audience once, also when the request reads them
        again in another environment (a wizard, the Targets list); a transaction that has written
        classifies again, and sees its change. The test's transaction has written (its set-up), so
        that a request which has not is simulated by the snapshot it reads."""
        Target = type(self.env["campaign.target"])
        classifications, execute = self._counting_classifications()
        cursor = self.env.cr
        form = {"audience_channel": {}, "audience_size": {}, "audience_excluded": {}, "audience_figures": {}}
        targets = {"name": {}, "recipient_count": {}, "reachable_count": {}, "excluded_count": {}}
        with patch.object(cursor, "execute", side_effect=execute):
            with patch.object(Target, "_audience_snapshot", return_value="1000:1000:"):
                self.env.invalidate_all()
                [first] = self.campaign.web_read(form)
                listed = self.env["campaign.target"].web_search_read([("campaign_id", "=", self.campaign.id)], targets)
                self.assertEqual(len(classifications), 1, "the form and the targets' figures: one classification")
                self.env.invalidate_all()
                self.assertEqual(self.campaign.web_read(form), [first])
                again = self.env["campaign.target"].web_search_read([("campaign_id", "=", self.campaign.id)], targets)
                self.assertEqual(again, listed)
                self.assertEqual(self.campaign.target_ids._audience_figures("email")["final"], first["audience_size"])
                self.assertEqual(len(classifications), 1, "read again in the same request: not classified again")
            # another transaction (another snapshot): classified again
            with patch.object(Target, "_audience_snapshot", return_value="1000:1001:"):
                self.env.invalidate_all()
                self.assertEqual(self.campaign.web_read(form), [first])
                self.assertEqual(len(classifications), 2)
            # editing a target on the form: the onchange reads the audience before and after the
            # change, of the saved targets both times: one classification (two before issue 17)
            with patch.object(Target, "_audience_snapshot", return_value="1000:1002:"):
                self.env.invalidate_all()
                spec = dict(form, target_ids={"fields": targets})
                change = {"target_ids": [[1, self.t_manual.id, {"name": "Manual, renamed"}]]}
                self.campaign.onchange(change, ["target_ids"], spec)
                self.assertEqual(len(classifications), 3)
            # the transaction wrote (its snapshot is None): its change is seen at once, in SQL as by the ORM
            reachable = self.a[6]
            self.env.cr.execute("UPDATE res_partner SET active = FALSE WHERE id = %s", [reachable.id])
            self.env.invalidate_all()
            self.assertEqual(self.campaign.audience_size, first["audience_size"] - 1)
            self.assertEqual(len(classifications), 4)
            self.env.invalidate_all()
            self.assertEqual(self.campaign.audience_size, first["audience_size"] - 1)
            self.assertEqual(len(classifications), 5, "a transaction that has written classifies each time")

    def test_order_launch_step_classifies_once(self):
        """The order's launch step shows the campaign's figures and each starting action's: with
        two email actions on the same targets, one classification (three before), the figures
        unchanged; the list's subscriber without a contact gets one contact, once."""
        campaign = self._campaign("Pinned", order_step="launch")
        self._manual_target(campaign, self.a[5:], name="Picked")
        self.env["campaign.target"].create(
            {
                "campaign_id": campaign.id,
                "name": "List",
                "source": "mailing_list",
                "mailing_list_ids": [(4, self.mailing_list.id)],
            }
        )
        first, second = self._email_action(campaign, name="First"), self._email_action(campaign, name="Second")
        classifications, execute = self._counting_classifications()
        cursor = self.env.cr
        with patch.object(cursor, "execute", side_effect=execute):
            action = campaign.action_order()
            order = self.env["campaign.campaign.order"].browse(action["res_id"])
            lines = {line.action_id: line.final for line in order.launch_id.line_ids}
            self.assertEqual(len(classifications), 1, "the campaign's figures and its two actions': one")
            # once the step is shown, a transaction that has written classifies each time again
            targets = campaign.target_ids
            final = targets._audience_figures("email")["final"]
            before = len(classifications)
            targets._audience_figures("email")
            self.assertEqual(len(classifications), before + 1)
        self.assertEqual(order.step, "launch")
        self.assertEqual(lines, {first: final, second: final})
        self.assertEqual(order.final, final)
        self.assertEqual(self.env["res.partner"].search_count([("email", "=", "c0@example.com")]), 1)

    def test_no_target_classifies_nobody(self):
        """An action of a campaign without targets classifies nobody (the union of no target has
        the columns of a union of targets)."""
        campaign = self._campaign("NoTarget")
        action = self._email_action(campaign)
        self.env.flush_all()
        self.env.cr.execute(self.env["campaign.target"]._classified_sql("email", action))
        self.assertEqual(self.env.cr.fetchall(), [])

    def test_once_per_contact(self):
        stats = self.action._audience_stats()
        self.assertEqual(stats["excluded"]["already_reached"], 1)
        self.assertEqual(stats["final"], 10)

    def test_sms_exclusions(self):
        self.env["phone.blacklist"]._add([self.a[5].phone_sanitized])
        stats = self.campaign._resolve_recipients("sms")
        # c0 (created from the list) has no phone; a1 has one; phones are all different
        self.assertEqual(stats["excluded"], {"archived": 1, "no_address": 1, "blacklisted": 1, "opted_out": 2})
        self.assertEqual(stats["final"], 12)

    def test_letter_needs_full_address(self):
        self.b[2].zip = False
        stats = self.campaign._resolve_recipients("letter")
        self.assertEqual(stats["excluded"], {"archived": 1, "no_address": 2, "opted_out": 2})
        self.assertEqual(stats["final"], 12)

    def test_task_channel_has_no_address_rule(self):
        stats = self.campaign._resolve_recipients("task")
        self.assertEqual(stats["excluded"], {"archived": 1})
        self.assertEqual(stats["final"], 16)

    def test_list_subscriber_becomes_contact_once(self):
        self.campaign._resolve_recipients("email")
        partners = self.env["res.partner"].search([("email", "=", "c0@example.com")])
        self.assertEqual(partners.name, "Carla Zero")
        self.campaign._resolve_recipients("email")
        self.assertEqual(self.env["res.partner"].search_count([("email", "=", "c0@example.com")]), 1)

    def test_calculate_wizard(self):
        action = self.campaign.action_calculate()
        wizard = self.env["campaign.campaign.calculate"].browse(action["res_id"])
        self.assertEqual(wizard.channel, "email")
        self.assertEqual(
            (wizard.total, wizard.duplicates, wizard.final, wizard.excluded_opted_out, wizard.excluded_duplicate),
            (24, 7, 11, 2, 1),
        )
        wizard.action_id = self.action
        wizard.action_calculate()
        self.assertEqual((wizard.excluded_already_reached, wizard.final), (1, 10))

    def test_action_limited_to_some_targets(self):
        self.action.target_ids = self.t_filter
        stats = self.action._audience_stats()
        self.assertEqual(stats["total"], 10)
        self.assertEqual(stats["duplicates"], 0)
        # a5..a9 and b0..b4: b1 shares b0's address
        self.assertEqual(stats["excluded"], {"duplicate": 1})
        self.assertEqual(stats["final"], 9)

    def test_static_and_dynamic_targets(self):
        static = self._filter_target(self.campaign, [("category_id", "in", self.tag.ids)], "Frozen", "static")
        self.assertEqual(static.recipient_count, 10)
        static.action_take_snapshot()
        self.assertEqual(len(static.partner_ids), 10)
        self._partners(2, prefix="late", category_id=[(4, self.tag.id)])
        static.invalidate_recordset(["recipient_count"])
        self.t_filter.invalidate_recordset(["recipient_count"])
        self.assertEqual(static.recipient_count, 10, "a static target keeps its snapshot")
        self.assertEqual(self.t_filter.recipient_count, 12, "a dynamic target reads its filter again")
        static.action_take_snapshot()
        self.assertEqual(static.recipient_count, 12)

    def test_static_target_snapshots_itself_before_first_run(self):
        static = self._filter_target(self.campaign, [("category_id", "in", self.tag.ids)], "Auto", "static")
        self.assertFalse(static.snapshot_date)
        static._audience_stats("email")
        self.assertTrue(static.snapshot_date)
        self.assertEqual(len(static.partner_ids), 10)

    def test_invalid_filters_refused(self):
        for domain in ("[('no_such_field', '=', 1)]", "not a domain", "[('name', 'bad-op', 1)]"):
            with self.assertRaises(ValidationError, msg=domain):
                self._filter_target(self.campaign, domain, name="Bad")
        with self.assertRaises(ValidationError):
            self.env["campaign.target"].create(
                {
                    "campaign_id": self.campaign.id,
                    "name": "Leads",
                    "source": "lead",
                    "lead_domain": "[('nope', '=', 1)]",
                }
            )

    def test_manual_target_is_static(self):
        target = self.env["campaign.target"].create(
            {"campaign_id": self.campaign.id, "name": "Pick", "source": "manual", "target_type": "dynamic"}
        )
        self.assertEqual(target.target_type, "static")
        with Form(self.env["campaign.target"].with_context(default_campaign_id=self.campaign.id)) as form:
            form.name = "Picked in form"
            form.source = "manual"
            self.assertEqual(form.target_type, "static")

    def test_lead_source_creates_missing_contacts(self):
        lead_tag = self.env["crm.tag"].create({"name": "campaign lead"})
        self.env["crm.lead"].create(
            [
                {"name": "Known", "partner_id": self.b[2].id, "tag_ids": [(4, lead_tag.id)]},
                {
                    "name": "New",
                    "contact_name": "Lea Lead",
                    "email_from": "lea@example.com",
                    "tag_ids": [(4, lead_tag.id)],
                },
                {"name": "Other", "email_from": "other@example.com"},
            ]
        )
        campaign = self._campaign("Leads")
        target = self.env["campaign.target"].create(
            {
                "campaign_id": campaign.id,
                "name": "Tagged leads",
                "source": "lead",
                "lead_domain": str([("tag_ids", "in", lead_tag.ids)]),
            }
        )
        stats = campaign._resolve_recipients("email")
        self.assertEqual(stats["final"], 2)
        self.assertTrue(self.env["res.partner"].search([("email", "=", "lea@example.com")]))
        self.assertEqual(target.recipient_count, 2)

    def _import(self, content, filename="contacts.csv", encoding="utf-8"):
        return self.env["campaign.target"].create(
            {
                "campaign_id": self.campaign.id,
                "name": "Imported",
                "source": "file",
                "import_file": base64.b64encode(content.encode(encoding)),
                "import_filename": filename,
            }
        )

    def test_import_file(self):
        content = (
            "Name;Email;Phone;City;Country\n"
            f"Existing;{self.b[2].email.upper()};;;\n"
            "New Person;new.person@example.com;+33 6 99 88 77 66;Lyon;FR\n"
            "New Again;NEW.PERSON@example.com;;;\n"
            "Broken;not-an-email;;;\n"
            '=HYPERLINK("http://evil");formula@example.com;;;\n'
            "Zoë Accent;zoe@example.com;;Genève;Switzerland\n"
        )
        target = self._import(content, encoding="cp1252")
        self.assertEqual(target.source, "file")
        self.assertEqual(target.target_type, "static")
        self.assertFalse(target.import_file)
        self.assertEqual(len(target.partner_ids), 4)
        self.assertIn(self.b[2], target.partner_ids)
        new = target.partner_ids.filtered(lambda p: p.email == "new.person@example.com")
        self.assertEqual((new.city, new.country_id.code), ("Lyon", "FR"))
        zoe = target.partner_ids.filtered(lambda p: p.email == "zoe@example.com")
        self.assertEqual((zoe.name, zoe.city, zoe.country_id.code), ("Zoë Accent", "Genève", "CH"))
        formula = target.partner_ids.filtered(lambda p: p.email == "formula@example.com")
        self.assertTrue(formula.name.startswith("'="))
        self.assertIn(
            "6 rows, 1 existing contacts, 3 created, 1 duplicates in the file, 1 skipped", target.import_summary
        )

    def test_import_file_errors(self):
        with self.assertRaises(UserError) as ctx:
            self._import("name,city\nBob,Paris\n")
        self.assertIn("“email” or a “phone” column", str(ctx.exception))
        with self.assertRaises(UserError):
            self._import("\n\n")
        self.assertFalse(self.env["campaign.target"].search([("name", "=", "Imported")]))
