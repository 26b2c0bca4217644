"""Local send times: an action sends at its time of day in each contact's own time zone, only on the
weekdays and between the hours it allows (quiet hours), never on the company's public holidays;
each contact is held until its next allowed slot. Worked out in SQL for all the contacts of a run
at once (PostgreSQL converts the times, daylight saving time included)."""

from datetime import timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ..const import CLAIM_STEP_SEQUENCE, LOCAL_SLOT_SEARCH_DAYS, LOCAL_WEEKDAY_FIELDS

# time zone names known by PostgreSQL, by database (see CampaignAction._local_known_zones)
_KNOWN_ZONES = {}

LOCAL_TIME_HELP = (
    "Each contact receives the action at its time of day (in the responsible's time zone) in the "
    "contact's own time zone: the contact's time zone, else its country's (the main one of a country "
    "of several), else the company's. A contact for whom that time has passed when the action runs "
    "gets it at once. Never outside the allowed hours and weekdays, nor on the company's public "
    "holidays: the contact is held until its next allowed slot."
)


class CampaignAction(models.Model):
    _inherit = "campaign.action"

    local_time = fields.Boolean(string="Send at Local Time", help=LOCAL_TIME_HELP)
    local_hour_from = fields.Float(
        string="Not Before",
        default=8.0,
        help="Local time of each contact before which nothing is sent (quiet hours), e.g. 08:00.",
    )
    local_hour_to = fields.Float(
        string="Not After",
        default=20.0,
        help="Local time of each contact after which nothing is sent (quiet hours), e.g. 20:00.",
    )
    local_monday = fields.Boolean(string="Monday", default=True)
    local_tuesday = fields.Boolean(string="Tuesday", default=True)
    local_wednesday = fields.Boolean(string="Wednesday", default=True)
    local_thursday = fields.Boolean(string="Thursday", default=True)
    local_friday = fields.Boolean(string="Friday", default=True)
    local_saturday = fields.Boolean(string="Saturday", default=True)
    local_sunday = fields.Boolean(string="Sunday", default=False)
    local_skip_holidays = fields.Boolean(
        string="Not on Public Holidays",
        default=True,
        help="Nothing is sent on the company's public holidays (time off of its working schedule that "
        "is not anybody's, in Employees or Planning), in each contact's local calendar.",
    )

    @api.constrains("local_time", "local_hour_from", "local_hour_to", *LOCAL_WEEKDAY_FIELDS)
    def _check_local_time(self):
        for action in self.filtered("local_time"):
            if not 0 <= action.local_hour_from < action.local_hour_to <= 24:
                raise ValidationError(
                    self.env._(
                        "The allowed hours of “%(name)s” must run from 00:00 to 24:00 at most, the first "
                        "before the last.",
                        name=action.display_name,
                    )
                )
            if not any(action[name] for name in LOCAL_WEEKDAY_FIELDS):
                raise ValidationError(
                    self.env._(
                        "“%(name)s” sends at local time: allow it at least one weekday.", name=action.display_name
                    )
                )

    # ------------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------------
    @api.model
    def _local_company_tz(self, company):
        """The company's time zone: its contact's, else its working schedule's, else UTC."""
        tz = company.partner_id.tz or company.resource_calendar_id.tz
        return tz if tz in pytz.all_timezones_set else "UTC"

    @api.model
    def _local_zone_sql(self, company):
        """SQL expression of the time zone of the contact ``p`` (the res_partner alias of the query):
        its own when PostgreSQL knows it, else its country's first (pytz.country_timezones), else the
        company's. No join: the known names are a hashed list, the countries' zones an array indexed
        by the country's id (joins to the zones made PostgreSQL look each contact up again, 160 ms
        of 100,000 contacts, and read ``pg_timezone_names`` at every run, 30-60 ms)."""
        self.env["res.country"].flush_model(["code"])
        countries = self.env.execute_query(SQL("SELECT id, code FROM res_country WHERE code IS NOT NULL"))
        by_country = [None] * max((country_id for country_id, _code in countries), default=0)
        for country_id, code in countries:
            zones = pytz.country_timezones.get(code.upper())
            if zones:
                by_country[country_id - 1] = zones[0]
        self.env["res.partner"].flush_model(["tz", "country_id"])
        return SQL(
            """COALESCE(CASE WHEN p.tz IN (SELECT unnest(%(known)s::varchar[])) THEN p.tz END,
                        (%(by_country)s::varchar[])[p.country_id], %(company_tz)s)::varchar""",
            known=self._local_known_zones(),
            by_country=by_country,
            company_tz=self._local_company_tz(company),
        )

    @api.model
    def _local_known_zones(self):
        """The time zone names PostgreSQL knows, read once per process and server (the contacts'
        time zones are checked against them: an unknown name would fail the whole statement)."""
        key = self.env.cr.dbname
        if key not in _KNOWN_ZONES:
            names = self.env.execute_query(SQL("SELECT name FROM pg_timezone_names"))
            _KNOWN_ZONES[key] = sorted(name for (name,) in names)
        return _KNOWN_ZONES[key]

    @api.model
    def _local_zones_sql(self, source, company):
        """SQL of the rows of ``source`` (SQL of rows with a ``partner_id`` column, each partner
        once) with a ``tz`` column (``_local_zone_sql``)."""
        return SQL(
            "SELECT s.*, %(zone)s AS tz FROM (%(source)s) AS s JOIN res_partner p ON p.id = s.partner_id",
            zone=self._local_zone_sql(company),
            source=source,
        )

    def _local_holidays(self, start):
        """The company's public holidays (dates in its working schedule's time zone) from the day
        before ``start`` over the days a slot is looked for: time off of the company's working
        schedule (or of every schedule) that is nobody's."""
        self.ensure_one()
        if not self.local_skip_holidays:
            return []
        company = self.company_id
        calendar = company.resource_calendar_id
        tz = pytz.timezone(calendar.tz if calendar.tz in pytz.all_timezones_set else self._local_company_tz(company))
        end = start + timedelta(days=LOCAL_SLOT_SEARCH_DAYS + 2)
        # sudo: the company's public holidays, read for any campaign user and for the job
        leaves = (
            self.env["resource.calendar.leaves"]
            .sudo()
            .search(
                [
                    ("resource_id", "=", False),
                    ("company_id", "in", [company.id, False]),
                    ("calendar_id", "in", [calendar.id, False]),
                    ("date_from", "<", end),
                    ("date_to", ">", start - timedelta(days=1)),
                ]
            )
        )
        days = set()
        for leave in leaves:
            day = pytz.utc.localize(leave.date_from).astimezone(tz).date()
            last = pytz.utc.localize(leave.date_to - timedelta(seconds=1)).astimezone(tz).date()
            while day <= last:
                days.add(day)
                day += timedelta(days=1)
        return sorted(days)

    def _local_wall_time(self, moment):
        """The wall-clock time (naive) of the UTC ``moment`` in the responsible's time zone: the time
        of day each contact gets the action at, in its own time zone."""
        self.ensure_one()
        tz = pytz.timezone(self._send_time_tz())
        return pytz.utc.localize(moment).astimezone(tz).replace(tzinfo=None)

    def _local_slot_sql(self, rows, moment, now):
        """Wrap the (partner_id, reason, held_until, tz) rows ``rows`` (``tz``: the contact's time
        zone, ``_local_zone_sql``; the company's when NULL): for each contact to reach, the first
        moment (UTC) from the later of now, its ``held_until`` and the action's time of day
        ``moment`` (UTC) in its local time, that falls on an allowed weekday, not a holiday, between
        the allowed hours of its local day; ``held_until`` becomes that moment, or NULL when it is
        now. Without any such slot within LOCAL_SLOT_SEARCH_DAYS, the last day of the search."""
        self.ensure_one()
        weekdays = [number for number, name in enumerate(LOCAL_WEEKDAY_FIELDS, start=1) if self[name]]
        return SQL(
            """
            WITH slot_rows AS MATERIALIZED (
                SELECT r.partner_id, r.reason, r.held_until, COALESCE(r.tz, %(company_tz)s)::varchar AS tz
                  FROM (%(rows)s) AS r
            ),
            -- worked out once per time zone and pressure release, not once per contact
            started AS (
                SELECT g.tz, g.held_key,
                       GREATEST((%(now)s::timestamp AT TIME ZONE 'UTC') AT TIME ZONE g.tz,
                                (GREATEST(g.held_key, %(now)s) AT TIME ZONE 'UTC') AT TIME ZONE g.tz,
                                %(wall)s::timestamp) AS local_start
                  FROM (SELECT tz, COALESCE(held_until, '-infinity') AS held_key
                          FROM slot_rows WHERE reason IS NULL GROUP BY 1, 2) AS g
            ),
            slotted AS (
                SELECT s.tz, s.held_key,
                       COALESCE(
                           (SELECT MIN(GREATEST(s.local_start, d.day + %(from)s * interval '1 hour'))
                              FROM generate_series(date_trunc('day', s.local_start),
                                                   date_trunc('day', s.local_start) + %(days)s * interval '1 day',
                                                   interval '1 day') AS d(day)
                             WHERE EXTRACT(ISODOW FROM d.day) = ANY(%(weekdays)s)
                               AND NOT (d.day::date = ANY(%(holidays)s::date[]))
                               AND GREATEST(s.local_start, d.day + %(from)s * interval '1 hour')
                                   < d.day + %(to)s * interval '1 hour'),
                           date_trunc('day', s.local_start) + %(days)s * interval '1 day'
                               + %(from)s * interval '1 hour'
                       ) AS local_slot
                  FROM started s
            )
            SELECT r.partner_id, r.reason,
                   CASE WHEN r.reason IS NULL
                        THEN NULLIF(GREATEST((sl.local_slot AT TIME ZONE sl.tz) AT TIME ZONE 'UTC', %(now)s), %(now)s)
                        ELSE r.held_until END AS held_until,
                   r.tz
              FROM slot_rows r
         LEFT JOIN slotted sl ON r.reason IS NULL AND sl.tz = r.tz
                             AND sl.held_key = COALESCE(r.held_until, '-infinity')
            """,
            rows=rows,
            company_tz=self._local_company_tz(self.company_id),
            now=now,
            wall=self._local_wall_time(moment),
            days=LOCAL_SLOT_SEARCH_DAYS,
            weekdays=weekdays,
            holidays=self._local_holidays(now),
            **{"from": self.local_hour_from, "to": self.local_hour_to},
        )

    def _send_time_zones_sql(self):
        """SQL of (partner_id, tz) for the send-time suggestion (models/channels/email.py): the time
        zone each contact's opens and clicks are counted in, for the contacts of its CTE
        ``audience``, when the action sends at local time; none otherwise (all counted in the
        suggestion's time zone)."""
        self.ensure_one()
        if not self.local_time:
            return SQL("SELECT NULL::integer AS partner_id, NULL::varchar AS tz WHERE FALSE")
        return self._local_zones_sql(SQL("SELECT partner_id FROM audience"), self.company_id)

    def _send_time_tz_label(self):
        """The time zone of the send-time suggestion, as its summary names it."""
        self.ensure_one()
        return self.env._("each contact's local time") if self.local_time else self._send_time_tz()


