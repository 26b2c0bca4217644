from odoo import api, fields, models
from odoo.tools import SQL

from .campaign_touchpoint import CARRIED_STATES


class ResPartner(models.Model):
    _inherit = "res.partner"

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
                    """SELECT DISTINCT ON (partner_id) partner_id, id FROM campaign_touchpoint
                        WHERE partner_id IN %s AND channel = 'landing' AND landing_token IS NOT NULL
                          AND state IN %s %s
                        ORDER BY partner_id, id DESC""",
                    partner_ids,
                    CARRIED_STATES,
                    SQL("AND campaign_id = %s", campaign_id) if campaign_id else SQL(),
                )
            )
            rows = dict(self.env.cr.fetchall())
            # the page address is read for contacts the user may already read
            touchpoints = self.env["campaign.touchpoint"].sudo().browse(list(rows.values()))
            by_id = {touchpoint.id: touchpoint.landing_url for touchpoint in touchpoints}
            urls = {partner_id: by_id[tp_id] for partner_id, tp_id in rows.items()}
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
