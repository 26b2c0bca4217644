from odoo import api, fields, models
from odoo.tools import SQL

from ..const import ENROLMENT_STATES, TRIGGER_TYPES
from .campaign_target import EXCLUSION_REASONS


class CampaignEnrolment(models.Model):
    """One contact in the journey of a campaign: when and why they entered it (a trigger), the step
    they reached, and whether they are still in it, reached its goal or left it.

    Enrolments are made in SQL only (``_enrol``), by the triggers' hooks on Odoo's models and the
    signed webhook route, one row per campaign and contact (re-entries update it); the engine then
    moves them from step to step in batches (models/campaign_journey.py)."""

    _name = "campaign.enrolment"
    _description = "Campaign Journey Enrolment"
    _inherit = ["campaign.access.mixin"]
    _order = "date_enrolled desc, id desc"
    _rec_name = "partner_id"
    _check_company_auto = True

    campaign_id = fields.Many2one(
        "campaign.campaign", required=True, readonly=True, ondelete="cascade", check_company=True
    )
    company_id = fields.Many2one(related="campaign_id.company_id")
    partner_id = fields.Many2one("res.partner", string="Contact", required=True, readonly=True, ondelete="cascade")
    trigger_id = fields.Many2one(
        "campaign.trigger", readonly=True, ondelete="set null", help="What enrolled the contact last."
    )
    cause = fields.Selection(
        selection=TRIGGER_TYPES, string="Entered By", required=True, readonly=True, help="The kind of event."
    )
    cause_ref = fields.Char(
        string="Cause", readonly=True, help="The record or message that enrolled the contact (order, list, delivery)."
    )
    delivery_ref = fields.Char(
        string="Delivery", readonly=True, help="Delivery id of the webhook call that enrolled the contact."
    )
    date_enrolled = fields.Datetime(string="Entered On", required=True, readonly=True)
    entry_count = fields.Integer(string="Entries", default=1, readonly=True, help="Times the contact entered.")
    state = fields.Selection(
        selection=ENROLMENT_STATES, string="Status", required=True, default="active", readonly=True
    )
    exit_reason = fields.Selection(
        selection=EXCLUSION_REASONS, readonly=True, help="Why the contact left the journey before its goal."
    )
    date_exited = fields.Datetime(string="Left On", readonly=True)
    date_converted = fields.Datetime(string="Goal Reached On", readonly=True)
    step_action_id = fields.Many2one(
        "campaign.action", string="Last Step", readonly=True, ondelete="set null", help="The last step generated."
    )
    touchpoint_id = fields.Many2one("campaign.touchpoint", string="Last Touchpoint", readonly=True, ondelete="set null")
    date_step = fields.Datetime(string="Last Step On", readonly=True)

    _campaign_partner_uniq = models.Constraint(
        "UNIQUE(campaign_id, partner_id)", "A contact is enrolled once per campaign (a re-entry updates it)."
    )
    _delivery_uniq = models.UniqueIndex("(campaign_id, delivery_ref) WHERE delivery_ref IS NOT NULL")
    # the due contacts of each step, read at each pass of the job (models/campaign_journey.py)
    _entry_due_idx = models.Index("(campaign_id, date_enrolled) WHERE state = 'active' AND step_action_id IS NULL")
    _step_due_idx = models.Index("(step_action_id, date_step) WHERE state = 'active'")

    @api.model
    def _enrol(self, rows):
        """Enrol contacts in the active campaigns, in one statement, and return the ids of the
        enrolments made or renewed. A contact already in the campaign's journey is left alone unless
        the campaign lets contacts in again after some days and that many days have passed since
        their last entry (``journey_reentry``): the enrolment then starts again from the first step.

        :param SQL rows: query of (campaign_id, trigger_id, partner_id, cause, cause_ref,
            delivery_ref) rows; several rows for one campaign and contact count once
        :return: list of (enrolment id, campaign id, partner id)
        """
        now = fields.Datetime.now()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO campaign_enrolment (
                    campaign_id, trigger_id, partner_id, cause, cause_ref, delivery_ref, date_enrolled,
                    entry_count, state, create_uid, create_date, write_uid, write_date)
                SELECT DISTINCT ON (r.campaign_id, r.partner_id)
                       r.campaign_id, r.trigger_id, r.partner_id, r.cause, r.cause_ref, r.delivery_ref, %(now)s,
                       1, 'active', %(uid)s, %(now)s, %(uid)s, %(now)s
                  FROM (%(rows)s) AS r(campaign_id, trigger_id, partner_id, cause, cause_ref, delivery_ref)
                  JOIN campaign_campaign c ON c.id = r.campaign_id AND c.state = 'active'
                  JOIN res_partner p ON p.id = r.partner_id
                 ORDER BY r.campaign_id, r.partner_id, r.trigger_id
                ON CONFLICT (campaign_id, partner_id) DO UPDATE
                   SET trigger_id = EXCLUDED.trigger_id, cause = EXCLUDED.cause, cause_ref = EXCLUDED.cause_ref,
                       delivery_ref = EXCLUDED.delivery_ref, date_enrolled = EXCLUDED.date_enrolled,
                       entry_count = campaign_enrolment.entry_count + 1, state = 'active', exit_reason = NULL,
                       date_exited = NULL, date_converted = NULL, step_action_id = NULL, touchpoint_id = NULL,
                       date_step = NULL, write_uid = EXCLUDED.write_uid, write_date = EXCLUDED.write_date
                 WHERE campaign_enrolment.date_enrolled <= EXCLUDED.date_enrolled - (
                       SELECT make_interval(days => c.journey_reentry_days) FROM campaign_campaign c
                        WHERE c.id = campaign_enrolment.campaign_id AND c.journey_reentry = 'after')
                RETURNING id, campaign_id, partner_id
                """,
                rows=rows,
                now=now,
                uid=self.env.uid,
            )
        )
        enrolled = self.env.cr.fetchall()
        if enrolled:
            self.invalidate_model()
            self.env["campaign.engine"]._trigger()
        return enrolled
