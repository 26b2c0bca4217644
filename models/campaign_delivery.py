import logging
import random
import time
from contextlib import contextmanager

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# Emails a worker takes at once (one transaction, one SMTP session per mail server); system
# parameter campaign_manager.delivery_batch_size.
DEFAULT_DELIVERY_BATCH = 200
MAX_DELIVERY_WORKERS = 16
# Seconds a worker delivers in one call of its job before handing back to the scheduler (which calls
# it again at once while emails remain).
DELIVERY_TIME_BUDGET = 30
# Consecutive conflicts with another transaction a call tolerates before giving the turn.
MAX_DELIVERY_CONFLICTS = 5
# The delivery workers' scheduled jobs: campaign_manager.ir_cron_campaign_delivery_<number>.
WORKER_XMLID_PREFIX = "ir_cron_campaign_delivery_"
# Receipts whose email is no longer waiting are forgotten after this many hours.
RECEIPT_RETENTION_HOURS = 1


class DeliveryLedger:
    """What a worker writes while it sends, on a database connection of its own committed after
    each email: the share lock on the campaign for the time of the email (a stop saved meanwhile
    waits for it, and the next email sees it), then the receipt of the email if the server accepted
    it. A worker killed at any point leaves every email it sent recorded, except the one the server
    accepted just before the kill."""

    def __init__(self, cr, commit):
        self.cr = cr
        self._commit = commit

    def may_send(self, campaign_id):
        """Whether the campaign is active, its row share-locked until ``close`` (campaign stop
        waits for the email being sent).

        The ledger's transactions commit asynchronously (``synchronous_commit`` off, for them only):
        a receipt is visible to every other worker the moment its commit returns, so a worker
        killed at any point loses none; only a crash of the PostgreSQL server itself could lose the
        receipts of its last fraction of a second (``wal_writer_delay``), whose emails would then
        be sent again. It spares one disk flush per email, the most expensive step of the ledger."""
        self.cr.execute(
            SQL(
                "SET LOCAL synchronous_commit TO OFF; SELECT state FROM campaign_campaign WHERE id = %s FOR SHARE",
                campaign_id,
            )
        )
        row = self.cr.fetchone()
        return bool(row) and row[0] == "active"

    def close(self, mail_id=None, message_id=None):
        """End the email: its receipt when it was accepted, committed with the lock's release."""
        if mail_id:
            self.cr.execute(
                SQL(
                    "INSERT INTO campaign_delivery_receipt (mail_id, message_id, date) VALUES (%s, %s, %s)",
                    mail_id,
                    message_id,
                    fields.Datetime.now(),
                )
            )
        self._commit()


