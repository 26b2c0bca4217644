from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import plaintext2html

# Touchpoints in these states still wait for their outcome: recording one updates them.
WAITING_STATES = ("planned", "queued", "sent")


class CampaignTouchpointRecord(models.TransientModel):
    """Record by hand the outcome of a call, a visit or any touchpoint of an action: the fields of
    its touchpoint type, its status, a note, and the follow-up activity of the type."""

    _name = "campaign.touchpoint.record"
    _description = "Record a Touchpoint Outcome"
    _inherit = ["campaign.access.mixin"]

    touchpoint_id = fields.Many2one(
        "campaign.touchpoint",
        help="Touchpoint whose outcome is recorded; found from the action and the contact when empty.",
    )
    campaign_id = fields.Many2one(
        "campaign.campaign",
        required=True,
        compute="_compute_from_touchpoint",
        store=True,
        readonly=False,
        precompute=True,
        domain="[('state', 'not in', ('draft', 'cancelled'))]",
    )
    action_id = fields.Many2one(
        "campaign.action",
        required=True,
        compute="_compute_from_touchpoint",
        store=True,
        readonly=False,
        precompute=True,
        domain="[('campaign_id', '=', campaign_id), ('channel', 'not in', ('weblink',))]",
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        required=True,
        compute="_compute_from_touchpoint",
        store=True,
        readonly=False,
        precompute=True,
    )
    type_id = fields.Many2one(
        "campaign.touchpoint.type",
        string="Touchpoint Type",
        compute="_compute_type_id",
        store=True,
        readonly=False,
        precompute=True,
    )
    activity_type_id = fields.Many2one(related="type_id.activity_type_id", string="Follow-up Activity")
    outcome = fields.Properties(definition="type_id.outcome_definition")
    state = fields.Selection(
        selection=[("done", "Done"), ("replied", "Replied"), ("converted", "Converted")],
        string="Result",
        required=True,
        default="done",
        help="Done: the call or visit took place. Replied: the contact answered. Converted: the "
        "contact bought, signed up or agreed.",
    )
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    note = fields.Text(string="Notes")
    schedule_follow_up = fields.Boolean(
        string="Schedule the Follow-up",
        compute="_compute_schedule_follow_up",
        store=True,
        readonly=False,
        precompute=True,
        help="Schedule the follow-up activity of the touchpoint type on the contact.",
    )
    follow_up_user_id = fields.Many2one(
        "res.users",
        string="Follow-up By",
        compute="_compute_follow_up_user_id",
        store=True,
        readonly=False,
        precompute=True,
    )

    @api.depends("touchpoint_id")
    def _compute_from_touchpoint(self):
        for wizard in self:
            if wizard.touchpoint_id:
                wizard.campaign_id = wizard.touchpoint_id.campaign_id
                wizard.action_id = wizard.touchpoint_id.action_id
                wizard.partner_id = wizard.touchpoint_id.partner_id

    @api.depends("action_id", "touchpoint_id")
    def _compute_type_id(self):
        for wizard in self:
            wizard.type_id = wizard.touchpoint_id.type_id or wizard.action_id.touchpoint_type_id

    @api.depends("type_id")
    def _compute_schedule_follow_up(self):
        for wizard in self:
            wizard.schedule_follow_up = bool(wizard.type_id.activity_type_id)

    @api.depends("action_id")
    def _compute_follow_up_user_id(self):
        for wizard in self:
            wizard.follow_up_user_id = wizard.action_id.user_id or wizard.campaign_id.user_id or self.env.user

    @api.constrains("touchpoint_id", "campaign_id", "action_id")
    def _check_access_campaign(self):
        # constraints run as superuser: the user's own rights decide, so that a wizard never shows nor
        # works on a record its user may not read
        self.touchpoint_id.sudo(False).check_access("read")
        self.campaign_id.sudo(False).check_access("read")
        self.action_id.sudo(False).check_access("read")

    @api.onchange("campaign_id")
    def _onchange_campaign_id(self):
        if self.action_id.campaign_id != self.campaign_id:
            self.action_id = False

    @api.model
    def _action_open(self, context=None):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Record Outcome"),
            "res_model": self._name,
            "view_mode": "form",
            "target": "new",
            "context": context or {},
        }

    def action_record(self):
        """Write the outcome on the touchpoint (the one waiting for it, or a new one recorded by
        hand), then schedule the follow-up activity.

        :return: action opening the touchpoint
        """
        self.ensure_one()
        if self.action_id.campaign_id != self.campaign_id:
            raise UserError(self.env._("The action must belong to the chosen campaign."))
        if self.action_id.audience_less:
            raise UserError(
                self.env._(
                    "This action reaches no contact (a web link, or one task for the action): there is no "
                    "outcome to record."
                )
            )
        type_error = self.action_id._touchpoint_type_error(self.type_id)
        if type_error:
            raise UserError(type_error)
        touchpoint = self._touchpoint_to_record()
        if touchpoint.partner_id != self.partner_id or touchpoint.action_id != self.action_id:
            raise UserError(self.env._("The touchpoint does not belong to this action and contact."))
        values = {
            "state": self.state,
            "date_done": touchpoint.date_done or self.date,
            "note": self.note or touchpoint.note,
            "recorded_by_id": self.env.uid,
        }
        if self.state == "replied":
            values["date_replied"] = self.date
        elif self.state == "converted":
            values["date_converted"] = self.date
        if self.type_id:
            values["type_id"] = self.type_id.id
            values["outcome"] = self.outcome
        touchpoint.write(values)
        if self.schedule_follow_up and self.type_id.activity_type_id:
            self._schedule_follow_up(touchpoint)
        return {
            "type": "ir.actions.act_window",
            "res_model": "campaign.touchpoint",
            "res_id": touchpoint.id,
            "view_mode": "form",
            "views": [(False, "form")],
        }

    def _touchpoint_to_record(self):
        """The touchpoint given, else the latest one of the action and contact still waiting for its
        outcome, else a new touchpoint recorded by hand. Those get run number 0, then -1, -2...:
        runs of the action are numbered from 1."""
        self.ensure_one()
        if self.touchpoint_id:
            return self.touchpoint_id
        touchpoints = self.env["campaign.touchpoint"].search(
            [("action_id", "=", self.action_id.id), ("partner_id", "=", self.partner_id.id)],
            order="run_number desc, id desc",
        )
        waiting = touchpoints.filtered(lambda tp: tp.state in WAITING_STATES)
        if waiting:
            return waiting[0]
        run_number = min([0] + [tp.run_number - 1 for tp in touchpoints if tp.run_number <= 0])
        return self.env["campaign.touchpoint"].create(
            {
                "action_id": self.action_id.id,
                "partner_id": self.partner_id.id,
                "run_number": run_number,
                "date_planned": self.date,
            }
        )

    def _schedule_follow_up(self, touchpoint):
        touchpoint_type = self.type_id
        summary = touchpoint_type.activity_summary or self.env._(
            "%(campaign)s: follow up %(type)s", campaign=self.campaign_id.name, type=touchpoint_type.name
        )
        # the note is html: the names are text
        note = plaintext2html(
            self.env._(
                "Outcome of “%(action)s” (campaign %(campaign)s) recorded on %(date)s.",
                action=self.action_id.name,
                campaign=self.campaign_id.name,
                date=fields.Date.to_string(fields.Date.context_today(self, self.date)),
            )
        )
        # An activity on the contact does not change the contact: campaign users record follow-ups on
        # contacts they may only read.
        self.partner_id.sudo().activity_schedule(
            activity_type_id=touchpoint_type.activity_type_id.id,
            date_deadline=fields.Date.context_today(self, self.date) + timedelta(days=touchpoint_type.activity_delay),
            summary=summary,
            note=note,
            user_id=self.follow_up_user_id.id,
        )
