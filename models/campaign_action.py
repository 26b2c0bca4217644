import logging
import secrets
from collections import defaultdict
from datetime import datetime, time, timedelta

import psycopg2
import pytz
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Domain
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL, is_html_empty, plaintext2html

from .. import placeholders
from ..webhook import WebhookUrlError, check_url
from .mailing_mailing import CAMPAIGN_MAILING_CONTEXT

_logger = logging.getLogger(__name__)


# What the personal pages of a landing action show (their cached copies are made again when it changes).
LANDING_PAGE_FIELDS = {"landing_title", "landing_body", "landing_form", "landing_thanks"}


def is_database_fault(error):
    """Whether ``error`` comes from the database itself (connection lost or closed, server shutting
    down or out of resources) rather than from what was being done: nothing can be written any more,
    the transaction is lost, and the next pass of the job must resume the work."""
    if isinstance(error, psycopg2.InterfaceError):
        return True
    if isinstance(error, psycopg2.OperationalError) and not isinstance(error, PG_CONCURRENCY_EXCEPTIONS_TO_RETRY):
        return error.pgcode is None or error.pgcode.startswith(("08", "53", "57P"))
    return False


CHANNELS = [
    ("email", "Email"),
    ("sms", "SMS"),
    ("letter", "Letter"),
    ("landing", "Landing page"),
    ("task", "Task"),
    ("event", "Event"),
    ("webhook", "Webhook"),
    ("weblink", "Web link"),
]

# Channels that reach no contact of the targets: the engine creates no touchpoint for them and the
# audience figures say so instead of counting (a web link placed on a partner's blog, an ad, a QR
# code on a flyer: its results are its clicks and what they bring).
AUDIENCE_LESS_CHANNELS = {"weblink"}

# Whom a target (or an action, for all its targets) reaches among the contacts found (seed 001:
# actions generate records "for the organisations and/or the persons of the target group").
REACH_SELECTION = [
    ("contacts", "Contacts as found"),
    ("companies", "Companies"),
    ("persons", "Contact persons"),
    ("both", "Companies and their contact persons"),
]

# UTM medium of each channel (xml ids), used for attribution of what the action brings.
CHANNEL_MEDIUMS = {
    "email": "utm.utm_medium_email",
    "sms": "mass_mailing_sms.utm_medium_sms",
    "letter": "campaign_manager.utm_medium_letter",
    "landing": "utm.utm_medium_website",
    "task": "utm.utm_medium_direct",
    "event": "campaign_manager.utm_medium_event",
    "webhook": "campaign_manager.utm_medium_webhook",
    "weblink": "campaign_manager.utm_medium_weblink",
}

# States of an action that has not run yet.
PENDING_STATES = ("draft", "scheduled")

# Follow-ups: which contacts of the previous action a follow-up reaches (SQL condition on the
# previous run's touchpoints, alias tp).
FOLLOWUP_FILTERS = [
    ("targets", "Its targets (no condition)"),
    ("reached", "Reached by the previous action"),
    ("opened", "Opened"),
    ("not_opened", "Did not open"),
    ("clicked", "Clicked"),
    ("not_clicked", "Did not click"),
    ("replied", "Replied"),
    ("visited", "Visited the landing page"),
    ("bounced", "Bounced"),
]
CARRIED_SQL = SQL(
    "tp.state IN ('sent', 'done', 'opened', 'clicked', 'replied', 'converted', 'bounced', 'unsubscribed')"
)
FOLLOWUP_CONDITIONS = {
    "reached": CARRIED_SQL,
    "opened": SQL("tp.date_opened IS NOT NULL"),
    "not_opened": SQL("%s AND tp.date_opened IS NULL AND tp.state != 'bounced'", CARRIED_SQL),
    "clicked": SQL("tp.date_clicked IS NOT NULL"),
    "not_clicked": SQL("%s AND tp.date_clicked IS NULL AND tp.state != 'bounced'", CARRIED_SQL),
    "replied": SQL("tp.date_replied IS NOT NULL"),
    "visited": SQL("tp.date_visited IS NOT NULL"),
    "bounced": SQL("tp.state = 'bounced'"),
}
DEFAULT_BATCH_SIZE = 500
# An A/B test compares at most this many combinations (seed 004).
MAX_AB_VARIANTS = 8
# In the title of per-contact tasks, replaced by the contact's name.
CONTACT_PLACEHOLDER = "{contact}"
# Texts rendered per contact by the scheduler (placeholders checked like Odoo's templates).
CONTENT_FIELDS = {"sms_body", "sms_template_id", "letter_subject", "letter_body"}

# Webhooks: contacts posted at once (in parallel) in one batch in "one call per contact" mode, so that
# a batch, which holds its touchpoints' rows and the campaign's share lock, lasts about one timeout.
WEBHOOK_PARALLEL = 10
# Contact fields a webhook may send: stored, simple, readable by every internal user.
WEBHOOK_FIELD_TYPES = (
    "boolean",
    "char",
    "date",
    "datetime",
    "float",
    "integer",
    "many2one",
    "monetary",
    "selection",
    "text",
)
WEBHOOK_DEFAULT_FIELDS = ("name", "email")
WEBHOOK_ALLOW_PRIVATE_PARAM = "campaign_manager.webhook_allow_private"
WEBHOOK_ALLOW_PORTS_PARAM = "campaign_manager.webhook_allow_ports"

WEEKDAYS = [
    ("0", "Monday"),
    ("1", "Tuesday"),
    ("2", "Wednesday"),
    ("3", "Thursday"),
    ("4", "Friday"),
    ("5", "Saturday"),
    ("6", "Sunday"),
]
# Fewer past opens and clicks than this and the send-time suggestion would be noise: none is made.
SEND_TIME_MIN_EVENTS = 20

ACTION_STATES = [
    ("draft", "Draft"),
    ("scheduled", "Scheduled"),
    ("running", "Running"),
    ("done", "Done"),
    ("cancelled", "Cancelled"),
    ("failed", "Failed"),
]

# Status changes a user may ask for; the engine also moves scheduled -> running -> done/failed.
ACTION_TRANSITIONS = {
    "draft": {"scheduled", "cancelled"},
    "scheduled": {"draft", "running", "cancelled", "failed"},
    "running": {"done", "failed", "cancelled", "scheduled"},
    "done": set(),
    "cancelled": {"draft"},
    "failed": {"draft", "scheduled", "cancelled"},
}


