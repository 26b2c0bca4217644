import base64

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

# 1x1 transparent GIF, the same answer whatever the token: the pixel reveals nothing.
PIXEL = base64.b64decode(b"R0lGODlhAQABAIAAANvf7wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
PIXEL_HEADERS = [
    ("Content-Type", "image/gif"),
    ("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0"),
]


class CampaignTrackingController(http.Controller):
    """Open pixel and click redirect of campaign emails. Each address carries the trace it belongs
    to and a signature of it (HMAC with the database secret): a hit is recorded only when the
    signature matches, in one set of SQL statements (no session, no ORM), so that the routes stay
    fast under load. Wrong, altered or forged addresses change nothing and reveal nothing: the
    pixel is returned all the same, and a click still leads to the link."""

    @http.route(
        "/cm/o/<int:trace_id>/<string:signature>.gif",
        type="http",
        auth="none",
        methods=["GET", "HEAD"],
        save_session=False,
        readonly=False,  # it records the hit (Odoo's default for auth="none" is a read-only cursor)
    )
    def campaign_open(self, trace_id, signature, **kwargs):
        if request.httprequest.method == "GET":
            request.env["mailing.trace"]._campaign_record_open(trace_id, signature)
        return request.make_response(PIXEL, headers=PIXEL_HEADERS)

    @http.route(
        "/cm/r/<string:code>/<int:trace_id>/<string:signature>",
        type="http",
        auth="none",
        methods=["GET", "HEAD"],
        save_session=False,
        readonly=False,  # it records the hit (Odoo's default for auth="none" is a read-only cursor)
    )
    def campaign_click(self, code, trace_id, signature, **kwargs):
        target = request.env["mailing.trace"]._campaign_link_target(code)
        if not target:
            raise NotFound()
        if request.httprequest.method == "GET":
            request.env["mailing.trace"]._campaign_record_click(
                code, trace_id, signature, ip=request.httprequest.remote_addr
            )
        return request.redirect(target, code=302, local=False)
