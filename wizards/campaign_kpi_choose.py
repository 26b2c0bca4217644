from odoo import api, fields, models


class CampaignKpiChoose(models.TransientModel):
    """Choose the (up to four) figures shown at the top of every campaign, for oneself."""

    _name = "campaign.kpi.choose"
    _description = "Choose Campaign KPIs"
    _inherit = ["campaign.access.mixin"]

    metric_1 = fields.Selection(
        selection="_selection_metric", string="First Figure", default=lambda self: self._default_metric(0)
    )
    metric_2 = fields.Selection(
        selection="_selection_metric", string="Second Figure", default=lambda self: self._default_metric(1)
    )
    metric_3 = fields.Selection(
        selection="_selection_metric", string="Third Figure", default=lambda self: self._default_metric(2)
    )
    metric_4 = fields.Selection(
        selection="_selection_metric", string="Fourth Figure", default=lambda self: self._default_metric(3)
    )

    @api.model
    def _selection_metric(self):
        return self.env["campaign.kpi.choice"]._selection_metric()

    @api.model
    def _default_metric(self, index):
        keys = [key for key, _label, _field, _kind in self.env["campaign.campaign"]._kpi_user_metrics()]
        return keys[index] if index < len(keys) else False

    def action_save(self):
        """Replace the current user's choice by the figures of the wizard, in their order (blanks
        and repeats skipped)."""
        self.ensure_one()
        keys = list(dict.fromkeys(key for key in (self.metric_1, self.metric_2, self.metric_3, self.metric_4) if key))
        choices = self.env["campaign.kpi.choice"]
        choices.search([("user_id", "=", self.env.uid)]).unlink()
        choices.create([{"user_id": self.env.uid, "sequence": index, "metric": key} for index, key in enumerate(keys)])
        return {"type": "ir.actions.client", "tag": "soft_reload"}
