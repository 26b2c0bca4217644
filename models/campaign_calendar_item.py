from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

CALENDAR_ITEM_KINDS = [
    ("social", "Social post"),
    ("sms", "SMS"),
    ("reminder", "Reminder"),
]

SOCIAL_NETWORKS = [
    ("facebook", "Facebook"),
    ("linkedin", "LinkedIn"),
    ("instagram", "Instagram"),
    ("x", "X"),
    ("other", "Other"),
]

CALENDAR_ITEM_STATES = [
    ("draft", "Draft"),
    ("scheduled", "Scheduled"),
    ("published", "Published"),
    ("cancelled", "Cancelled"),
]


class CampaignCalendarItem(models.Model):
    """Something planned on the campaign calendar that is not an action (seed 004): a social post,
    an SMS sent by other means, a reminder. It may belong to a campaign or to none."""

    _name = "campaign.calendar.item"
    _description = "Campaign Calendar Item"
    _inherit = ["mail.thread", "mail.activity.mixin", "campaign.access.mixin"]
    _order = "date_start, id"
    _check_company_auto = True

    name = fields.Char(string="Title", required=True, tracking=True)
    kind = fields.Selection(selection=CALENDAR_ITEM_KINDS, required=True, default="social", tracking=True)
    network = fields.Selection(
        selection=SOCIAL_NETWORKS,
        help="Social network the post is published on.",
    )
    text = fields.Text(help="Text of the post or of the SMS, or what the reminder is about.")
    date_start = fields.Datetime(string="Date", required=True, default=fields.Datetime.now, tracking=True)
    date_stop = fields.Datetime(
        string="End",
        compute="_compute_date_stop",
        store=True,
        readonly=False,
        precompute=True,
        help="End on the calendar (half an hour after the date unless set).",
    )
    state = fields.Selection(
        selection=CALENDAR_ITEM_STATES, string="Status", required=True, default="draft", tracking=True, copy=False
    )
    campaign_id = fields.Many2one(
        "campaign.campaign",
        index="btree_not_null",
        check_company=True,
        tracking=True,
        help="Campaign the item belongs to, if any. Items without a campaign are seen by every "
        "campaign user of the company.",
    )
    user_id = fields.Many2one(
        "res.users", string="Responsible", default=lambda self: self.env.user, tracking=True, check_company=True
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        compute="_compute_company_id",
        store=True,
        readonly=False,
        precompute=True,
        index=True,
    )
    color = fields.Integer(compute="_compute_color")

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("date_start")
    def _compute_date_stop(self):
        for item in self:
            if item.date_start and (not item.date_stop or item.date_stop < item.date_start):
                item.date_stop = item.date_start + timedelta(minutes=30)

    @api.depends("campaign_id")
    def _compute_company_id(self):
        for item in self:
            if item.campaign_id:
                item.company_id = item.campaign_id.company_id
            elif not item.company_id:
                item.company_id = self.env.company

    @api.depends("kind")
    def _compute_color(self):
        colors = {"social": 4, "sms": 2, "reminder": 3}
        for item in self:
            item.color = colors.get(item.kind, 0)

    # ------------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------------
    @api.constrains("kind", "network")
    def _check_network(self):
        for item in self:
            if item.kind == "social" and not item.network:
                raise ValidationError(
                    self.env._("Say on which network the social post “%(name)s” is published.", name=item.name)
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    def _creation_message(self):
        # one translatable sentence, in the creator's language (see campaign.campaign)
        return self.env._("Calendar item created")

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_schedule(self):
        self._set_state("scheduled", ("draft",))

    def action_publish(self):
        self._set_state("published", ("draft", "scheduled"))

    def action_cancel(self):
        self._set_state("cancelled", ("draft", "scheduled"))

    def action_set_draft(self):
        self._set_state("draft", ("scheduled", "cancelled"))

    def _set_state(self, state, allowed_from):
        labels = dict(self._fields["state"]._description_selection(self.env))
        wrong = self.filtered(lambda item: item.state not in allowed_from)
        if wrong:
            raise UserError(
                self.env._(
                    "“%(name)s” cannot go from “%(old)s” to “%(new)s”.",
                    name=wrong[0].name,
                    old=labels[wrong[0].state],
                    new=labels[state],
                )
            )
        self.write({"state": state})
