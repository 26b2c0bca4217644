from odoo import api, models


class AccountAnalyticPlan(models.Model):
    _inherit = "account.analytic.plan"

    @api.model
    def _campaign_plan(self):
        """The "Campaigns" analytic plan holding one analytic account per campaign."""
        plan = self.env.ref("campaign_manager.analytic_plan_campaigns", raise_if_not_found=False)
        if not plan:
            plan = self.sudo().create({"name": self.env._("Campaigns")})  # plans are set up by admins
        return plan

    @api.model
    def _campaign_plan_column(self):
        """Column of analytic items (and projects) holding the Campaigns plan's accounts, or None
        while the plan is not created yet (during the installation)."""
        plan = self.env.ref("campaign_manager.analytic_plan_campaigns", raise_if_not_found=False)
        return plan.sudo()._column_name() if plan else None
