"""The web link channel: tracked links placed outside (a partner's blog, an ad, a QR code on a
flyer). It reaches no contact of the targets (see ``AUDIENCE_LESS_CHANNELS``): its runs carry
nothing out, its results are its clicks and what they bring."""

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CampaignAction(models.Model):
    _inherit = "campaign.action"

    channel = fields.Selection(selection_add=[("weblink", "Web link")], ondelete={"weblink": "cascade"})
    weblink_ids = fields.One2many("campaign.weblink", "action_id", string="Web Links", copy=True)
    weblink_count = fields.Integer(string="Web Links Count", compute="_compute_weblink_count")

    def _compute_weblink_count(self):
        groups = self.env["campaign.weblink"]._read_group([("action_id", "in", self.ids)], ["action_id"], ["__count"])
        counts = {action.id: count for action, count in groups}
        for action in self:
            action.weblink_count = counts.get(action.id, 0)

    @api.constrains("channel")
    def _check_weblinks_channel(self):
        for action in self:
            if action.channel != "weblink" and action.weblink_ids:
                raise ValidationError(
                    self.env._(
                        "The action “%(name)s” has tracked web links: it must stay a web link action.",
                        name=action.name,
                    )
                )

    def action_view_weblinks(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_weblink_action")
        action["domain"] = [("action_id", "=", self.id)]
        action["context"] = {"default_action_id": self.id}
        return action

    def _default_medium(self):
        if self.channel != "weblink":
            return super()._default_medium()
        return self.env.ref("campaign_manager.utm_medium_weblink", raise_if_not_found=False)

    def _channel_can_run(self):
        return self.channel == "weblink" or super()._channel_can_run()

    def _channel_dispatch(self, run, touchpoints):
        """Web links reach no contact: their runs have no touchpoint to carry out."""
        if self.channel != "weblink":
            return super()._channel_dispatch(run, touchpoints)
        return None
