import math

from odoo import api, fields, models
from odoo.tools import SQL

from ..const import CARRIED_STATES, LIFT_MIN_GROUP

# 95 % two-sided quantile of the normal distribution
Z95 = 1.96


class CampaignCampaign(models.Model):
    """The lift of a hold-out group: the contacts reached (treated) against the contacts held out,
    their conversion rate and their invoiced revenue per contact over the campaign's period."""

    _inherit = "campaign.campaign"

    lift_treated_count = fields.Integer(
        string="Treated Contacts", compute="_compute_lift", help="Contacts reached by at least one action."
    )
    lift_holdout_count = fields.Integer(
        string="Held-out Contacts",
        compute="_compute_lift",
        help="Contacts held out of the campaign's actions and reached by none of them.",
    )
    lift_treated_rate = fields.Float(
        string="Treated Conversion (%)",
        compute="_compute_lift",
        help="Share of the treated contacts whose company (commercial partner) has a net posted customer "
        "invoice (invoices minus credit notes, untaxed) dated in the campaign's period: from its start "
        "date (else its first touchpoint) to its end date (else today).",
    )
    lift_holdout_rate = fields.Float(
        string="Held-out Conversion (%)", compute="_compute_lift", help="The same for the held-out contacts."
    )
    lift_rate_difference = fields.Float(
        string="Conversion Lift (points)",
        compute="_compute_lift",
        help="Treated conversion minus held-out conversion, in percentage points.",
    )
    lift_rate_ci_low = fields.Float(
        string="Conversion Lift, 95 % Low",
        compute="_compute_lift",
        help="95 % confidence interval of the difference of proportions, Wald method: "
        "p1 - p2 ± 1.96 × sqrt(p1(1 - p1)/n1 + p2(1 - p2)/n2), in percentage points.",
    )
    lift_rate_ci_high = fields.Float(
        string="Conversion Lift, 95 % High", compute="_compute_lift", help="Upper bound of the interval."
    )
    lift_revenue_treated = fields.Monetary(
        string="Revenue per Treated Contact",
        compute="_compute_lift",
        currency_field="lift_currency_id",
        help="Net untaxed invoiced amount in the company's currency over the period, per treated contact.",
    )
    lift_revenue_holdout = fields.Monetary(
        string="Revenue per Held-out Contact",
        compute="_compute_lift",
        currency_field="lift_currency_id",
        help="The same per held-out contact.",
    )
    lift_revenue_difference = fields.Monetary(
        string="Revenue Lift per Contact",
        compute="_compute_lift",
        currency_field="lift_currency_id",
        help="Revenue per treated contact minus revenue per held-out contact. Its 95 % interval, Welch's "
        "method: difference ± 1.96 × sqrt(s1²/n1 + s2²/n2), s being the sample standard deviations.",
    )
    lift_revenue_ci_low = fields.Monetary(
        string="Revenue Lift, 95 % Low", compute="_compute_lift", currency_field="lift_currency_id"
    )
    lift_revenue_ci_high = fields.Monetary(
        string="Revenue Lift, 95 % High", compute="_compute_lift", currency_field="lift_currency_id"
    )
    lift_currency_id = fields.Many2one("res.currency", related="company_id.currency_id", string="Company Currency")
    lift_significance = fields.Selection(
        selection=[
            ("significant", "Significant"),
            ("not_significant", "Not significant yet"),
            ("too_few", "Not enough contacts yet"),
        ],
        string="Conversion Lift Significance",
        compute="_compute_lift",
        help="Significant when the 95 % interval of the conversion lift excludes 0; not enough contacts "
        "yet while either group has fewer than 30 contacts.",
    )

    @api.depends("holdout_share", "date_start", "date_end")
    def _compute_lift(self):
        figures = self._lift_figures()
        for campaign in self:
            groups = figures.get(campaign.id, {})
            campaign.update(self._lift_values(groups.get("treated"), groups.get("holdout")))

    @api.model
    def _lift_values(self, treated, holdout, prefix="lift_"):
        """The lift fields' values (named ``prefix`` + the name after ``lift_``) of two groups,
        each (contacts, converted, mean revenue, sample variance of revenue) or None when empty."""
        treated = treated or (0, 0, 0.0, 0.0)
        holdout = holdout or (0, 0, 0.0, 0.0)
        n1, n2 = treated[0], holdout[0]
        p1 = treated[1] / n1 if n1 else 0.0
        p2 = holdout[1] / n2 if n2 else 0.0
        margin = Z95 * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2) if n1 and n2 else 0.0
        revenue = treated[2] - holdout[2]
        revenue_margin = Z95 * math.sqrt(treated[3] / n1 + holdout[3] / n2) if n1 and n2 else 0.0
        if min(n1, n2) < LIFT_MIN_GROUP:
            significance = "too_few"
        elif p1 - p2 - margin > 0 or p1 - p2 + margin < 0:
            significance = "significant"
        else:
            significance = "not_significant"
        values = {
            "treated_count": n1,
            "holdout_count": n2,
            "treated_rate": 100 * p1,
            "holdout_rate": 100 * p2,
            "rate_difference": 100 * (p1 - p2),
            "rate_ci_low": 100 * (p1 - p2 - margin),
            "rate_ci_high": 100 * (p1 - p2 + margin),
            "revenue_treated": treated[2],
            "revenue_holdout": holdout[2],
            "revenue_difference": revenue,
            "revenue_ci_low": revenue - revenue_margin,
            "revenue_ci_high": revenue + revenue_margin,
            "significance": significance,
        }
        return {prefix + name: value for name, value in values.items() if prefix + name in self._fields}

    def _lift_figures(self):
        """{campaign id: {group: (contacts, converted, mean revenue, sample variance of revenue)}},
        in one statement for the campaigns that hold contacts out (theirs or their actions'): the
        others have no group to compare, and the form need not read their touchpoints for it. Raw
        SQL over the invoices: the figures are aggregates a campaign's reader (accountants included)
        may see, whatever their rights on the invoices themselves."""
        campaigns = self.filtered(lambda c: c.id and (c.holdout_share or any(c.action_ids.mapped("holdout_share"))))
        if not campaigns:
            return {}
        self.env.flush_all()
        # Each contact's amount is one join over the invoices of the period: a subquery per
        # contact let PostgreSQL recompute the period (a scan of all the members) for each one,
        # which never ended at 100,000 contacts.
        self.env.cr.execute(
            SQL(
                """
                WITH members AS MATERIALIZED (
                    SELECT tp.campaign_id, tp.partner_id,
                           -- a contact held out of one action but reached by another is treated
                           CASE WHEN bool_or(tp.state IN %(carried)s) THEN 'treated' ELSE 'holdout' END AS grp,
                           MIN(tp.date_planned)::date AS first_date
                      FROM campaign_touchpoint tp
                     WHERE tp.campaign_id IN %(campaigns)s
                       AND (tp.exclusion_reason = 'held_out' OR tp.state IN %(carried)s)
                  GROUP BY tp.campaign_id, tp.partner_id
                ),
                periods AS MATERIALIZED (
                    SELECT c.id AS campaign_id, c.company_id,
                           COALESCE(c.date_start, f.first_date) AS date_from,
                           COALESCE(c.date_end, %(today)s) AS date_to
                      FROM campaign_campaign c
                 LEFT JOIN (SELECT campaign_id, MIN(first_date) AS first_date FROM members GROUP BY campaign_id) f
                        ON f.campaign_id = c.id
                     WHERE c.id IN %(campaigns)s
                ),
                revenue AS (
                    SELECT m.campaign_id, m.grp, m.partner_id, COALESCE(SUM(am.amount_untaxed_signed), 0) AS amount
                      FROM members m
                      JOIN res_partner p ON p.id = m.partner_id
                      JOIN periods pe ON pe.campaign_id = m.campaign_id
                 LEFT JOIN account_move am ON am.commercial_partner_id = p.commercial_partner_id
                                          AND am.company_id = pe.company_id AND am.state = 'posted'
                                          AND am.move_type IN ('out_invoice', 'out_refund')
                                          AND am.invoice_date BETWEEN pe.date_from AND pe.date_to
                  GROUP BY m.campaign_id, m.grp, m.partner_id
                )
                SELECT campaign_id, grp, COUNT(*), COUNT(*) FILTER (WHERE amount > 0),
                       AVG(amount), COALESCE(VAR_SAMP(amount), 0)
                  FROM revenue GROUP BY campaign_id, grp
                """,
                campaigns=tuple(campaigns.ids),
                carried=CARRIED_STATES,
                today=fields.Date.context_today(self),
            )
        )
        figures = {}
        for campaign_id, group, count, converted, mean, variance in self.env.cr.fetchall():
            figures.setdefault(campaign_id, {})[group] = (count, converted, float(mean), float(variance))
        return figures
