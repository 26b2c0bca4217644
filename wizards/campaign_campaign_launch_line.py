from odoo import api, fields, models


class CampaignCampaignLaunchLine(models.TransientModel):
    _name = "campaign.campaign.launch.line"
    _description = "Audience of an Action at Launch"
    _inherit = ["campaign.access.mixin"]

    wizard_id = fields.Many2one("campaign.campaign.launch", required=True, ondelete="cascade")
    action_id = fields.Many2one("campaign.action", readonly=True)
    channel = fields.Selection(related="action_id.channel")
    total = fields.Integer(
        string="Found in Targets",
        readonly=True,
        help="Contacts found by each of the action's targets, added up: a contact found by two targets counts twice.",
    )
    duplicates = fields.Integer(
        string="Duplicates Removed", readonly=True, help="Contacts found in several targets, kept once."
    )
    excluded = fields.Integer(
        readonly=True,
        help="Distinct contacts left out: archived, without usable address, blacklisted, opted out, already "
        "reached, or sharing an address with another contact (Calculate shows each reason).",
    )
    final = fields.Integer(
        string="Reachable Now", readonly=True, help="Distinct contacts the action can reach right now."
    )

    @api.constrains("wizard_id", "action_id")
    def _check_access_campaign(self):
        # constraints run as superuser: the user's own rights decide, so that a wizard never shows nor
        # works on a record its user may not read
        self.wizard_id.sudo(False).check_access("read")
        self.action_id.sudo(False).check_access("read")
