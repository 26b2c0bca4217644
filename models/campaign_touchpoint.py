import hashlib
import hmac as hmac_lib
import json
import re
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, consteq, email_normalize, hmac, plaintext2html

from .. import placeholders
from ..webhook import WebhookResponse, WebhookTransportError, WebhookUrlError, post
from .campaign_action import WEBHOOK_PARALLEL
from .campaign_target import EXCLUSION_REASONS

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

# A touchpoint in one of these states was really carried out (sent, printed, created...): it counts
# as a unit of the action's variable cost and as a contact reached.
CARRIED_STATES = ("sent", "done", "opened", "clicked", "replied", "converted", "bounced", "unsubscribed")
# a touchpoint whose contact answered: replied, converted or visited the personal page
RESPONDED_CONDITION = (
    "(state IN ('replied', 'converted') OR date_replied IS NOT NULL "
    "OR date_converted IS NOT NULL OR date_visited IS NOT NULL)"
)
# Printed on each letter before the touchpoint id: finds a letter's first page in a PDF.
LETTER_REFERENCE_PREFIX = "CM-"
# States that do not count as "reached" for the "once per contact" option.
NOT_REACHED_STATES = ("failed", "excluded", "cancelled")

# Landing page addresses: /c/<key><signature>. The key (random, stored on the touchpoint) finds the
# touchpoint; the signature (HMAC of the key with the database secret) lets forged or altered
# addresses be refused in constant time before any lookup.
LANDING_HMAC_SCOPE = "campaign-purl"
# The reply form of a page carries a token signed for that page: a form from another page is refused.
LANDING_FORM_SCOPE = "campaign-purl-form"
LANDING_KEY_BYTES = 24  # 32 URL-safe characters
LANDING_KEY_LENGTH = 32
LANDING_SIGNATURE_LENGTH = 32  # hex characters (128 bits)
LANDING_TOKEN_RE = re.compile(rf"[A-Za-z0-9_-]{{{LANDING_KEY_LENGTH}}}[0-9a-f]{{{LANDING_SIGNATURE_LENGTH}}}")

# Webhooks: first wait before a new attempt (doubled at each attempt, at most WEBHOOK_BACKOFF_MAX).
WEBHOOK_BACKOFF = 60
WEBHOOK_BACKOFF_MAX = 3600
WEBHOOK_RETRY_STATUSES = (408, 425, 429)
WEBHOOK_RESPONSE_CHARS = 2000


