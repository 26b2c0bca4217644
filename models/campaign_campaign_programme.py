from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import ValidationError


class CampaignCampaign(models.Model):
    """Programmes: a campaign may have a parent campaign (a programme, e.g. "Spring2027" with its
    email, letter and web campaigns), which shows the budgets, costs, revenue, ROI and lift of its
    campaigns rolled up with its own."""

    _inherit = "campaign.campaign"

    parent_id = fields.Many2one(
        "campaign.campaign",
        string="Programme",
        index="btree_not_null",
        tracking=True,
        check_company=True,
        ondelete="restrict",
        help="The programme this campaign is part of: a campaign grouping campaigns, which shows their "
        "budgets, costs, revenue, ROI and lift rolled up.",
    )
    child_ids = fields.One2many("campaign.campaign", "parent_id", string="Campaigns of the Programme")
    programme_campaign_count = fields.Integer(
        string="Campaigns",
        compute="_compute_programme",
        help="Campaigns of the programme, those of its sub-programmes included, that you can see.",
    )
    programme_budget = fields.Monetary(
        compute="_compute_programme",
        help="Budget of this campaign plus the budgets of the programme's campaigns you can see.",
    )
    programme_cost_actual = fields.Monetary(
        string="Programme Actual Cost",
        compute="_compute_programme",
        help="Actual cost of this campaign plus those of the programme's campaigns (each as on its own form).",
    )
    programme_revenue = fields.Monetary(
        compute="_compute_programme",
        help="Revenue of this campaign plus those of the programme's campaigns (each as on its own form).",
    )
    programme_roi = fields.Float(
        string="Programme ROI (%)",
        compute="_compute_programme",
        digits=(16, 2),
        help="(programme revenue - programme actual cost) / programme actual cost × 100 (0 without cost).",
    )
    programme_lift_treated_count = fields.Integer(
        string="Programme Treated Contacts",
        compute="_compute_programme",
        help="Treated contacts of the campaigns that hold contacts out, pooled: a contact treated by two "
        "campaigns counts in each, with the conversion of that campaign's period.",
    )
    programme_lift_holdout_count = fields.Integer(
        string="Programme Held-out Contacts",
        compute="_compute_programme",
        help="Held-out contacts of the campaigns, pooled the same way.",
    )
    programme_lift_rate_difference = fields.Float(
        string="Programme Conversion Lift (points)",
        compute="_compute_programme",
        help="Conversion of the pooled treated contacts minus that of the pooled held-out contacts, in "
        "percentage points, with the Wald method's 95 % interval as on each campaign.",
    )
    programme_lift_rate_ci_low = fields.Float(
        string="Programme Conversion Lift, 95 % Low", compute="_compute_programme"
    )
    programme_lift_rate_ci_high = fields.Float(
        string="Programme Conversion Lift, 95 % High", compute="_compute_programme"
    )
    programme_lift_revenue_difference = fields.Monetary(
        string="Programme Revenue Lift per Contact",
        compute="_compute_programme",
        help="Revenue per pooled treated contact minus revenue per pooled held-out contact.",
    )
    programme_lift_significance = fields.Selection(
        selection=lambda self: self._fields["lift_significance"]._description_selection(self.env),
        compute="_compute_programme",
    )

    @api.constrains("parent_id")
    def _check_parent_id(self):
        if self._has_cycle():
            raise ValidationError(
                self.env._(
                    "A programme cannot be one of its own campaigns: choose as programme of %(names)s a "
                    "campaign that is not among its campaigns.",
                    names=", ".join(self.filtered("parent_id").mapped("name")),
                )
            )

    def _compute_programme(self):
        """Each campaign's own figures plus those of the campaigns under it (at every level) that the
        user can see: one search for the whole tree, the figures of all its campaigns computed at
        once, and the lift's groups read once for the programmes (a campaign alone has its own)."""
        campaigns = self.filtered("id")
        members = self.search([("id", "child_of", campaigns.ids)]) if campaigns else self.browse()
        by_id = {member.id: member for member in members}
        children = defaultdict(list)
        for member in members:
            children[member.parent_id.id].append(member)
        trees = {}
        for campaign in self:
            tree, todo = [], [by_id[campaign.id]] if campaign.id in by_id else []
            while todo:
                member = todo.pop()
                tree.append(member)
                todo.extend(children.get(member.id, ()))
            trees[campaign] = tree
        pooled = [member for tree in trees.values() if len(tree) > 1 for member in tree]
        lift = self.browse(list({member.id for member in pooled}))._lift_figures() if pooled else {}
        lift_names = [name for name in self._fields if name.startswith("programme_lift_")]
        percent = self.env["campaign.analysis.report"]._percent
        for campaign, tree in trees.items():
            cost = sum(member.cost_actual for member in tree)
            revenue = sum(member.revenue for member in tree)
            if len(tree) > 1:
                lift_values = self._lift_values(
                    self._lift_pool(lift, tree, "treated"),
                    self._lift_pool(lift, tree, "holdout"),
                    prefix="programme_lift_",
                )
            else:
                own = tree[0] if tree else campaign
                lift_values = {name: own[name.replace("programme_", "", 1)] for name in lift_names}
            campaign.update(
                {
                    "programme_campaign_count": max(len(tree) - 1, 0),
                    "programme_budget": sum(member.budget for member in tree) if tree else campaign.budget,
                    "programme_cost_actual": cost,
                    "programme_revenue": revenue,
                    "programme_roi": percent(revenue - cost, cost),
                    **lift_values,
                }
            )

    @api.model
    def _lift_pool(self, figures, campaigns, group):
        """One group of ``_lift_figures`` pooled over ``campaigns``: contacts and converted summed,
        the mean weighted by contacts, the sample variance from the groups' sums of squares."""
        parts = [figures[c.id][group] for c in campaigns if group in figures.get(c.id, {})]
        count = sum(part[0] for part in parts)
        if not count:
            return None
        mean = sum(part[0] * part[2] for part in parts) / count
        squares = sum((part[0] - 1) * part[3] + part[0] * (part[2] - mean) ** 2 for part in parts)
        return count, sum(part[1] for part in parts), mean, squares / (count - 1) if count > 1 else 0.0

    def action_view_programme_campaigns(self):
        """The campaigns of the programme (all levels); a campaign created there joins it."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_campaign_action")
        action.update(
            name=self.env._("Campaigns of %(programme)s", programme=self.name),
            domain=[("id", "child_of", self.ids), ("id", "!=", self.id)],
            context={"default_parent_id": self.id, "search_default_group_programme": 1},
        )
        return action
