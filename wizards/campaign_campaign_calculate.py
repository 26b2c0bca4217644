from odoo import api, fields, models
from odoo.exceptions import UserError

from ..const import AUDIENCE_LESS_CHANNELS


class CampaignCampaignCalculate(models.TransientModel):
    """The *Calculate* figures (seed 003): how many contacts a campaign's targets really reach on a
    channel, after de-duplication across targets and after the exclusions, each with its reason."""

    _name = "campaign.campaign.calculate"
    _description = "Campaign Audience Calculation"
    _inherit = ["campaign.access.mixin", "campaign.audience.breakdown.mixin"]

    campaign_id = fields.Many2one("campaign.campaign", required=True, ondelete="cascade")
    action_id = fields.Many2one(
        "campaign.action",
        domain="[('campaign_id', '=', campaign_id)]",
        help='Calculate for this action\'s targets, channel and "once per contact" option.',
    )
    channel = fields.Selection(
        selection=lambda self: self.env["campaign.action"]._selection_channel(),
        required=True,
        compute="_compute_channel",
        store=True,
        readonly=False,
        precompute=True,
    )
    audience_less = fields.Boolean(
        string="Reaches No Contact",
        readonly=True,
        help="The channel reaches no contact of the targets (web links): nothing to count.",
    )

    @api.depends("campaign_id", "action_id")
    def _compute_channel(self):
        for wizard in self:
            if wizard.action_id:
                wizard.channel = wizard.action_id.channel
            elif not wizard.channel:
                # the channel the campaign's Reachable Now is counted for, so that both figures match
                wizard.channel = wizard.campaign_id._audience_default_channel() if wizard.campaign_id else "email"

    @api.constrains("campaign_id", "action_id")
    def _check_access_campaign(self):
        # constraints run as superuser: the user's own rights decide, so that a wizard never shows nor
        # works on a record its user may not read
        self.campaign_id.sudo(False).check_access("read")
        self.action_id.sudo(False).check_access("read")

    @api.model_create_multi
    def create(self, vals_list):
        wizards = super().create(vals_list)
        wizards._calculate()
        return wizards

    def action_calculate(self):
        self._calculate()
        return self._action_open()

    def _calculate(self):
        for wizard in self:
            targets = wizard.action_id._effective_targets() if wizard.action_id else wizard.campaign_id.target_ids
            if not targets and wizard.channel not in AUDIENCE_LESS_CHANNELS:
                raise UserError(
                    self.env._(
                        "The campaign %(campaign)s has no target yet: add the contacts to reach (Targets tab), "
                        "then calculate.",
                        campaign=wizard.campaign_id.name,
                    )
                )
            if wizard.action_id:
                stats = wizard.action_id._audience_stats()
            else:
                stats = wizard.campaign_id._resolve_recipients(wizard.channel)
            wizard.write(
                wizard._audience_breakdown_values(stats) | {"audience_less": stats.get("audience_less", False)}
            )

    def _action_open(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Calculate"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
