"""Constants and selection lists shared by several files of the addon (as ``payment/const.py``).
What only one channel uses lives with that channel, in ``models/channels/``."""

from odoo.tools import SQL

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

# States of an action that has not run yet.
PENDING_STATES = ("draft", "scheduled")

# Touchpoints the engine carries out per batch, unless the settings say otherwise.
DEFAULT_BATCH_SIZE = 500

# A touchpoint in one of these states was really carried out (sent, printed, created...): it counts
# as a unit of the action's variable cost and as a contact reached.
CARRIED_STATES = ("sent", "done", "opened", "clicked", "replied", "converted", "bounced", "unsubscribed")
# The same, as an SQL condition on the touchpoints aliased tp.
CARRIED_SQL = SQL("tp.state IN %s", CARRIED_STATES)
# States that do not count as "reached" for the "once per contact" option.
NOT_REACHED_STATES = ("failed", "excluded", "cancelled")
# a touchpoint whose contact answered: replied, converted or visited the personal page
RESPONDED_CONDITION = (
    "(state IN ('replied', 'converted') OR date_replied IS NOT NULL "
    "OR date_converted IS NOT NULL OR date_visited IS NOT NULL)"
)

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

# Branches (issue 14): which contacts of the previous action a follow-up takes, on the split of
# that action (a filter on the contact): every contact, those matching it, those not matching it.
BRANCHES = [
    ("all", "Every contact"),
    ("yes", "Contacts matching the split"),
    ("no", "Contacts not matching the split"),
]

# Hold-out (control) groups: the largest share of an audience, in percent, a campaign or an action
# may hold out (past it the treated group would be the smaller one).
HOLDOUT_MAX_SHARE = 50

# Attribution by contact (see campaign.analysis.report._attribution_sql): how an invoice is shared
# between the touchpoints carried out to its buyer in the look-back window before it.
ATTRIBUTION_MODELS = [
    ("last", "Last touch"),
    ("first", "First touch"),
    ("linear", "Linear"),
    ("position", "Position-based (40/20/40)"),
]
ATTRIBUTION_MAX_DAYS = 366
# Lift of a hold-out group: fewer contacts than this in either group and it is not measured yet.
LIFT_MIN_GROUP = 30

# Journeys (issue 14): what enrols a contact in a campaign the moment it happens (models/campaign_trigger.py).
TRIGGER_TYPES = [
    ("mailing_list", "Subscribed to a mailing list"),
    ("sale_order", "Sale order confirmed"),
    ("invoice_paid", "Customer invoice paid"),
    ("lead_stage", "Lead or opportunity reaches a stage"),
    ("date", "A date of the contact comes round"),
    ("webhook", "Signed webhook from another system"),
]
# What a sale order must contain to enrol its customer.
TRIGGER_SALE_FILTERS = [
    ("any", "Any order"),
    ("product", "Containing a product"),
    ("category", "Containing a product category"),
]
# Whether a contact who already entered a journey may enter it again.
JOURNEY_REENTRY = [
    ("once", "Once ever"),
    ("after", "Again after some days"),
]
# Where a contact stands in a journey (models/campaign_enrolment.py).
ENROLMENT_STATES = [
    ("active", "In the journey"),
    ("converted", "Goal reached"),
    ("excluded", "Left the journey"),
]
# What takes a contact out of a journey as its conversion (models/campaign_goal.py).
GOAL_TYPES = [
    ("none", "No goal"),
    ("order", "Placed an order"),
    ("invoice_paid", "Paid an invoice"),
    ("won", "Opportunity won"),
    ("replied", "Replied"),
    ("domain", "Contact matches a filter"),
]
# Signed inbound webhooks of journeys (controllers/journey.py): how old a delivery's timestamp may be
# (seconds, either way), and how many deliveries a trigger accepts per minute.
WEBHOOK_ENTRY_WINDOW = 300
WEBHOOK_ENTRY_RATE = 120
# Marketing pressure caps (per company, across campaigns): the period a cap counts over, as a
# rolling window ending now, and what happens to a contact over a cap.
PRESSURE_PERIODS = [("day", "Day (24 hours)"), ("week", "Week (7 days)"), ("month", "Month (30 days)")]
PRESSURE_SPAN_DAYS = {"day": 1, "week": 7, "month": 30}
PRESSURE_MODES = [
    ("hold", "Hold until the cap allows it"),
    ("exclude", "Exclude from the run (Marketing pressure)"),
]
# Touchpoints that count against a cap: carried out, or handed over to the delivery workers and
# sure to be sent (queued) - counting only the carried ones would let two runs overshoot.
PRESSURE_COUNTED_STATES = ("queued", *CARRIED_STATES)
# When a touchpoint counts for a cap: sent on, else handed over on, else planned on.
PRESSURE_DATE_SQL = SQL("COALESCE(tp.date_done, tp.date_dispatched, tp.date_planned)")
# The classification of an audience that reaches nobody (same columns as campaign.target._classified_sql).
EMPTY_CLASSIFIED_SQL = SQL(
    "SELECT NULL::integer AS partner_id, NULL::varchar AS reason, NULL::timestamp AS held_until, "
    "NULL::varchar AS tz WHERE FALSE"
)

# Local send times: the allowed weekdays of an action, fields in ISO order (Monday 1 ... Sunday 7),
# and how many days ahead the next allowed slot of a contact is looked for.
LOCAL_WEEKDAY_FIELDS = (
    "local_monday",
    "local_tuesday",
    "local_wednesday",
    "local_thursday",
    "local_friday",
    "local_saturday",
    "local_sunday",
)
LOCAL_SLOT_SEARCH_DAYS = 31

# The order in which a delivery batch's claimed touchpoints are admitted (campaign.engine's
# ``_claim_steps``), each step taking what the steps before it left: the contacts who left the
# journey are dropped first, so that neither their local time nor the caps count them; the local
# send time puts off the others before the caps count what goes now.
CLAIM_STEP_SEQUENCE = {"journey": 10, "local_time": 20, "pressure": 30}
