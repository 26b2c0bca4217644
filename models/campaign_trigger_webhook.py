import hashlib
import hmac
import json
import time
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL, email_normalize

from ..const import WEBHOOK_ENTRY_RATE, WEBHOOK_ENTRY_WINDOW

# Largest body accepted, in bytes: one contact and a delivery id.
MAX_BODY = 16384
MAX_DELIVERY_ID = 200


def webhook_signature(secret, timestamp, body):
    """``sha256=<hex>`` signature of a journey's inbound call (what the other system computes)."""
    # as our outgoing webhooks sign (models/channels/webhook.py), over the timestamp and the body; not
    # imported from there, so that this model does not load a channel's models before its turn
    return "sha256=" + hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def check_webhook_call(secret, body, timestamp, signature, window, now=None):
    """Why the signed call is refused, or None: (HTTP status, message)."""
    if len(body) > MAX_BODY:
        return 413, "The body is too large."
    try:
        sent_at = int(timestamp)
    except (TypeError, ValueError):
        return 401, "The X-Campaign-Timestamp header must be the Unix time of the call, in seconds."
    now = time.time() if now is None else now
    if abs(now - sent_at) > window:
        return 401, f"The timestamp is outside the replay window of {window} seconds."
    expected = webhook_signature(secret, sent_at, body)
    if not (isinstance(signature, str) and signature.isascii() and hmac.compare_digest(signature, expected)):
        return 401, "The signature does not match the body."
    return None


def parse_webhook_body(body):
    """(delivery id, email) of a call's body, or raise ValueError saying what is wrong."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError("The body must be a JSON object.") from error
    if not isinstance(data, dict):
        raise ValueError("The body must be a JSON object.")
    delivery, email = data.get("delivery_id"), data.get("email")
    if not isinstance(delivery, str) or not delivery.strip() or len(delivery) > MAX_DELIVERY_ID:
        raise ValueError(f"delivery_id must be a text of 1 to {MAX_DELIVERY_ID} characters.")
    if not isinstance(email, str) or not email.strip():
        raise ValueError("email must name the contact to enrol.")
    return delivery.strip(), email


class CampaignTrigger(models.Model):
    """The signed inbound webhook of a journey (route in controllers/journey.py)."""

    _inherit = "campaign.trigger"

    @api.model
    def _webhook_receive(self, trigger_id, body, timestamp, signature):
        """Check and carry out a signed call of another system enrolling one contact.

        Runs as superuser: the route is public, and the call is authenticated by its signature with
        the trigger's secret (checked in constant time before anything is read from the body).

        :return: (HTTP status, JSON answer)
        """
        trigger = self.sudo().browse(trigger_id).exists()
        if not trigger or trigger.trigger_type != "webhook" or trigger.campaign_id.state != "active":
            return 404, {"error": "No active journey listens at this address."}
        refused = check_webhook_call(trigger.webhook_secret or "", body, timestamp, signature, WEBHOOK_ENTRY_WINDOW)
        if refused:
            return refused[0], {"error": refused[1]}
        if not trigger._webhook_within_rate():
            return 429, {"error": f"More than {WEBHOOK_ENTRY_RATE} calls in a minute: try again later."}
        try:
            delivery, email = parse_webhook_body(body)
        except ValueError as error:
            return 400, {"error": str(error)}
        cr = self.env.cr
        cr.execute(
            SQL(
                "SELECT 1 FROM campaign_enrolment WHERE campaign_id = %s AND delivery_ref = %s",
                trigger.campaign_id.id,
                delivery,
            )
        )
        if cr.fetchone():
            return 409, {"error": "This delivery was already received.", "delivery_id": delivery}
        cr.execute(
            SQL(
                "SELECT id FROM res_partner WHERE email_normalized = %s AND active ORDER BY id LIMIT 1",
                email_normalize(email) or "",
            )
        )
        row = cr.fetchone()
        if not row:
            return 404, {"error": "No contact has this email.", "delivery_id": delivery}
        enrolled = self.env["campaign.enrolment"]._enrol(
            SQL(
                "SELECT %s, %s, %s, 'webhook', %s::varchar, %s::varchar",
                trigger.campaign_id.id,
                trigger.id,
                row[0],
                delivery,
                delivery,
            )
        )
        if not enrolled:
            return 200, {"enrolled": False, "delivery_id": delivery, "reason": "The contact is already in the journey."}
        return 200, {"enrolled": True, "delivery_id": delivery, "enrolment_id": enrolled[0][0]}

    def _webhook_within_rate(self):
        """Count the call in the trigger's window of a minute; False past WEBHOOK_ENTRY_RATE. The row's
        lock also serialises the calls of one trigger, so that a delivery id is checked once."""
        self.ensure_one()
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_trigger
                      SET webhook_window_count = CASE WHEN webhook_window_start > %(start)s
                                                      THEN webhook_window_count + 1 ELSE 1 END,
                          webhook_window_start = CASE WHEN webhook_window_start > %(start)s
                                                      THEN webhook_window_start ELSE %(now)s END
                    WHERE id = %(id)s
                RETURNING webhook_window_count""",
                start=now - timedelta(minutes=1),
                now=now,
                id=self.id,
            )
        )
        count = self.env.cr.fetchone()[0]
        self.invalidate_recordset(["webhook_window_count", "webhook_window_start"])
        return count <= WEBHOOK_ENTRY_RATE
