import io
import logging
import re
from collections import defaultdict
from itertools import pairwise

from lxml import html as lxml_html
from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.pdf import PdfFileReader, PdfFileWriter, merge_pdf

from ..models.channels.letter import LETTER_REFERENCE_PREFIX
from ..models.ir_actions_report import remove_page_numbers

_logger = logging.getLogger(__name__)

REPORT_XMLID = "campaign_manager.action_report_campaign_letter"
# Letters of a run are bound into PDFs of at most this many letters (setting
# campaign_manager.letter_volume_size): the merge holds one volume in memory at a time.
DEFAULT_VOLUME_SIZE = 2000
# A batch is printed as ONE html document (the only kind Debian's wkhtmltopdf, built on an
# unpatched Qt, can convert): letterhead and footer are part of each letter, so the page margins
# that Odoo keeps for separate header and footer files are reduced.
SINGLE_DOCUMENT_MARGINS = {
    "data-report-margin-top": 12,
    "data-report-margin-bottom": 12,
    "data-report-header-spacing": 0,
}
REFERENCE_PATTERN = re.compile(rf"(?<![A-Za-z0-9]){re.escape(LETTER_REFERENCE_PREFIX)}(\d+)(?!\d)")


class ReportCampaignLetter(models.AbstractModel):
    """The mail merge of letter actions: one letter per contact (company letterhead, postal address
    block, date, reference, subject and the action's text written for the contact), printed batch
    by batch into PDFs, then bound into the run's PDF whose pages each touchpoint knows."""

    _name = "report.campaign_manager.report_campaign_letter"
    _description = "Campaign Letter"

    @api.model
    def _get_report_values(self, docids, data=None):
        touchpoints = self.env["campaign.touchpoint"].browse(docids)
        if touchpoints.filtered(lambda t: t.channel != "letter"):
            raise UserError(self.env._("Only the touchpoints of letter actions can be printed as letters."))
        texts = (data or {}).get("campaign_texts")
        if texts is None:
            texts, errors = self._campaign_render_texts(touchpoints)
            if errors:
                raise UserError(next(iter(errors.values())))
        return {
            "doc_ids": docids,
            "doc_model": "campaign.touchpoint",
            "docs": touchpoints,
            "letter_texts": texts,
            "letter_date": fields.Date.context_today(self),
        }

    # ------------------------------------------------------------------
    # TEXTS
    # ------------------------------------------------------------------
    @api.model
    def _campaign_render_texts(self, touchpoints):
        """Subject and body of each touchpoint's letter, written for its contact (``object`` in the
        placeholders) with the rendering of Odoo's templates. A contact whose letter cannot be
        written does not stop the others.

        :return: ({touchpoint id: {"subject": str, "body": Markup}}, {touchpoint id: error text})
        """
        texts, errors = {}, {}
        for action, action_touchpoints in touchpoints.grouped("action_id").items():
            try:
                texts.update(self._campaign_render_action_texts(action, action_touchpoints))
            except Exception:  # find the contacts at fault, one by one
                for touchpoint in action_touchpoints:
                    try:
                        texts.update(self._campaign_render_action_texts(action, touchpoint))
                    except Exception as error:  # the reason goes on the touchpoint
                        errors[touchpoint.id] = self._campaign_error_text(error)
        return texts, errors

    @api.model
    def _campaign_render_action_texts(self, action, touchpoints):
        texts = self.env["campaign.action"]._render_for_contacts(
            touchpoints.partner_id, action.letter_subject, action.letter_body, post_process=True
        )
        return {
            touchpoint.id: dict(zip(("subject", "body"), texts[touchpoint.partner_id.id], strict=True))
            for touchpoint in touchpoints
        }

    @api.model
    def _campaign_error_text(self, error):
        cause = error.__cause__ or error
        detail = f"{type(cause).__name__}: {cause}"
        return self.env._("The letter could not be written: %(error)s", error=detail)[:2000]

    # ------------------------------------------------------------------
    # PRINTING
    # ------------------------------------------------------------------
    @api.model
    def _campaign_print_batch(self, run, touchpoints):
        """Dispatcher of letter runs: print the batch's letters into one PDF attached to the run
        and record where each letter is. Touchpoints wait 'queued' until the run's PDF is bound;
        a contact whose letter cannot be written fails alone. Nothing leaves Odoo here, so an
        interrupted batch is simply printed again."""
        texts, errors = self._campaign_render_texts(touchpoints)
        by_reason = defaultdict(list)
        for touchpoint_id, reason in errors.items():
            by_reason[reason].append(touchpoint_id)
        for reason, touchpoint_ids in by_reason.items():
            touchpoints.browse(touchpoint_ids)._mark_failed(reason)
        printable = touchpoints.filtered(lambda t: t.id in texts).sorted("id")
        if not printable:
            return
        pdf, pages = self._campaign_render_pdf(printable, texts)
        attachment = self.env["ir.attachment"].create(
            {
                "name": self.env._(
                    "%(run)s - letters %(first)s to %(last)s.pdf",
                    run=run.display_name,
                    first=printable[0].letter_reference,
                    last=printable[-1].letter_reference,
                ),
                "raw": pdf,
                "mimetype": "application/pdf",
                "res_model": "campaign.action.run",
                "res_id": run.id,
            }
        )
        self._campaign_place_letters(attachment, pages, state="queued")

    @api.model
    def _campaign_render_pdf(self, touchpoints, texts):
        """Print the letters of ``touchpoints`` (in that order) into one PDF.

        :return: (pdf bytes, {touchpoint id: (first page, last page)}), pages counted from 1
        """
        pdf = self._campaign_run_wkhtmltopdf(touchpoints, texts)
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        page_count = len(reader.pages)
        if page_count == len(touchpoints):
            # every letter takes at least one page: here each takes exactly one
            return pdf, {touchpoint.id: (index + 1, index + 1) for index, touchpoint in enumerate(touchpoints)}
        starts = self._campaign_find_letter_starts(reader, touchpoints)
        if starts:
            ends = [start - 1 for start in starts[1:]] + [page_count - 1]
            return pdf, {
                touchpoint.id: (start + 1, end + 1)
                for touchpoint, start, end in zip(touchpoints, starts, ends, strict=True)
            }
        # the letters could not be told apart in the batch's PDF: print them one by one
        _logger.info("Campaign letters: %s letters printed one by one", len(touchpoints))
        documents, pages, page = [], {}, 1
        for touchpoint in touchpoints:
            document = self._campaign_run_wkhtmltopdf(touchpoint, texts)
            count = len(PdfFileReader(io.BytesIO(document), strict=False).pages)
            pages[touchpoint.id] = (page, page + count - 1)
            page += count
            documents.append(document)
        return merge_pdf(documents), pages

    @api.model
    def _campaign_run_wkhtmltopdf(self, touchpoints, texts):
        """The letters as one html document (letters separated by page breaks) converted by
        wkhtmltopdf, with the report's assets and paper format."""
        report = self.env["ir.actions.report"]
        html = report._render_qweb_html(REPORT_XMLID, touchpoints.ids, data={"campaign_texts": texts})[0]
        main = lxml_html.fromstring(html).xpath("//main")[0]
        remove_page_numbers(main)
        # serialised by lxml from the QWeb output just rendered: already escaped html
        content = Markup("".join(lxml_html.tostring(node, encoding="unicode") for node in main))
        document = self.env["ir.qweb"]._render(
            "web.minimal_layout",
            {
                "subst": False,
                "body": content,
                "base_url": report._get_report_url(),
                "report_xml_id": REPORT_XMLID,
            },
        )
        return report._run_wkhtmltopdf(
            [document], report_ref=REPORT_XMLID, specific_paperformat_args=SINGLE_DOCUMENT_MARGINS
        )

    @api.model
    def _campaign_find_letter_starts(self, reader, touchpoints):
        """First page (from 0) of each letter, found by the reference printed at its top, or None
        when the references do not tell the letters apart."""
        expected = set(touchpoints.ids)
        first_page = {}
        for index, page in enumerate(reader.pages):
            for match in REFERENCE_PATTERN.finditer(page.extract_text() or ""):
                touchpoint_id = int(match.group(1))
                if touchpoint_id in expected:
                    first_page.setdefault(touchpoint_id, index)
        starts = [first_page.get(touchpoint_id) for touchpoint_id in touchpoints.ids]
        if None in starts or starts[0] != 0 or any(b <= a for a, b in pairwise(starts)):
            return None
        return starts

    @api.model
    def _campaign_place_letters(self, attachment, pages, state):
        """Point the touchpoints to their pages in ``attachment`` (one statement)."""
        touchpoint_ids = list(pages)
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint tp
                      SET letter_attachment_id = %(attachment)s, letter_page_from = v.page_from,
                          letter_page_to = v.page_to, state = %(state)s,
                          date_done = CASE WHEN %(state)s = 'done' THEN %(now)s ELSE tp.date_done END,
                          res_model = 'ir.attachment', res_id = %(attachment)s
                     FROM unnest(%(ids)s::int[], %(froms)s::int[], %(tos)s::int[]) AS v(id, page_from, page_to)
                    WHERE tp.id = v.id""",
                attachment=attachment.id,
                state=state,
                now=fields.Datetime.now(),
                ids=touchpoint_ids,
                froms=[pages[touchpoint_id][0] for touchpoint_id in touchpoint_ids],
                tos=[pages[touchpoint_id][1] for touchpoint_id in touchpoint_ids],
            )
        )
        self.env["campaign.touchpoint"].invalidate_model()

    # ------------------------------------------------------------------
    # BINDING
    # ------------------------------------------------------------------
    @api.model
    def _campaign_bind_run(self, run):
        """Finisher of letter runs: bind the printed letters into the run's PDF (in touchpoint
        order), attached to the action and to the run; touchpoints point to their pages in it and
        are done. Runs of more than ``campaign_manager.letter_volume_size`` letters are bound
        into several PDFs (volumes), each with that many letters at most."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint SET state = 'failed', failure_reason = %s
                    WHERE run_id = %s AND state = 'queued' AND letter_attachment_id IS NULL""",
                self.env._("The printed letter was deleted before the run's PDF was bound."),
                run.id,
            )
        )
        self.env.cr.execute(
            SQL(
                """SELECT id, letter_attachment_id, letter_page_from, letter_page_to
                     FROM campaign_touchpoint
                    WHERE run_id = %s AND state = 'queued'
                    ORDER BY id""",
                run.id,
            )
        )
        rows = self.env.cr.fetchall()
        if not rows:
            return
        size = int(self.env["ir.config_parameter"].sudo().get_param("campaign_manager.letter_volume_size", 0) or 0)
        size = size if size > 0 else DEFAULT_VOLUME_SIZE
        volumes = [rows[start : start + size] for start in range(0, len(rows), size)]
        action = run.action_id
        printed = self.env["ir.attachment"].browse({row[1] for row in rows})
        bound = self.env["ir.attachment"]
        for number, volume in enumerate(volumes, start=1):
            pdf, pages = self._campaign_bind_volume(volume)
            if len(volumes) == 1:
                name = self.env._("%(run)s - letters.pdf", run=run.display_name)
            else:
                name = self.env._(
                    "%(run)s - letters, part %(number)s of %(count)s.pdf",
                    run=run.display_name,
                    number=number,
                    count=len(volumes),
                )
            attachment = self.env["ir.attachment"].create(
                {
                    "name": name,
                    "raw": pdf,
                    "mimetype": "application/pdf",
                    "res_model": "campaign.action",
                    "res_id": action.id,
                }
            )
            self._campaign_place_letters(attachment, pages, state="done")
            bound |= attachment
        run.attachment_id = bound[0]
        printed.unlink()
        action.message_post(
            body=self.env._("%(count)s letters of %(run)s are ready to print.", count=len(rows), run=run.display_name),
            attachment_ids=bound.ids,
        )

    @api.model
    def _campaign_bind_volume(self, rows):
        """Merge the pages of the letters ``rows`` (touchpoint id, printed PDF, first and last
        page), in that order, into one PDF.

        :return: (pdf bytes, {touchpoint id: (first page, last page)})
        """
        readers = {}
        writer = PdfFileWriter()
        pages, page = {}, 1
        for touchpoint_id, attachment_id, page_from, page_to in rows:
            if attachment_id not in readers:
                raw = self.env["ir.attachment"].browse(attachment_id).raw
                readers[attachment_id] = PdfFileReader(io.BytesIO(raw), strict=False)
            reader = readers[attachment_id]
            for index in range(page_from - 1, page_to):
                writer.add_page(reader.pages[index])
            pages[touchpoint_id] = (page, page + page_to - page_from)
            page += page_to - page_from + 1
        with io.BytesIO() as buffer:
            writer.write(buffer)
            return buffer.getvalue(), pages
