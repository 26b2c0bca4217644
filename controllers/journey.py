from odoo import http
from odoo.http import request

from ..models.campaign_trigger_webhook import MAX_BODY


class CampaignJourneyController(http.Controller):
    """The signed inbound webhook of a journey: another system enrols one of our contacts, named
    by their email, in the campaign of a webhook trigger.

    The call is a POST of a JSON body ``{"delivery_id": "...", "email": "..."}`` with the headers
    ``X-Campaign-Timestamp`` (Unix time, seconds) and ``X-Campaign-Signature`` (``sha256=<hex>``,
    the HMAC-SHA256 of ``<timestamp>.<body>`` with the trigger's secret, as our own outgoing webhooks
    sign their bodies). A timestamp out of the replay window, a delivery id already received, a
    trigger over its rate or a bad body are refused with a JSON error and enrol nobody."""

    @http.route(
        "/campaign/journey/<int:trigger_id>/enrol",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def campaign_journey_enrol(self, trigger_id, **kwargs):
        body = request.httprequest.get_data(cache=False)[: MAX_BODY + 1]
        headers = request.httprequest.headers
        status, answer = request.env["campaign.trigger"]._webhook_receive(
            trigger_id,
            body,
            headers.get("X-Campaign-Timestamp", ""),
            headers.get("X-Campaign-Signature", ""),
        )
        response = request.make_json_response(answer, status=status)
        if status == 429:
            response.headers["Retry-After"] = "60"
        return response
