from odoo import api, fields, models
from odoo.tools import SQL

from ..const import CARRIED_STATES

# Address fields a printed letter needs (the state is optional in most countries).
LETTER_ADDRESS_FIELDS = ("street", "zip", "city", "country_id")


class ResPartner(models.Model):
    _name = "res.partner"
    _inherit = ["res.partner", "campaign.access.mixin"]

    campaign_touchpoint_ids = fields.One2many(
        "campaign.touchpoint", "partner_id", string="Campaign Touchpoints", readonly=True
    )
    campaign_touchpoint_count = fields.Integer(
        string="Campaign Touchpoints Count",
        compute="_compute_campaign_touchpoint_count",
        groups="campaign_manager.group_campaign_user",
    )
    campaign_landing_url = fields.Char(
        string="Personal Page Address",
        compute="_compute_campaign_landing_url",
        groups="campaign_manager.group_campaign_user",
        help="Address of the contact's personal landing page in the campaign being sent (the latest "
        "one outside a campaign). Put {{ object.campaign_landing_url }} in an email or a letter.",
    )

    def _compute_campaign_touchpoint_count(self):
        groups = self.env["campaign.touchpoint"]._read_group(
            [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.campaign_touchpoint_count = counts.get(partner.id, 0)

    @api.depends_context("campaign_landing_campaign_id")
    def _compute_campaign_landing_url(self):
        """The page address of the contact's latest online landing touchpoint, in the campaign of
        the context key ``campaign_landing_campaign_id`` when set (campaign emails set it)."""
        campaign_id = self.env.context.get("campaign_landing_campaign_id")
        urls = {}
        partner_ids = tuple(pid for pid in self.ids if pid)
        if partner_ids:
            self.env.cr.execute(
                SQL(
                    """SELECT partner_id, id FROM campaign_touchpoint
                        WHERE partner_id IN %s AND channel = 'landing' AND landing_token IS NOT NULL
                          AND state IN %s %s
                        ORDER BY id DESC""",
                    partner_ids,
                    CARRIED_STATES,
                    SQL("AND campaign_id = %s", campaign_id) if campaign_id else SQL(),
                )
            )
            rows = self.env.cr.fetchall()
            # the address is a visitor's credential: only of the touchpoints the user may read (the
            # rules keep other users' personal campaigns and other companies out), the latest one
            touchpoints = self.env["campaign.touchpoint"].browse({tp_id for _partner_id, tp_id in rows})
            readable = set(touchpoints._filtered_access("read").ids)
            latest = {}
            for partner_id, tp_id in rows:
                if tp_id in readable:
                    latest.setdefault(partner_id, tp_id)
            # the key of a page is read as superuser once the rules have chosen the touchpoints
            pages = self.env["campaign.touchpoint"].sudo().browse(list(latest.values()))
            by_id = {touchpoint.id: touchpoint.landing_url for touchpoint in pages}
            urls = {partner_id: by_id[tp_id] for partner_id, tp_id in latest.items()}
        for partner in self:
            partner.campaign_landing_url = urls.get(partner.id, False)

    @api.model
    def mail_allowed_qweb_expressions(self):
        # the page address may be placed in emails and letters by users who are not template editors
        return (*super().mail_allowed_qweb_expressions(), "object.campaign_landing_url")

    def action_view_campaign_touchpoints(self):
        """The contact's touchpoints (all campaigns): what the campaigns did with them, exportable."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_touchpoint_action")
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"search_default_group_campaign": 1}
        return action

    @api.model
    def _campaign_incomplete_address_sql(self, alias):
        """SQL condition, true when the res_partner row ``alias`` lacks a field of a postal address.

        :param str alias: alias of a res_partner row in the query
        """
        return SQL(
            "(COALESCE(%(a)s.street, '') = '' OR COALESCE(%(a)s.city, '') = '' OR COALESCE(%(a)s.zip, '') = '' "
            "OR %(a)s.country_id IS NULL)",
            a=SQL.identifier(alias),
        )

    def _campaign_has_letter_address(self):
        self.ensure_one()
        return all(self[field] for field in LETTER_ADDRESS_FIELDS)

    def _campaign_letter_address(self):
        """The contact whose postal address a campaign letter to ``self`` is sent to: ``self`` when
        its address is complete, else its company (parent) when the company's is, else ``self``
        (such a contact is excluded from letters with the reason "no usable address").

        :return: res.partner record
        """
        self.ensure_one()
        parent = self.parent_id
        if not self._campaign_has_letter_address() and parent and parent._campaign_has_letter_address():
            return parent
        return self

    def _campaign_letter_address_block(self):
        """Lines of the address block of a letter to ``self``: the contact's name, their company's
        name for a contact person, then the postal address (``_campaign_letter_address``) formatted
        the way its country writes addresses.

        :return: str with one line per row of the block
        """
        self.ensure_one()
        address = self._campaign_letter_address()
        lines = [self.name or ""]
        company_name = self.commercial_company_name if self.commercial_partner_id != self else False
        if company_name:
            lines.append(company_name)
        lines += [line for line in address._display_address(without_company=True).split("\n") if line.strip()]
        return "\n".join(lines)
