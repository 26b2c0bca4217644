from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .campaign_campaign import KPI_MAX


class CampaignKpiChoice(models.Model):
    """A figure a user highlights at the top of every campaign (seed 004: "Affichez jusqu'à quatre
    indicateurs à la fois"). Kept per user, at most four."""

    _name = "campaign.kpi.choice"
    _description = "Campaign KPI Chosen by a User"
    _inherit = ["campaign.access.mixin"]
    _order = "user_id, sequence, id"
    _campaign_self_fields = frozenset({"user_id"})

    user_id = fields.Many2one(
        "res.users", required=True, default=lambda self: self.env.user, ondelete="cascade", index=True
    )
    sequence = fields.Integer(default=10)
    metric = fields.Selection(selection="_selection_metric", required=True)

    _user_metric_uniq = models.Constraint("UNIQUE(user_id, metric)", "Each figure is chosen once.")

    @api.model
    def _selection_metric(self):
        return [(key, label) for key, label, _field, _kind in self.env["campaign.campaign"]._kpi_metrics()]

    @api.constrains("user_id")
    def _check_max_per_user(self):
        groups = self._read_group([("user_id", "in", self.user_id.ids)], ["user_id"], ["__count"])
        for user, count in groups:
            if count > KPI_MAX:
                raise ValidationError(
                    self.env._(
                        "%(user)s chose %(count)s figures: highlight at most %(max)s at a time.",
                        user=user.name,
                        count=count,
                        max=KPI_MAX,
                    )
                )

    @api.model
    def _user_keys(self):
        """Keys of the metrics the current user chose, in their order."""
        return self.search([("user_id", "=", self.env.uid)]).mapped("metric")
