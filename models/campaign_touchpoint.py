from odoo import api, fields, models
from odoo.tools import SQL, email_normalize

from ..const import CARRIED_STATES, RESPONDED_CONDITION
from .campaign_target import EXCLUSION_REASONS

# Cursor cache of the touchpoints' status groups, by reader and campaigns (see _status_groups).
_STATUS_MEMO = "campaign_manager.touchpoint_status_groups"

TOUCHPOINT_STATES = [
    ("planned", "Planned"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("done", "Done"),
    ("opened", "Opened"),
    ("clicked", "Clicked"),
    ("replied", "Replied"),
    ("converted", "Converted"),
    ("bounced", "Bounced"),
    ("unsubscribed", "Unsubscribed"),
    ("failed", "Failed"),
    ("excluded", "Excluded"),
    ("cancelled", "Cancelled"),
]


class CampaignTouchpoint(models.Model):
    _name = "campaign.touchpoint"
    _description = "Campaign Touchpoint"
    _inherit = ["campaign.access.mixin"]
    # what carried the touchpoint out is the engine's; an outcome is recorded by whoever records it
    _campaign_engine_fields = frozenset({"run_id", "mailing_id", "mailing_trace_id", "res_model", "res_id"})
    _campaign_self_fields = frozenset({"recorded_by_id"})
    _order = "id desc"
    _rec_name = "partner_id"
    _check_company_auto = True

    # Touchpoints are inserted by the hundred thousand (one INSERT ... SELECT per run), and
    # PostgreSQL checks every foreign key of every row: what the action says for all its
    # touchpoints (company, currency) is read through it, not stored; the action and the run are
    # found through the unique constraint's and the (run, state) index's leading columns, without
    # indexes of their own to maintain.
    action_id = fields.Many2one("campaign.action", required=True, ondelete="restrict", check_company=True)
    campaign_id = fields.Many2one("campaign.campaign", string="Campaign", related="action_id.campaign_id", store=True)
    company_id = fields.Many2one(related="action_id.company_id")
    currency_id = fields.Many2one(related="action_id.currency_id")
    partner_id = fields.Many2one("res.partner", string="Contact", required=True, ondelete="restrict", index=True)
    channel = fields.Selection(string="Channel", related="action_id.channel", store=True)
    run_id = fields.Many2one(
        "campaign.action.run",
        ondelete="restrict",
        help="Run of the action that created this touchpoint.",
    )
    run_number = fields.Integer(
        default=1,
        required=True,
        help="Run of the action that created this touchpoint (1 for the first).",
    )
    state = fields.Selection(selection=TOUCHPOINT_STATES, string="Status", required=True, default="planned", index=True)
    exclusion_reason = fields.Selection(
        selection=EXCLUSION_REASONS,
        readonly=True,
        help="Why the contact, found in the targets, was not reached by this run.",
    )
    date_planned = fields.Datetime(string="Planned On", default=fields.Datetime.now)
    date_dispatched = fields.Datetime(
        string="Dispatched On",
        readonly=True,
        help="When the engine handed the touchpoint over to its channel (counts for the sending limits).",
    )
    attempt_count = fields.Integer(
        string="Attempts", default=0, readonly=True, help="Batches that tried to carry out the touchpoint."
    )
    date_done = fields.Datetime(string="Sent On", help="When the message was sent or the item carried out.")
    date_opened = fields.Datetime(string="Opened On", help="First opening.")
    date_clicked = fields.Datetime(string="Clicked On", help="First click on a tracked link.")
    date_replied = fields.Datetime(string="Replied On")
    date_visited = fields.Datetime(string="First Visit", help="First visit of the personalised landing page.")
    date_last_visited = fields.Datetime(string="Last Visit")
    date_bounced = fields.Datetime(string="Bounced On")
    date_unsubscribed = fields.Datetime(string="Unsubscribed On")
    date_converted = fields.Datetime(string="Converted On", help="When the contact answered, bought or signed up.")
    open_count = fields.Integer(string="Opens", default=0, help="Times the message was opened.")
    click_count = fields.Integer(string="Clicks", default=0, help="Clicks on tracked links.")
    visit_count = fields.Integer(string="Visits", default=0, help="Visits of the personalised landing page.")
    unit_cost = fields.Monetary(currency_field="currency_id", help="Variable cost of the action for this contact.")
    mailing_id = fields.Many2one(
        "mailing.mailing", index="btree_not_null", help="Email or SMS mailing that carried it."
    )
    mailing_trace_id = fields.Many2one("mailing.trace", index="btree_not_null", ondelete="set null")
    mail_server_id = fields.Many2one("ir.mail_server", index="btree_not_null", ondelete="set null", readonly=True)
    res_model = fields.Char(string="Carried by Model", help="Technical name of the record that carried the touchpoint.")
    res_id = fields.Many2oneReference(string="Carried by Record", model_field="res_model")
    failure_reason = fields.Text()
    date_not_before = fields.Datetime(
        string="Not Before",
        readonly=True,
        help="The engine does not carry the touchpoint out before this date (send time of an A/B test combination).",
    )
    # A/B test of an email action
    variant_id = fields.Many2one(
        "campaign.action.variant",
        string="Combination",
        readonly=True,
        index="btree_not_null",
        ondelete="restrict",
        help="A/B test: combination the contact received (the winner for the rest of the contacts).",
    )
    ab_group = fields.Selection(
        selection=[("test", "Test share"), ("rest", "Rest (winner)")],
        string="A/B Group",
        readonly=True,
        help="A/B test: whether the contact is in the test share or receives the winner.",
    )
    ab_hold = fields.Boolean(
        string="Waiting for the Winner",
        readonly=True,
        help="A/B test: the contact receives the winner once it is chosen.",
    )

    next_retry = fields.Datetime(
        string="Next Attempt",
        readonly=True,
        copy=False,
        help="When the call is tried again after the receiver could not be reached or answered with an error.",
    )

    # Outcome recorded by hand (seed 001's "pièce dossier" and its free fields)
    type_id = fields.Many2one(
        "campaign.touchpoint.type",
        compute="_compute_type_id",
        store=True,
        readonly=False,
        precompute=True,
        ondelete="restrict",
        index="btree_not_null",
        help="Touchpoint type of the action: the fields of its outcome.",
    )
    outcome = fields.Properties(
        definition="type_id.outcome_definition",
        copy=False,
        help="Fields of the touchpoint type, filled in when the outcome is recorded.",
    )
    note = fields.Text(string="Notes", help="What happened, in a few words.")
    recorded_by_id = fields.Many2one(
        "res.users", readonly=True, index="btree_not_null", help="Who recorded the outcome."
    )

    _action_run_partner_uniq = models.Constraint(
        "UNIQUE(action_id, run_number, partner_id)",
        "A contact is reached only once per run of an action.",
    )
    _campaign_state_idx = models.Index("(campaign_id, state)")
    _run_state_idx = models.Index("(run_id, state) WHERE run_id IS NOT NULL")
    _mailing_partner_idx = models.Index("(mailing_id, partner_id) WHERE mailing_id IS NOT NULL")
    _run_planned_idx = models.Index("(run_id, id) WHERE state = 'planned'")
    _campaign_dispatched_idx = models.Index("(campaign_id, date_dispatched) WHERE date_dispatched IS NOT NULL")
    _server_dispatched_idx = models.Index("(mail_server_id, date_dispatched) WHERE mail_server_id IS NOT NULL")
    _res_idx = models.Index("(res_id, res_model) WHERE res_id IS NOT NULL")
    # Contacts reached and contacts who responded per campaign (see campaign.analysis.report._read_distinct):
    # counted from these indexes alone, without reading the touchpoints.
    _campaign_reached_idx = models.Index(f"(campaign_id, partner_id) WHERE state IN {CARRIED_STATES}")
    _campaign_responded_idx = models.Index(
        f"(campaign_id, partner_id) WHERE state IN {CARRIED_STATES} AND {RESPONDED_CONDITION}"
    )

    # The campaign's unsubscribed contacts, read by every classification of its audience
    # (campaign.target._classified_sql) from this index alone: read from the table, Roi0's 33,333
    # were 17,241 pages and 60-110 ms of the classification of 100,000 contacts.
    _campaign_unsubscribed_idx = models.Index("(campaign_id, partner_id) WHERE state = 'unsubscribed'")

    def init(self):
        # The analysis sums the touchpoints per action and day (campaign.analysis.report): without
        # these statistics PostgreSQL guesses one group per touchpoint and sorts them all on disk.
        self.env.cr.execute(
            """CREATE STATISTICS IF NOT EXISTS campaign_touchpoint_action_day_stat (ndistinct)
                   ON campaign_id, action_id, ((COALESCE(date_done, date_planned, create_date))::date)
                 FROM campaign_touchpoint"""
        )

    @api.model
    def _status_groups(self, campaigns):
        """[(campaign id, action id, state, exclusion reason, count)] of the touchpoints of
        ``campaigns`` that the reader sees (their rules apply), in one grouped read per transaction
        snapshot: the campaign form's touchpoint count and its journey tree share it (read apart,
        Roi0's 100,000 touchpoints took 0.11 s each at the benchmark's scale). As the audience's
        rows, they are kept only while the transaction has written nothing, so that its own changes
        are always counted (``campaign.target._snapshot_memo``)."""
        ids = sorted(id_ for id_ in campaigns.ids if isinstance(id_, int))  # new records have none
        if not ids:
            return []
        key = (self.env.uid, self.env.su, tuple(self.env.companies.ids), tuple(ids))

        def read():
            groups = self._read_group(
                [("campaign_id", "in", ids)],
                ["campaign_id", "action_id", "state", "exclusion_reason"],
                ["__count"],
            )
            return [(campaign.id, action.id, state, reason, count) for campaign, action, state, reason, count in groups]

        return self.env["campaign.target"]._snapshot_memo(_STATUS_MEMO, key, read)

    @api.depends("action_id")
    def _compute_type_id(self):
        for touchpoint in self:
            touchpoint.type_id = touchpoint.action_id.touchpoint_type_id

    @api.model_create_multi
    def create(self, vals_list):
        actions = self.env["campaign.action"].browse({vals["action_id"] for vals in vals_list if vals.get("action_id")})
        unit_costs = {action.id: action.unit_cost for action in actions}
        types = {action.id: action.touchpoint_type_id.id for action in actions}
        for vals in vals_list:
            vals.setdefault("unit_cost", unit_costs.get(vals.get("action_id"), 0.0))
            # the type must be known before the outcome's properties are read
            vals.setdefault("type_id", types.get(vals.get("action_id"), False))
        return super().create(vals_list)

    def action_record_outcome(self):
        self.ensure_one()
        return self.env["campaign.touchpoint.record"]._action_open({"default_touchpoint_id": self.id})

    def _mark_failed(self, reason):
        """Mark the touchpoints failed with the reason, in the user's language."""
        self.write({"state": "failed", "failure_reason": reason})

    @api.model
    def _campaign_mark_unsubscribed(self, mailing, document_id, email):
        """A recipient unsubscribed from a campaign mailing (token already checked by mass
        mailing): their touchpoints of that mailing become unsubscribed, once (the link used again
        keeps the first date)."""
        if not mailing or not mailing.campaign_action_id:
            return
        try:
            partner_id = int(document_id or 0)
        except (TypeError, ValueError):
            partner_id = 0
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint tp SET state = 'unsubscribed', date_unsubscribed = %(now)s
                    WHERE tp.mailing_id = %(mailing)s
                      AND tp.state NOT IN ('failed', 'excluded', 'cancelled', 'unsubscribed')
                      AND (tp.partner_id = %(partner)s
                           OR tp.partner_id IN (SELECT id FROM res_partner WHERE email_normalized = %(email)s))""",
                now=fields.Datetime.now(),
                mailing=mailing.id,
                partner=partner_id,
                email=email_normalize(email or "") or "",
            )
        )
        self.invalidate_model(["state", "date_unsubscribed"])

    def action_open_record(self):
        self.ensure_one()
        if not self.res_model or not self.res_id:
            return False
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
        }