class CampaignEngine(models.AbstractModel):
    _inherit = "campaign.engine"

    def _schedule_sql(self, classified, run, now):
        classified = super()._schedule_sql(classified, run, now)
        action = run.action_id
        if not action.local_time:
            return classified
        return action._local_slot_sql(classified, run.date_planned or now, now)

    def _claim_steps(self, run):
        steps = super()._claim_steps(run)
        if run.action_id.local_time:
            steps.append((CLAIM_STEP_SEQUENCE["local_time"], self._claim_local_time))
        return steps

    def _claim_local_time(self, run, touchpoint_ids, now):
        """Put off the candidates whose local time does not allow them now (quiet hours, a weekday
        or a holiday not allowed: a contact released by a pressure cap at night), before the caps
        count the others."""
        action = run.action_id
        rows = SQL(
            "SELECT tp.partner_id, NULL::varchar AS reason, NULL::timestamp AS held_until, %s AS tz "
            "FROM campaign_touchpoint tp JOIN res_partner p ON p.id = tp.partner_id WHERE tp.id IN %s",
            action._local_zone_sql(action.company_id),
            tuple(touchpoint_ids),
        )
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint tp SET date_not_before = s.held_until
                     FROM (%(slots)s) AS s
                    WHERE tp.id IN %(ids)s AND tp.partner_id = s.partner_id AND s.held_until IS NOT NULL
                RETURNING tp.id""",
                slots=action._local_slot_sql(rows, run.date_planned or now, now),
                ids=tuple(touchpoint_ids),
            )
        )
        put_off = {row[0] for row in self.env.cr.fetchall()}
        return [touchpoint_id for touchpoint_id in touchpoint_ids if touchpoint_id not in put_off]


class CampaignTarget(models.Model):
    _inherit = "campaign.target"

    def _classified_zone_sql(self, action):
        # read with the contacts of the classification (no join back to them for the slots)
        if action and action.local_time:
            return action._local_zone_sql(action.company_id)
        return super()._classified_zone_sql(action)
