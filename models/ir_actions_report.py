import lxml.html
from markupsafe import Markup

from odoo import models
from odoo.addons.base.models.ir_actions_report import _wkhtml

# The campaign reports that keep the company layout with any wkhtmltopdf (see _prepare_html).
SINGLE_DOCUMENT_REPORTS = ("campaign_manager.report_campaign_roi", "campaign_manager.report_campaign_analysis")
# Margins (mm) of a report printed as one document: no room to keep for separate header and footer
# files, the letterhead and the footer being part of the page (as for the letters).
SINGLE_DOCUMENT_MARGINS = {
    "data-report-margin-top": "12",
    "data-report-margin-bottom": "12",
    "data-report-header-spacing": "0",
}
HTML_CLASS = "//div[contains(concat(' ', normalize-space(@class), ' '), ' {} ')]"


def remove_page_numbers(root):
    """Take the "Page 1 / 2" of the layout's footer out of ``root`` (an lxml tree of a report): in a
    report printed as one document, wkhtmltopdf fills the page numbers of header and footer files
    only, and "Page /" would be printed instead."""
    for number in root.xpath("//span[contains(concat(' ', normalize-space(@class), ' '), ' page ')]"):
        holder = number.getparent()
        if holder is not None and holder.getparent() is not None:
            holder.getparent().remove(holder)


class IrActionsReport(models.Model):
    """The campaign reports keep the company's letterhead, logo and footer with Debian's
    wkhtmltopdf. Odoo prints the header and footer of a report as separate html files repeated on
    every page, which only wkhtmltopdf built with patched Qt can do: Debian's build (unpatched
    Qt) prints the pages without them, and refuses several documents at once. Without patched
    Qt, the campaign reports are printed as one html document in which each campaign's letterhead
    opens its pages and its footer closes them (the way the letters are printed)."""

    _inherit = "ir.actions.report"

    def _campaign_single_document(self):
        """Whether this report is printed as one document (campaign reports, unpatched Qt)."""
        return self.report_name in SINGLE_DOCUMENT_REPORTS and not _wkhtml().is_patched_qt

    def _prepare_html(self, html, report_model=False):
        if not self._campaign_single_document():
            return super()._prepare_html(html, report_model=report_model)
        layout = self._get_layout()
        if not layout:
            return super()._prepare_html(html, report_model=report_model)
        root = lxml.html.fromstring(html, parser=lxml.html.HTMLParser(encoding="utf-8"))
        main = root.xpath("//main")[0]
        remove_page_numbers(main)
        parts, res_ids, first = [], [], True
        for node in main:
            classes = (node.get("class") or "").split()
            if "header" in classes and not first:
                # each campaign starts on a new page, with its letterhead
                parts.append('<div style="page-break-before: always;"></div>')
            if "header" in classes:
                first = False
            if "article" in classes:
                first = False
                res_ids.append(int(node.get("data-oe-id") or 0) or None)
            parts.append(lxml.html.tostring(node, encoding="unicode"))
        ir_qweb = self.env["ir.qweb"]
        lang = main.xpath(HTML_CLASS.format("article") + "/@data-oe-lang")
        if lang:
            ir_qweb = ir_qweb.with_context(lang=lang[0])
        body = ir_qweb._render(
            layout.id,
            {
                "subst": False,
                # serialised by lxml from the report just rendered: already escaped html
                "body": Markup('<div class="o_campaign_report_pdf">%s</div>') % Markup("".join(parts)),
                "base_url": self._get_report_url(layout=layout),
                "report_xml_id": self.xml_id,
                "debug": self.env.context.get("debug"),
            },
            raise_if_not_found=False,
        )
        paperformat_args = {key: value for key, value in root.items() if key.startswith("data-report-")}
        paperformat_args.update(SINGLE_DOCUMENT_MARGINS)
        ids = res_ids if len(res_ids) == 1 else [None]
        return [body], ids, None, None, paperformat_args
