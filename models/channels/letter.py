"""The letter channel: a mail merge printed as one PDF per run (letterhead, date, postal address)."""

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, is_html_empty

# Printed on each letter before the touchpoint id: finds a letter's first page in a PDF.
LETTER_REFERENCE_PREFIX = "CM-"
# Texts of the action rendered per contact by the scheduler (placeholders checked like Odoo's templates).
LETTER_CONTENT_FIELDS = {"letter_subject", "letter_body"}


class CampaignAction(models.Model):
    _inherit = "campaign.action"

    channel = fields.Selection(selection_add=[("letter", "Letter")], ondelete={"letter": "cascade"})
    # Letter content: a mail merge printed as one PDF per run.
    letter_subject = fields.Char(
        help="Subject line printed above the letter (placeholders such as {{ object.name }} allowed).",
    )
    letter_body = fields.Html(
        string="Letter",
        sanitize="email_outgoing",
        help="Text of the letter. Placeholders (e.g. the contact's name) are replaced for each contact; "
        "the company letterhead, the date and the postal address block are added around it.",
    )

    def _content_fields(self):
        return super()._content_fields() | LETTER_CONTENT_FIELDS

    def _content_has_code(self, render):
        return (
            super()._content_has_code(render)
            or render._has_unsafe_expression_template_inline_template(self.letter_subject, "res.partner")
            or render._has_unsafe_expression_template_qweb(self.letter_body, "res.partner")
        )

    def _journey_test_deliver(self, test):
        """A letter of the test is written for the test contact and emailed to the test address."""
        if self.channel != "letter":
            return super()._journey_test_deliver(test)
        subject, body = test._render_for_contact(self.letter_subject, self.letter_body)
        title = self.env._("Letter: %(subject)s", subject=subject or self.name)
        return test._send_test_email(self, title, body)

    def _default_medium(self):
        if self.channel != "letter":
            return super()._default_medium()
        return self.env.ref("campaign_manager.utm_medium_letter", raise_if_not_found=False)

    def _channel_can_run(self):
        return self.channel == "letter" or super()._channel_can_run()

    def _channel_missing(self):
        if self.channel != "letter":
            return super()._channel_missing()
        missing = []
        if is_html_empty(self.letter_body):
            missing.append(self.env._("a text for the letter"))
        missing += self._missing_placeholders(self.letter_body, self.env._("the letter"))
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() == "install":
            missing.append(
                self.env._("the PDF converter wkhtmltopdf on the server (ask your administrator to install it)")
            )
        return missing

    def _channel_dispatch(self, run, touchpoints):
        if self.channel != "letter":
            return super()._channel_dispatch(run, touchpoints)
        # the letters can show each contact's landing page address, like the emails
        report = self.env["report.campaign_manager.report_campaign_letter"].with_context(
            campaign_landing_campaign_id=run.campaign_id.id
        )
        report._campaign_print_batch(run.with_env(report.env), touchpoints.with_env(report.env))

    def _channel_finish(self, run):
        if self.channel != "letter":
            return super()._channel_finish(run)
        self.env["report.campaign_manager.report_campaign_letter"]._campaign_bind_run(run)

    @api.model
    def _channel_audience_rules(self, channel, action=None):
        if channel != "letter":
            return super()._channel_audience_rules(channel, action=action)
        partners = self.env["res.partner"]
        return {
            "address": SQL("p.id::varchar"),
            # a person without a full postal address is written to at their company's address
            "no_address": SQL(
                "(%s AND NOT EXISTS (SELECT 1 FROM res_partner co WHERE co.id = p.parent_id AND NOT %s))",
                partners._campaign_incomplete_address_sql("p"),
                partners._campaign_incomplete_address_sql("co"),
            ),
            "blacklisted": SQL("FALSE"),
            "opt_out": True,
        }


class CampaignTouchpoint(models.Model):
    _inherit = "campaign.touchpoint"

    # Letters: where the printed letter of the contact is (pages of the run's PDF once complete)
    letter_attachment_id = fields.Many2one(
        "ir.attachment",
        string="Letter PDF",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="PDF holding the letter of this contact: the run's PDF once all its letters are printed.",
    )
    letter_page_from = fields.Integer(string="From Page", readonly=True, help="First page of the letter in its PDF.")
    letter_page_to = fields.Integer(string="To Page", readonly=True, help="Last page of the letter in its PDF.")
    letter_reference = fields.Char(
        compute="_compute_letter_reference", help="Reference printed on the letter, to find the contact again."
    )

    def _compute_letter_reference(self):
        for touchpoint in self:
            touchpoint.letter_reference = f"{LETTER_REFERENCE_PREFIX}{touchpoint.id}" if touchpoint.id else False

    def _letter_addressee(self):
        """Contact whose name and postal address head the letter (the contact reached)."""
        self.ensure_one()
        return self.partner_id

    def action_open_letter(self):
        """Open the PDF holding the contact's letter, at its first page."""
        self.ensure_one()
        if not self.letter_attachment_id:
            raise UserError(self.env._("The letter of %(contact)s is not printed yet.", contact=self.partner_id.name))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.letter_attachment_id.id}#page={self.letter_page_from or 1}",
            "target": "new",
        }
