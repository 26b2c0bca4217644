import logging

from werkzeug.exceptions import BadRequest

from odoo import http
from odoo.http import request
from odoo.tools import consteq, email_normalize
from odoo.tools.lru import LRU

_logger = logging.getLogger(__name__)

# Longest values accepted from the reply form.
FORM_LIMITS = {"name": 128, "email": 254, "phone": 32, "message": 5000}
PHONE_CHARS = set("0123456789+-.() /")
# Headers of every personal page: never cached nor indexed, and the address (which is the visitor's
# only credential) is not sent to the sites the page links to or loads images from.
# Pages rendered in this worker, by page and version (see campaign.touchpoint._landing_find_page):
# a page changed (action, contact, company, reply) gets a new version; old ones age out.
PAGE_CACHE = LRU(4096)
PAGE_HEADERS = [
    ("Cache-Control", "no-store"),
    ("X-Robots-Tag", "noindex, nofollow"),
    ("Referrer-Policy", "no-referrer"),
]


class CampaignLandingController(http.Controller):
    """Personal landing pages (PURL) of campaign contacts. The signed token of the address is the
    visitor's only credential: it gives access to one touchpoint's page and reply form, nothing
    else. Anything wrong with it gets the plain 404 of a page that does not exist.

    A visit is one query finding the page and its version, the page taken from the worker's cache
    (rendered once per page and version: a light page of its own, not the website's layout), and
    one UPDATE counting the visit. No session is needed nor saved: the reply form is authenticated
    by a token bound to the page's key."""

    # a frontend route (without languages in the address, never in a sitemap): its 404 is the one
    # of a missing page. csrf=False: the form carries its own token, bound to the page's key (see
    # campaign.touchpoint._landing_form_token), checked below.
    @http.route(
        "/c/<string:token>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
        website=True,
        multilang=False,
        sitemap=False,
    )
    def campaign_landing_page(self, token, **post):
        # the visitor is anonymous: the touchpoint is read with superuser rights once the token,
        # checked in constant time against its signature then its key, has designated it
        touchpoint, version = request.env["campaign.touchpoint"].sudo()._landing_find_page(token)
        if not touchpoint:
            raise request.not_found()
        method = request.httprequest.method
        if method == "POST":
            if not touchpoint.action_id.landing_form:
                raise request.not_found()
            # the form carries a token of its own page (bound to the page's key, not to a session:
            # pages are cached and need no session), so that a form sent from another page is refused
            form_token = post.get("form_token")
            if not (isinstance(form_token, str) and form_token.isascii()) or not consteq(
                form_token, touchpoint._landing_form_token()
            ):
                raise BadRequest()
            touchpoint = self._landing_in_language(touchpoint)
            values, errors = {}, {}
            if not touchpoint.lead_id:  # a reply sent again only shows the thanks again
                values, errors = self._landing_form_values(post)
                if not errors:
                    touchpoint._landing_convert(values)
            html = self._landing_html(touchpoint, token, values, errors)
        else:
            key = (*version, request.env.lang)
            html = PAGE_CACHE.get(key)
            if html is None:
                touchpoint = self._landing_in_language(touchpoint)
                partner = touchpoint.partner_id
                values = {"name": partner.name or "", "email": partner.email or ""}
                html = PAGE_CACHE[key] = self._landing_html(touchpoint, token, values, {})
            # counted once the page is ready, so that the row stays locked only until the commit;
            # HEAD requests (link checkers) and colleagues previewing the page are not visits
            if method == "GET" and not request.env.user._is_internal():
                touchpoint._landing_record_visit()
        return request.make_response(html, headers=[("Content-Type", "text/html; charset=utf-8"), *PAGE_HEADERS])

    def _landing_in_language(self, touchpoint):
        lang = touchpoint.partner_id.lang
        if lang in dict(request.env["res.lang"].get_installed()):
            request.update_context(lang=lang)
            return touchpoint.with_context(lang=lang)
        return touchpoint

    def _landing_html(self, touchpoint, token, values, errors):
        page = self._landing_page_values(touchpoint, token, values, errors)
        return "<!DOCTYPE html>\n" + str(request.env["ir.qweb"]._render("campaign_manager.landing_page", page))

    def _landing_page_values(self, touchpoint, token, values, errors):
        action = touchpoint.action_id
        try:
            title, body = touchpoint._landing_render()
        except Exception:  # a broken placeholder must not show an error page to the contact
            _logger.warning("Landing page of touchpoint %s could not be rendered", touchpoint.id, exc_info=True)
            title, body = "", ""
        return {
            "title": title,
            "body": body,
            "res_company": touchpoint.company_id,
            "show_form": action.landing_form and not touchpoint.lead_id,
            "thanks": action.landing_thanks if action.landing_form and touchpoint.lead_id else False,
            "converted": bool(touchpoint.lead_id),
            "values": values,
            "errors": errors,
            "form_url": f"/c/{token}",
            "form_token": touchpoint._landing_form_token(),
            "html_lang": (touchpoint.env.lang or "en_US").replace("_", "-"),
        }

    def _landing_form_values(self, post):
        """The reply form's values, stripped, and the errors to show next to the fields."""
        env = request.env
        values = {key: (post.get(key) or "").strip() for key in FORM_LIMITS}
        errors = {}
        for key, limit in FORM_LIMITS.items():
            if len(values[key]) > limit:
                errors[key] = env._("At most %(count)s characters.", count=limit)
        if not values["name"]:
            errors.setdefault("name", env._("Please enter your name."))
        if not values["email"] and not values["phone"]:
            errors.setdefault("email", env._("Please enter an email address or a phone number."))
        if values["email"] and not email_normalize(values["email"]):
            errors.setdefault("email", env._("This email address is not valid."))
        if values["phone"] and (
            not set(values["phone"]) <= PHONE_CHARS or sum(c.isdigit() for c in values["phone"]) < 6
        ):
            errors.setdefault("phone", env._("This phone number is not valid."))
        return values, errors
