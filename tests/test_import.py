import base64
import codecs
from unittest.mock import patch

from odoo.addons.campaign_manager.models import campaign_target_import
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestImport(CampaignCase):
    """Hostile contact files: wrong encodings, missing and extra columns, duplicates, malformed
    emails and phones, formulas, 100,000 rows imported in the background and resumed after a kill."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.campaign = cls._campaign("Imports")

    def _target(self, raw, filename="contacts.csv"):
        return self.env["campaign.target"].create(
            {
                "campaign_id": self.campaign.id,
                "name": "Imported",
                "source": "file",
                "import_file": base64.b64encode(raw),
                "import_filename": filename,
            }
        )

    def _refused(self, raw, message):
        with self.assertRaises(UserError) as ctx:
            self._target(raw)
        self.assertIn(message, str(ctx.exception))
        self.assertFalse(self.env["campaign.target"].search([("campaign_id", "=", self.campaign.id)]))

    def test_unreadable_files_refused(self):
        self._refused(b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00\x8f\x90\x9d binary xlsx", "CSV UTF-8")
        self._refused(b"\x00\x01\x02email\x00", "not a CSV text file")
        self._refused(b"\n\n", "empty")
        self._refused(b"name;city\nBob;Paris\n", "phone\u201d column")

    def test_utf16_and_windows_files(self):
        utf16 = codecs.BOM_UTF16_LE + "name\temail\nZoë\tzoe16@example.com\n".encode("utf-16-le")
        target = self._target(utf16)
        self.assertEqual(target.partner_ids.name, "Zoë")
        cp1252 = "name;email\nGaëlle;gaelle@example.com\n".encode("cp1252")
        self.assertEqual(self._target(cp1252).partner_ids.name, "Gaëlle")

    def test_malformed_values_formulas_and_extra_columns(self):
        existing = self._partners(1, prefix="known", phone="+33 6 12 34 56 78")
        content = (
            "Name,Email,Phone,Country,Notes,Score\n"
            "Ok,ok@example.com,+33 6 11 22 33 44,FR,hello,3\n"
            "Bad mail,not-an-email,,FR,,\n"
            "Bad both,@@@,call me,FR,,\n"
            "Phone only,,06 12 34 56 78,FR,,\n"
            "\"=cmd|' /C calc'!A0\",formula@example.com,=1+1,FR,,\n"
            "Dup,OK@EXAMPLE.COM,,FR,,\n"
        )
        target = self._target(content.encode())
        self.assertEqual(target.import_state, "done")
        self.assertFalse(target.import_file, "the file is not kept once imported")
        emails = set(target.partner_ids.mapped("email"))
        self.assertEqual(emails, {"ok@example.com", "formula@example.com", existing.email})
        self.assertIn(existing, target.partner_ids, "matched by phone")
        formula = target.partner_ids.filtered(lambda p: p.email == "formula@example.com")
        self.assertTrue(formula.name.startswith("'="), "formula kept inert")
        self.assertFalse(formula.phone, "a formula is not a phone number")
        summary = target.import_summary
        self.assertIn("6 rows, 1 existing contacts, 2 created, 1 duplicates in the file, 2 skipped", summary)
        self.assertIn("2 invalid phone numbers, 1 formula cells neutralised", summary)
        self.assertIn("Columns not imported: notes, score", summary)

    def test_big_file_imported_in_background_and_resumed_after_a_kill(self):
        rows = ["name,email"] + [f"Person {i},person{i % 40}@bulk.example.com" for i in range(100)]
        with (
            patch.object(campaign_target_import, "IMPORT_SYNC_MAX", 30),
            patch.object(campaign_target_import, "IMPORT_BATCH", 25),
        ):
            target = self._target("\n".join(rows).encode())
            self.assertEqual(target.import_state, "queued")
            self.assertIn("importing in the background, 0 of 100 rows done", target.import_summary)
            action = self._email_action(self.campaign)
            self.assertIn("the end of the import of the target “Imported” (in progress)", action._missing_for_run()[0])
            self.assertWorkerKilled(type(target), "_import_rows", self.env["campaign.engine"]._cron_process)
            self.assertEqual(target.import_done, 25, "the first batch is kept, the second undone")
            self.env["campaign.engine"]._cron_process()
        self.assertEqual(target.import_state, "done")
        self.assertEqual(len(target.partner_ids), 40)
        self.assertEqual(self.env["res.partner"].search_count([("email", "=like", "%@bulk.example.com")]), 40)
        self.assertIn("100 rows, 0 existing contacts, 40 created, 60 duplicates in the file", target.import_summary)
        self.assertIn("100 rows", self.campaign.message_ids[0].body)
        self.assertFalse(action._missing_for_run())

    def test_hundred_thousand_rows(self):
        lines = (
            ["name,email,phone"]
            + ["Same,same@example.com,"] * 99_990
            + [f"U{i},u{i}@x.example.com," for i in range(10)]
        )
        target = self._target("\n".join(lines).encode())
        self.assertEqual(target.import_state, "queued")
        self.env["campaign.engine"]._cron_process()
        self.assertEqual(target.import_state, "done")
        self.assertEqual(len(target.partner_ids), 11)
        self.assertIn("100000 rows, 0 existing contacts, 11 created, 99989 duplicates", target.import_summary)