class CampaignAction(models.Model):
    _name = "campaign.action"
    _description = "Campaign Action"
    _inherit = ["mail.thread", "mail.activity.mixin", "campaign.access.mixin"]
    _order = "date_start, sequence, id"
    _check_company_auto = True
    # the email content is the action's own mailing (created by Edit Email), never one chosen
    _campaign_engine_fields = frozenset({"mailing_id", "source_id", "run_ids", "touchpoint_ids"})

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    campaign_id = fields.Many2one(
        "campaign.campaign", required=True, ondelete="cascade", index=True, check_company=True
    )
    company_id = fields.Many2one(related="campaign_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="campaign_id.currency_id", store=True)
    campaign_state = fields.Selection(related="campaign_id.state", string="Campaign Status")
    channel = fields.Selection(selection=CHANNELS, required=True, default="email", tracking=True)
    target_ids = fields.Many2many(
        "campaign.target",
        "campaign_action_target_rel",
        "action_id",
        "target_id",
        string="Targets",
        domain="[('campaign_id', '=', campaign_id)]",
        help="Targets this action reaches. Leave empty to reach all the campaign's targets.",
    )
    user_id = fields.Many2one(
        "res.users", string="Responsible", default=lambda self: self.env.user, tracking=True, check_company=True
    )
    state = fields.Selection(
        selection=ACTION_STATES, string="Status", required=True, default="draft", tracking=True, copy=False
    )
    color = fields.Integer(compute="_compute_color")

    # Schedule
    schedule_type = fields.Selection(
        selection=[
            ("now", "Immediately"),
            ("at", "At a date and time"),
            ("after", "After another action"),
            ("recurring", "Recurring"),
        ],
        string="Schedule",
        required=True,
        default="now",
        help="Immediately: as soon as the campaign is launched. At a date and time: at the start date. "
        "After another action: a delay after the other action is done. Recurring: from the start date, "
        "every interval until the end of the recurrence.",
    )
    date_start = fields.Datetime(
        string="Start",
        help="When the action runs (first run for recurring actions). For actions after another one "
        "it is computed from that action once known.",
    )
    date_stop = fields.Datetime(
        string="End",
        compute="_compute_date_stop",
        store=True,
        readonly=False,
        precompute=True,
        help="End of the action on the calendar (one hour after the start unless set).",
    )
    parent_id = fields.Many2one(
        "campaign.action",
        string="After Action",
        domain="[('campaign_id', '=', campaign_id), ('id', '!=', id)]",
        ondelete="restrict",
        index="btree_not_null",
        help="This action runs a delay after that action is done.",
    )
    delay = fields.Integer(default=1)
    delay_unit = fields.Selection(selection=[("hours", "Hours"), ("days", "Days")], default="days")
    interval_number = fields.Integer(string="Repeat Every", default=1)
    interval_unit = fields.Selection(
        selection=[("days", "Days"), ("weeks", "Weeks"), ("months", "Months")],
        default="weeks",
    )
    recurring_until = fields.Datetime(string="Until", help="Last date a recurring action may run.")
    # Organisations and their people (seed 001)
    reach = fields.Selection(
        selection=[("target", "As set on each target"), *REACH_SELECTION],
        string="Who to Reach",
        required=True,
        default="target",
        help="Whom the action reaches among the contacts of its targets. As set on each target: "
        "each target's own choice. Otherwise this choice applies to all the targets of the action: "
        "the companies of the contacts found, the contact persons (those found and those of the "
        "companies found), or both.",
    )
    person_function = fields.Char(
        string="Job Position Contains",
        help="Only the contact persons of the companies whose job position contains this text.",
    )
    person_category_ids = fields.Many2many(
        "res.partner.category",
        "campaign_action_person_category_rel",
        "action_id",
        "category_id",
        string="Person Tags",
        help="Only the contact persons of the companies who have one of these tags.",
    )
    touchpoint_type_id = fields.Many2one(
        "campaign.touchpoint.type",
        ondelete="restrict",
        index="btree_not_null",
        domain="['|', ('channel', '=', False), ('channel', '=', channel)]",
        help="Kind of touchpoint the action records for each contact: the fields to fill in when "
        "its outcome is recorded and the follow-up activity to schedule.",
    )
    audience_less = fields.Boolean(
        string="Reaches No Contact",
        compute="_compute_audience_less",
        help="The action reaches no contact of the targets (web links, one task for the action): no "
        "touchpoint is created.",
    )
    weblink_ids = fields.One2many("campaign.weblink", "action_id", string="Web Links", copy=True)
    weblink_count = fields.Integer(string="Web Links Count", compute="_compute_weblink_count")
    pending_after_end = fields.Boolean(
        string="Late",
        compute="_compute_pending_after_end",
        search="_search_pending_after_end",
        help="Still draft or scheduled while its campaign has ended: run it, move it or cancel it.",
    )
    once_per_contact = fields.Boolean(
        string="Once per Contact",
        help="A contact is reached at most once by this action, even when found again in later runs.",
    )
    followup_filter = fields.Selection(
        selection=FOLLOWUP_FILTERS,
        string="Reach",
        default="targets",
        required=True,
        help="For an action that follows another one: reach its targets as usual, or only the contacts of "
        "the previous action's run that opened, did not open, clicked, did not click, replied, visited "
        "the landing page or bounced.",
    )
    date_next_run = fields.Datetime(
        string="Next Run",
        readonly=True,
        copy=False,
        help="When the scheduler will run the action next (empty when it is not waiting for a date).",
    )

    # Email content: a mailing of Email Marketing used as the model of each run's mailing, or a template.
    mailing_id = fields.Many2one(
        "mailing.mailing",
        string="Email Content",
        copy=False,
        ondelete="restrict",
        index="btree_not_null",
        domain="[('campaign_action_id', '=', id), ('campaign_run_id', '=', False)]",
        help="Email written with the Email Marketing editor; each run sends a copy of it.",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        domain="[('model', '=', 'res.partner')]",
        help="Use this contact template instead of writing the email with the editor.",
    )
    email_subject = fields.Char(
        string="Subject",
        compute="_compute_email_subject",
        help="Subject of the email, from its content or its template.",
    )
    content_model = fields.Char(
        compute="_compute_content_model",
        help="Model of the records the content is written for (placeholders refer to the contact).",
    )

    # SMS content, sent through SMS Marketing: a text with placeholders, or an SMS template.
    sms_template_id = fields.Many2one(
        "sms.template",
        string="SMS Template",
        domain="[('model', '=', 'res.partner')]",
        help="Start from an SMS template of contacts; its text can then be adapted.",
    )
    sms_body = fields.Text(
        string="SMS Text",
        compute="_compute_sms_body",
        store=True,
        readonly=False,
        precompute=True,
        help="Text of the SMS. Placeholders such as {{ object.name }} are replaced for each contact.",
    )
    # Not named like SMS Marketing's sms_allow_unsubscribe: its SMS widget reads a field of that name on
    # any record and then needs what only mailings give it, which broke this form.
    sms_opt_out_link = fields.Boolean(
        string="Include Opt-out Link",
        default=True,
        help="Add a “STOP SMS” link: a contact who follows it is blacklisted and their touchpoint "
        "is marked unsubscribed.",
    )

    # Letter content: a mail merge printed as one PDF per run.
    letter_subject = fields.Char(
        help="Subject line printed above the letter (placeholders such as {{ object.name }} allowed).",
    )
    letter_body = fields.Html(
        string="Letter",
        sanitize="email_outgoing",
        help="Text of the letter. Placeholders (e.g. the contact's name) are replaced for each contact; "
        "the company letterhead, the date and the postal address block are added around it.",
    )

    # Landing page (PURL): one personal page per contact, at the address of their touchpoint.
    landing_delivery = fields.Selection(
        selection=[("email", "By email"), ("letter", "By letter")],
        string="Link Sent",
        default="email",
        help="How contacts receive the link to their page (an email or a letter of the campaign that "
        "follows this action). Pages are made only for the contacts that channel can reach: with an "
        "email address (not blacklisted), or with a full postal address.",
    )
    landing_title = fields.Char(
        string="Page Title",
        help="Title of the page. Placeholders such as {{ object.name }} are replaced with the contact's values.",
    )
    landing_body = fields.Html(
        string="Page Content",
        sanitize="email_outgoing",
        help="Content of the page, personalised for each contact like an email template "
        '(e.g. <t t-out="object.name"/>).',
    )
    landing_form = fields.Boolean(
        string="Reply Form",
        help="Show a form (name, email, phone, message) on the page: each reply creates a lead "
        "carrying the campaign's UTM values.",
    )
    landing_thanks = fields.Html(
        string="Thank-you Text",
        help="Shown once the form is sent. Leave empty for a short default message.",
    )
    landing_version = fields.Integer(
        readonly=True,
        copy=False,
        help="Raised each time the page's content changes: the personal pages kept by the web "
        "workers are made again (see controllers/landing.py).",
    )

    # Webhook: a signed JSON POST per contact or per batch.
    webhook_url = fields.Char(
        string="Webhook URL",
        help="https address the contacts are posted to, on the port 443. Loopback, private and link-local "
        "addresses and other ports are refused unless an administrator allows them in the settings.",
    )
    webhook_secret = fields.Char(
        string="Signing Secret",
        compute="_compute_webhook_secret",
        store=True,
        readonly=False,
        precompute=True,
        groups="campaign_manager.group_campaign_user",
        help="Key of the HMAC-SHA256 signature of each call's body, sent in the X-Campaign-Signature "
        "header (sha256=<hex>): give it to the receiver so that it can check the calls come from us.",
    )
    webhook_mode = fields.Selection(
        selection=[("contact", "One call per contact"), ("batch", "One call per batch")],
        string="Calls",
        default="contact",
        help="One call per contact, or one call carrying a batch of contacts.",
    )
    webhook_field_ids = fields.Many2many(
        "campaign.webhook.field",
        "campaign_action_webhook_contact_field_rel",
        "action_id",
        "webhook_field_id",
        string="Contact Fields",
        compute="_compute_webhook_field_ids",
        store=True,
        readonly=False,
        precompute=True,
        help="Fields of the contact sent with each contact, besides its id.",
    )
    webhook_timeout = fields.Integer(
        string="Timeout (seconds)", default=10, help="How long to wait for the receiver's answer."
    )
    webhook_max_attempts = fields.Integer(
        string="Attempts",
        default=5,
        help="Calls tried before a contact is marked failed when the receiver cannot be reached or "
        "answers with a server error; the waits between them double from one minute.",
    )

    # Costs
    fixed_cost = fields.Monetary(currency_field="currency_id")
    unit_cost = fields.Monetary(
        string="Cost per Unit", currency_field="currency_id", help="Variable cost of each contact reached."
    )
    expected_units = fields.Integer(
        help="Units (messages, letters, tasks...) the action is expected to carry out, for its planned cost "
        "before it runs. Once it runs, the touchpoints of its runs are the planned units.",
    )
    units_planned = fields.Integer(
        string="Planned Units",
        compute="_compute_figures",
        help="Touchpoints of the action's runs that are neither excluded nor cancelled; before the first run, "
        "the expected units (0 when the action is cancelled).",
    )
    units_carried = fields.Integer(
        string="Units Carried Out",
        compute="_compute_figures",
        help="Touchpoints carried out: sent or done (opened, clicked, replied, converted, bounced and "
        "unsubscribed ones included).",
    )
    cost_planned = fields.Monetary(
        string="Planned Cost",
        currency_field="currency_id",
        compute="_compute_figures",
        help="Fixed cost + cost per unit × planned units.",
    )
    cost_actual = fields.Monetary(
        string="Actual Cost",
        currency_field="currency_id",
        compute="_compute_figures",
        help="Fixed cost once the action started (running, done, or a touchpoint carried out) + the cost per "
        "unit of each touchpoint carried out.",
    )
    revenue_invoiced = fields.Monetary(
        string="Invoiced Revenue",
        currency_field="currency_id",
        compute="_compute_figures",
        help="Posted customer invoices minus credit notes carrying the campaign's UTM campaign and this "
        "action's UTM source, untaxed, in the company's currency.",
    )
    revenue_ordered = fields.Monetary(
        string="Ordered Revenue",
        currency_field="currency_id",
        compute="_compute_figures",
        help="Confirmed sale orders carrying the campaign's UTM campaign and this action's UTM source, untaxed.",
    )
    revenue_won = fields.Monetary(
        string="Won Revenue",
        currency_field="currency_id",
        compute="_compute_figures",
        help="Expected revenue of won opportunities carrying this action's UTM source.",
    )
    revenue = fields.Monetary(
        currency_field="currency_id",
        compute="_compute_figures",
        help="Invoiced, ordered or won revenue of the action, as set in the Settings for the ROI.",
    )
    order_count = fields.Integer(string="Orders", compute="_compute_figures", help="Confirmed sale orders.")
    average_order = fields.Monetary(
        currency_field="currency_id", compute="_compute_figures", help="Ordered revenue / orders."
    )
    lead_count = fields.Integer(
        string="Leads", compute="_compute_figures", help="Leads and opportunities, lost ones included."
    )
    roi = fields.Float(
        string="ROI (%)",
        compute="_compute_figures",
        digits=(16, 2),
        help="(revenue - actual cost) / actual cost × 100 (0 without cost).",
    )
    sent_count = fields.Integer(string="Sent", compute="_compute_figures", help="Touchpoints carried out.")
    delivered_count = fields.Integer(string="Delivered", compute="_compute_figures", help="Sent - bounced.")
    open_unique = fields.Integer(string="Unique Opens", compute="_compute_figures")
    open_total = fields.Integer(string="Total Opens", compute="_compute_figures")
    open_rate = fields.Float(
        string="Open Rate (%)", compute="_compute_figures", digits=(16, 2), help="Unique opens / sent × 100."
    )
    click_total = fields.Integer(string="Total Clicks", compute="_compute_figures")
    clicker_unique = fields.Integer(string="Unique Clickers", compute="_compute_figures")
    click_rate = fields.Float(
        string="Click Rate (%)", compute="_compute_figures", digits=(16, 2), help="Unique clickers / sent × 100."
    )
    click_per_unique_open = fields.Float(
        string="Clicks per Unique Open (%)",
        compute="_compute_figures",
        digits=(16, 2),
        help="Unique clickers / unique opens × 100.",
    )
    unsubscribe_count = fields.Integer(string="Unsubscribes", compute="_compute_figures")
    unsubscribe_rate = fields.Float(
        string="Unsubscribe Rate (%)", compute="_compute_figures", digits=(16, 2), help="Unsubscribes / sent × 100."
    )
    bounce_count = fields.Integer(string="Bounces", compute="_compute_figures")
    bounce_rate = fields.Float(
        string="Bounce Rate (%)", compute="_compute_figures", digits=(16, 2), help="Bounces / sent × 100."
    )
    touchpoint_ids = fields.One2many("campaign.touchpoint", "action_id", string="Touchpoints")
    run_ids = fields.One2many("campaign.action.run", "action_id", string="Runs")
    run_count = fields.Integer(string="Runs Count", compute="_compute_run_count")
    touchpoint_count = fields.Integer(string="Touchpoints Count", compute="_compute_touchpoint_count")
    description = fields.Html(string="Notes", sanitize=True)

    # Task channel: project tasks in the campaign's project (their timesheets count as its cost).
    campaign_project_id = fields.Many2one(related="campaign_id.project_id", string="Campaign Project")
    task_mode = fields.Selection(
        selection=[("action", "One task for the action"), ("contact", "One task per contact")],
        string="Tasks",
        default="contact",
        required=True,
        help="One task for the action: a single task of the campaign's project, reaching no contact (e.g. "
        "“Print the letters”). One task per contact: a task for each contact of the targets (e.g. “Call "
        "{contact}”), each one a touchpoint.",
    )
    task_name = fields.Char(
        string="Task Title",
        help="Title of the tasks (default: the action's name). With one task per contact, {contact} is "
        "replaced by the contact's name.",
    )
    task_description = fields.Html(sanitize=True)
    task_user_ids = fields.Many2many(
        "res.users",
        "campaign_action_task_user_rel",
        "action_id",
        "user_id",
        string="Assignees",
        help="Users the tasks are assigned to (default: the action's responsible).",
    )
    task_deadline_days = fields.Integer(
        string="Deadline After (days)",
        help="The tasks are due this many days after the run (0: no deadline).",
    )
    task_stage_id = fields.Many2one(
        "project.task.type",
        string="Initial Stage",
        domain="[('project_ids', 'in', campaign_project_id)]",
        ondelete="set null",
        help="Stage of the campaign's project the tasks start in (default: its first stage).",
    )
    task_tag_ids = fields.Many2many(
        "project.tags", "campaign_action_task_tag_rel", "action_id", "tag_id", string="Task Tags"
    )

    # Event channel: one calendar event per run, the contacts as attendees.
    event_name = fields.Char(string="Event Title", help="Title of the event (default: the action's name).")
    event_start_mode = fields.Selection(
        selection=[("run", "After the run"), ("fixed", "At a fixed date")],
        string="Event Starts",
        default="run",
        required=True,
        help="After the run: the event starts a delay after the run that invites the contacts. At a fixed "
        "date: always at the date given.",
    )
    event_delay = fields.Integer(string="Starts After", default=7, help="Delay between the run and the event.")
    event_delay_unit = fields.Selection(selection=[("hours", "Hours"), ("days", "Days")], default="days", required=True)
    event_date_start = fields.Datetime(string="Event Date")
    event_duration = fields.Float(default=1.0, help="Duration of the event, in hours.")
    event_location = fields.Char()
    event_description = fields.Html(sanitize=True)
    event_user_id = fields.Many2one(
        "res.users", string="Organizer", help="Organizer of the event (default: the action's responsible)."
    )
    event_send_invitations = fields.Boolean(
        string="Send Invitations",
        help="Email each contact the calendar's invitation (with the event's .ics file and answer buttons). "
        "Otherwise the contacts are only added as attendees.",
    )

    # A/B test of an email action: combinations sent to a test share, then the winner to the rest.
    ab_testing = fields.Boolean(
        string="A/B Test",
        help="Send up to 8 combinations (subject, sender, content, send time) to a test share of the contacts, "
        "then the best one to the rest.",
    )
    ab_variant_ids = fields.One2many("campaign.action.variant", "action_id", string="Combinations", copy=True)
    ab_test_pc = fields.Integer(
        string="Test Share (%)",
        default=20,
        help="Share of the contacts of each run that receives the combinations, split evenly between them. "
        "The others receive the winner.",
    )
    ab_winner_metric = fields.Selection(
        selection=[
            ("opened", "Highest open rate"),
            ("clicked", "Highest click rate"),
            ("revenue", "Highest revenue"),
        ],
        string="Winner Chosen By",
        default="opened",
        required=True,
        help="How the winner is chosen: open or click rate of each combination's test emails, or the revenue "
        "invoiced through their links (UTM source of each combination's mailing).",
    )
    ab_delay = fields.Integer(
        string="Choose the Winner After",
        default=1,
        help="Delay after the last test email before the winner is chosen and sent to the rest.",
    )
    ab_delay_unit = fields.Selection(
        selection=[("hours", "Hours"), ("days", "Days")], string="Winner Delay Unit", default="days", required=True
    )

    # Attribution: everything the action sends carries the campaign's UTM campaign, this source and
    # this medium, so that leads, orders and invoices are attributed to the action.
    source_id = fields.Many2one(
        "utm.source",
        string="UTM Source",
        readonly=True,
        copy=False,
        ondelete="restrict",
        index="btree_not_null",
        help="UTM source created with the action: its mailings and links carry it.",
    )
    medium_id = fields.Many2one(
        "utm.medium",
        string="UTM Medium",
        compute="_compute_medium_id",
        store=True,
        readonly=False,
        precompute=True,
        ondelete="restrict",
        help="UTM medium of the action (Email, SMS, Letter...), set from its channel.",
    )

    campaign_order_step = fields.Selection(related="campaign_id.order_step", string="Campaign Order Step")

    # Send-time suggestion (email): from this database's past opens and clicks of the same contacts.
    send_time_weekday = fields.Selection(
        selection=WEEKDAYS, string="Best Weekday", compute="_compute_send_time", help="Suggested day to send."
    )
    send_time_hour = fields.Integer(
        string="Best Hour", compute="_compute_send_time", help="Suggested hour (0-23), in the responsible's timezone."
    )
    send_time_event_count = fields.Integer(
        string="Opens and Clicks",
        compute="_compute_send_time",
        help="Past opens and clicks of the action's contacts (emails of any mailing to them) the suggestion rests on.",
    )
    send_time_slot_count = fields.Integer(
        string="In the Best Hour",
        compute="_compute_send_time",
        help="Opens and clicks that fell in the suggested hour.",
    )
    send_time_tz = fields.Char(string="Timezone", compute="_compute_send_time")
    send_time_summary = fields.Char(string="Send-Time Suggestion", compute="_compute_send_time")

    _delay_positive = models.Constraint("CHECK(delay >= 0)", "The delay of an action cannot be negative.")
    _interval_positive = models.Constraint(
        "CHECK(interval_number > 0)", "A recurring action repeats at least every 1 day, week or month."
    )
    _costs_positive = models.Constraint(
        "CHECK(fixed_cost >= 0 AND unit_cost >= 0)", "The costs of an action cannot be negative."
    )
    _task_deadline_positive = models.Constraint(
        "CHECK(task_deadline_days >= 0)", "The deadline of the tasks cannot be before the run."
    )
    _event_delay_positive = models.Constraint(
        "CHECK(event_delay >= 0)", "The event cannot start before the run that invites its attendees."
    )
    _event_duration_positive = models.Constraint("CHECK(event_duration > 0)", "An event lasts more than 0 hours.")
    _ab_test_pc_range = models.Constraint(
        "CHECK(ab_test_pc > 0 AND ab_test_pc <= 100)", "The test share of an A/B test is between 1 and 100%."
    )
    _ab_delay_positive = models.Constraint(
        "CHECK(ab_delay >= 0)", "The delay before choosing the winner of an A/B test cannot be negative."
    )
    _webhook_limits = models.Constraint(
        "CHECK(webhook_timeout BETWEEN 1 AND 60 AND webhook_max_attempts BETWEEN 1 AND 10)",
        "A webhook waits 1 to 60 seconds for an answer and is tried 1 to 10 times.",
    )
    _expected_units_positive = models.Constraint(
        "CHECK(expected_units >= 0)", "The expected units of an action cannot be negative."
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("date_start")
    def _compute_date_stop(self):
        for action in self:
            if action.date_start and (not action.date_stop or action.date_stop < action.date_start):
                action.date_stop = action.date_start + timedelta(hours=1)

    @api.depends("channel")
    def _compute_color(self):
        colors = {key: index + 1 for index, (key, _label) in enumerate(CHANNELS)}
        for action in self:
            action.color = colors.get(action.channel, 0)

    @api.depends("mailing_id.subject", "mail_template_id.subject")
    def _compute_email_subject(self):
        for action in self:
            action.email_subject = action.mailing_id.subject or action.mail_template_id.subject or False

    def _compute_content_model(self):
        self.content_model = "res.partner"

    @api.depends("sms_template_id")
    def _compute_sms_body(self):
        for action in self:
            if action.sms_template_id:
                action.sms_body = action.sms_template_id.body

    @api.depends("channel")
    def _compute_medium_id(self):
        for action in self:
            if action.channel:
                action.medium_id = action._default_medium()

    @api.depends("channel")
    def _compute_webhook_secret(self):
        for action in self:
            if action.channel == "webhook" and not action.webhook_secret:
                action.webhook_secret = secrets.token_urlsafe(32)

    @api.depends("channel")
    def _compute_webhook_field_ids(self):
        todo = self.filtered(lambda a: a.channel == "webhook" and not a.webhook_field_ids)
        if not todo:
            return
        WebhookField = self.env["campaign.webhook.field"]
        WebhookField._sync()  # fields of modules installed since the last upgrade become available
        defaults = WebhookField._by_names(WEBHOOK_DEFAULT_FIELDS)
        for action in todo:
            action.webhook_field_ids = [fields.Command.set(defaults.ids)]

    @api.depends("channel", "task_mode")
    def _compute_audience_less(self):
        # one task for the action is internal work (“Print the letters”): it concerns no contact, so
        # it creates no touchpoint, costs no unit cost and counts nobody as reached
        for action in self:
            action.audience_less = action.channel in AUDIENCE_LESS_CHANNELS or (
                action.channel == "task" and action.task_mode == "action"
            )

    def _compute_weblink_count(self):
        groups = self.env["campaign.weblink"]._read_group([("action_id", "in", self.ids)], ["action_id"], ["__count"])
        counts = {action.id: count for action, count in groups}
        for action in self:
            action.weblink_count = counts.get(action.id, 0)

    @api.depends("state", "campaign_id.date_end")
    @api.depends_context("tz")
    def _compute_pending_after_end(self):
        today = fields.Date.context_today(self)
        for action in self:
            action.pending_after_end = bool(
                action.state in PENDING_STATES and action.campaign_id.date_end and action.campaign_id.date_end < today
            )

    def _search_pending_after_end(self, operator, value):
        if operator != "in":
            return NotImplemented
        today = fields.Date.context_today(self)
        late = Domain("state", "in", PENDING_STATES) & Domain("campaign_id.date_end", "<", today)
        if True in value and False in value:
            return Domain.TRUE
        return late if True in value else ~late

    def _compute_run_count(self):
        groups = self.env["campaign.action.run"]._read_group(
            [("action_id", "in", self.ids)], ["action_id"], ["__count"]
        )
        counts = {action.id: count for action, count in groups}
        for action in self:
            action.run_count = counts.get(action.id, 0)

    def _compute_figures(self):
        Report = self.env["campaign.analysis.report"]
        actions = self._origin.filtered("id")
        rows = {row["action_id"]: row for row in Report._read_facts(actions.campaign_id.ids, "action")}
        for action in self:
            sums = {key: float(value or 0.0) for key, value in rows.get(action._origin.id, {}).items()}
            currency = action.currency_id or self.env.company.currency_id
            cost = currency.round(sums.get("cost_actual", 0.0))
            revenues = {
                "invoiced": currency.round(sums.get("revenue_invoiced", 0.0)),
                "ordered": currency.round(sums.get("revenue_ordered", 0.0)),
                "won": currency.round(sums.get("revenue_won", 0.0)),
            }
            revenue = revenues[action.company_id.campaign_revenue_source or "invoiced"]
            orders = int(sums.get("order_count", 0))
            action.update(
                {
                    "units_planned": int(sums.get("units_planned", 0)),
                    "units_carried": int(sums.get("sent_count", 0)),
                    "cost_planned": sums.get("cost_planned", 0.0),
                    "cost_actual": cost,
                    "revenue_invoiced": revenues["invoiced"],
                    "revenue_ordered": revenues["ordered"],
                    "revenue_won": revenues["won"],
                    "revenue": revenue,
                    "order_count": orders,
                    "average_order": revenues["ordered"] / orders if orders else 0.0,
                    "lead_count": int(sums.get("lead_count", 0)),
                    "roi": Report._percent(revenue - cost, cost),
                    **Report._message_metrics(sums),
                }
            )

    def _compute_touchpoint_count(self):
        groups = self.env["campaign.touchpoint"]._read_group(
            [("action_id", "in", self.ids)], ["action_id"], ["__count"]
        )
        counts = {action.id: count for action, count in groups}
        for action in self:
            action.touchpoint_count = counts.get(action.id, 0)

    @api.depends("channel", "target_ids", "campaign_id.target_ids", "user_id.tz")
    def _compute_send_time(self):
        labels = dict(self._fields["send_time_weekday"]._description_selection(self.env))
        for action in self:
            action.send_time_weekday = False
            action.send_time_hour = 0
            action.send_time_event_count = 0
            action.send_time_slot_count = 0
            action.send_time_tz = action._send_time_tz()
            action.send_time_summary = False
            origin = action._origin
            if action.channel != "email" or not origin.id or not origin._effective_targets():
                continue
            weekday, hour, slot_count, total = origin._send_time_best_slot(action.send_time_tz)
            action.send_time_event_count = total
            if total < SEND_TIME_MIN_EVENTS:
                action.send_time_summary = self.env._(
                    "Not enough history: %(events)s past opens and clicks of these contacts, at least %(minimum)s "
                    "are needed to suggest a time.",
                    events=total,
                    minimum=SEND_TIME_MIN_EVENTS,
                )
                continue
            action.send_time_weekday = weekday
            action.send_time_hour = hour
            action.send_time_slot_count = slot_count
            action.send_time_summary = self.env._(
                "%(weekday)s at %(time)s (%(tz)s): %(slot)s of the %(events)s past opens and clicks of these "
                "contacts fell in that hour.",
                weekday=labels[weekday],
                time=f"{hour:02d}:00",
                tz=action.send_time_tz,
                slot=slot_count,
                events=total,
            )

    # ------------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------------
    @api.constrains("schedule_type", "date_start", "parent_id", "recurring_until")
    def _check_schedule(self):
        for action in self:
            if action.schedule_type in ("at", "recurring") and not action.date_start:
                raise ValidationError(
                    self.env._("The action “%(name)s” needs a start date and time.", name=action.name)
                )
            if action.schedule_type == "after" and not action.parent_id:
                raise ValidationError(
                    self.env._("The action “%(name)s” must say which action it follows.", name=action.name)
                )
            if (
                action.schedule_type == "recurring"
                and action.recurring_until
                and action.recurring_until < action.date_start
            ):
                raise ValidationError(
                    self.env._("The recurrence of “%(name)s” ends before it starts.", name=action.name)
                )
            if action.parent_id and action.parent_id.campaign_id != action.campaign_id:
                raise ValidationError(self.env._("An action can only follow an action of the same campaign."))
            if action.parent_id and action._has_parent_cycle():
                raise ValidationError(self.env._("Actions cannot follow each other in a loop."))

    @api.constrains("target_ids", "campaign_id")
    def _check_targets(self):
        for action in self:
            if action.target_ids.campaign_id - action.campaign_id:
                raise ValidationError(self.env._("An action can only use targets of its own campaign."))

    @api.constrains("touchpoint_type_id", "channel")
    def _check_touchpoint_type(self):
        for action in self:
            message = action._touchpoint_type_error(action.touchpoint_type_id)
            if message:
                raise ValidationError(message)

    def _touchpoint_type_error(self, touchpoint_type):
        """Why ``touchpoint_type`` does not suit the action's channel (translated), or False."""
        self.ensure_one()
        if not touchpoint_type.channel or touchpoint_type.channel == self.channel:
            return False
        labels = dict(self._fields["channel"]._description_selection(self.env))
        return self.env._(
            "The touchpoint type “%(type)s” is for %(type_channel)s actions, "
            "not for the %(channel)s action “%(action)s”.",
            type=touchpoint_type.name,
            type_channel=labels[touchpoint_type.channel],
            channel=labels[self.channel],
            action=self.name,
        )

    @api.constrains("ab_variant_ids")
    def _check_ab_variants(self):
        for action in self:
            if len(action.ab_variant_ids) > MAX_AB_VARIANTS:
                raise ValidationError(
                    self.env._(
                        "The A/B test of “%(name)s” has %(count)s combinations: it can compare at most %(max)s.",
                        name=action.name,
                        count=len(action.ab_variant_ids),
                        max=MAX_AB_VARIANTS,
                    )
                )

    @api.constrains("ab_testing", "ab_delay", "ab_delay_unit")
    def _check_ab_delay(self):
        for action in self:
            if action.ab_testing and action.ab_delay < 1:
                raise ValidationError(
                    self.env._(
                        "The A/B test of “%(name)s” chooses its winner at least 1 hour after the test emails were "
                        "delivered: before that, no contact had the time to open or click them.",
                        name=action.name,
                    )
                )

    @api.constrains("task_stage_id", "campaign_id")
    def _check_task_stage(self):
        for action in self:
            project = action.campaign_id.project_id
            if action.task_stage_id and project and project not in action.task_stage_id.project_ids:
                raise ValidationError(
                    self.env._(
                        "The stage “%(stage)s” is not a stage of the project %(project)s of the campaign.",
                        stage=action.task_stage_id.name,
                        project=project.name,
                    )
                )

    @api.constrains("sms_template_id")
    def _check_sms_template(self):
        for action in self:
            if action.sms_template_id and action.sms_template_id.model != "res.partner":
                raise ValidationError(
                    self.env._(
                        "The SMS template “%(template)s” is written for %(model)s: choose a template of contacts.",
                        template=action.sms_template_id.name,
                        model=action.sms_template_id.model_id.name,
                    )
                )

    def _check_content_placeholders(self):
        """The SMS and letter texts are rendered by the scheduler: like Odoo's templates, only
        template editors may put code in their placeholders (plain field paths are allowed).
        Checked on create and write, where the user is known (constraints run as superuser)."""
        if self.env.su or self.env.user.has_group("mail.group_mail_template_editor"):
            return
        render = self.env["mail.render.mixin"]
        for action in self:
            # the text of an SMS template is checked by the template itself
            sms_body = action.sms_body if action.sms_body != action.sms_template_id.body else False
            if (
                render._has_unsafe_expression_template_inline_template(sms_body, "res.partner")
                or render._has_unsafe_expression_template_inline_template(action.letter_subject, "res.partner")
                or render._has_unsafe_expression_template_qweb(action.letter_body, "res.partner")
            ):
                raise AccessError(
                    self.env._(
                        "Only template editors may use placeholders with code in the texts of “%(name)s”: "
                        "keep to fields of the contact such as {{ object.name }}.",
                        name=action.name,
                    )
                )

    @api.constrains("channel")
    def _check_weblinks_channel(self):
        for action in self:
            if action.channel != "weblink" and action.weblink_ids:
                raise ValidationError(
                    self.env._(
                        "The action “%(name)s” has tracked web links: it must stay a web link action.",
                        name=action.name,
                    )
                )

    def _check_landing_placeholders(self):
        """The page is rendered for anonymous visitors like a mail template is rendered: only the
        users allowed to write code in templates may save more than simple placeholders. Called on
        create and write (constraints run as superuser: they cannot tell who writes)."""
        if self.env.su or self.env.user.has_group("mail.group_mail_template_editor"):
            return
        renderer = self.env["mail.render.mixin"]
        for action in self:
            if renderer._has_unsafe_expression_template_qweb(
                action.landing_body, "res.partner"
            ) or renderer._has_unsafe_expression_template_inline_template(action.landing_title, "res.partner"):
                raise AccessError(
                    self.env._(
                        "The page of “%(name)s” contains code: only template editors may use more than "
                        "simple placeholders such as the contact's name.",
                        name=action.name,
                    )
                )

    @api.constrains("webhook_url")
    def _check_webhook_url(self):
        options = self._webhook_url_options()
        for action in self.filtered("webhook_url"):
            try:
                check_url(action.webhook_url, **options)
            except WebhookUrlError as error:
                if error.code != "unresolved":  # checked again before each call; DNS can change
                    raise ValidationError(action._webhook_url_error_message(error)) from error

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    def _creation_message(self):
        # one translatable sentence, in the creator's language (see campaign.campaign)
        return self.env._("Action created")

    @api.model_create_multi
    def create(self, vals_list):
        actions = super().create(vals_list)
        if any(CONTENT_FIELDS & set(vals) for vals in vals_list):
            actions._check_content_placeholders()
        actions._sync_utm_source()
        actions._ensure_task_project()
        actions.filtered(lambda a: a.landing_title or a.landing_body)._check_landing_placeholders()
        return actions

    def write(self, vals):
        if "state" in vals:
            self._check_state_transition(vals["state"])
        if "touchpoint_type_id" in vals:
            changed = self.filtered(lambda a: a.touchpoint_type_id.id != vals["touchpoint_type_id"])
            if changed and self.env["campaign.touchpoint"].search_count([("action_id", "in", changed.ids)], limit=1):
                raise UserError(
                    self.env._(
                        "The touchpoint type of an action that already reached contacts cannot be changed: "
                        "their recorded outcomes follow it."
                    )
                )
        res = super().write(vals)
        if CONTENT_FIELDS & set(vals):
            self._check_content_placeholders()
        if {"name", "campaign_id"} & set(vals):
            self._sync_utm_source()
        if {"channel", "campaign_id"} & set(vals):
            self._ensure_task_project()
        if {"landing_title", "landing_body"} & set(vals):
            self._check_landing_placeholders()
        if LANDING_PAGE_FIELDS & set(vals):
            # the new content is in the database before its version is
            self.flush_recordset(list(LANDING_PAGE_FIELDS & set(vals)))
            self.env.cr.execute(
                SQL(
                    "UPDATE campaign_action SET landing_version = COALESCE(landing_version, 0) + 1 WHERE id IN %s",
                    tuple(self.ids),
                )
            )
            self.invalidate_recordset(["landing_version"])
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_executed(self):
        if self.touchpoint_ids:
            raise UserError(self.env._("An action that already reached contacts cannot be deleted: cancel it."))

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_schedule(self):
        for action in self:
            if action.campaign_id.state in ("done", "cancelled"):
                raise UserError(
                    self.env._(
                        "The campaign %(campaign)s is over: its actions can no longer be scheduled.",
                        campaign=action.campaign_id.name,
                    )
                )
            missing = action._missing_for_run()
            if missing:
                raise UserError(
                    self.env._(
                        "The action “%(name)s” cannot be scheduled yet:\n%(missing)s",
                        name=action.name,
                        missing="\n".join(f"- {item}" for item in missing),
                    )
                )
        self._ensure_task_project()
        self.write({"state": "scheduled"})
        self.env["campaign.engine"]._trigger()

    def action_set_draft(self):
        self.write({"state": "draft", "date_next_run": False})

    def action_cancel(self):
        """Cancel the action: what has not been carried out yet is cancelled, nothing more goes out."""
        self.write({"state": "cancelled", "date_next_run": False})
        self.run_ids.filtered(lambda r: r.state in ("pending", "sending"))._cancel_run()

    def action_edit_email(self):
        """Open the email of the action in the Email Marketing editor (created on first use)."""
        self.ensure_one()
        if self.channel != "email":
            raise UserError(self.env._("Only email actions have an email to edit."))
        if not self.mailing_id:
            self._campaign_link({"mailing_id": self._create_content_mailing(self._prepare_content_mailing_values()).id})
        return {
            "type": "ir.actions.act_window",
            "res_model": "mailing.mailing",
            "res_id": self.mailing_id.id,
            "view_mode": "form",
            "views": [(self.env.ref("mass_mailing.view_mail_mass_mailing_form").id, "form")],
            "context": {"campaign_content": True},
        }

    def action_view_send_time(self):
        """The send-time suggestion, worked out now (it reads the past opens and clicks of all the
        contacts of the targets, so the action's form does not compute it each time it opens)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Send-Time Suggestion"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(self.env.ref("campaign_manager.campaign_action_view_form_send_time").id, "form")],
            "target": "new",
        }

    def action_apply_send_time(self):
        """Move the action to the next suggested weekday and hour (see ``send_time_summary``)."""
        self.ensure_one()
        if self.channel != "email" or not self.send_time_weekday:
            raise UserError(self.env._("There is no send-time suggestion to apply: Suggest a Send Time says why."))
        if self.schedule_type == "after":
            raise UserError(
                self.env._("The action “%(name)s” follows another action: its time comes from it.", name=self.name)
            )
        if self.state not in ("draft", "scheduled") or self.run_ids:
            raise UserError(self.env._("The action “%(name)s” has already run: it cannot move.", name=self.name))
        values = {"date_start": self._send_time_next_slot()}
        if self.schedule_type == "now":
            values["schedule_type"] = "at"
        self.write(values)
        return True

    def action_resume_order(self):
        """Back to the order of the action's campaign, at the step it reached."""
        self.ensure_one()
        return self.campaign_id.action_order()

    def action_open_duplicate(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Duplicate into Campaigns"),
            "res_model": "campaign.action.duplicate",
            "view_mode": "form",
            "target": "new",
            "context": {"default_action_ids": self.ids},
        }

    def action_view_touchpoints(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_touchpoint_action")
        action["domain"] = [("action_id", "=", self.id)]
        return action

    def action_view_weblinks(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_weblink_action")
        action["domain"] = [("action_id", "=", self.id)]
        action["context"] = {"default_action_id": self.id}
        return action

    def action_view_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("campaign_manager.campaign_action_run_action")
        action["domain"] = [("action_id", "=", self.id)]
        return action

    # ------------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------------
    def _check_state_transition(self, new_state):
        labels = dict(self._fields["state"]._description_selection(self.env))
        for action in self:
            if action.state != new_state and new_state not in ACTION_TRANSITIONS[action.state]:
                raise UserError(
                    self.env._(
                        "The action “%(name)s” cannot go from “%(old)s” to “%(new)s”.",
                        name=action.name,
                        old=labels[action.state],
                        new=labels[new_state],
                    )
                )

    def _default_medium(self):
        """UTM medium matching the action's channel."""
        self.ensure_one()
        xmlid = CHANNEL_MEDIUMS.get(self.channel)
        return self.env.ref(xmlid, raise_if_not_found=False) if xmlid else self.env["utm.medium"]

    def _utm_source_name(self):
        self.ensure_one()
        return f"{self.campaign_id.name} - {self.name}"

    def _sync_utm_source(self):
        """Create the UTM source of each action, or keep its name in line with the action's."""
        # utm records are technical: campaign users may lack the rights to create or rename them
        sources = self.env["utm.source"].sudo()
        missing = self.filtered(lambda a: not a.source_id)
        if missing:
            created = sources.create([{"name": action._utm_source_name()} for action in missing])
            for action, source in zip(missing, created, strict=True):
                action.sudo().source_id = source
        for action in self - missing:
            name = action._utm_source_name()
            if action.source_id.name != name:
                action.source_id.sudo().name = name

    def _schedule_late_activity(self):
        """Give the responsible of each action still pending after its campaign's end a to-do."""
        today = fields.Date.context_today(self)
        activity_type = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        values = []
        for action in self:
            env = action.with_context(lang=action.campaign_id._job_lang()).env  # written by the job
            values.append(
                {
                    "res_model_id": self.env["ir.model"]._get_id(self._name),
                    "res_id": action.id,
                    "activity_type_id": activity_type.id if activity_type else False,
                    "summary": env._("Still pending after the end of the campaign"),
                    # the note is html: the campaign's name is text
                    "note": plaintext2html(
                        env._(
                            "The campaign %(campaign)s has ended but this action has not run: "
                            "run it, move it or cancel it.",
                            campaign=action.campaign_id.name,
                        )
                    ),
                    "date_deadline": today,
                    "user_id": (action.user_id or action.campaign_id.user_id).id,
                }
            )
        self.env["mail.activity"].create(values)

    def _campaign_sender(self):
        """The user the action's messages come from: its responsible, else its campaign's owner
        (active internal users only; empty when there is none).

        :return: res.users record (at most one)
        """
        users = self[:1].user_id | self[:1].campaign_id.user_id
        return users.filtered(lambda user: user.active and user._is_internal())[:1]

    def _has_parent_cycle(self):
        self.ensure_one()
        seen, current = set(), self
        while current.parent_id:
            if current.id in seen:
                return True
            seen.add(current.id)
            current = current.parent_id
        return current.id in seen

    def _effective_targets(self):
        """Targets reached by the action: its own, or all the campaign's when none is chosen."""
        self.ensure_one()
        return self.target_ids or self.campaign_id.target_ids

    def _audience_stats(self):
        self.ensure_one()
        return self._effective_targets()._audience_stats(self.channel, action=self)

    def _send_time_tz(self):
        """Timezone of the suggestion: the responsible's, else the current user's, else UTC."""
        self.ensure_one()
        tz = self.user_id.tz or self.env.user.tz or "UTC"
        return tz if tz in pytz.all_timezones_set else "UTC"

    def _send_time_best_slot(self, tz):
        """Best (weekday, hour) to reach the action's contacts, from the opens and clicks of the
        emails of any mailing sent to them, in one query.

        :param str tz: timezone name in which weekdays and hours are counted
        :return: (weekday key of WEEKDAYS or False, hour, events in that hour, events in all)
        """
        self.ensure_one()
        self.env["mailing.trace"].flush_model(["model", "res_id", "open_datetime", "links_click_datetime"])
        self.env["campaign.target"].flush_model(["partner_ids"])
        rows = self.env.execute_query(
            SQL(
                """
                WITH audience AS (
                    SELECT DISTINCT u.partner_id FROM (%(contacts)s) AS u(target_id, partner_id)
                     WHERE u.partner_id IS NOT NULL
                ),
                events AS (
                    SELECT tr.open_datetime AS happened
                      FROM mailing_trace tr JOIN audience a ON a.partner_id = tr.res_id
                     WHERE tr.model = 'res.partner' AND tr.open_datetime IS NOT NULL
                    UNION ALL
                    SELECT tr.links_click_datetime
                      FROM mailing_trace tr JOIN audience a ON a.partner_id = tr.res_id
                     WHERE tr.model = 'res.partner' AND tr.links_click_datetime IS NOT NULL
                ),
                slots AS (
                    SELECT EXTRACT(ISODOW FROM e.local)::integer AS weekday,
                           EXTRACT(HOUR FROM e.local)::integer AS hour,
                           COUNT(*) AS events
                      FROM (SELECT happened AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s AS local FROM events) AS e
                     GROUP BY 1, 2
                )
                SELECT weekday, hour, events, SUM(events) OVER () AS total
                  FROM slots
                 ORDER BY events DESC, weekday, hour
                 LIMIT 1
                """,
                contacts=self._effective_targets()._union_sql(),
                tz=tz,
            )
        )
        if not rows:
            return False, 0, 0, 0
        isodow, hour, events, total = rows[0]
        return str(isodow - 1), hour, events, int(total)

    def _send_time_next_slot(self, now=None):
        """Next occurrence (UTC, naive) of the suggested weekday and hour after ``now``."""
        self.ensure_one()
        tz = pytz.timezone(self.send_time_tz)
        local_now = pytz.utc.localize(now or fields.Datetime.now()).astimezone(tz)
        day = local_now.date() + timedelta(days=(int(self.send_time_weekday) - local_now.weekday()) % 7)
        slot = tz.localize(datetime.combine(day, time(self.send_time_hour)))
        if slot <= local_now:
            slot = tz.localize(datetime.combine(day + timedelta(days=7), time(self.send_time_hour)))
        return slot.astimezone(pytz.utc).replace(tzinfo=None)

    def _next_occurrence(self, after):
        """Next run of a recurring action strictly after ``after``, or False past its end."""
        self.ensure_one()
        step = {
            "days": relativedelta(days=self.interval_number),
            "weeks": relativedelta(weeks=self.interval_number),
            "months": relativedelta(months=self.interval_number),
        }[self.interval_unit or "weeks"]
        occurrence = self.date_start
        while occurrence and occurrence <= after:
            occurrence += step
        if self.recurring_until and occurrence > self.recurring_until:
            return False
        return occurrence

    def _copy_to_campaign(self, campaign, date_shift=None):
        """Copy the actions into ``campaign``: same settings, targets matched by name, no touchpoints.
        ``after`` links are kept between the copied actions."""
        targets_by_name = {target.name: target for target in campaign.target_ids}
        mapping = {}
        pending = list(self)
        while pending:
            # parents first, so that the copy of a follow-up points to the copy of its parent
            ready = [a for a in pending if a.parent_id not in self or a.parent_id.id in mapping] or pending
            for action in ready:
                pending.remove(action)
                mapping[action.id] = action._copy_into(campaign, targets_by_name, mapping, date_shift)
        return self.browse(list(mapping.values()))

    def _copy_into(self, campaign, targets_by_name, mapping, date_shift):
        self.ensure_one()
        values = {
            "campaign_id": campaign.id,
            "target_ids": [
                fields.Command.set([targets_by_name[t.name].id for t in self.target_ids if t.name in targets_by_name])
            ],
            "parent_id": mapping.get(self.parent_id.id, False),
        }
        if self.schedule_type == "after" and not values["parent_id"]:
            values["schedule_type"] = "now"
        if date_shift is not None:
            delta = timedelta(days=date_shift)
            for field in ("date_start", "date_stop", "recurring_until"):
                if self[field]:
                    values[field] = self[field] + delta
        return self.copy(values).id

    # ------------------------------------------------------------------
    # ENGINE: readiness
    # ------------------------------------------------------------------
    def _run_has_audience(self):
        """Whether a run of the action reaches contacts (and so creates touchpoints): not for the
        channels that reach nobody (web links), nor for one task for the action (see
        ``audience_less``)."""
        self.ensure_one()
        return not self.audience_less

    def _missing_for_run(self):
        """What the action still needs before it can run, in the user's language (empty when ready)."""
        self.ensure_one()
        missing = []
        if self._run_has_audience() and self.followup_filter == "targets" and not self._effective_targets():
            missing.append(self.env._("a target (the campaign has none)"))
        for target in self._effective_targets().filtered(lambda t: t.import_state == "queued"):
            missing.append(
                self.env._("the end of the import of the target “%(target)s” (in progress)", target=target.name)
            )
        for target in (
            self._effective_targets() if self._run_has_audience() and self.followup_filter == "targets" else []
        ):
            error = target._filter_error()
            if error:
                missing.append(
                    self.env._("a valid filter for the target “%(target)s”: %(error)s", target=target.name, error=error)
                )
        if self.followup_filter != "targets" and self.schedule_type != "after":
            missing.append(
                self.env._("a previous action: only an action that follows another can be limited to its contacts")
            )
        if self.channel not in self._channel_dispatchers():
            missing.append(self.env._("a channel that can run (this one is not available)"))
        check = self._channel_checks().get(self.channel)
        if check:
            missing += check()
        return missing

    def _channel_checks(self):
        """Per channel, a method listing what the action's content still lacks."""
        return {
            "email": self._missing_for_email,
            "sms": self._missing_for_sms,
            "letter": self._missing_for_letter,
            "landing": self._missing_for_landing,
            "webhook": self._missing_for_webhook,
            "task": self._missing_for_task,
            "event": self._missing_for_event,
        }

    def _missing_for_email(self):
        self.ensure_one()
        if not self._is_ab_test():
            return self._missing_for_email_content()
        missing = []
        variants = self.ab_variant_ids
        if len(variants) < 2:
            missing.append(self.env._("at least two combinations for the A/B test"))
        if not variants or any(not variant._has_own_content() for variant in variants):
            missing += self._missing_for_email_content()
        for variant in variants:
            missing += variant._missing_for_run()
        return missing

    def _missing_for_email_content(self):
        self.ensure_one()
        if self.mail_template_id:
            missing = [] if self.mail_template_id.subject else [self.env._("a subject in the email template")]
            return missing + self._missing_placeholders(self.mail_template_id.body_html, self.env._("the email"))
        if not self.mailing_id:
            return [self.env._("an email: write it with “Edit Email” or choose a template")]
        missing = []
        if not self.mailing_id.subject:
            missing.append(self.env._("a subject for the email"))
        if is_html_empty(self.mailing_id.body_html):  # what is sent (the editor converts body_arch into it)
            missing.append(self.env._("a body for the email"))
        return missing + self._missing_placeholders(self.mailing_id.body_html, self.env._("the email"))

    def _missing_placeholders(self, html, text_name):
        """The placeholders of a body (email, letter, page) that will not be replaced, as a missing item.

        :param html: the body
        :param str text_name: what the body is, translated ("the email")
        :return: list of at most one translated item
        """
        found = placeholders.unreplaced(html, self.env["mailing.mailing"]._campaign_placeholder_allowed)
        if not found:
            return []
        return [
            self.env._(
                "placeholders that can be replaced in %(text)s instead of %(placeholders)s: in a text, "
                "{{ object.name }} (the contact's name) and {{ object.campaign_landing_url }} (their page) "
                "are; other fields need a template editor",
                text=text_name,
                placeholders=", ".join(found),
            )
        ]

    def _missing_for_task(self):
        self.ensure_one()
        missing = []
        name = self._task_title()
        if not name:
            missing.append(self.env._("a title for the tasks"))
        elif self.task_mode == "action" and CONTACT_PLACEHOLDER in name:
            missing.append(
                self.env._(
                    "a task title without %(placeholder)s: one task for the action concerns no contact",
                    placeholder=CONTACT_PLACEHOLDER,
                )
            )
        if not (self.task_user_ids or self.user_id):
            missing.append(self.env._("someone to assign the tasks to (assignees or a responsible)"))
        return missing

    def _missing_for_event(self):
        self.ensure_one()
        missing = []
        if not (self.event_name or self.name):
            missing.append(self.env._("a title for the event"))
        if self.event_start_mode == "fixed" and not self.event_date_start:
            missing.append(self.env._("the date of the event"))
        if not (self.event_user_id or self.user_id):
            missing.append(self.env._("an organizer for the event"))
        return missing

    def _missing_for_sms(self):
        self.ensure_one()
        if not (self.sms_body or "").strip():
            return [self.env._("an SMS text: write it or choose an SMS template")]
        return []

    def _missing_for_letter(self):
        self.ensure_one()
        missing = []
        if is_html_empty(self.letter_body):
            missing.append(self.env._("a text for the letter"))
        missing += self._missing_placeholders(self.letter_body, self.env._("the letter"))
        if self.env["ir.actions.report"].get_wkhtmltopdf_state() == "install":
            missing.append(
                self.env._("the PDF converter wkhtmltopdf on the server (ask your administrator to install it)")
            )
        return missing

    def _missing_for_landing(self):
        self.ensure_one()
        missing = []
        if not self.landing_title:
            missing.append(self.env._("a title for the page"))
        if is_html_empty(self.landing_body):
            missing.append(self.env._("a content for the page"))
        missing += self._missing_placeholders(self.landing_body, self.env._("the page"))
        return missing

    def _missing_for_webhook(self):
        self.ensure_one()
        missing = []
        if not self.webhook_url:
            missing.append(self.env._("a webhook URL"))
        else:
            try:
                check_url(self.webhook_url, **self._webhook_url_options())
            except WebhookUrlError as error:
                if error.code != "unresolved":
                    missing.append(self._webhook_url_error_message(error))
        if not self.sudo().webhook_secret:  # the secret is only read to know it is set
            missing.append(self.env._("a secret to sign the webhook calls"))
        return missing

    @api.model
    def _webhook_url_options(self):
        """What an administrator allowed webhooks to call besides public https sites on port 443:
        loopback, private and link-local addresses (``allow_private``), other ports (``allow_ports``)."""
        # system parameters: any user's action is checked against the administrator's choice
        params = self.env["ir.config_parameter"].sudo()
        return {
            key: params.get_param(param) not in (False, None, "", "0", "False", "false")
            for key, param in (
                ("allow_private", WEBHOOK_ALLOW_PRIVATE_PARAM),
                ("allow_ports", WEBHOOK_ALLOW_PORTS_PARAM),
            )
        }

    def _webhook_url_error_message(self, error):
        """The translated explanation of a :class:`WebhookUrlError`."""
        if error.code == "scheme":
            return self.env._("The webhook URL must start with https://.")
        if error.code == "credentials":
            return self.env._("The webhook URL must not contain a user name or password: use the signing secret.")
        if error.code == "host":
            return self.env._("The webhook URL has no valid host name or port.")
        if error.code == "port":
            return self.env._(
                "The webhook URL uses the port %(port)s: only the https port 443 is allowed, unless an "
                "administrator allows other ports in the settings.",
                port=error.address,
            )
        if error.code == "unresolved":
            return self.env._("The host name of the webhook URL cannot be resolved.")
        return self.env._(
            "The webhook URL leads to %(address)s, a loopback, private, link-local or reserved address: "
            "refused. An administrator can allow such addresses in the settings.",
            address=error.address,
        )

    def _prepare_content_mailing_values(self):
        """Values of the mailing holding the action's email content (never sent itself)."""
        self.ensure_one()
        return {
            "subject": self.name,
            "mailing_type": "mail",
            "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
            "mailing_domain": str([("campaign_touchpoint_ids.action_id", "=", self.id)]),
            "campaign_id": self.campaign_id.utm_campaign_id.id,
            "source_id": self.source_id.id,
            "medium_id": self.medium_id.id,
            "user_id": self.user_id.id or self.env.user.id,
        }

    def _create_content_mailing(self, values, model=None):
        """A mailing holding email content of the action (its own, or an A/B test combination's),
        a copy of ``model`` when given: the user's mailing, tied to the action by the addon."""
        self.ensure_one()
        mailings = (model or self.env["mailing.mailing"]).with_context(**CAMPAIGN_MAILING_CONTEXT)
        mailing = mailings.copy(values) if model else mailings.create(values)
        mailing._campaign_link({"campaign_action_id": self.id})
        return mailing

    # ------------------------------------------------------------------
    # ENGINE: channels
    # ------------------------------------------------------------------
    def _channel_dispatchers(self):
        """Per channel, the method carrying out a batch of touchpoints of a run:
        ``method(run, touchpoints)``. It must give every touchpoint a state other than
        'planned' (or leave it planned to retry it later), never commit, and raise on errors
        that concern the whole batch; the engine then retries each touchpoint alone."""
        return {
            "email": self._dispatch_email,
            "sms": self._dispatch_sms,
            "letter": self._dispatch_letter,
            "landing": self._dispatch_landing,
            "webhook": self._dispatch_webhook,
            "task": self._dispatch_task,
            "event": self._dispatch_event,
            "weblink": self._dispatch_nothing,
        }

    def _channel_batch_size(self, batch_size):
        """Touchpoints a batch of the action may take (the engine's batch size unless the channel
        needs smaller batches)."""
        self.ensure_one()
        if self.channel == "webhook" and self.webhook_mode == "contact":
            return min(batch_size, WEBHOOK_PARALLEL)
        return batch_size

    def _channel_finishers(self):
        """Per channel, an optional method called once when a run has carried out all its
        touchpoints: ``method(run)``."""
        return {"letter": self._finish_letter, "task": self._finish_task}

    def _dispatch_nothing(self, run, touchpoints):
        """Channels that reach no contact (web links): their runs have no touchpoint to carry out."""

    def _dispatch_email(self, run, touchpoints):
        """Email through the run's mailing; in an A/B test run, the test contacts through the
        mailing of their combination and the rest through the winner's."""
        # the emails can show each contact's landing page address (res.partner.campaign_landing_url)
        mailings = self.env["mailing.mailing"].with_context(campaign_landing_campaign_id=run.campaign_id.id)
        run, touchpoints = run.with_env(mailings.env), touchpoints.with_env(mailings.env)
        if not run.ab_date_decision:
            mailings._campaign_send(run, touchpoints)
            return
        by_variant = defaultdict(list)
        for touchpoint in touchpoints:
            variant = touchpoint.variant_id if touchpoint.ab_group == "test" else None
            by_variant[variant].append(touchpoint.id)
        for variant, touchpoint_ids in by_variant.items():
            mailings._campaign_send(run, touchpoints.browse(touchpoint_ids), variant=variant)

    def _dispatch_sms(self, run, touchpoints):
        """SMS go the same way as emails: the run's SMS mailing queues them (sms.sms records,
        sent by the SMS queue), its traces carry the touchpoints."""
        self.env["mailing.mailing"]._campaign_send(run, touchpoints)

    def _dispatch_letter(self, run, touchpoints):
        # the letters can show each contact's landing page address, like the emails
        report = self.env["report.campaign_manager.report_campaign_letter"].with_context(
            campaign_landing_campaign_id=run.campaign_id.id
        )
        report._campaign_print_batch(run.with_env(report.env), touchpoints.with_env(report.env))

    def _finish_letter(self, run):
        self.env["report.campaign_manager.report_campaign_letter"]._campaign_bind_run(run)

    def _dispatch_landing(self, run, touchpoints):
        touchpoints._landing_publish()

    def _dispatch_webhook(self, run, touchpoints):
        touchpoints._webhook_send(run)

    def _dispatch_task(self, run, touchpoints):
        self.env["project.task"]._campaign_create_for_touchpoints(run, touchpoints)

    def _finish_task(self, run):
        if not self._run_has_audience():
            self.env["project.task"]._campaign_create_for_run(run)

    def _dispatch_event(self, run, touchpoints):
        self.env["calendar.event"]._campaign_invite(run, touchpoints)

    # ------------------------------------------------------------------
    # CHANNELS: tasks, events, A/B tests
    # ------------------------------------------------------------------
    def _is_ab_test(self):
        self.ensure_one()
        return self.channel == "email" and self.ab_testing

    def _ensure_task_project(self):
        """Task actions put their tasks in the campaign's project: create it when missing."""
        campaigns = self.filtered(lambda a: a.channel == "task" and not a.campaign_id.project_id).campaign_id
        if campaigns:
            # the project is part of the campaign's set-up; campaign users need no Project rights for it
            campaigns.sudo().action_create_project()

    def _task_title(self, contact_name=None):
        """Title of a task of the action; ``{contact}`` replaced by ``contact_name`` when given."""
        self.ensure_one()
        title = (self.task_name or self.name or "").strip()
        if contact_name is not None:
            title = title.replace(CONTACT_PLACEHOLDER, contact_name)
        return title

    def _task_values(self, run):
        """Values shared by the tasks a run of the action creates."""
        self.ensure_one()
        project = self.campaign_id.project_id
        if not project:
            raise UserError(
                self.env._(
                    "The campaign %(campaign)s has no project for the tasks of “%(action)s”: create it from the "
                    "campaign (Project button).",
                    campaign=self.campaign_id.name,
                    action=self.name,
                )
            )
        stage = self.task_stage_id if project in self.task_stage_id.project_ids else False
        deadline = run.date_planned + timedelta(days=self.task_deadline_days) if self.task_deadline_days else False
        return {
            "project_id": project.id,
            "company_id": project.company_id.id,
            "description": self.task_description or False,
            "user_ids": [fields.Command.set((self.task_user_ids or self.user_id).ids)],
            "tag_ids": [fields.Command.set(self.task_tag_ids.ids)],
            "date_deadline": deadline,
            "campaign_action_id": self.id,
            "campaign_run_id": run.id,
            **({"stage_id": stage.id} if stage else {}),
        }

    def _event_values(self, run):
        """Values of the calendar event of a run of the action."""
        self.ensure_one()
        if self.event_start_mode == "fixed":
            start = self.event_date_start
        else:
            unit = "hours" if self.event_delay_unit == "hours" else "days"
            start = run.date_planned + relativedelta(**{unit: self.event_delay})
        if not start:
            raise UserError(self.env._("The event of “%(action)s” has no date.", action=self.name))
        # the run's date keeps its seconds (21:07:08): an event starts on a minute
        start = start.replace(second=0, microsecond=0)
        organizer = self.event_user_id or self.user_id
        values = {
            "name": self.event_name or self.name,
            "start": start,
            "stop": start + timedelta(hours=self.event_duration or 1.0),
            "location": self.event_location or False,
            "description": self.event_description or False,
            "user_id": organizer.id,
            "partner_ids": [fields.Command.set(organizer.partner_id.ids)],
        }
        if self.campaign_id.scope == "personal":
            # the attendees are the owner's own contacts: colleagues see the time taken, not who comes
            values["privacy"] = "private"
        return values

    # SHIM r-engine: dropped at merge
    # the channel interface the engine calls (r-channels implements it in the channel files), over
    # the dicts above; and the engine's wake-up for the A/B methods of the run
    def _channel_can_run(self):
        self.ensure_one()
        return self.channel in self._channel_dispatchers()

    def _channel_dispatch(self, run, touchpoints):
        self.ensure_one()
        dispatcher = self._channel_dispatchers().get(self.channel)
        if not dispatcher:
            raise UserError(self.env._("The channel of this action cannot run."))
        dispatcher(run, touchpoints)

    def _channel_finish(self, run):
        self.ensure_one()
        finisher = self._channel_finishers().get(self.channel)
        if finisher:
            finisher(run)

    def _trigger_engine(self, at=None):
        self.env["campaign.engine"]._trigger(at)
