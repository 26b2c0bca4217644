from odoo import fields, models
from odoo.tools import SQL


class CalendarAttendee(models.Model):
    """An attendee of a campaign event who accepts the invitation has replied: their touchpoint
    becomes replied (the “Replied” follow-ups reach them). Declining or “maybe” changes nothing."""

    _inherit = "calendar.attendee"

    def write(self, vals):
        res = super().write(vals)
        if vals.get("state") == "accepted":
            self._campaign_mark_replied()
        return res

    def _campaign_mark_replied(self):
        """Set-based: one UPDATE for the touchpoints carried by these attendees."""
        if not self:
            return
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint
                      SET state = CASE WHEN state IN ('sent', 'done') THEN 'replied' ELSE state END,
                          date_replied = COALESCE(date_replied, %s)
                    WHERE res_model = 'calendar.attendee' AND res_id IN %s
                      AND state NOT IN ('failed', 'excluded', 'cancelled', 'planned')""",
                fields.Datetime.now(),
                tuple(self.ids),
            )
        )
        self.env["campaign.touchpoint"].invalidate_model(["state", "date_replied"])
