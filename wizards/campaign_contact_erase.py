from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL


class CampaignContactErase(models.TransientModel):
    """Erase contacts from campaign records on request (right to erasure): their touchpoints are
    kept for the campaign totals but moved to an anonymous placeholder, and what identified them
    in the records campaigns left (touchpoint notes and recorded outcomes, personal page addresses,
    webhook answers, mailing traces, link clicks) is cleared."""

    _name = "campaign.contact.erase"
    _description = "Erase Contacts from Campaigns"
    _inherit = ["campaign.access.mixin"]

    partner_ids = fields.Many2many(
        "res.partner",
        string="Contacts",
        required=True,
        default=lambda self: self._default_partner_ids(),
    )
    blacklist = fields.Boolean(
        string="Never Contact Again",
        default=True,
        help="Add their email and phone to the blacklists, so that no later campaign reaches them. The "
        "blacklists keep the address only to honour the opt-out.",
    )
    touchpoint_count = fields.Integer(string="Touchpoints", compute="_compute_touchpoint_count")

    @api.model
    def _default_partner_ids(self):
        if self.env.context.get("active_model") == "res.partner":
            return [fields.Command.set(self.env.context.get("active_ids", []))]
        return []

    @api.depends("partner_ids")
    def _compute_touchpoint_count(self):
        for wizard in self:
            wizard.touchpoint_count = self.env["campaign.touchpoint"].search_count(
                [("partner_id", "in", wizard.partner_ids.ids)]
            )

    def action_erase(self):
        self.ensure_one()
        if not self.env.user.has_group("campaign_manager.group_campaign_manager"):
            raise UserError(self.env._("Only campaign managers can erase contacts from campaigns."))
        if not self.partner_ids:
            raise UserError(self.env._("Choose the contacts to erase."))
        if self.blacklist:
            emails = [email for email in self.partner_ids.mapped("email_normalized") if email]
            phones = [phone for phone in self.partner_ids.mapped("phone_sanitized") if phone]
            for email in emails:
                self.env["mail.blacklist"]._add(email)
            if phones:
                # the phone blacklist is admin-only in Odoo; campaign managers honour an opt-out here.
                # phone.blacklist._add takes a list of numbers (mail.blacklist._add takes one email)
                self.env["phone.blacklist"].sudo()._add(phones)
        # placeholders and traces are technical records a manager may not own: checked above
        placeholders = (
            self.env["res.partner"]
            .sudo()
            .create([{"name": self.env._("Anonymised contact"), "active": False} for _partner in self.partner_ids])
        )
        self.env.flush_all()
        for partner, placeholder in zip(self.partner_ids, placeholders, strict=True):
            self.env.cr.execute(
                SQL(
                    """UPDATE campaign_touchpoint
                          SET partner_id = %(placeholder)s, failure_reason = NULL, note = NULL, outcome = NULL,
                              landing_token = NULL, webhook_response = NULL
                        WHERE partner_id = %(partner)s""",
                    placeholder=placeholder.id,
                    partner=partner.id,
                )
            )
            # in the journeys, the archived placeholder leaves at its next step (excluded as archived)
            self.env.cr.execute(
                SQL(
                    """UPDATE campaign_enrolment SET partner_id = %(placeholder)s, cause_ref = NULL, delivery_ref = NULL
                        WHERE partner_id = %(partner)s""",
                    placeholder=placeholder.id,
                    partner=partner.id,
                )
            )
            self.env.cr.execute(
                SQL(
                    """UPDATE mailing_trace SET res_id = %(placeholder)s, email = NULL
                        WHERE model = 'res.partner' AND res_id = %(partner)s""",
                    placeholder=placeholder.id,
                    partner=partner.id,
                )
            )
            self.env.cr.execute(
                SQL(
                    """UPDATE link_tracker_click SET ip = NULL, country_id = NULL
                        WHERE mailing_trace_id IN (SELECT id FROM mailing_trace WHERE model = 'res.partner'
                                                   AND res_id = %s)""",
                    placeholder.id,
                )
            )
        self.env.invalidate_all()
        for partner in self.partner_ids:
            # recorded on the contact even when the manager may not edit contacts
            partner.sudo().message_post(
                body=self.env._("Erased from the campaigns on request by %(user)s.", user=self.env.user.name),
                author_id=self.env.user.partner_id.id,
            )
        return {"type": "ir.actions.act_window_close"}
