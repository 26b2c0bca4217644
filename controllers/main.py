from werkzeug.exceptions import NotFound, Unauthorized

from odoo import http
from odoo.addons.mass_mailing.controllers.main import MassMailController
from odoo.addons.mass_mailing_sms.controllers.main import MailingSMSController
from odoo.http import request
from odoo.tools import SQL


def is_token(value):
    """Whether ``value``, taken from an address, can be compared with a signature: an ASCII string
    (the constant-time comparison refuses others). Anything else is a wrong token."""
    return isinstance(value, str) and value.isascii()


class CampaignMassMailController(MassMailController):
    """Mass mailing's public routes (open pixel, unsubscribe) also move the campaign touchpoints.
    Tokens are checked by mass mailing before anything changes."""

    def _check_mailing_email_token(self, mailing_id, document_id, email, hash_token, required_mailing_id=False):
        try:
            mailing_sudo = super()._check_mailing_email_token(
                mailing_id, document_id, email, hash_token, required_mailing_id=required_mailing_id
            )
        except (TypeError, ValueError) as error:
            # a malformed token or contact (non-ASCII characters, not a number...) is answered as a
            # mailing that does not exist: an error would tell which mailing ids exist
            raise NotFound() from error
        # Without a token, Email Marketing lets its users open any mailing's pages (view it rendered
        # for any contact, unsubscribe from it): a campaign's mailing only to those who may read it,
        # as for a mailing that does not exist otherwise (the routes answer "unauthorized")
        if mailing_sudo and not hash_token and not mailing_sudo.with_user(request.env.user).has_access("read"):
            raise NotFound()
        return mailing_sudo

    @http.route()
    def mailing_confirm_unsubscribe_post(self, mailing_id, document_id=None, email=None, hash_token=None):
        if not (isinstance(mailing_id, str) and mailing_id.isdigit()):
            raise Unauthorized()  # as for a mailing that does not exist
        return super().mailing_confirm_unsubscribe_post(
            mailing_id, document_id=document_id, email=email, hash_token=hash_token
        )

    @http.route()
    def mailing_report_deactivate(self, token, user_id):
        if not (is_token(token) and isinstance(user_id, str) and user_id.isdigit()):
            raise Unauthorized()  # as for a wrong token
        return super().mailing_report_deactivate(token, user_id)

    @http.route()
    def track_mail_open(self, mail_id, token, **post):
        if not is_token(token):
            raise Unauthorized()  # as for a wrong token
        # read before: the first opening is counted by the trace's own update, later ones here
        request.env.cr.execute(
            SQL(
                """SELECT tp.id FROM campaign_touchpoint tp
                     JOIN mailing_trace tr ON tr.id = tp.mailing_trace_id
                    WHERE tr.mail_mail_id_int = %s AND tp.date_opened IS NOT NULL""",
                mail_id,
            )
        )
        opened_before = [row[0] for row in request.env.cr.fetchall()]
        response = super().track_mail_open(mail_id, token, **post)
        if opened_before:
            request.env.cr.execute(
                SQL(
                    "UPDATE campaign_touchpoint SET open_count = open_count + 1 WHERE id IN %s",
                    tuple(opened_before),
                )
            )
        return response

    def _mailing_unsubscribe_from_document(self, mailing, document_id, email, hash_token):
        response = super()._mailing_unsubscribe_from_document(mailing, document_id, email, hash_token)
        self._campaign_mark_unsubscribed(mailing, document_id, email, hash_token)
        return response

    def _mailing_unsubscribe_from_list(self, mailing, document_id, email, hash_token):
        response = super()._mailing_unsubscribe_from_list(mailing, document_id, email, hash_token)
        self._campaign_mark_unsubscribed(mailing, document_id, email, hash_token)
        return response

    def _campaign_mark_unsubscribed(self, mailing, document_id, email, hash_token):
        # The visitor may be anonymous and mass mailing checked the mailing (and the token when there
        # is one): only that mailing's touchpoints move, as superuser. Only the token binds the contact
        # (document) to the address: without one, a logged-in user unsubscribes their own address,
        # never the contact named in the URL.
        request.env["campaign.touchpoint"].sudo()._campaign_mark_unsubscribed(
            mailing, document_id if hash_token else False, email
        )


class CampaignMailingSMSController(MailingSMSController):
    """SMS Marketing's opt-out page (“STOP SMS” link) also marks the campaign touchpoints of the
    SMS unsubscribed. The mailing, trace code and number are checked by SMS Marketing."""

    @http.route()
    def blacklist_number(self, mailing_id, trace_code, **post):
        response = super().blacklist_number(mailing_id, trace_code, **post)
        number = post.get("sms_number", "").strip(" ")
        if number:
            # public route: the trace is found again from the code and number just checked
            traces = (
                request.env["mailing.trace"]
                .sudo()
                .search(
                    [
                        ("trace_type", "=", "sms"),
                        ("mass_mailing_id", "=", mailing_id),
                        ("sms_code", "=", trace_code),
                        ("sms_number", "=", number),
                    ]
                )
            )
            request.env["campaign.touchpoint"].sudo()._campaign_mark_sms_unsubscribed(traces)
        return response
