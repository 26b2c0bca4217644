"""The webhook channel: the contacts posted to an https address as signed JSON, one call per contact
or per batch, with retries."""

import hashlib
import hmac as hmac_lib
import json
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL

from ...webhook import WebhookResponse, WebhookTransportError, WebhookUrlError, check_url, post

# Webhooks: contacts posted at once (in parallel) in one batch in "one call per contact" mode, so that
# a batch, which holds its touchpoints' rows and the campaign's share lock, lasts about one timeout.
WEBHOOK_PARALLEL = 10
WEBHOOK_DEFAULT_FIELDS = ("name", "email")
WEBHOOK_ALLOW_PRIVATE_PARAM = "campaign_manager.webhook_allow_private"
WEBHOOK_ALLOW_PORTS_PARAM = "campaign_manager.webhook_allow_ports"
# Webhooks: first wait before a new attempt (doubled at each attempt, at most WEBHOOK_BACKOFF_MAX).
WEBHOOK_BACKOFF = 60
WEBHOOK_BACKOFF_MAX = 3600
WEBHOOK_RETRY_STATUSES = (408, 425, 429)
WEBHOOK_RESPONSE_CHARS = 2000


def hmac_sha256(secret, body):
    """Hex HMAC-SHA256 of ``body`` (bytes) with ``secret``: the webhook signature."""
    return hmac_lib.new(secret.encode(), body, hashlib.sha256).hexdigest()


class CampaignAction(models.Model):
    _inherit = "campaign.action"

    channel = fields.Selection(selection_add=[("webhook", "Webhook")], ondelete={"webhook": "cascade"})
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

    _webhook_limits = models.Constraint(
        "CHECK(webhook_timeout BETWEEN 1 AND 60 AND webhook_max_attempts BETWEEN 1 AND 10)",
        "A webhook waits 1 to 60 seconds for an answer and is tried 1 to 10 times.",
    )

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

    @api.constrains("webhook_url")
    def _check_webhook_url(self):
        options = self._webhook_url_options()
        for action in self.filtered("webhook_url"):
            try:
                check_url(action.webhook_url, **options)
            except WebhookUrlError as error:
                if error.code != "unresolved":  # checked again before each call; DNS can change
                    raise ValidationError(action._webhook_url_error_message(error)) from error

    def _default_medium(self):
        if self.channel != "webhook":
            return super()._default_medium()
        return self.env.ref("campaign_manager.utm_medium_webhook", raise_if_not_found=False)

    def _channel_can_run(self):
        return self.channel == "webhook" or super()._channel_can_run()

    def _channel_missing(self):
        if self.channel != "webhook":
            return super()._channel_missing()
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

    def _channel_dispatch(self, run, touchpoints):
        if self.channel != "webhook":
            return super()._channel_dispatch(run, touchpoints)
        touchpoints._webhook_send(run)

    def _channel_batch_size(self, batch_size):
        if self.channel == "webhook" and self.webhook_mode == "contact":
            return min(batch_size, WEBHOOK_PARALLEL)
        return super()._channel_batch_size(batch_size)


class CampaignTouchpoint(models.Model):
    _inherit = "campaign.touchpoint"

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
