import re
from datetime import timedelta

from odoo import fields, models
from odoo.tools import SQL

SHORT_URL = re.compile(r"https?://[^\s\]\)>]+?/(?:cm/)?r/(?P<code>[A-Za-z0-9]+)(?:/m/\d+|/\d+/[0-9a-f]+)?")
# A tracked link of mass mailing, personalised with the trace: <base>/r/<code>/m/<trace id>.
TRACE_LINK = re.compile(r"/r/(?P<code>[A-Za-z0-9]+)/m/(?P<trace>\d+)")
# A temporary SMTP answer (4xx) as smtplib reports it: "(451, b'...')".
TEMPORARY_SMTP_ANSWER = re.compile(r"\(4\d\d, ")
RETRY_DELAY_MINUTES = 5
DEFAULT_MAX_RETRIES = 5


class MailMail(models.Model):
    """Campaign emails go out through Odoo's mail queue, with three additions: nothing leaves for
    a campaign that is not active (checked mail by mail, under a share lock on the campaign, so
    that a saved stop is final), and the campaign's open and plain-text click tracking settings."""

    _inherit = "mail.mail"

    campaign_retry_count = fields.Integer(
        string="Campaign Retries",
        default=0,
        readonly=True,
        help="Times a campaign email was put back in the queue after a temporary failure "
        "(mail server down or slow, temporary refusal).",
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
        campaign_of = self._campaign_of_mails()
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
            if len(mails) == 1 and mails.id in campaign_of and not mails._campaign_may_send(campaign_of[mails.id]):
                continue
            super(MailMail, mails)._send(
                auto_commit=auto_commit,
                raise_exception=raise_exception,
                smtp_session=smtp_session,
                alias_domain_id=alias_domain_id,
                mail_server=mail_server,
                post_send_callback=post_send_callback,
            )
        return True

    def _postprocess_sent_message(self, success_pids, success_emails, failure_reason=False, failure_type=None):
        """Campaign emails that failed for a temporary reason (server down or too slow, 4xx answer)
        go back to the queue with an exponential backoff instead of failing; the same mail is sent
        later, so nothing is sent twice. After the last retry they fail with the reason."""
        if failure_type and (failure_type == "mail_smtp" or TEMPORARY_SMTP_ANSWER.search(failure_reason or "")):
            campaign_of = self._campaign_of_mails()
            # a system parameter, read whatever the user sending the queue
            max_retries = int(
                self.env["ir.config_parameter"].sudo().get_param("campaign_manager.mail_retry_max", DEFAULT_MAX_RETRIES)
            )
            retry = self.filtered(lambda m: m.id in campaign_of and m.campaign_retry_count < max_retries)
            if retry:
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
                    # triggering a cron only sets a date: no rights on the cron needed
                    self.env.ref("mail.ir_cron_mail_scheduler_action").sudo()._trigger(when)
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
        """Whether the mail may go out now: its campaign is active (row share-locked until the mail
        is sent and committed, so a stop waits for it) and the mail is still outgoing."""
        self.ensure_one()
        self.env.cr.execute(SQL("SELECT state FROM campaign_campaign WHERE id = %s FOR SHARE", campaign_id))
        row = self.env.cr.fetchone()
        if not row or row[0] != "active":
            return False
        self.env.cr.execute(SQL("SELECT state FROM mail_mail WHERE id = %s", self.id))
        row = self.env.cr.fetchone()
        return bool(row) and row[0] == "outgoing"

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
