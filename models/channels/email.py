"""The email channel: the action's content is a mailing of Email Marketing (or a contact template),
each run sends a copy of it to the run's touchpoints; its send-time suggestion."""

import re
from collections import defaultdict
from datetime import datetime, time, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytz

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, is_html_empty

from ... import placeholders
from ..mailing_mailing import CAMPAIGN_MAILING_CONTEXT

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
# Mass mailing's own links, never shortened (same list as mass mailing's shortener).
LINK_SHORTENER_BLACKLIST = ["/unsubscribe_from_list", "/view", "/cards"]
# Links holding a placeholder are not addresses to track (patterns of the shortener's blacklist).
PLACEHOLDER_LINK_PATTERNS = [r"\{\{.*", r"%7[Bb]%7[Bb].*"]
# Links left untouched by the UTM parameters of "sales link tracking": mass mailing's own links.
NO_UTM_PATHS = ("/unsubscribe_from_list", "/view", "/mail/track/", "/r/")


class CampaignAction(models.Model):
    _inherit = "campaign.action"

    channel = fields.Selection(selection_add=[("email", "Email")], ondelete={"email": "cascade"}, default="email")
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

    @api.depends("mailing_id.subject", "mail_template_id.subject")
    def _compute_email_subject(self):
        for action in self:
            action.email_subject = action.mailing_id.subject or action.mail_template_id.subject or False

    @api.depends("channel", "target_ids", "campaign_id.target_ids", "user_id.tz", "local_time")
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
                tz=origin._send_time_tz_label(),
                slot=slot_count,
                events=total,
            )

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
                    SELECT tr.res_id AS partner_id, tr.open_datetime AS happened
                      FROM mailing_trace tr JOIN audience a ON a.partner_id = tr.res_id
                     WHERE tr.model = 'res.partner' AND tr.open_datetime IS NOT NULL
                    UNION ALL
                    SELECT tr.res_id, tr.links_click_datetime
                      FROM mailing_trace tr JOIN audience a ON a.partner_id = tr.res_id
                     WHERE tr.model = 'res.partner' AND tr.links_click_datetime IS NOT NULL
                ),
                -- the contacts' own time zones when the action sends at local time (else none)
                zones AS MATERIALIZED (%(zones)s),
                slots AS (
                    SELECT EXTRACT(ISODOW FROM e.local)::integer AS weekday,
                           EXTRACT(HOUR FROM e.local)::integer AS hour,
                           COUNT(*) AS events
                      FROM (SELECT ev.happened AT TIME ZONE 'UTC' AT TIME ZONE COALESCE(z.tz, %(tz)s) AS local
                              FROM events ev LEFT JOIN zones z ON z.partner_id = ev.partner_id) AS e
                     GROUP BY 1, 2
                )
                SELECT weekday, hour, events, SUM(events) OVER () AS total
                  FROM slots
                 ORDER BY events DESC, weekday, hour
                 LIMIT 1
                """,
                contacts=self._effective_targets()._union_sql(),
                zones=self._send_time_zones_sql(),
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

    def _journey_test_deliver(self, test):
        if self.channel != "email":
            return super()._journey_test_deliver(test)
        # an A/B test is tried with its first combination
        variant = self.ab_variant_ids[:1] if self._is_ab_test() else self.env["campaign.action.variant"]
        if variant:
            mailing, template, subject, email_from = variant._mailing_content()
        else:
            mailing, template, subject, email_from = self.mailing_id, self.mail_template_id, False, False
        content = template or mailing
        subject, body = test._render_for_contact(subject or content.subject, content.body_html)
        sender = self.env["mailing.mailing"]._campaign_email_from(self, email_from or content.email_from)
        reply_to = self.campaign_id._mailing_reply_values().get("reply_to")
        return test._send_test_email(self, subject, body, email_from=sender, reply_to=reply_to)

    def _default_medium(self):
        if self.channel != "email":
            return super()._default_medium()
        return self.env.ref("utm.utm_medium_email", raise_if_not_found=False)

    def _channel_can_run(self):
        return self.channel == "email" or super()._channel_can_run()

    def _channel_missing(self):
        if self.channel != "email":
            return super()._channel_missing()
        return self._missing_for_email_content()

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

    def _channel_dispatch(self, run, touchpoints):
        """Email through the run's mailing; in an A/B test run, the test contacts through the
        mailing of their combination and the rest through the winner's."""
        if self.channel != "email":
            return super()._channel_dispatch(run, touchpoints)
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

    @api.model
    def _channel_audience_rules(self, channel, action=None):
        if channel != "email":
            return super()._channel_audience_rules(channel, action=action)
        return {
            "address": SQL("p.email_normalized"),
            "no_address": SQL("p.email_normalized IS NULL"),
            "blacklisted": SQL(
                "EXISTS (SELECT 1 FROM mail_blacklist bl WHERE bl.email = p.email_normalized AND bl.active)"
            ),
            "opt_out": True,
        }


