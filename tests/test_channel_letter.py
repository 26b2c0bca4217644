import io
import unittest
from datetime import date
from unittest.mock import patch

from odoo.addons.campaign_manager.reports.report_campaign_letter import REPORT_XMLID, ReportCampaignLetter
from odoo.exceptions import UserError
from odoo.tests import Form, HttpCase, tagged
from odoo.tools.misc import find_in_path
from odoo.tools.pdf import PdfFileReader

from .common import CampaignCase

HAS_WKHTMLTOPDF = bool(find_in_path("wkhtmltopdf"))
LETTER_BODY = (
    '<p>Dear <t t-out="object.name"/>,</p><p>Our new year offers are waiting for you in <t t-out="object.city"/>.</p>'
)


@tagged("post_install", "-at_install")
class TestChannelLetter(CampaignCase, HttpCase):
    """Letter actions end to end: a QWeb mail merge with the company layout and the contact's
    postal address, printed batch by batch, bound into one PDF per run attached to the action.
    The HTML is always checked; the PDF when wkhtmltopdf is installed (the test server serves
    the report's assets to it)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(3, prefix="letter")
        cls.no_city = cls._partners(1, prefix="nocity", city=False)
        cls.campaign = cls._campaign("LetterCampaign", date_start=date(2026, 3, 1))
        cls._manual_target(cls.campaign, cls.partners | cls.no_city)

    def setUp(self):
        super().setUp()
        # wkhtmltopdf fetches the report's styles from this test's server
        self.env["ir.config_parameter"].sudo().set_param("report.url", self.base_url())

    def _letter_action(self, **values):
        return self.env["campaign.action"].create(
            {
                "campaign_id": self.campaign.id,
                "name": "Printed letter",
                "channel": "letter",
                "letter_subject": "Offers for {{ object.name }}",
                "letter_body": LETTER_BODY,
            }
            | values
        )

    def _launch(self):
        form = Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=self.campaign.id))
        form.save().action_launch()

    def _process(self, **kwargs):
        self.env["campaign.engine"]._cron_process(**kwargs)

    def _reached(self, action):
        return action.run_ids.touchpoint_ids.filtered(lambda t: t.state != "excluded").sorted("id")

    def _pdf(self, attachment):
        return PdfFileReader(io.BytesIO(attachment.raw), strict=False)

    def _references(self, attachment):
        """Letter reference found at the top of each page of the PDF (None on follow-on pages)."""
        references = []
        for page in self._pdf(attachment).pages:
            text = page.extract_text() or ""
            found = [word for word in text.split() if word.startswith("CM-")]
            references.append(found[0] if found else None)
        return references

    # ------------------------------------------------------------------
    def test_printed_letters_keep_the_footer_without_page_numbers(self):
        """Printed as one document (Debian's wkhtmltopdf), the footer is part of each letter: its
        "Page 1 / 2" cannot be numbered there and would print "Page /"."""
        self.company.report_footer = "Letter Shop SAS, RCS Paris 42"
        action = self._letter_action()
        self._launch()
        self.env["campaign.engine"]._start_due_runs()
        letters = self.env["report.campaign_manager.report_campaign_letter"]
        reached = self._reached(action)[:1]
        texts, _errors = letters._campaign_render_texts(reached)
        documents = []

        def convert(_report, bodies, **_kwargs):
            documents.extend(str(body) for body in bodies)
            return b""

        with patch.object(type(self.env["ir.actions.report"]), "_run_wkhtmltopdf", convert):
            letters._campaign_run_wkhtmltopdf(reached, texts)
        self.assertEqual(len(documents), 1)
        self.assertIn("Letter Shop SAS, RCS Paris 42", documents[0], "the company's footer")
        self.assertNotIn('class="page"', documents[0], "no page number wkhtmltopdf cannot fill")
        self.assertNotIn('class="topage"', documents[0])

    def test_letters_html_one_per_contact(self):
        action = self._letter_action()
        self._launch()
        self.env["campaign.engine"]._start_due_runs()
        touchpoints = action.run_ids.touchpoint_ids
        excluded = touchpoints.filtered(lambda t: t.state == "excluded")
        self.assertEqual(excluded.partner_id, self.no_city)
        self.assertEqual(excluded.exclusion_reason, "no_address", "no full postal address: excluded")
        planned = touchpoints - excluded
        self.assertEqual(planned.partner_id, self.partners)
        html = self.env["ir.actions.report"]._render_qweb_html(REPORT_XMLID, planned.ids)[0].decode()
        self.assertEqual(html.count('class="page o_campaign_letter"'), 3, "one letter per contact")
        self.assertEqual(html.count("page-break-before: always"), 2, "each letter starts a new page")
        self.assertIn(self.env.company.name, html, "company letterhead")
        for touchpoint in planned:
            partner = touchpoint.partner_id
            for expected in (
                f"Dear {partner.name},",
                "waiting for you in Paris.",
                f"Subject: <span>Offers for {partner.name}</span>",
                partner.street,
                "75001",
                "France",
                f"Ref.: <span>CM-{touchpoint.id}</span>",
            ):
                self.assertIn(expected, html)
        # letters of other channels cannot be printed
        email_action = self._email_action(self.campaign, name="Mail")
        email_touchpoint = self.env["campaign.touchpoint"].create(
            {"action_id": email_action.id, "partner_id": self.partners[0].id}
        )
        with self.assertRaises(UserError):
            self.env["ir.actions.report"]._render_qweb_html(REPORT_XMLID, email_touchpoint.ids)

    def test_bad_input(self):
        action = self._letter_action(letter_body=False)
        with self.assertRaises(UserError) as ctx:
            action.action_schedule()
        self.assertIn("a text for the letter", str(ctx.exception))
        self.assertEqual(action.state, "draft")

    def test_render_error_fails_alone_before_printing(self):
        """The texts are written before anything is printed: a contact whose letter cannot be
        written fails with the reason, the others of the batch are printed."""
        self.partners[1].name = "Bo"
        action = self._letter_action(letter_body='<p>Initial: <t t-out="object.name[3]"/></p>')
        self._launch()
        self.env["campaign.engine"]._start_due_runs()
        touchpoints = self._reached(action)
        report = self.env["report.campaign_manager.report_campaign_letter"]
        texts, errors = report._campaign_render_texts(touchpoints)
        self.assertEqual(set(errors), {touchpoints[1].id})
        self.assertIn("IndexError", errors[touchpoints[1].id])
        self.assertEqual(set(texts), {touchpoints[0].id, touchpoints[2].id})
        self.assertIn("Initial: t", texts[touchpoints[0].id]["body"])

    # ------------------------------------------------------------------
    # PDF (needs wkhtmltopdf)
    # ------------------------------------------------------------------
    @unittest.skipUnless(HAS_WKHTMLTOPDF, "wkhtmltopdf is not installed")
    def test_run_pdf_one_page_per_contact_attached_to_the_action(self):
        action = self._letter_action()
        self._launch()
        self._process()
        run = action.run_ids
        self.assertEqual(run.state, "done")
        touchpoints = self._reached(action)
        self.assertEqual(set(touchpoints.mapped("state")), {"done"})
        self.assertTrue(all(touchpoints.mapped("date_done")))
        attachment = run.attachment_id
        self.assertEqual((attachment.res_model, attachment.res_id), ("campaign.action", action.id))
        self.assertEqual(attachment.mimetype, "application/pdf")
        self.assertEqual(touchpoints.letter_attachment_id, attachment)
        self.assertEqual(len(self._pdf(attachment).pages), 3, "one page per contact")
        self.assertEqual(
            [(t.letter_page_from, t.letter_page_to) for t in touchpoints], [(1, 1), (2, 2), (3, 3)], "contact order"
        )
        self.assertEqual(self._references(attachment), touchpoints.mapped("letter_reference"))
        self.assertFalse(
            self.env["ir.attachment"].search([("res_model", "=", "campaign.action.run"), ("res_id", "=", run.id)]),
            "the PDFs of the batches are bound into the run's PDF, then removed",
        )
        self.assertIn(attachment, action.message_ids.attachment_ids, "posted on the action")
        opened = touchpoints[1].action_open_letter()
        self.assertEqual(opened["url"], f"/web/content/{attachment.id}#page=2")

    @unittest.skipUnless(HAS_WKHTMLTOPDF, "wkhtmltopdf is not installed")
    def test_longer_letter_pages_found(self):
        """A letter of two pages among one-page letters: each touchpoint knows its own pages."""
        body = LETTER_BODY + (
            "<t t-if=\"object.name == 'letter 1'\">"
            + "".join(f"<p>Paragraph {index} of a long letter.</p>" for index in range(70))
            + "</t>"
        )
        action = self._letter_action(letter_body=body)
        self._launch()
        self._process()
        touchpoints = self._reached(action)
        attachment = action.run_ids.attachment_id
        pages = len(self._pdf(attachment).pages)
        self.assertGreater(pages, 3)
        long_pages = pages - 2
        self.assertEqual(
            [(t.letter_page_from, t.letter_page_to) for t in touchpoints],
            [(1, 1), (2, 1 + long_pages), (2 + long_pages, 2 + long_pages)],
        )
        references = self._references(attachment)
        self.assertEqual(references[0], touchpoints[0].letter_reference)
        self.assertEqual(references[1], touchpoints[1].letter_reference)
        self.assertEqual(references[-1], touchpoints[2].letter_reference)

    @unittest.skipUnless(HAS_WKHTMLTOPDF, "wkhtmltopdf is not installed")
    def test_render_error_fails_alone(self):
        self.partners[1].name = "Bo"
        action = self._letter_action(letter_body='<p>Initial: <t t-out="object.name[3]"/></p>')
        self._launch()
        self._process()
        touchpoints = self._reached(action)
        self.assertEqual(touchpoints.mapped("state"), ["done", "failed", "done"])
        self.assertIn("IndexError", touchpoints[1].failure_reason)
        self.assertFalse(touchpoints[1].letter_attachment_id)
        self.assertEqual(len(self._pdf(action.run_ids.attachment_id).pages), 2)
        self.assertEqual([(t.letter_page_from, t.letter_page_to) for t in touchpoints[::2]], [(1, 1), (2, 2)])

    @unittest.skipUnless(HAS_WKHTMLTOPDF, "wkhtmltopdf is not installed")
    def test_kill_then_rerun_prints_each_letter_once(self):
        action = self._letter_action()
        self._launch()
        self.assertWorkerKilled(ReportCampaignLetter, "_campaign_print_batch", lambda: self._process(batch_size=2))
        run = action.run_ids
        touchpoints = self._reached(action)
        self.assertEqual(touchpoints.mapped("state"), ["queued", "queued", "planned"], "second batch undone")
        self.assertEqual(touchpoints[0].letter_attachment_id.res_model, "campaign.action.run")
        self.assertEqual(run.state, "sending")
        self._process(batch_size=2)
        self.assertEqual(run.state, "done")
        self.assertEqual(set(touchpoints.mapped("state")), {"done"})
        self.assertEqual(self._references(run.attachment_id), touchpoints.mapped("letter_reference"))

    @unittest.skipUnless(HAS_WKHTMLTOPDF, "wkhtmltopdf is not installed")
    def test_large_runs_bound_in_volumes(self):
        self.env["ir.config_parameter"].sudo().set_param("campaign_manager.letter_volume_size", 2)
        action = self._letter_action()
        self._launch()
        self._process()
        touchpoints = self._reached(action)
        volumes = self.env["ir.attachment"].search(
            [("res_model", "=", "campaign.action"), ("res_id", "=", action.id)], order="id"
        )
        self.assertEqual(len(volumes), 2)
        self.assertEqual([len(self._pdf(volume).pages) for volume in volumes], [2, 1])
        self.assertEqual(touchpoints.letter_attachment_id, volumes)
        self.assertEqual(
            [(t.letter_attachment_id, t.letter_page_from) for t in touchpoints],
            [(volumes[0], 1), (volumes[0], 2), (volumes[1], 1)],
        )
        self.assertEqual(action.run_ids.attachment_id, volumes[0])

    @unittest.skipUnless(HAS_WKHTMLTOPDF, "wkhtmltopdf is not installed")
    def test_cancel_drops_letters_not_bound(self):
        self.campaign.send_limit_hour = 2
        action = self._letter_action()
        self._launch()
        self._process()
        touchpoints = self._reached(action)
        self.assertEqual(touchpoints.mapped("state"), ["queued", "queued", "planned"])
        action.action_cancel()
        self.assertEqual(set(touchpoints.mapped("state")), {"cancelled"}, "letters not bound are not posted")
        self.assertEqual(action.run_ids.state, "cancelled")
