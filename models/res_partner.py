from odoo import fields, models


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

    def _compute_campaign_touchpoint_count(self):
        groups = self.env["campaign.touchpoint"]._read_group(
            [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
        )
        counts = {partner.id: count for partner, count in groups}
        for partner in self:
            partner.campaign_touchpoint_count = counts.get(partner.id, 0)

    def action_view_campaign_touchpoints(self):
        """The contact's touchpoints (all campaigns): what the campaigns did with them, exportable."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_touchpoint_action")
        action["domain"] = [("partner_id", "=", self.id)]
        action["context"] = {"search_default_group_campaign": 1}
        return action
