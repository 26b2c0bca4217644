from collections import defaultdict

from odoo import fields, models, tools
from odoo.tools import SQL, consteq

# Signature of the tracking addresses of campaign emails (HMAC with the database secret), in hex.
TRACKING_SIGNATURE_SCOPE = "campaign-mail-tracking"
TRACKING_SIGNATURE_LENGTH = 20
# A touchpoint opened or clicked moves forward to that state from these ones only.
OPENABLE_STATES = ("queued", "sent", "bounced")
CLICKABLE_STATES = ("queued", "sent", "bounced", "opened")

# Trace fields whose change moves the touchpoints that the traces carried.
SYNC_FIELDS = {"trace_status", "sent_datetime", "open_datetime", "reply_datetime", "links_click_datetime"}


class MailingTrace(models.Model):
    """Touchpoints follow the traces of the mailings that carried them: sent, opened, clicked,
    replied, bounced, failed. Set-based: one UPDATE ... FROM per write of traces."""

    _name = "mailing.trace"
    _inherit = ["mailing.trace", "campaign.access.mixin"]
    # the rules of campaign traces follow their mailing
    _campaign_checked_fields = frozenset({"mass_mailing_id"})

    def write(self, vals):
        res = super().write(vals)
        if SYNC_FIELDS & set(vals):
            self._campaign_sync_touchpoints()
        return res

    def set_clicked(self, domain=None):
        traces = super().set_clicked(domain=domain)
        traces._campaign_increment("click_count")
        return traces

    def _campaign_increment(self, counter):
        """Count one more open or click on the touchpoints of the traces."""
        if not self:
            return
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE campaign_touchpoint SET %s = %s + 1 WHERE mailing_trace_id IN %s",
                SQL.identifier(counter),
                SQL.identifier(counter),
                tuple(self.ids),
            )
        )
        self.env["campaign.touchpoint"].invalidate_model([counter])

    def _campaign_sync_touchpoints(self):
        """Copy the traces' status and dates onto their touchpoints. A touchpoint never goes back:
        replied > clicked > opened > sent > queued; unsubscribed and converted are kept."""
        if not self:
            return
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """
                UPDATE campaign_touchpoint tp SET
                    state = CASE
                        WHEN tp.state IN ('unsubscribed', 'converted', 'cancelled') THEN tp.state
                        WHEN tr.trace_status = 'bounce' THEN 'bounced'
                        WHEN tr.trace_status IN ('error', 'cancel') THEN 'failed'
                        WHEN tr.trace_status = 'reply' OR tp.state = 'replied' THEN 'replied'
                        WHEN tr.links_click_datetime IS NOT NULL OR tp.state = 'clicked' THEN 'clicked'
                        WHEN tr.trace_status = 'open' OR tp.state = 'opened' THEN 'opened'
                        WHEN tr.trace_status IN ('pending', 'sent') THEN 'sent'
                        ELSE tp.state END,
                    date_done = COALESCE(tp.date_done, tr.sent_datetime,
                        CASE WHEN tr.trace_status IN ('pending', 'sent', 'open', 'reply') THEN tr.write_date END),
                    date_opened = COALESCE(tp.date_opened, tr.open_datetime),
                    open_count = CASE WHEN COALESCE(tp.date_opened, tr.open_datetime) IS NOT NULL
                                      THEN GREATEST(tp.open_count, 1) ELSE tp.open_count END,
                    date_clicked = COALESCE(tp.date_clicked, tr.links_click_datetime),
                    date_replied = COALESCE(tp.date_replied, tr.reply_datetime),
                    date_bounced = CASE WHEN tr.trace_status = 'bounce'
                                        THEN COALESCE(tp.date_bounced, tr.write_date) ELSE tp.date_bounced END
                  FROM mailing_trace tr
                 WHERE tr.id IN %s AND tp.mailing_trace_id = tr.id
                """,
                tuple(self.ids),
            )
        )
        # the reason of failures, readable and in the user's language (few distinct reasons)
        labels = dict(self._fields["failure_type"]._description_selection(self.env))
        by_reason = defaultdict(list)
        for trace in self.filtered(lambda t: t.trace_status in ("bounce", "error", "cancel")):
            reason = " - ".join(filter(None, [labels.get(trace.failure_type), trace.failure_reason]))
            by_reason[reason or self.env._("Not sent")].append(trace.id)
        for reason, trace_ids in by_reason.items():
            self.env.cr.execute(
                SQL(
                    "UPDATE campaign_touchpoint SET failure_reason = %s WHERE mailing_trace_id IN %s",
                    reason,
                    tuple(trace_ids),
                )
            )
        self.env["campaign.touchpoint"].invalidate_model()

    # ------------------------------------------------------------------
    # SIGNED TRACKING ROUTES (controllers/tracking.py)
    # ------------------------------------------------------------------
    def _campaign_tracking_signature(self, trace_id):
        """Signature of the tracking addresses of one trace (the database secret is read with
        superuser rights: only the signature leaves this method)."""
        return tools.hmac(self.env(su=True), TRACKING_SIGNATURE_SCOPE, int(trace_id))[:TRACKING_SIGNATURE_LENGTH]

    def _campaign_signature_ok(self, trace_id, signature):
        # consteq compares ASCII strings only: anything else is simply a wrong signature
        return (
            isinstance(signature, str)
            and signature.isascii()
            and consteq(signature, self._campaign_tracking_signature(trace_id))
        )

    def _campaign_record_open(self, trace_id, signature):
        """An open of a campaign email (pixel): the trace becomes opened once, the touchpoint counts
        one more open. Nothing happens for a wrong signature."""
        if not self._campaign_signature_ok(trace_id, signature):
            return False
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """UPDATE mailing_trace SET trace_status = 'open', open_datetime = %(now)s, write_date = %(now)s
                    WHERE id = %(trace)s AND trace_status NOT IN ('open', 'reply')""",
                now=now,
                trace=trace_id,
            )
        )
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint
                      SET open_count = open_count + 1, date_opened = COALESCE(date_opened, %(now)s),
                          state = CASE WHEN state IN %(openable)s THEN 'opened' ELSE state END
                    WHERE mailing_trace_id = %(trace)s""",
                now=now,
                trace=trace_id,
                openable=OPENABLE_STATES,
            )
        )
        return True

    def _campaign_record_click(self, code, trace_id, signature, ip=None):
        """A click on a tracked link of a campaign email: one click recorded on the link (with the
        trace), the trace opened and clicked, the touchpoint counting one more click. Nothing is
        recorded for a wrong signature, nor for a link of another mailing (the visitor is redirected
        all the same)."""
        if not self._campaign_signature_ok(trace_id, signature):
            return False
        # the signature covers the trace only: the code must be a link of the trace's own mailing, or
        # one email's address would credit clicks to any link (other campaigns', web links)
        self.env.cr.execute(
            SQL(
                """SELECT 1 FROM mailing_trace t
                     JOIN link_tracker l ON l.mass_mailing_id = t.mass_mailing_id
                     JOIN link_tracker_code c ON c.link_id = l.id
                    WHERE t.id = %s AND c.code = %s""",
                trace_id,
                code,
            )
        )
        if not self.env.cr.fetchone():
            return False
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """WITH trace AS (
                       UPDATE mailing_trace
                          SET trace_status = CASE WHEN trace_status IN ('open', 'reply') THEN trace_status
                                                  ELSE 'open' END,
                              open_datetime = CASE WHEN trace_status IN ('open', 'reply') THEN open_datetime
                                                   ELSE %(now)s END,
                              links_click_datetime = %(now)s, write_date = %(now)s
                        WHERE id = %(trace)s
                    RETURNING id, mass_mailing_id)
                   INSERT INTO link_tracker_click (link_id, campaign_id, mailing_trace_id, mass_mailing_id, ip,
                                                   create_date, write_date)
                   SELECT c.link_id, l.campaign_id, trace.id, trace.mass_mailing_id, %(ip)s, %(now)s, %(now)s
                     FROM trace, link_tracker_code c JOIN link_tracker l ON l.id = c.link_id
                    WHERE c.code = %(code)s""",
                now=now,
                trace=trace_id,
                ip=ip,
                code=code,
            )
        )
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint
                      SET click_count = click_count + 1, date_clicked = COALESCE(date_clicked, %(now)s),
                          date_opened = COALESCE(date_opened, %(now)s), open_count = GREATEST(open_count, 1),
                          state = CASE WHEN state IN %(clickable)s THEN 'clicked' ELSE state END
                    WHERE mailing_trace_id = %(trace)s""",
                now=now,
                trace=trace_id,
                clickable=CLICKABLE_STATES,
            )
        )
        return True

    def _campaign_link_target(self, code):
        """Address a tracked link redirects to (with its UTM parameters), or None."""
        return self.env["link.tracker"]._campaign_redirect_url(code)
