import logging
import re
import smtplib
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

SHORT_URL = re.compile(r"https?://[^\s\]\)>]+?/(?:cm/)?r/(?P<code>[A-Za-z0-9]+)(?:/m/\d+|/\d+/[0-9a-f]+)?")
# A tracked link of mass mailing, personalised with the trace: <base>/r/<code>/m/<trace id>.
TRACE_LINK = re.compile(r"/r/(?P<code>[A-Za-z0-9]+)/m/(?P<trace>\d+)")
# A temporary SMTP answer (4xx) as smtplib reports it: "(451, b'...')".
TEMPORARY_SMTP_ANSWER = re.compile(r"\(4\d\d, ")
RETRY_DELAY_MINUTES = 5
DEFAULT_MAX_RETRIES = 5


class MailMail(models.Model):
    """Campaign emails are sent by the campaign's delivery workers (campaign.delivery), not by
    Odoo's mail queue, with Odoo's own sending code: nothing leaves for a campaign that is not
    active (checked mail by mail, under a share lock on the campaign, so that a saved stop is
    final), temporary failures are retried with a backoff, and the campaign's open and plain-text
    click tracking settings apply."""

    _inherit = "mail.mail"

    campaign_retry_count = fields.Integer(
        string="Campaign Retries",
        default=0,
        readonly=True,
        help="Times a campaign email was put back in the queue after a temporary failure "
        "(mail server down or slow, temporary refusal).",
    )

    def init(self):
        # the delivery workers take the outgoing mails of mailings in id order (see campaign.delivery)
        tools.create_index(
            self.env.cr,
            "mail_mail_mailing_outgoing_idx",
            self._table,
            ["id"],
            where="state = 'outgoing' AND mailing_id IS NOT NULL",
        )

    @api.model
    def process_email_queue(self, email_ids=(), batch_size=1000):
        """Odoo's mail queue leaves the campaigns' emails to their delivery workers."""
        filters = [*self.env.context.get("filters", []), ("mailing_id.campaign_run_id", "=", False)]
        return super(MailMail, self.with_context(filters=filters)).process_email_queue(
            email_ids=email_ids, batch_size=batch_size
        )

    def _send(
        self,
        auto_commit=False,
        raise_exception=False,
        smtp_session=None,
        alias_domain_id=False,
        mail_server=False,
        post_send_callback=None,
    ):
        """Campaign emails sent outside their delivery workers (e.g. *Send Now* on the email):
        each one alone, only when its campaign is active and no worker has it."""
        campaign_of = {} if self.env.context.get("campaign_delivery") else self._campaign_of_mails()
        if not campaign_of:
            return super()._send(
                auto_commit=auto_commit,
                raise_exception=raise_exception,
                smtp_session=smtp_session,
                alias_domain_id=alias_domain_id,
                mail_server=mail_server,
                post_send_callback=post_send_callback,
            )
        others = self.browse([mail_id for mail_id in self.ids if mail_id not in campaign_of])
        for mails in [others] + [self.browse(mail_id) for mail_id in self.ids if mail_id in campaign_of]:
            if not mails:
                continue
            campaign_mail = len(mails) == 1 and mails.id in campaign_of
            if campaign_mail and not mails._campaign_may_send(campaign_of[mails.id]):
                continue
            try:
                super(MailMail, mails)._send(
                    auto_commit=auto_commit,
                    raise_exception=raise_exception,
                    smtp_session=smtp_session,
                    alias_domain_id=alias_domain_id,
                    mail_server=mail_server,
                    post_send_callback=post_send_callback,
                )
            except smtplib.SMTPServerDisconnected as error:
                if not campaign_mail:
                    raise
                mails._campaign_session_lost(error)
                break
        return True

    def _campaign_session_lost(self, error):
        """The server stopped answering during this mail (too slow: timeout, or connection dropped).
        Odoo would leave it failed without a reason: it is a temporary failure, retried later like
        the others. The session is lost: the next mails wait for the next pass."""
        reason = str(error)
        self.write({"state": "exception", "failure_reason": reason, "failure_type": "mail_smtp"})
        self._postprocess_sent_message(
            success_pids=[], success_emails=[], failure_reason=reason, failure_type="mail_smtp"
        )

    def _postprocess_sent_message(self, success_pids, success_emails, failure_reason=False, failure_type=None):
        """Campaign emails that failed for a temporary reason (server down or too slow, 4xx answer)
        go back to the queue with an exponential backoff instead of failing; the same mail is sent
        later, so nothing is sent twice. After the last retry they fail with the reason.

        In a delivery worker's batch (context ``campaign_postprocess_later``), the post-processing
        of each mail is put off to the end of the batch, where it runs once per outcome for all
        the batch's mails (traces, touchpoints, retries, deletion of the sent mails)."""
        later = self.env.context.get("campaign_postprocess_later")
        if later is not None:
            later.append((self.ids, success_pids, success_emails, failure_reason, failure_type))
            return True
        if failure_type and (failure_type == "mail_smtp" or TEMPORARY_SMTP_ANSWER.search(failure_reason or "")):
            campaign_of = self._campaign_of_mails()
            # a system parameter, read whatever the user sending the queue
            max_retries = int(
                self.env["ir.config_parameter"].sudo().get_param("campaign_manager.mail_retry_max", DEFAULT_MAX_RETRIES)
            )
            retry = self.filtered(lambda m: m.id in campaign_of and m.campaign_retry_count < max_retries)
            if retry:
                # the reason Odoo wrote on the mails when it is not given (server unreachable)
                failure_reason = failure_reason or retry[0].failure_reason
                now = fields.Datetime.now()
                for count in set(retry.mapped("campaign_retry_count")):
                    mails = retry.filtered(lambda m, count=count: m.campaign_retry_count == count)
                    when = now + timedelta(minutes=RETRY_DELAY_MINUTES * 2**count)
                    mails.write(
                        {
                            "state": "outgoing",
                            "scheduled_date": when,
                            "campaign_retry_count": count + 1,
                            "failure_reason": self.env._(
                                "Temporary failure, retry %(count)s planned: %(reason)s",
                                count=count + 1,
                                reason=failure_reason or failure_type,
                            ),
                        }
                    )
                    self.env["campaign.delivery"]._trigger_workers(when)
                others = self - retry
                if not others:
                    return True
                return super(MailMail, others)._postprocess_sent_message(
                    success_pids, success_emails, failure_reason=failure_reason, failure_type=failure_type
                )
        return super()._postprocess_sent_message(
            success_pids, success_emails, failure_reason=failure_reason, failure_type=failure_type
        )

    def _campaign_of_mails(self):
        """{mail id: campaign id} for the mails of ``self`` sent by a campaign run."""
        if not self.ids:
            return {}
        self.env.cr.execute(
            SQL(
                """SELECT mm.id, r.campaign_id
                     FROM mail_mail mm
                     JOIN mailing_mailing m ON m.id = mm.mailing_id
                     JOIN campaign_action_run r ON r.id = m.campaign_run_id
                    WHERE mm.id IN %s""",
                tuple(self.ids),
            )
        )
        return dict(self.env.cr.fetchall())

    def _campaign_may_send(self, campaign_id):
        """Whether the mail may go out now, outside the delivery workers: its campaign is active
        (row share-locked until the mail is sent and committed, so a stop waits for it), no worker
        has it right now (row locked, skipped otherwise) nor sent it already (receipt), and it is
        still outgoing."""
        self.ensure_one()
        self.env.cr.execute(SQL("SELECT state FROM campaign_campaign WHERE id = %s FOR SHARE", campaign_id))
        row = self.env.cr.fetchone()
        if not row or row[0] != "active":
            return False
        self.env.cr.execute(
            SQL(
                """SELECT mm.state FROM mail_mail mm
                    WHERE mm.id = %s
                      AND NOT EXISTS (SELECT 1 FROM campaign_delivery_receipt r WHERE r.mail_id = mm.id)
                      FOR NO KEY UPDATE SKIP LOCKED""",
                self.id,
            )
        )
        row = self.env.cr.fetchone()
        return bool(row) and row[0] == "outgoing"

    # ------------------------------------------------------------------
    # DELIVERY WORKERS (see campaign.delivery)
    # ------------------------------------------------------------------
    def _campaign_deliver(self, ledger, campaign_of):
        """Send the mails of ``self`` (claimed by a delivery worker, locked by its transaction):
        grouped by sending configuration as Odoo's ``send`` does, one SMTP session per group, each
        mail sent by Odoo's ``_send`` on that session. Each accepted mail gets its receipt in the
        ledger at once; the post-processing of all (states, traces, touchpoints, retries) runs once
        at the end. Mails of a campaign stopped meanwhile are left alone: the caller withdraws them
        once the batch is recorded.

        :return: (ids of the mails left untried because their mail server was lost during the
            batch, ids of the campaigns found stopped)
        """
        later, untried, stopped = [], [], set()
        mails = self.with_context(campaign_delivery=True, campaign_postprocess_later=later)
        mails._campaign_prefetch()
        IrMailServer = self.env["ir.mail_server"]
        for mail_server_id, alias_domain_id, smtp_from, batch_ids in mails._split_by_mail_configuration():
            mail_server = IrMailServer.browse(mail_server_id)
            batch = mails.browse(batch_ids)
            if mail_server and mail_server.owner_user_id:
                batch = batch._split_by_delayed_batch(mail_server)  # personal servers' throttle
            try:
                session = IrMailServer._connect__(mail_server_id=mail_server_id, smtp_from=smtp_from)
            except Exception as error:  # the server cannot be reached: a temporary failure for all
                reason = tools.exception_to_unicode(error)
                batch.write({"state": "exception", "failure_reason": reason})
                batch._postprocess_sent_message(
                    success_pids=[], success_emails=[], failure_reason=reason, failure_type="mail_smtp"
                )
                continue
            try:
                for index, mail in enumerate(batch):
                    campaign_id = campaign_of.get(mail.id)
                    if campaign_id in stopped:
                        continue
                    if not ledger.may_send(campaign_id):
                        ledger.close()
                        stopped.add(campaign_id)
                        continue
                    accepted = False
                    try:
                        mail._send(smtp_session=session, alias_domain_id=alias_domain_id, mail_server=mail_server)
                        accepted = mail.state == "sent"
                    except smtplib.SMTPServerDisconnected as error:
                        mail._campaign_session_lost(error)
                        untried += batch[index + 1 :].ids
                        break
                    finally:
                        ledger.close(mail.id if accepted else None, mail.message_id if accepted else None)
                    if mail.state == "outgoing":
                        untried.append(mail.id)  # not sent, not failed (sending disabled): next call
            finally:
                if session:
                    try:
                        session.quit()
                    except smtplib.SMTPServerDisconnected:
                        # every email of the batch is already recorded: only the goodbye was lost
                        _logger.debug("SMTP session closed by the server before QUIT")
        self._campaign_postprocess(later)
        return untried, stopped

    def _campaign_prefetch(self):
        """Read what sending needs for the whole batch at once: Odoo's ``_send`` works on one mail
        at a time (``self.browse(mail_id)``), which would read each mail, message and trace alone."""
        self.fetch()
        self.mail_message_id.fetch()
        self.mail_message_id.fetch(["mail_ids"])  # read again when the mails are written
        self.mailing_trace_ids.fetch()
        self.mailing_id.fetch()
        self.attachment_ids.fetch(["name", "type", "url"])
        self.recipient_ids.fetch(["name", "email", "partner_share"])

    def _campaign_postprocess(self, later):
        """Run the post-processing put off during a batch, once per outcome."""
        outcomes = defaultdict(lambda: ([], [], []))
        for mail_ids, success_pids, success_emails, failure_reason, failure_type in later:
            ids, pids, emails = outcomes[failure_reason or False, failure_type or None]
            ids += mail_ids
            pids += success_pids
            emails += success_emails
        for (failure_reason, failure_type), (ids, pids, emails) in outcomes.items():
            self.browse(ids).with_context(campaign_postprocess_later=None)._postprocess_sent_message(
                success_pids=pids, success_emails=emails, failure_reason=failure_reason, failure_type=failure_type
            )

    def _campaign_record_delivered(self):
        """Record as sent mails that a worker sent but could not record (it died): their receipts
        prove the mail server accepted them."""
        if not self:
            return
        self.write({"state": "sent", "failure_type": False, "failure_reason": False})
        self._postprocess_sent_message(success_pids=[], success_emails=self.mapped("email_to"))

    def _campaign_hold(self):
        """Withdraw campaign mails not sent yet: mails and traces are removed and their touchpoints
        planned again, so that a resume sends them once."""
        if not self:
            return
        self.env.flush_all()
        # traces are technical records of Email Marketing; the mail queue may run as any user
        traces = self.env["mailing.trace"].sudo().search([("mail_mail_id", "in", self.ids)])
        if traces:
            self.env.cr.execute(
                SQL(
                    """UPDATE campaign_touchpoint
                          SET state = 'planned', mailing_trace_id = NULL, res_model = NULL, res_id = NULL,
                              date_dispatched = NULL, mail_server_id = NULL
                        WHERE mailing_trace_id IN %s AND state = 'queued'
                    RETURNING run_id""",
                    tuple(traces.ids),
                )
            )
            run_ids = {row[0] for row in self.env.cr.fetchall()}
            self.env["campaign.touchpoint"].invalidate_model()
            traces.unlink()
            runs = self.env["campaign.action.run"].sudo().browse(run_ids).filtered(lambda r: r.state == "done")
            runs.write({"state": "sending", "date_done": False})
        self.sudo().unlink()

    def _campaign(self):
        self.ensure_one()
        return self.mailing_id.campaign_action_id.campaign_id

    def _get_tracking_url(self):
        """Campaign emails use the campaign's signed open pixel (fast, and a forged address records
        nothing), instead of mass mailing's."""
        trace = self.mailing_trace_ids[:1]
        if trace and self._campaign():
            signature = self.env["mailing.trace"]._campaign_tracking_signature(trace.id)
            return f"{self.get_base_url()}/cm/o/{trace.id}/{signature}.gif"
        return super()._get_tracking_url()

    def _prepare_outgoing_body(self):
        """Campaign emails: tracked links go through the campaign's signed click route; without
        open tracking, the tracking pixel is taken out again."""
        body = super()._prepare_outgoing_body()
        if body and self.mailing_id and self.mailing_trace_ids:
            campaign = self._campaign()
            if campaign:
                trace = self.mailing_trace_ids[0]
                signature = self.env["mailing.trace"]._campaign_tracking_signature(trace.id)

                def signed(match):
                    if int(match.group("trace")) != trace.id:
                        return match.group(0)
                    return f"/cm/r/{match.group('code')}/{trace.id}/{signature}"

                body = body.__class__(TRACE_LINK.sub(signed, str(body)))
                if not campaign.track_opens:
                    pixel = f'<img src="{self._get_tracking_url()}"/>'
                    body = body.replace(body.__class__(pixel), body.__class__(""))
        return body

    def _prepare_outgoing_list(self, mail_server=False, doc_to_followers=None):
        """Without plain-text click tracking, the text part keeps the real addresses of links."""
        email_list = super()._prepare_outgoing_list(mail_server=mail_server, doc_to_followers=doc_to_followers)
        campaign = self._campaign() if self.mailing_id else False
        if campaign and campaign.track_clicks and not campaign.track_plaintext_clicks:
            for email_values in email_list:
                email_values["body_alternative"] = self._campaign_untrack_links(email_values.get("body_alternative"))
        return email_list

    def _campaign_untrack_links(self, text):
        """Replace the short tracked links of ``text`` by the addresses they redirect to."""
        if not text:
            return text
        codes = set(SHORT_URL.findall(text))
        if not codes:
            return text
        # link codes are technical records; the mail queue may run as any user
        trackers = self.env["link.tracker.code"].sudo().search([("code", "in", list(codes))])
        targets = {code.code: code.link_id.redirected_url for code in trackers}

        def replace(match):
            return targets.get(match.group("code"), match.group(0))

        return SHORT_URL.sub(replace, text)