class CampaignDelivery(models.AbstractModel):
    """Delivery workers of campaign emails and SMS: as many scheduled jobs as the administrator
    sets (Settings), on one host or several sharing the database. Each job takes a batch of the
    campaigns' outgoing emails with ``FOR NO KEY UPDATE SKIP LOCKED`` (workers never take the same
    email), sends it over one SMTP session per mail server with Odoo's own sending code
    (``mail.mail._send``), records each accepted email at once (``campaign.delivery.receipt``), and
    records the batch (states, traces, touchpoints, retries) in one go at its end. SMS go the same
    way through Odoo's SMS sending. Other emails and SMS stay with Odoo's queues."""

    _name = "campaign.delivery"
    _description = "Campaign Delivery Workers"

    # ------------------------------------------------------------------
    # WORKERS: their scheduled jobs
    # ------------------------------------------------------------------
    @api.model
    def _worker_crons(self):
        """{worker number: its scheduled job}."""
        # the jobs are technical records of the addon, managed here only
        data = (
            self.env["ir.model.data"]
            .sudo()
            .search(
                [
                    ("module", "=", "campaign_manager"),
                    ("model", "=", "ir.cron"),
                    ("name", "=like", f"{WORKER_XMLID_PREFIX}%"),
                ]
            )
        )
        crons = {}
        for entry in data:
            suffix = entry.name[len(WORKER_XMLID_PREFIX) :]
            cron = self.env["ir.cron"].sudo().browse(entry.res_id).exists()
            if suffix.isdigit() and cron:
                crons[int(suffix)] = cron
        return crons

    @api.model
    def _worker_count(self):
        return len(self._worker_crons())

    @api.model
    def _sync_worker_crons(self, count=None):
        """Make the delivery workers' jobs exactly ``count`` (by default, as many as there are, at
        least one): the missing ones are created, the extra ones removed."""
        crons = self._worker_crons()
        if count is None:
            count = max(len(crons), 1)
        if not 1 <= count <= MAX_DELIVERY_WORKERS:
            raise ValidationError(
                self.env._("The number of delivery workers must be between 1 and %(max)s.", max=MAX_DELIVERY_WORKERS)
            )
        extra = self.env["ir.cron"].sudo()
        for number, cron in crons.items():
            if number > count:
                extra |= cron
        if extra:
            # unlink refuses a job running right now, with Odoo's own message
            extra.unlink()
        model_id = self.env["ir.model"]._get_id(self._name)
        for number in range(1, count + 1):
            if number in crons:
                continue
            cron = (
                self.env["ir.cron"]
                .sudo()
                .with_context(lang="en_US")
                .create(
                    {
                        "name": self.with_context(lang="en_US")._worker_name(number),
                        "model_id": model_id,
                        "state": "code",
                        "code": "model._cron_deliver()",
                        "interval_number": 1,
                        "interval_type": "minutes",
                        "priority": 4,
                        "user_id": self.env.ref("base.user_root").id,
                    }
                )
            )
            translations = {
                code: self.with_context(lang=code)._worker_name(number)
                for code, _name in self.env["res.lang"].get_installed()
                if code != "en_US"
            }
            if translations:
                cron.ir_actions_server_id.update_field_translations("name", translations)
            self.env["ir.model.data"].sudo()._update_xmlids(
                [{"xml_id": f"campaign_manager.{WORKER_XMLID_PREFIX}{number}", "record": cron, "noupdate": True}]
            )
        return self._worker_crons()

    def _worker_name(self, number):
        return self.env._("Campaigns: deliver emails and SMS (worker %(number)s)", number=number)

    @api.model
    def _trigger_workers(self, at=None):
        """Wake the delivery workers up now (or at ``at``): emails or SMS are waiting."""
        crons = self._worker_crons() or self._sync_worker_crons()
        for cron in crons.values():
            # triggering a job only sets a date: no rights on it needed
            cron.sudo()._trigger(at)

    # ------------------------------------------------------------------
    # THE JOB
    # ------------------------------------------------------------------
    @api.model
    def _cron_deliver(self, batch_size=None, time_budget=None):
        """Scheduled job of each delivery worker: deliver batch after batch until nothing is due or
        the time budget is spent. Each batch commits and reports its progress to the scheduler, so
        a worker killed in the middle of a job is not taken for a job that never gets anywhere (see
        ir.cron: three runs ended without progress put the job off to its next interval)."""
        # a system parameter, read whatever the user running the job
        batch_size = batch_size or int(
            self.env["ir.config_parameter"].sudo().get_param("campaign_manager.delivery_batch_size", 0) or 0
        )
        batch_size = batch_size or DEFAULT_DELIVERY_BATCH
        deadline = time.monotonic() + (time_budget if time_budget is not None else DELIVERY_TIME_BUDGET)
        deferred = set()  # emails whose mail server was lost during this call: for the next call
        conflicts = 0
        recover = True
        while True:
            try:
                if recover:
                    self._recover_receipts()
                    recover = False
                delivered = self._deliver_sms_batch()
                delivered += self._deliver_mail_batch(batch_size, deferred)
            except PG_CONCURRENCY_EXCEPTIONS_TO_RETRY as error:
                # the batch is undone (its receipts stay): what it sent is recorded at the next try
                conflicts += 1
                _logger.info("Campaign delivery: conflict with another transaction (%s), retrying", error)
                if conflicts >= MAX_DELIVERY_CONFLICTS:
                    break
                time.sleep(random.uniform(0.05, 0.3))
                recover = True
                continue
            conflicts = 0
            if not delivered or time.monotonic() >= deadline:
                break
        with self._delivery_batch() as progress:
            progress["remaining"] = self._due_count(deferred)
        return True

    @contextmanager
    def _delivery_batch(self):
        """One batch of a worker = one transaction, committed with the progress it made (a dict the
        batch fills: ``processed``, optionally ``remaining``), undone on any error. The one place
        the delivery commits: tests substitute it (no commit in a test), see tests/common.py."""
        progress = {"processed": 0}
        try:
            yield progress
        except Exception:
            self.env.cr.rollback()
            raise
        self.env["ir.cron"]._commit_progress(progress["processed"], remaining=progress.get("remaining"))

    @contextmanager
    def _delivery_ledger(self):
        """The ledger of a batch, on a connection of its own (committed after each email, while the
        batch's transaction keeps its emails locked). Tests substitute it, see tests/common.py."""
        with self.env.registry.cursor() as cr:
            # read committed: the share lock on a campaign being stopped waits for the stop, then
            # reads the stopped state (in repeatable read it would fail to serialize); the next
            # cursor made on this pooled connection is repeatable read again (sql_db.Cursor)
            cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
            yield DeliveryLedger(cr, cr.commit)

    # ------------------------------------------------------------------
    # EMAILS
    # ------------------------------------------------------------------
    @api.model
    def _deliver_mail_batch(self, batch_size, deferred):
        """Claim, send and record one batch of campaign emails; returns how many were claimed."""
        with self._delivery_batch() as progress:
            campaign_of = self._claim_mails(batch_size, deferred)
            if not campaign_of:
                return 0
            # mails are technical records of the mail queue; the job may run as any user
            mails = self.env["mail.mail"].sudo().browse(sorted(campaign_of))
            receipts = self._receipts(mails.ids)
            # sent by a worker that died before recording them: recorded now, never sent again
            already = mails.browse(sorted(receipts))
            already._campaign_record_delivered()
            with self._delivery_ledger() as ledger:
                later, stopped = (mails - already)._campaign_deliver(ledger, campaign_of)
            deferred.update(later)
            self._forget_receipts(already.ids)
            progress["processed"] = len(mails) - len(later)
        # what the batch's transaction could not do, its snapshot being older (repeatable read):
        # forget the receipts written during the batch (a worker dying in between leaves receipts of
        # emails no longer waiting, which nobody reads and the next recoveries delete), and withdraw
        # the emails of campaigns stopped meanwhile, as the stop did for the others
        with self._delivery_batch():
            self._forget_receipts(mails.ids)
            self.env["campaign.campaign"].browse(sorted(stopped))._hold_queued_emails()
        return len(campaign_of)

    @api.model
    def _claim_mails(self, limit, skip=()):
        """Take up to ``limit`` due outgoing emails of active campaigns, locked until the batch
        commits and skipped by every other worker: {mail id: campaign id}."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT mm.id, r.campaign_id
                     FROM mail_mail mm
                     JOIN mailing_mailing m ON m.id = mm.mailing_id
                     JOIN campaign_action_run r ON r.id = m.campaign_run_id
                     JOIN campaign_campaign c ON c.id = r.campaign_id
                    WHERE mm.state = 'outgoing' AND mm.mailing_id IS NOT NULL AND c.state = 'active'
                      AND (mm.scheduled_date IS NULL OR mm.scheduled_date <= %(now)s)
                      AND NOT (mm.id = ANY(%(skip)s))
                    ORDER BY mm.id
                    LIMIT %(limit)s
                      FOR NO KEY UPDATE OF mm SKIP LOCKED""",
                now=fields.Datetime.now(),
                skip=sorted(skip),
                limit=limit,
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _receipts(self, mail_ids):
        if not mail_ids:
            return {}
        self.env.cr.execute(
            SQL("SELECT mail_id, message_id FROM campaign_delivery_receipt WHERE mail_id IN %s", tuple(mail_ids))
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _forget_receipts(self, mail_ids):
        if mail_ids:
            self.env.cr.execute(SQL("DELETE FROM campaign_delivery_receipt WHERE mail_id IN %s", tuple(mail_ids)))

    @api.model
    def _recover_receipts(self):
        """Record as sent the emails a worker sent before it died, whatever their campaign's state
        now (they left already), and forget the receipts of emails no longer waiting."""
        with self._delivery_batch() as progress:
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    """SELECT mm.id FROM campaign_delivery_receipt r
                         JOIN mail_mail mm ON mm.id = r.mail_id
                        WHERE mm.state = 'outgoing'
                        ORDER BY mm.id
                          FOR NO KEY UPDATE OF mm SKIP LOCKED"""
                )
            )
            mail_ids = [row[0] for row in self.env.cr.fetchall()]
            if mail_ids:
                _logger.info("Campaign delivery: %s emails sent by an interrupted worker recorded", len(mail_ids))
                self.env["mail.mail"].sudo().browse(mail_ids)._campaign_record_delivered()
                self._forget_receipts(mail_ids)
                progress["processed"] = len(mail_ids)
            self.env.cr.execute(
                SQL(
                    """DELETE FROM campaign_delivery_receipt r
                        WHERE r.date < %s
                          AND NOT EXISTS (SELECT 1 FROM mail_mail mm
                                           WHERE mm.id = r.mail_id AND mm.state = 'outgoing')""",
                    fields.Datetime.subtract(fields.Datetime.now(), hours=RECEIPT_RETENTION_HOURS),
                )
            )

    @api.model
    def _due_count(self, skip=()):
        """Emails and SMS of active campaigns waiting for a worker now (for the scheduler)."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT
                     (SELECT COUNT(*) FROM mail_mail mm
                        JOIN mailing_mailing m ON m.id = mm.mailing_id
                        JOIN campaign_action_run r ON r.id = m.campaign_run_id
                        JOIN campaign_campaign c ON c.id = r.campaign_id
                       WHERE mm.state = 'outgoing' AND mm.mailing_id IS NOT NULL AND c.state = 'active'
                         AND (mm.scheduled_date IS NULL OR mm.scheduled_date <= %(now)s)
                         AND NOT (mm.id = ANY(%(skip)s)))
                   + (SELECT COUNT(*) FROM sms_sms s
                        JOIN mailing_mailing m ON m.id = s.mailing_id
                        JOIN campaign_action_run r ON r.id = m.campaign_run_id
                        JOIN campaign_campaign c ON c.id = r.campaign_id
                       WHERE s.state = 'outgoing' AND s.to_delete IS NOT TRUE AND c.state = 'active')""",
                now=fields.Datetime.now(),
                skip=sorted(skip),
            )
        )
        return self.env.cr.fetchone()[0]

    # ------------------------------------------------------------------
    # SMS
    # ------------------------------------------------------------------
    @api.model
    def _deliver_sms_batch(self):
        """Claim and send one batch of campaign SMS through Odoo's SMS sending (one request to the
        SMS provider per batch, as Odoo's SMS queue); returns how many were claimed."""
        sms_model = self.env["sms.sms"].sudo()  # SMS are technical records of the SMS queue
        with self._delivery_batch() as progress:
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    """SELECT s.id FROM sms_sms s
                         JOIN mailing_mailing m ON m.id = s.mailing_id
                         JOIN campaign_action_run r ON r.id = m.campaign_run_id
                         JOIN campaign_campaign c ON c.id = r.campaign_id
                        WHERE s.state = 'outgoing' AND s.to_delete IS NOT TRUE AND c.state = 'active'
                        ORDER BY s.id
                        LIMIT %s
                          FOR NO KEY UPDATE OF s SKIP LOCKED""",
                    sms_model._get_send_batch_size(),
                )
            )
            sms_ids = [row[0] for row in self.env.cr.fetchall()]
            if not sms_ids:
                return 0
            sms_model.browse(sms_ids).send(unlink_failed=False, unlink_sent=True, raise_exception=False)
            progress["processed"] = len(sms_ids)
        return len(sms_ids)
