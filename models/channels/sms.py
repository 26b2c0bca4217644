"""The SMS channel: a text with placeholders (or an SMS template of contacts), sent through SMS
Marketing: one SMS mailing per run, whose traces carry the touchpoints."""

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..mailing_mailing import CAMPAIGN_MAILING_CONTEXT

# Texts of the action rendered per contact by the scheduler (placeholders checked like Odoo's templates).
SMS_CONTENT_FIELDS = {"sms_body", "sms_template_id"}


class CampaignAction(models.Model):
    _inherit = "campaign.action"

    channel = fields.Selection(selection_add=[("sms", "SMS")], ondelete={"sms": "cascade"})
    # SMS content, sent through SMS Marketing: a text with placeholders, or an SMS template.
    sms_template_id = fields.Many2one(
        "sms.template",
        string="SMS Template",
        domain="[('model', '=', 'res.partner')]",
        help="Start from an SMS template of contacts; its text can then be adapted.",
    )
    sms_body = fields.Text(
        string="SMS Text",
        compute="_compute_sms_body",
        store=True,
        readonly=False,
        precompute=True,
        help="Text of the SMS. Placeholders such as {{ object.name }} are replaced for each contact.",
    )
    # Not named like SMS Marketing's sms_allow_unsubscribe: its SMS widget reads a field of that name on
    # any record and then needs what only mailings give it, which broke this form.
    sms_opt_out_link = fields.Boolean(
        string="Include Opt-out Link",
        default=True,
        help="Add a “STOP SMS” link: a contact who follows it is blacklisted and their touchpoint "
        "is marked unsubscribed.",
    )

    @api.depends("sms_template_id")
    def _compute_sms_body(self):
        for action in self:
            if action.sms_template_id:
                action.sms_body = action.sms_template_id.body

    @api.constrains("sms_template_id")
    def _check_sms_template(self):
        for action in self:
            if action.sms_template_id and action.sms_template_id.model != "res.partner":
                raise ValidationError(
                    self.env._(
                        "The SMS template “%(template)s” is written for %(model)s: choose a template of contacts.",
                        template=action.sms_template_id.name,
                        model=action.sms_template_id.model_id.name,
                    )
                )

    def _content_fields(self):
        return super()._content_fields() | SMS_CONTENT_FIELDS

    def _content_has_code(self, render):
        # the text of an SMS template is checked by the template itself
        sms_body = self.sms_body if self.sms_body != self.sms_template_id.body else False
        return super()._content_has_code(render) or render._has_unsafe_expression_template_inline_template(
            sms_body, "res.partner"
        )

    def _journey_test_deliver(self, test):
        if self.channel != "sms":
            return super()._journey_test_deliver(test)
        return test._send_test_sms(self, test._render_text_for_contact(self.sms_body))

    def _default_medium(self):
        if self.channel != "sms":
            return super()._default_medium()
        return self.env.ref("mass_mailing_sms.utm_medium_sms", raise_if_not_found=False)

    def _channel_can_run(self):
        return self.channel == "sms" or super()._channel_can_run()

    def _channel_missing(self):
        if self.channel != "sms":
            return super()._channel_missing()
        if not (self.sms_body or "").strip():
            return [self.env._("an SMS text: write it or choose an SMS template")]
        return []

    def _channel_dispatch(self, run, touchpoints):
        """SMS go the same way as emails: the run's SMS mailing queues them (sms.sms records,
        sent by the SMS queue), its traces carry the touchpoints."""
        if self.channel != "sms":
            return super()._channel_dispatch(run, touchpoints)
        self.env["mailing.mailing"]._campaign_send(run, touchpoints)

    @api.model
    def _channel_audience_rules(self, channel, action=None):
        if channel != "sms":
            return super()._channel_audience_rules(channel, action=action)
        return {
            "address": SQL("p.phone_sanitized"),
            "no_address": SQL("p.phone_sanitized IS NULL"),
            "blacklisted": SQL(
                "EXISTS (SELECT 1 FROM phone_blacklist bl WHERE bl.number = p.phone_sanitized AND bl.active)"
            ),
            "opt_out": True,
        }


class MailingMailing(models.Model):
    _inherit = "mailing.mailing"

    @api.model
    def _campaign_make_run_mailing(self, run, variant, values):
        """The SMS mailing of an SMS run: the action's text, its template and its opt-out link."""
        action = run.action_id
        if action.channel != "sms":
            return super()._campaign_make_run_mailing(run, variant, values)
        values["mailing_type"] = "sms"
        values.update(
            {
                "subject": action.name,
                "body_plaintext": action.sms_body,
                "sms_template_id": action.sms_template_id.id,
                "sms_allow_unsubscribe": action.sms_opt_out_link,
                # the touchpoints are the history of what each contact received: no chatter note
                "keep_archives": False,
                "sms_force_send": False,
            }
        )
        return self.with_context(**CAMPAIGN_MAILING_CONTEXT).create(values)

    def _campaign_queue(self, res_ids):
        if self.mailing_type != "sms":
            return super()._campaign_queue(res_ids)
        # what SMS Marketing's "Send" does for these contacts, without its campaign guard
        composer = self.env["sms.composer"].with_context(active_id=False)
        composer.create(self._send_sms_get_composer_values(res_ids))._action_send_sms()


class CampaignTouchpoint(models.Model):
    _inherit = "campaign.touchpoint"

    @api.model
    def _campaign_mark_sms_unsubscribed(self, traces):
        """Recipients opted out through the “STOP SMS” link of a campaign SMS (trace already
        checked by SMS Marketing): the touchpoints of those traces become unsubscribed, once."""
        if not traces:
            return
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint SET state = 'unsubscribed', date_unsubscribed = %s
                    WHERE mailing_trace_id IN %s
                      AND state NOT IN ('failed', 'excluded', 'cancelled', 'unsubscribed')""",
                fields.Datetime.now(),
                tuple(traces.ids),
            )
        )
        self.invalidate_model(["state", "date_unsubscribed"])
