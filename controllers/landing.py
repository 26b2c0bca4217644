import logging

from werkzeug.exceptions import BadRequest

from odoo import http
from odoo.http import request
from odoo.tools import consteq, email_normalize

_logger = logging.getLogger(__name__)

# Longest values accepted from the reply form.
FORM_LIMITS = {"name": 128, "email": 254, "phone": 32, "message": 5000}
PHONE_CHARS = set("0123456789+-.() /")
# Headers of every personal page: never cached nor indexed, and the address (which is the visitor's
# only credential) is not sent to the sites the page links to or loads images from.
PAGE_HEADERS = [
    ("Cache-Control", "no-store"),
    ("X-Robots-Tag", "noindex, nofollow"),
    ("Referrer-Policy", "no-referrer"),
]


class CampaignLandingController(http.Controller):
    """Personal landing pages (PURL) of campaign contacts. The signed token of the address is the
    visitor's only credential: it gives access to one touchpoint's page and reply form, nothing
    else. Anything wrong with it gets the plain 404 of a page that does not exist."""

    # a frontend route (without languages in the address, never in a sitemap): its 404 is the one
    # of a missing page
    @http.route(
        "/c/<string:token>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        csrf=True,
        website=True,
        multilang=False,
        sitemap=False,
    )
    def campaign_landing_page(self, token, **post):
        # the visitor is anonymous: the touchpoint is read with superuser rights once the token,
        # checked in constant time against its signature then its key, has designated it
        touchpoint = request.env["campaign.touchpoint"].sudo()._landing_find(token)
        if not touchpoint:
            raise request.not_found()
        partner = touchpoint.partner_id
        lang = partner.lang if partner.lang in dict(request.env["res.lang"].get_installed()) else None
        if lang:
            request.update_context(lang=lang)
            touchpoint = touchpoint.with_context(lang=lang)
        action = touchpoint.action_id
        errors, values = {}, {}
        if request.httprequest.method == "POST":
            if not action.landing_form:
                raise request.not_found()
            # Odoo's CSRF token is the visitor's session's, valid on any page: the form also carries
            # a token of its own page, so that a form sent from another page is refused
            form_token = post.get("form_token")
            if not (isinstance(form_token, str) and form_token.isascii()) or not consteq(
                form_token, touchpoint._landing_form_token()
            ):
                raise BadRequest()
            if not touchpoint.lead_id:  # a reply sent again only shows the thanks again
                values, errors = self._landing_form_values(post)
                if not errors:
                    touchpoint._landing_convert(values)
        else:
            values = {"name": partner.name or "", "email": partner.email or ""}
        response = request.render(
            "campaign_manager.landing_page",
            self._landing_page_values(touchpoint, token, values, errors),
            headers=PAGE_HEADERS,
        )
        response.flatten()
        # counted once the page is rendered, so that the row stays locked only until the commit;
        # HEAD requests (link checkers) and colleagues previewing the page are not visits
        if request.httprequest.method == "GET" and not request.env.user._is_internal():
            touchpoint._landing_record_visit()
        return response

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
            "form_token": touchpoint._landing_form_token() if action.landing_form else False,
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
