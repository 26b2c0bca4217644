from odoo import api, fields, models
from odoo.exceptions import UserError

from ..const import AUDIENCE_LESS_CHANNELS


class CampaignCampaignCalculate(models.TransientModel):
    """The *Calculate* figures (seed 003): how many contacts a campaign's targets really reach on a
    channel, after de-duplication across targets and after the exclusions, each with its reason."""

    _name = "campaign.campaign.calculate"
    _description = "Campaign Audience Calculation"
    _inherit = ["campaign.access.mixin"]

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
    total = fields.Integer(
        string="Found in Targets",
        readonly=True,
        help="Contacts found by each target, added up: a contact found by two targets counts twice.",
    )
    duplicates = fields.Integer(
        string="Duplicates Removed", readonly=True, help="Contacts found in several targets, kept once."
    )
    excluded_archived = fields.Integer(string="Archived", readonly=True)
    excluded_no_address = fields.Integer(string="No Usable Address", readonly=True)
    excluded_blacklisted = fields.Integer(string="Blacklisted", readonly=True)
    excluded_opted_out = fields.Integer(string="Opted Out", readonly=True)
    excluded_already_reached = fields.Integer(string="Already Reached", readonly=True)
    excluded_duplicate = fields.Integer(
        string="Same Address",
        readonly=True,
        help="Different contacts sharing one email address or phone number: one is kept.",
    )
    final = fields.Integer(
        string="Reachable Now",
        readonly=True,
        help="Distinct contacts the campaign can reach right now on this channel: found in the targets, "
        "counted once, the excluded ones left out. The campaign's Reachable Now is this figure.",
    )
    excluded_total = fields.Integer(
        string="Excluded", readonly=True, help="Distinct contacts left out, whatever the reason (detailed below)."
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
            excluded = stats["excluded"]
            wizard.write(
                {
                    "total": stats["total"],
                    "duplicates": stats["duplicates"],
                    "excluded_archived": excluded.get("archived", 0),
                    "excluded_no_address": excluded.get("no_address", 0),
                    "excluded_blacklisted": excluded.get("blacklisted", 0),
                    "excluded_opted_out": excluded.get("opted_out", 0),
                    "excluded_already_reached": excluded.get("already_reached", 0),
                    "excluded_duplicate": excluded.get("duplicate", 0),
                    "excluded_total": sum(excluded.values()),
                    "final": stats["final"],
                    "audience_less": stats.get("audience_less", False),
                }
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