class CampaignActionRun(models.Model):
    _inherit = "campaign.action.run"

    def _mail_server(self):
        """Outgoing mail server the run's emails go through (the mailing's, else the default one)."""
        self.ensure_one()
        if self.channel != "email":
            return super()._mail_server()
        mailing = self.mailing_id or self.action_id.mailing_id
        # mail servers are admin records: only the default one is identified, for the sending caps
        return mailing.mail_server_id or self.env["ir.mail_server"].sudo().search([], order="sequence, id", limit=1)


class MailingMailing(models.Model):
    _inherit = "mailing.mailing"

    @api.model
    def _campaign_make_run_mailing(self, run, variant, values):
        """The mailing of an email run: a copy of the action's content (or built from its template);
        in an A/B test run, ``variant`` gives the mailing of that combination's test share, without
        it the mailing of the rest, built from the winner."""
        action = run.action_id
        if action.channel != "email":
            return super()._campaign_make_run_mailing(run, variant, values)
        campaign = action.campaign_id
        values["mailing_type"] = "mail"
        values.update(campaign._mailing_reply_values())
        content = variant
        if run.ab_date_decision and not variant:
            content = run.ab_winner_variant_id
            if not content:
                raise UserError(
                    self.env._("The winner of the A/B test of “%(action)s” is not chosen yet.", action=action.name)
                )
            values["mailing_domain"] = str(
                [("campaign_touchpoint_ids", "any", [("run_id", "=", run.id), ("ab_group", "=", "rest")])]
            )
        if variant:
            # a UTM source of its own (created by Email Marketing): what each combination's links
            # bring in is told apart, for the revenue metric
            del values["source_id"]
            values["name"] = self.env._(
                "%(action)s, run %(run)s, combination %(variant)s",
                action=action._utm_source_name(),
                run=run.run_number,
                variant=variant.name,
            )
            values["campaign_variant_id"] = variant.id
            values["mailing_domain"] = str(
                [
                    (
                        "campaign_touchpoint_ids",
                        "any",
                        [("run_id", "=", run.id), ("ab_group", "=", "test"), ("variant_id", "=", variant.id)],
                    )
                ]
            )
        if content:
            content_mailing, template, subject, email_from = content._mailing_content()
        else:
            content_mailing, template, subject, email_from = action.mailing_id, action.mail_template_id, False, False
        if template:
            values.update({"subject": template.subject, "body_html": template.body_html, "body_arch": False})
            email_from = email_from or template.email_from
        if subject:
            values["subject"] = subject
        sender = self._campaign_email_from(action, email_from or content_mailing.email_from)
        if sender:
            values["email_from"] = sender
        if template:
            mailing = self.with_context(**CAMPAIGN_MAILING_CONTEXT).create(values)
        else:
            mailing = content_mailing.with_context(**CAMPAIGN_MAILING_CONTEXT).copy(values)
        # {{ object.name }} is replaced in the body as in the subject
        body = placeholders.to_qweb(mailing.body_html, self._campaign_placeholder_allowed)
        if campaign.track_clicks:
            # the links are the same for every recipient: shorten them once here, instead of once per
            # recipient when each email is rendered (mass mailing's biggest cost per recipient)
            base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
            # anchors of the email ("#", "#top": a template's placeholder buttons) are no addresses
            anchors = rf"^{re.escape(base_url)}/?#[^#?/]*"
            body = mailing._shorten_links(
                body,
                mailing._get_link_tracker_values(),
                blacklist=[*LINK_SHORTENER_BLACKLIST, anchors, *PLACEHOLDER_LINK_PATTERNS],
                base_url=base_url,
            )
        elif campaign.track_sales_links:
            body = mailing._campaign_add_utm_params(body)
        if body != mailing.body_html:
            mailing.body_html = body
        return mailing

    @api.model
    def _campaign_email_from(self, action, chosen=False):
        """Sender of an action's emails: the one chosen for them (the email, its template or the
        A/B combination), else the action's responsible, else the campaign's owner, else the
        company; never the user running the scheduled job (OdooBot)."""
        odoobot = self.env.ref("base.partner_root", raise_if_not_found=False)
        if chosen and not (odoobot and odoobot.email and odoobot.email.lower() in chosen.lower()):
            return chosen
        sender = action._campaign_sender()
        return sender.email_formatted or action.company_id.email_formatted or chosen or False

    def _campaign_add_utm_params(self, html):
        """Add the UTM parameters of the mailing to every web link of ``html`` (sales link tracking
        when links are not shortened), so that orders placed outside Odoo are attributed too."""
        self.ensure_one()
        params = {
            "utm_campaign": self.campaign_id.name,
            "utm_source": self.source_id.name,
            "utm_medium": self.medium_id.name,
        }
        params = {key: value for key, value in params.items() if value}
        if not html or not params:
            return html

        def add(match):
            url = match.group(2)
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or any(path in parts.path for path in NO_UTM_PATHS):
                return match.group(0)
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            for key, value in params.items():
                query.setdefault(key, value)
            new_url = urlunsplit(parts._replace(query=urlencode(query)))
            return match.group(0).replace(url, new_url)

        return re.sub(r"""(href=["'])([^"']+)(["'])""", add, html)
