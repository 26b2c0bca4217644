from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools import SQL

from ..const import CARRIED_STATES, GOAL_TYPES


class CampaignCampaign(models.Model):
    _inherit = "campaign.campaign"

    goal_type = fields.Selection(
        selection=GOAL_TYPES,
        string="Goal",
        default="none",
        required=True,
        help="What takes a contact out of the journey as its conversion, once done after their entry: an "
        "order confirmed, a customer invoice paid, an opportunity won, a reply to one of its messages, or "
        "the contact matching a filter. No further step reaches them, and the last step they received "
        "counts as converted.",
    )
    goal_domain = fields.Char(
        string="Goal Filter", default="[]", help="The contacts matching this filter have reached the goal."
    )

    @api.constrains("goal_type", "goal_domain")
    def _check_goal_domain(self):
        for campaign in self.filtered(lambda c: c.goal_type == "domain"):
            # with the rights of the campaign's owner, who applies it (constraints run as superuser)
            error = self.env["campaign.target"]._check_filter(campaign.goal_domain, "res.partner", campaign.user_id)[1]
            if error:
                raise ValidationError(
                    self.env._(
                        "The goal filter of %(campaign)s is not valid: %(error)s", campaign=campaign.name, error=error
                    )
                )

    def _goal_met_sql(self):
        """SQL condition on an enrolment ``e`` (campaign_enrolment) whose contact reached the
        campaign's goal since they entered, or None without a goal."""
        self.ensure_one()
        if self.goal_type == "order":
            return SQL(
                """EXISTS (SELECT 1 FROM sale_order so WHERE so.partner_id = e.partner_id AND so.state = 'sale'
                              AND so.date_order >= e.date_enrolled)"""
            )
        if self.goal_type == "invoice_paid":
            return SQL(
                """EXISTS (SELECT 1 FROM account_move am WHERE am.partner_id = e.partner_id
                              AND am.move_type = 'out_invoice' AND am.payment_state IN ('paid', 'in_payment')
                              AND am.write_date >= e.date_enrolled)"""
            )
        if self.goal_type == "won":
            return SQL(
                """EXISTS (SELECT 1 FROM crm_lead l JOIN crm_stage st ON st.id = l.stage_id AND st.is_won
                            WHERE l.partner_id = e.partner_id AND l.date_closed >= e.date_enrolled)"""
            )
        if self.goal_type == "replied":
            return SQL(
                """EXISTS (SELECT 1 FROM campaign_touchpoint tr WHERE tr.campaign_id = e.campaign_id
                              AND tr.partner_id = e.partner_id AND tr.date_replied >= e.date_enrolled)"""
            )
        if self.goal_type == "domain":
            Target = self.env["campaign.target"]
            domain = Target._check_filter(self.goal_domain, "res.partner", self.user_id)[0]
            if domain is None:
                return None  # a filter its owner can no longer apply reaches nobody
            # the filter applies with the rights of the campaign's owner, as a target's with its author's
            partners = Target._filter_model("res.partner", self.user_id).with_context(active_test=False)
            return SQL("e.partner_id IN (%s)", partners._search(Domain(domain)).select())
        return None


class CampaignEnrolment(models.Model):
    _inherit = "campaign.enrolment"

    @api.model
    def _reach_goals(self, goal_type=None, partner_ids=None, campaigns=None):
        """Take the contacts who reached their journey's goal out of it, as its conversion: the
        enrolment is converted, and the last step they received (if carried out) too. Set-based:
        one statement per campaign whose goal may be met.

        :param str goal_type: only the campaigns of this goal (a hook knows which goal it meets)
        :param list partner_ids: only these contacts (the customer of an order just confirmed...)
        :param campaigns: only these campaigns
        :return: ids of the enrolments converted
        """
        # sudo: called by the hooks of sale, invoicing and CRM for users without campaign rights
        self = self.sudo()
        if partner_ids is not None and not partner_ids:
            return []
        conditions = [SQL("e.state = 'active'"), SQL("c.goal_type != 'none'")]
        if goal_type:
            conditions.append(SQL("c.goal_type = %s", goal_type))
        if partner_ids is not None:
            conditions.append(SQL("e.partner_id IN %s", tuple(partner_ids)))
        if campaigns is not None:
            conditions.append(SQL("e.campaign_id IN %s", tuple(campaigns.ids) or (0,)))
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT DISTINCT e.campaign_id FROM campaign_enrolment e
                     JOIN campaign_campaign c ON c.id = e.campaign_id WHERE %s""",
                SQL(" AND ").join(conditions),
            )
        )
        converted = []
        now = fields.Datetime.now()
        for campaign in self.env["campaign.campaign"].browse(row[0] for row in self.env.cr.fetchall()):
            goal = campaign._goal_met_sql()
            if goal is None:
                continue
            only = SQL("AND e.partner_id IN %s", tuple(partner_ids)) if partner_ids is not None else SQL()
            self.env.cr.execute(
                SQL(
                    """WITH met AS (
                           UPDATE campaign_enrolment e SET state = 'converted', date_converted = %(now)s,
                                  write_date = %(now)s
                            WHERE e.campaign_id = %(campaign)s AND e.state = 'active' %(only)s AND %(goal)s
                        RETURNING e.id, e.touchpoint_id),
                       credited AS (
                           UPDATE campaign_touchpoint tp SET state = 'converted', date_converted = %(now)s
                             FROM met WHERE tp.id = met.touchpoint_id AND tp.state IN %(carried)s
                              AND tp.state NOT IN ('bounced', 'unsubscribed'))
                       SELECT id FROM met""",
                    now=now,
                    campaign=campaign.id,
                    only=only,
                    goal=goal,
                    carried=CARRIED_STATES,
                )
            )
            converted += [row[0] for row in self.env.cr.fetchall()]
        if converted:
            self.invalidate_model()
            self.env["campaign.touchpoint"].invalidate_model(["state", "date_converted"])
        return converted
