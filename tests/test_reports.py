import io
import re
import unittest
from datetime import date

from odoo.tests import Form, HttpCase, tagged
from odoo.tools.misc import find_in_path
from odoo.tools.pdf import PdfFileReader

from .common import CampaignCase

HAS_WKHTMLTOPDF = bool(find_in_path("wkhtmltopdf"))
ROI_REPORT = "campaign_manager.campaign_campaign_report_roi"
ANALYSIS_REPORT = "campaign_manager.campaign_campaign_report_analysis"


@tagged("post_install", "-at_install")
class TestReports(CampaignCase, HttpCase):
    """The campaign reports as printed (PDF text extracted) and the analysis a campaign opens on:
    the company's letterhead and footer with any wkhtmltopdf, the period, the message figures as
    measures."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "name": "Winter Shop SAS",
                "street": "12 rue du Port",
                "zip": "44000",
                "city": "Nantes",
                "country_id": cls.env.ref("base.fr").id,
                "report_footer": "Winter Shop SAS, RCS Nantes 123 456 789",
            }
        )
        cls.partners = cls._partners(4, prefix="report")
        cls.campaign = cls._campaign("WinterReport", date_start=date(2026, 12, 1))
        cls._manual_target(cls.campaign, cls.partners)
        cls.other = cls._campaign("SpringReport", date_start=date(2026, 3, 1), date_end=date(2027, 3, 31))

    def setUp(self):
        super().setUp()
        # wkhtmltopdf fetches the report's styles from this test's server
        self.env["ir.config_parameter"].sudo().set_param("report.url", self.base_url())

    def _pdf_pages(self, report, campaigns):
        pdf, _kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(report, campaigns.ids)
        )
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        return [" ".join((page.extract_text() or "").split()) for page in reader.pages]

    def _html(self, report, campaigns, lang=None):
        reports = self.env["ir.actions.report"].with_context(lang=lang) if lang else self.env["ir.actions.report"]
        html = reports._render_qweb_html(report, campaigns.ids)[0].decode()
        return " ".join(re.sub(r"<[^>]+>", " ", html).split())  # the text, as read

    def _run_emails(self, campaign, unit_cost=0.0, opened=1):
        action = self._email_action(campaign, name="Winter email", unit_cost=unit_cost)
        Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id)).save().action_launch()
        self.env["campaign.engine"]._cron_process()
        traces = action.run_ids.touchpoint_ids.mailing_trace_id.sorted("id")
        traces.set_sent()
        traces[:opened].set_opened()
        return action

    # ------------------------------------------------------------------
    @unittest.skipUnless(HAS_WKHTMLTOPDF, "wkhtmltopdf is not installed")
    def test_roi_pdf_keeps_the_company_layout(self):
        pages = self._pdf_pages(ROI_REPORT, self.campaign)
        first, last = pages[0], pages[-1]
        self.assertIn("Winter Shop SAS", first, "the letterhead: the company's name and address")
        self.assertIn("12 rue du Port", first)
        self.assertIn("Campaign ROI: WinterReport", first)
        self.assertIn("Winter Shop SAS, RCS Nantes 123 456 789", last, "the company's footer")
        self.assertIn("From 12/01/2026", first, "an open period reads as such")
        self.assertNotIn("12/01/2026 -", first)
        self.assertNotIn("Page /", " ".join(pages), "no page number left without its numbers")

    @unittest.skipUnless(HAS_WKHTMLTOPDF, "wkhtmltopdf is not installed")
    def test_several_campaigns_in_one_pdf_each_with_the_layout(self):
        for report, title in ((ROI_REPORT, "Campaign ROI"), (ANALYSIS_REPORT, "Campaign Analysis")):
            with self.subTest(report=report):
                pages = self._pdf_pages(report, self.campaign | self.other)
                text = " ".join(pages)
                self.assertIn(f"{title}: WinterReport", text)
                self.assertIn(f"{title}: SpringReport", text)
                starts = [page for page in pages if f"{title}: " in page]
                self.assertEqual(len(starts), 2, "each campaign starts on a page of its own")
                for page in starts:
                    self.assertIn("12 rue du Port", page, "each with the letterhead")
                self.assertEqual(text.count("RCS Nantes 123 456 789"), 2, "and the footer")
                self.assertIn("03/01/2026 → 03/31/2027", text)

    def test_period_in_english_and_french(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["campaign_manager"], ["fr_FR"], overwrite=True)
        no_dates = self._campaign("NoDates")
        until = self._campaign("UntilOnly", date_end=date(2027, 1, 31))
        expected = {
            "en_US": ["From 12/01/2026", "03/01/2026 → 03/31/2027", "Until 01/31/2027", "Not set"],
            "fr_FR": ["À partir du 01/12/2026", "01/03/2026 → 31/03/2027", "Jusqu'au 31/01/2027", "Non définies"],
        }
        for lang, periods in expected.items():
            for report in (ROI_REPORT, ANALYSIS_REPORT):
                with self.subTest(lang=lang, report=report):
                    html = self._html(report, self.campaign | self.other | until | no_dates, lang=lang)
                    for period in periods:
                        self.assertIn(period, html)
                    self.assertNotRegex(html, r"\d{4} - ", "no dangling dash")

    def test_message_figures_are_measures_of_the_analysis(self):
        self._run_emails(self.campaign, opened=1)
        Report = self.env["campaign.analysis.report"]
        [(sent, opens, rate, click_rate)] = Report._read_group(
            [("campaign_id", "=", self.campaign.id)],
            [],
            ["sent_count:sum", "open_unique:sum", "open_rate:avg", "click_rate:avg"],
        )
        self.assertEqual((sent, opens, rate, click_rate), (4, 1, 25.0, 0.0))
        # a rate over a group is computed from its sums, not averaged over its rows
        other_partners = self._partners(1, prefix="other")
        self._manual_target(self.other, other_partners)
        self._run_emails(self.other, opened=1)
        [(rate,)] = Report._read_group([("campaign_id", "in", (self.campaign | self.other).ids)], [], ["open_rate:avg"])
        self.assertEqual(rate, 40.0, "2 opens of 5 sent, not the 62.5 % of averaging 25 % and 100 %")
        by_campaign = dict(
            Report._read_group(
                [("campaign_id", "in", (self.campaign | self.other).ids)], ["campaign_id"], ["open_rate:avg"]
            )
        )
        self.assertEqual(by_campaign, {self.campaign: 25.0, self.other: 100.0})

    def test_analysis_opens_on_what_the_campaign_is_about(self):
        self._run_emails(self.campaign)
        context = self.campaign.action_view_analysis()["context"]
        self.assertEqual(
            context["pivot_measures"], ["sent_count", "open_unique", "open_rate", "clicker_unique", "click_rate"]
        )
        self.assertEqual(context["pivot_row_groupby"], ["action_id"])
        # a campaign that costs and sends: both
        paid = self._campaign("PaidReport", budget=500)
        self._manual_target(paid, self.partners)
        self._run_emails(paid, unit_cost=0.5)
        context = paid.action_view_analysis()["context"]
        self.assertEqual(context["pivot_measures"][:2], ["sent_count", "open_unique"])
        self.assertIn("cost_actual", context["pivot_measures"])
        self.assertIn("revenue_invoiced", context["pivot_measures"])
        self.assertEqual(context["pivot_row_groupby"], ["kind"])
