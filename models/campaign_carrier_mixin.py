from odoo import fields, models


class CampaignCarrierMixin(models.AbstractModel):
    """Records of Odoo that carry out what a campaign action does (its mailings, the tasks and the
    events it creates): their links to the action and to the run they carried out. The links are
    the engine's own (read-only: users cannot set them, see ``campaign.access.mixin``); a carrier
    may say them its own way (help, groups) by redefining only that."""

    _name = "campaign.carrier.mixin"
    _description = "Campaign Carrier"
    _inherit = ["campaign.access.mixin"]

    campaign_action_id = fields.Many2one(
        "campaign.action",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )
    campaign_run_id = fields.Many2one(
        "campaign.action.run",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )
