from odoo import api, fields, models
from odoo.tools import SQL


class CampaignTouchpointType(models.Model):
    """Kind of touchpoint an action records for each contact (seed 001's "type de pièce dossier"):
    the free fields to fill in when its outcome is recorded (answer, next step, amount promised...)
    and the follow-up activity to schedule then."""

    _name = "campaign.touchpoint.type"
    _description = "Touchpoint Type"
    _inherit = ["campaign.access.mixin", "campaign.archive.mixin"]
    _order = "sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", index="btree_not_null", help="Leave empty to share the type between companies."
    )
    channel = fields.Selection(
        selection=lambda self: self.env["campaign.action"]._selection_channel(),
        help="Channel of the actions that may use this type; empty for every channel.",
    )
    description = fields.Text(translate=True, help="What is recorded with this type, for the users.")
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Follow-up Activity",
        ondelete="restrict",
        help="Activity scheduled for the action's responsible, on the contact, when an outcome is recorded.",
    )
    activity_delay = fields.Integer(
        string="Follow-up After (Days)", default=3, help="Days between the outcome and the follow-up activity."
    )
    activity_summary = fields.Char(string="Follow-up Summary", translate=True, help="e.g. Send the brochure")
    outcome_definition = fields.PropertiesDefinition(string="Fields to Fill")
    # The type's form shows its fields as on a touchpoint, where they can be added and changed:
    # a properties field needs a container record, here the type itself.
    self_id = fields.Many2one("campaign.touchpoint.type", string="Fields Container", readonly=True, copy=False)
    outcome_preview = fields.Properties(
        string="Fields",
        definition="self_id.outcome_definition",
        copy=False,
        help="The fields users fill in when they record an outcome of this type: add them with "
        "Add Property; values typed here are only a preview.",
    )
    action_count = fields.Integer(string="Actions Count", compute="_compute_action_count")

    _activity_delay_positive = models.Constraint(
        "CHECK(activity_delay >= 0)", "The delay of a follow-up activity cannot be negative."
    )

    def _compute_action_count(self):
        groups = self.env["campaign.action"]._read_group(
            [("touchpoint_type_id", "in", self.ids)], ["touchpoint_type_id"], ["__count"]
        )
        counts = {touchpoint_type.id: count for touchpoint_type, count in groups}
        for touchpoint_type in self:
            touchpoint_type.action_count = counts.get(touchpoint_type.id, 0)

    @api.model_create_multi
    def create(self, vals_list):
        types = super().create(vals_list)
        if not types:
            return types
        # every type is its own container (see self_id); one statement for the batch
        self.env.cr.execute(SQL("UPDATE campaign_touchpoint_type SET self_id = id WHERE id IN %s", tuple(types.ids)))
        types.invalidate_recordset(["self_id", "outcome_preview"])
        return types

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        for touchpoint_type, vals in zip(self, vals_list, strict=True):
            vals["name"] = self.env._("%(name)s (copy)", name=touchpoint_type.name)
        return vals_list

    def action_view_actions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_action_action")
        action["domain"] = [("touchpoint_type_id", "=", self.id)]
        action["view_mode"] = "list,form"
        action["views"] = [(False, "list"), (False, "form")]
        return action