def hmac_sha256(secret, body):
    """Hex HMAC-SHA256 of ``body`` (bytes) with ``secret``: the webhook signature."""
    return hmac_lib.new(secret.encode(), body, hashlib.sha256).hexdigest()


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

    # Letters: where the printed letter of the contact is (pages of the run's PDF once complete)
    letter_attachment_id = fields.Many2one(
        "ir.attachment",
        string="Letter PDF",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="PDF holding the letter of this contact: the run's PDF once all its letters are printed.",
    )
    letter_page_from = fields.Integer(string="From Page", readonly=True, help="First page of the letter in its PDF.")
    letter_page_to = fields.Integer(string="To Page", readonly=True, help="Last page of the letter in its PDF.")
    letter_reference = fields.Char(
        compute="_compute_letter_reference", help="Reference printed on the letter, to find the contact again."
    )

    # Landing page (PURL)
    landing_token = fields.Char(
        string="Page Key",
        readonly=True,
        copy=False,
        groups="campaign_manager.group_campaign_user",
        help="Random key of the address of the contact's personal page.",
    )
    landing_url = fields.Char(
        string="Page Address",
        compute="_compute_landing_url",
        groups="campaign_manager.group_campaign_user",
        help="Address of the contact's personal page: whoever has it sees the page, so send it to the contact only.",
    )
    lead_id = fields.Many2one(
        "crm.lead",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="Lead created by the form of the landing page.",
    )

    # Webhook
    webhook_status = fields.Integer(
        string="Answer Status",
        readonly=True,
        help="HTTP status of the receiver's last answer (0 when it could not be reached).",
    )
    webhook_response = fields.Text(
        string="Answer",
        readonly=True,
        help="Start of the receiver's last answer, or why it could not be reached.",
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
    _landing_token_uniq = models.UniqueIndex("(landing_token) WHERE landing_token IS NOT NULL")
    # Contacts reached and contacts who responded per campaign (see campaign.analysis.report._read_distinct):
    # counted from these indexes alone, without reading the touchpoints.
    _campaign_reached_idx = models.Index(f"(campaign_id, partner_id) WHERE state IN {CARRIED_STATES}")
    _campaign_responded_idx = models.Index(
        f"(campaign_id, partner_id) WHERE state IN {CARRIED_STATES} AND {RESPONDED_CONDITION}"
    )

    def init(self):
        # The analysis sums the touchpoints per action and day (campaign.analysis.report): without
        # these statistics PostgreSQL guesses one group per touchpoint and sorts them all on disk.
        self.env.cr.execute(
            """CREATE STATISTICS IF NOT EXISTS campaign_touchpoint_action_day_stat (ndistinct)
                   ON campaign_id, action_id, ((COALESCE(date_done, date_planned, create_date))::date)
                 FROM campaign_touchpoint"""
        )

    @api.depends("landing_token")
    def _compute_landing_url(self):
        for touchpoint in self:
            key = touchpoint.landing_token
            touchpoint.landing_url = (
                f"{touchpoint.get_base_url()}/c/{self._landing_address_token(key)}" if key else False
            )

    def _compute_letter_reference(self):
        for touchpoint in self:
            touchpoint.letter_reference = f"{LETTER_REFERENCE_PREFIX}{touchpoint.id}" if touchpoint.id else False

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

    @api.model
    def _campaign_mark_sms_unsubscribed(self, traces):
        """Recipients opted out through the “STOP SMS” link of a campaign SMS (trace already
        checked by SMS Marketing): the touchpoints of those traces become unsubscribed, once."""
        if not traces:
            return
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint SET state = 'unsubscribed', date_unsubscribed = %s
                    WHERE mailing_trace_id IN %s
                      AND state NOT IN ('failed', 'excluded', 'cancelled', 'unsubscribed')""",
                fields.Datetime.now(),
                tuple(traces.ids),
            )
        )
        self.invalidate_model(["state", "date_unsubscribed"])

    def _letter_addressee(self):
        """Contact whose name and postal address head the letter (the contact reached)."""
        self.ensure_one()
        return self.partner_id

    def action_open_letter(self):
        """Open the PDF holding the contact's letter, at its first page."""
        self.ensure_one()
        if not self.letter_attachment_id:
            raise UserError(self.env._("The letter of %(contact)s is not printed yet.", contact=self.partner_id.name))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.letter_attachment_id.id}#page={self.letter_page_from or 1}",
            "target": "new",
        }

    # ------------------------------------------------------------------
    # LANDING PAGE
    # ------------------------------------------------------------------
    @api.model
    def _landing_signature(self, key):
        # the database secret is read with superuser rights: only the signature leaves this method
        return hmac(self.env(su=True), LANDING_HMAC_SCOPE, key)[:LANDING_SIGNATURE_LENGTH]

    @api.model
    def _landing_address_token(self, key):
        """The token of a page address: the touchpoint's key followed by its signature."""
        return f"{key}{self._landing_signature(key)}"

    def _landing_publish(self):
        """Put the pages of the touchpoints online: each gets its random key (kept when it already
        has one) and becomes 'sent'. One statement for the whole batch; nothing leaves the database,
        so an interrupted batch is simply done again."""
        if not self:
            return
        self.env.flush_all()
        rows = SQL(", ").join(SQL("(%s, %s)", tp_id, secrets.token_urlsafe(LANDING_KEY_BYTES)) for tp_id in self.ids)
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint t
                      SET landing_token = COALESCE(t.landing_token, v.key), state = 'sent', date_done = %(now)s
                     FROM (VALUES %(rows)s) AS v(id, key)
                    WHERE t.id = v.id AND t.state = 'planned'""",
                rows=rows,
                now=fields.Datetime.now(),
            )
        )
        self.invalidate_recordset(["landing_token", "landing_url", "state", "date_done"])

    @api.model
    def _landing_find(self, token):
        """The touchpoint whose page address carries ``token``, or an empty recordset when the
        token is malformed, altered, forged or unknown (the caller answers all of them alike)."""
        return self._landing_find_page(token)[0]

    @api.model
    def _landing_find_page(self, token):
        """(touchpoint, version of its page) for ``token`` (see ``_landing_find``), in one query.
        The version changes whenever what the page shows may change: the action's content, the
        contact, the company, the reply received."""
        if not isinstance(token, str) or not LANDING_TOKEN_RE.fullmatch(token):
            return self.browse(), None
        key, signature = token[:LANDING_KEY_LENGTH], token[LANDING_KEY_LENGTH:]
        if not consteq(signature, self._landing_signature(key)):
            return self.browse(), None
        self.env.cr.execute(
            SQL(
                """SELECT tp.id, tp.landing_token, tp.lead_id, a.landing_version, p.write_date, p.lang, co.write_date
                     FROM campaign_touchpoint tp
                     JOIN campaign_action a ON a.id = tp.action_id
                     JOIN res_partner p ON p.id = tp.partner_id
                     JOIN res_company co ON co.id = a.company_id
                    WHERE tp.landing_token = %s AND tp.channel = 'landing' AND tp.state IN %s""",
                key,
                CARRIED_STATES,
            )
        )
        row = self.env.cr.fetchone()
        if not row or not consteq(row[1], key):
            return self.browse(), None
        return self.browse(row[0]), (self.env.cr.dbname, row[0], *row[2:])

    def _landing_form_token(self):
        """Token of the page's reply form: the form's answer is accepted only with it. Bound to the
        page's key (the visitor's only credential), not to a session: pages need no session, so
        they can be cached and served without writing one per visitor."""
        self.ensure_one()
        # the database secret is read with superuser rights: only the token leaves this method
        return hmac(self.env(su=True), LANDING_FORM_SCOPE, self.sudo().landing_token)[:LANDING_SIGNATURE_LENGTH]

    def _landing_record_visit(self):
        """Count a visit of the page: first and last visit dates, one more visit. One UPDATE that
        adds to the stored count: of two concurrent visits, the second fails to serialize and Odoo
        retries its request (not logged as an error), so every visit is counted."""
        self.ensure_one()
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint
                      SET visit_count = visit_count + 1, date_visited = COALESCE(date_visited, %(now)s),
                          date_last_visited = %(now)s
                    WHERE id = %(id)s""",
                now=now,
                id=self.id,
            ),
            log_exceptions=False,
        )
        self.invalidate_recordset(["visit_count", "date_visited", "date_last_visited"])

    def _landing_render(self):
        """(title, content) of the touchpoint's page, personalised for its contact the way mail
        templates are (``object`` is the contact), in the contact's language."""
        self.ensure_one()
        action = self.action_id
        partner = self.partner_id
        renderer = self.env["mail.render.mixin"].with_context(lang=partner.lang or self.env.context.get("lang"))
        title = renderer._render_template(
            action.landing_title or "", "res.partner", partner.ids, engine="inline_template"
        )[partner.id]
        # {{ object.name }} is replaced in the content as in the title
        allowed = self.env["mailing.mailing"]._campaign_placeholder_allowed
        content = placeholders.to_qweb(action.landing_body or "", allowed)
        body = renderer._render_template(content, "res.partner", partner.ids, engine="qweb")[partner.id]
        return title, body

    def _landing_convert(self, values):
        """Create the lead of a reply to the page's form and mark the touchpoint converted. At most
        one lead per touchpoint: a reply sent again (reload, double click) returns the first lead.

        :param dict values: the checked form values (name, email, phone, message)
        :return: the lead
        """
        self.ensure_one()
        # the row lock makes a concurrent second reply wait, then see the first one's lead
        self.env.cr.execute(SQL("SELECT lead_id FROM campaign_touchpoint WHERE id = %s FOR UPDATE", self.id))
        lead_id = self.env.cr.fetchone()[0]
        if lead_id:
            return self.env["crm.lead"].browse(lead_id)
        lead = self.env["crm.lead"].create(self._landing_lead_values(values))
        self.write({"lead_id": lead.id, "state": "converted", "date_converted": fields.Datetime.now()})
        return lead

    def _landing_lead_values(self, values):
        """Values of the lead of a form reply: the contact, the campaign's UTM campaign, the action's
        source and medium. What the visitor typed goes into the notes only: an anonymous form never
        changes the contact's email or phone (a lead's email and phone are written to its contact)."""
        self.ensure_one()
        action = self.action_id
        campaign = self.campaign_id
        team = campaign.team_id
        lead_model = self.env["crm.lead"]
        if team:
            lead_type = "lead" if team.use_leads else "opportunity"
        else:  # leads are enabled for the company when its users have the group
            lead_type = "lead" if campaign.user_id.has_group("crm.group_use_lead") else "opportunity"
        salesperson = team.user_id if team and not lead_model._is_rule_based_assignment_activated() else False
        this = self.with_context(lang=action.user_id.lang or self.env.context.get("lang"))
        return {
            "name": this.env._("%(page)s: %(contact)s", page=action.name, contact=self.partner_id.name),
            "type": lead_type,
            "partner_id": self.partner_id.id,
            "team_id": team.id,
            "user_id": salesperson.id if salesperson else False,
            "company_id": campaign.company_id.id,
            "campaign_id": campaign.utm_campaign_id.id,
            "source_id": action.source_id.id,
            "medium_id": action.medium_id.id,
            "description": this._landing_lead_description(values),
        }

    def _landing_lead_description(self, values):
        line = Markup("<li>%s: %s</li>")
        lines = Markup("")
        if values.get("name"):
            lines += line % (self.env._("Name"), values["name"])
        if values.get("email"):
            lines += line % (self.env._("Email"), values["email"])
        if values.get("phone"):
            lines += line % (self.env._("Phone"), values["phone"])
        intro = self.env._("Reply to the personal page of the campaign %(campaign)s:", campaign=self.campaign_id.name)
        message = plaintext2html(values["message"]) if values.get("message") else Markup("")
        return Markup("<p>%s</p><ul>%s</ul>%s") % (intro, lines, message)

    # ------------------------------------------------------------------
    # WEBHOOK
    # ------------------------------------------------------------------
    def _webhook_send(self, run):
        """POST the touchpoints to their action's webhook, one call per contact (in parallel, at
        most WEBHOOK_PARALLEL: the batch is that small) or one call for the batch, then store each
        answer on its touchpoints in one statement.

        Every call carries an idempotency key (``X-Campaign-Delivery``, also ``delivery_id`` of each
        contact in the body) that stays the same when it is sent again. A call is sent again only
        when its batch did not commit: the worker died, or the database failed, between the
        receiver's answer and the commit of the batch (the other calls of the batch still running,
        at most one timeout since they run in parallel, then a few milliseconds of writes):
        receivers that de-duplicate on that key then handle each contact exactly once.

        Timeouts, connection errors, DNS failures and 408/425/429/5xx answers leave the touchpoint
        planned with ``next_retry`` (the engine skips it until then and does not count the attempt:
        this method counts its attempts in ``attempt_count``); after the action's number of
        attempts it is failed with the last reason. Other 4xx answers, redirects and refused
        addresses fail it at once."""
        if not self:
            return
        action = run.action_id
        now = fields.Datetime.now()
        calls = self._webhook_calls(run, now)
        url = action.webhook_url
        timeout = action.webhook_timeout
        options = action._webhook_url_options()

        def call(request):
            try:
                return post(url, request["body"], request["headers"], timeout, **options)
            except (WebhookUrlError, WebhookTransportError) as error:
                return error

        # no ORM below until the answers are in: the calls run in threads
        if len(calls) == 1:
            results = [call(calls[0])]
        else:
            with ThreadPoolExecutor(max_workers=min(len(calls), WEBHOOK_PARALLEL)) as pool:
                results = list(pool.map(call, calls))
        rows = []
        for request, result in zip(calls, results, strict=True):
            outcome = self._webhook_outcome(action, result, request["attempt"], now)
            rows += [(tp_id, *outcome) for tp_id in request["touchpoint_ids"]]
        self._webhook_store(rows)
        retries = [row[5] for row in rows if row[5]]
        if retries:
            cron = self.env.ref("campaign_manager.ir_cron_campaign_process", raise_if_not_found=False)
            if cron:
                cron.sudo()._trigger(at=min(retries))  # a trigger only sets a date: no rights needed on the job

    def _webhook_calls(self, run, now):
        """The calls to make for these touchpoints: body (bytes), headers, touchpoint ids and
        attempt number of each. Reads the contacts' fields in one go."""
        action = run.action_id
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT id, partner_id, attempt_count FROM campaign_touchpoint WHERE id IN %s ORDER BY id",
                tuple(self.ids),
            )
        )
        rows = self.env.cr.fetchall()
        # the engine may run as a user who is no campaign user: the list of fields is the action's
        fields_sent = action.webhook_field_ids.sudo().field_id
        partners = self.env["res.partner"].with_context(active_test=False).browse([row[1] for row in rows])
        values = {record["id"]: record for record in partners.read(fields_sent.mapped("name"))} if fields_sent else {}
        # the database's id (a system parameter) tells the keys of two databases apart
        prefix = "cm-" + (self.env["ir.config_parameter"].sudo().get_param("database.uuid") or "")[:8]
        contacts = []
        for tp_id, partner_id, _attempts in rows:
            contact = {"id": partner_id, "touchpoint_id": tp_id, "delivery_id": f"{prefix}-tp-{tp_id}"}
            for field in fields_sent:
                contact[field.name] = self._webhook_value(field, values.get(partner_id, {}).get(field.name))
            contacts.append(contact)
        attempts = {tp_id: count + 1 for tp_id, _partner, count in rows}
        base = {
            "event": "campaign.action",
            "sent_at": fields.Datetime.to_string(now).replace(" ", "T") + "Z",
            "campaign": {"id": run.campaign_id.id, "name": run.campaign_id.name},
            "action": {"id": action.id, "name": action.name},
            "run": {"id": run.id, "number": run.run_number},
        }
        if action.webhook_mode == "batch":
            ids = [contact["touchpoint_id"] for contact in contacts]
            digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:16]
            groups = [(f"{prefix}-run-{run.id}-{digest}", contacts)]
        else:
            groups = [(contact["delivery_id"], [contact]) for contact in contacts]
        secret = action.sudo().webhook_secret or ""  # the engine's user may not be a campaign user
        calls = []
        for key, group in groups:
            attempt = max(attempts[contact["touchpoint_id"]] for contact in group)
            body = json.dumps(
                {**base, "delivery_id": key, "attempt": attempt, "contacts": group},
                separators=(",", ":"),
                ensure_ascii=False,
                default=str,
            ).encode()
            signature = hmac_sha256(secret, body)
            calls.append(
                {
                    "touchpoint_ids": [contact["touchpoint_id"] for contact in group],
                    "attempt": attempt,
                    "body": body,
                    "headers": {
                        "Content-Type": "application/json",
                        "User-Agent": "Odoo-Campaign-Manager",
                        "X-Campaign-Signature": f"sha256={signature}",
                        "X-Campaign-Delivery": key,
                        "X-Campaign-Attempt": str(attempt),
                    },
                }
            )
        return calls

    @api.model
    def _webhook_value(self, field, value):
        """A contact field's value as JSON: null when empty (except booleans), many2one as
        {id, name}, dates as ISO 8601."""
        if field.ttype == "boolean":
            return bool(value)
        if value is False or value is None:
            return None
        if field.ttype == "many2one":
            return {"id": value[0], "name": value[1]}
        if field.ttype == "date":
            return fields.Date.to_string(value)
        if field.ttype == "datetime":
            return fields.Datetime.to_string(value).replace(" ", "T") + "Z"
        return value

    def _webhook_outcome(self, action, result, attempt, now):
        """(state, status, answer, failure reason, next retry, date done) of a call's touchpoints."""
        status, answer, retry_after = 0, "", None
        if isinstance(result, WebhookResponse):
            status = result.status
            answer = (result.body or "")[:WEBHOOK_RESPONSE_CHARS]
            if 200 <= status < 300:
                return ("sent", status, answer, None, None, now)
            if 300 <= status < 400:
                reason = self.env._(
                    "The receiver answered %(status)s, a redirect to %(location)s: redirects are not followed, "
                    "give the final address of the webhook.",
                    status=status,
                    location=result.location or "?",
                )
                return ("failed", status, answer, reason, None, None)
            if status not in WEBHOOK_RETRY_STATUSES and status < 500:
                reason = self.env._(
                    "The receiver refused the call (%(status)s): %(answer)s", status=status, answer=answer
                )
                return ("failed", status, answer, reason, None, None)
            reason = self.env._("The receiver answered %(status)s.", status=status)
            retry_after = result.retry_after
        elif isinstance(result, WebhookUrlError):
            if result.code != "unresolved":
                return ("failed", 0, "", action._webhook_url_error_message(result), None, None)
            reason = action._webhook_url_error_message(result)
        elif result.code == "timeout":
            reason = self.env._("No answer within %(timeout)s seconds.", timeout=action.webhook_timeout)
        elif result.code == "tls":
            reason = self.env._("The secure connection failed: %(error)s", error=result.detail)
        else:
            reason = self.env._("The receiver could not be reached: %(error)s", error=result.detail)
        answer = answer or reason[:WEBHOOK_RESPONSE_CHARS]
        if attempt >= action.webhook_max_attempts:
            reason = self.env._("%(reason)s Given up after %(count)s attempts.", reason=reason, count=attempt)
            return ("failed", status, answer, reason, None, None)
        delay = min(WEBHOOK_BACKOFF * 2 ** (attempt - 1), WEBHOOK_BACKOFF_MAX)
        if retry_after and str(retry_after).isdigit():
            delay = max(delay, min(int(retry_after), 86400))
        return ("planned", status, answer, None, now + timedelta(seconds=delay), None)

    def _webhook_store(self, rows):
        """Store the calls' outcomes: one UPDATE for all the touchpoints. Each row: (id, state,
        status, answer, failure reason, next retry, date done); the attempt is counted."""
        values = SQL(", ").join(SQL("(%s, %s, %s, %s, %s, %s, %s)", *row) for row in rows)
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint t
                      SET state = v.state, webhook_status = v.status::integer, webhook_response = v.answer,
                          failure_reason = v.reason, next_retry = v.next_retry::timestamp,
                          date_done = v.date_done::timestamp, attempt_count = t.attempt_count + 1
                     FROM (VALUES %s) AS v(id, state, status, answer, reason, next_retry, date_done)
                    WHERE t.id = v.id AND t.state = 'planned'""",
                values,
            )
        )
        self.invalidate_recordset(
            [
                "state",
                "webhook_status",
                "webhook_response",
                "failure_reason",
                "next_retry",
                "date_done",
                "attempt_count",
            ]
        )

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
