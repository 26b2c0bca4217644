from odoo import models
from odoo.tools import SQL


class SaleOrder(models.Model):
    """A confirmed order enrols its customer in the journeys listening to orders (of a product or
    a category, or any), and takes them out of the journeys whose goal is an order."""

    _inherit = "sale.order"

    def action_confirm(self):
        result = super().action_confirm()
        confirmed = self.filtered(lambda order: order.state == "sale")
        if confirmed:
            confirmed._campaign_journeys()
        return result

    def _campaign_journeys(self):
        """Set-based: the goals first (an order made in a journey is its conversion), then the
        entries (an order that enrols is not the goal of the journey it starts)."""
        self.env["campaign.enrolment"]._reach_goals("order", self.partner_id.ids)
        self.env.flush_all()
        self.env["campaign.trigger"]._enrol_matching(
            "sale_order",
            SQL(
                """SELECT t.id, so.partner_id, so.name
                     FROM sale_order so
                     JOIN campaign_trigger t ON t.trigger_type = 'sale_order' AND t.company_id = so.company_id
                    WHERE so.id IN %s
                      AND (t.sale_filter = 'any'
                           OR (t.sale_filter = 'product' AND EXISTS (
                                   SELECT 1 FROM sale_order_line l
                                    WHERE l.order_id = so.id AND l.product_id = t.product_id))
                           OR (t.sale_filter = 'category' AND EXISTS (
                                   SELECT 1 FROM sale_order_line l
                                     JOIN product_product pp ON pp.id = l.product_id
                                     JOIN product_template pt ON pt.id = pp.product_tmpl_id
                                     JOIN product_category pc ON pc.id = pt.categ_id
                                     JOIN product_category tc ON tc.id = t.product_category_id
                                    WHERE l.order_id = so.id AND pc.parent_path LIKE tc.parent_path || '%%')))""",
                tuple(self.ids),
            ),
        )
