from collections import defaultdict

from odoo import models
from odoo.tools import SQL

# Trace fields whose change moves the touchpoints that the traces carried.
SYNC_FIELDS = {"trace_status", "sent_datetime", "open_datetime", "reply_datetime", "links_click_datetime"}


class MailingTrace(models.Model):
    """Touchpoints follow the traces of the mailings that carried them: sent, opened, clicked,
    replied, bounced, failed. Set-based: one UPDATE ... FROM per write of traces."""

    _inherit = "mailing.trace"

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
