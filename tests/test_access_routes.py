import json
import re
import secrets
from contextlib import contextmanager
from urllib.parse import quote, quote_plus, unquote

from odoo import Command, fields, http
from odoo.tests import Form, HttpCase, new_test_user, tagged

from .access_common import fingerprint
from .common import CampaignCase

# What a route must leave alone when it refuses (the counters and states of touchpoints and traces,
# blacklists, subscriptions, leads); Email Marketing logs each request on the blacklist's chatter.
ROUTE_TABLES = (
    "campaign_touchpoint",
    "mailing_trace",
    "mail_blacklist",
    "phone_blacklist",
    "crm_lead",
    "mailing_subscription",
)


# Malformed tokens as they appear in an address (percent-encoded): none may get a server error.
BAD_TOKENS = {
    "one character": "x",
    "non-ASCII": quote("é"),
    "non-ASCII, long": quote("日本語" * 50),
    "emoji": quote("☃🎉"),
    "NUL": "%00",
    "NUL inside": "abc%00def",
    "very long": "a" * 4000,
    "very long, non-ASCII": quote("é" * 1500),
    "invalid percent-encoding": "%ZZ",
    "invalid UTF-8": "%E9%FF",
    "spaces": "%20%20",
    "quotes": quote("' OR '1'='1"),
    "negative": "-1",
    "huge number": "9" * 40,
}


@tagged("post_install", "-at_install")
class TestAccessRoutes(HttpCase, CampaignCase):
    """The public routes of the campaigns (open pixel, click redirect, email unsubscribe, SMS
    opt-out, personal pages and their form) with missing, truncated, altered, replayed and another
    campaign's tokens: the answer is the one of a target that does not exist, and nothing changes.
    Logged-in users of another company learn nothing more through them, nor through JSON-RPC."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_2 = cls.env["res.company"].create({"name": "Routes Second Company"})
        cls.user_c = new_test_user(
            cls.env,
            login="route_user_c",
            groups="campaign_manager.group_campaign_user",
            company_id=cls.company_2.id,
            company_ids=[Command.set(cls.company_2.ids)],
        )
        cls.portal = new_test_user(cls.env, login="route_portal", groups="base.group_portal")
        cls.partners = cls._partners(4, prefix="route", lang="en_US")
        cls.ours = cls._launched("RoutesOurs", cls.env.company, cls.partners[:2])
        cls.theirs = cls._launched("RoutesTheirs", cls.company_2, cls.partners[2:])

    @classmethod
    def _launched(cls, name, company, partners):
        """A launched campaign with an email, an SMS and a personal page per contact."""
        campaign = cls._campaign(name, company_id=company.id, date_start=fields.Date.today())
        cls._manual_target(campaign, partners)
        actions = cls.env["campaign.action"].create(
            [
                {
                    "campaign_id": campaign.id,
                    "name": "Mail",
                    "channel": "email",
                    "mail_template_id": cls.mail_template.id,
                },
                {"campaign_id": campaign.id, "name": "Text", "channel": "sms", "sms_body": "Hello {{ object.name }}"},
                {
                    "campaign_id": campaign.id,
                    "name": "Page",
                    "channel": "landing",
                    "landing_title": "{{ object.name }}, your offer",
                    "landing_body": "<p>Your offer</p>",
                    "landing_form": True,
                    "landing_thanks": "<p>Thanks</p>",
                },
            ]
        )
        Form(cls.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id)).save().action_launch()
        cls.env["campaign.engine"]._cron_process()
        by_channel = {action.channel: action.touchpoint_ids.sorted("partner_id") for action in actions}
        by_channel["email"].mailing_trace_id.set_sent()
        return by_channel

    def setUp(self):
        super().setUp()
        self.reference = fingerprint(self.env, ROUTE_TABLES, messages=False)

    def _unchanged(self, msg=None):
        self.env.invalidate_all()
        self.assertEqual(fingerprint(self.env, ROUTE_TABLES, messages=False), self.reference, msg)

    def _answer(self, response):
        # pages carry a CSRF token salted with the time
        body = re.sub(r'(csrf_token: "|name="csrf_token" value=")[^"]*', "", response.text)
        return response.status_code, response.headers.get("Location"), body

    def _same_as(self, paths, ghost, method="GET", data=None):
        """Each path answers as ``ghost`` (a target that does not exist) and changes nothing."""
        expected = self._answer(self.url_open(ghost, data=data, method=method, allow_redirects=False))
        for path in paths:
            with self.subTest(path=path):
                self.assertEqual(
                    self._answer(self.url_open(path, data=data, method=method, allow_redirects=False)), expected
                )
                self._unchanged(path)
        return expected

    @staticmethod
    def _altered(token):
        return token[:-1] + ("0" if token[-1] != "0" else "1")

    # ------------------------------------------------------------------
    def test_open_pixel(self):
        touchpoint, theirs = self.ours["email"][0], self.theirs["email"][0]
        mail_id, their_mail_id = touchpoint.mailing_trace_id.mail_mail_id_int, theirs.mailing_trace_id.mail_mail_id_int
        token_of = self.env["mail.mail"]._generate_mail_recipient_token
        token, ghost_id = token_of(mail_id), their_mail_id + 10**6
        status, _location, _body = self._same_as(
            [
                f"/mail/track/{mail_id}/{token[:-6]}/blank.gif",
                f"/mail/track/{mail_id}/{self._altered(token)}/blank.gif",
                f"/mail/track/{mail_id}/{token_of(their_mail_id)}/blank.gif",
                f"/mail/track/{their_mail_id}/{token}/blank.gif",
            ],
            f"/mail/track/{ghost_id}/{token}/blank.gif",
        )
        self.assertEqual(status, 401)
        self._same_as([f"/mail/track/{mail_id}/blank.gif"], f"/mail/track/{ghost_id}/blank.gif")
        # the right address counts an opening; again, one more opening and nothing else
        self.assertEqual(self.url_open(f"/mail/track/{mail_id}/{token}/blank.gif").status_code, 200)
        self.assertEqual((touchpoint.state, touchpoint.open_count), ("opened", 1))
        self.assertEqual(self.url_open(f"/mail/track/{mail_id}/{token}/blank.gif").status_code, 200)
        self.env.invalidate_all()
        self.assertEqual((touchpoint.state, touchpoint.open_count), ("opened", 2))
        self.assertEqual((theirs.state, theirs.open_count), ("sent", 0))

    def test_click_redirect(self):
        touchpoint, theirs = self.ours["email"][0], self.theirs["email"][0]
        link = self.env["link.tracker"].search([("mass_mailing_id", "=", touchpoint.mailing_id.id)])
        self.assertEqual(len(link), 1)
        their_trace, ghost_trace = theirs.mailing_trace_id.id, theirs.mailing_trace_id.id + 10**6
        # a click through our link with the trace of another campaign's contact is the link's click
        # alone, as with a trace that does not exist: their touchpoint does not move
        status, location, _body = self._same_as([f"/r/{link.code}/m/{their_trace}"], f"/r/{link.code}/m/{ghost_trace}")
        self.assertIn(status, (301, 302, 303))
        self.assertTrue(location.startswith("https://shop.example.com/offer"))
        status, _location, _body = self._same_as(
            [f"/r/{link.code}x/m/{touchpoint.mailing_trace_id.id}", f"/r/{link.code[:-1]}/m/{their_trace}"],
            f"/r/{secrets.token_hex(8)}/m/{ghost_trace}",
        )
        self.assertEqual(status, 404)
        self.url_open(f"/r/{link.code}/m/{touchpoint.mailing_trace_id.id}", allow_redirects=False)
        self.env.invalidate_all()
        self.assertEqual((touchpoint.state, touchpoint.click_count), ("clicked", 1))
        self.assertEqual((theirs.state, theirs.click_count), ("sent", 0))

    def test_signed_open_and_click(self):
        """Campaign emails carry their own signed open and click addresses: a signature is good for
        its trace only, and a click for the links of the trace's own email only."""
        touchpoint, theirs = self.ours["email"][0], self.theirs["email"][0]
        trace, their_trace = touchpoint.mailing_trace_id, theirs.mailing_trace_id
        sign = self.env["mailing.trace"]._campaign_tracking_signature
        signature, their_signature = sign(trace.id), sign(their_trace.id)
        ghost = their_trace.id + 10**6
        self._same_as(
            [
                f"/cm/o/{trace.id}/{signature[:-4]}.gif",
                f"/cm/o/{trace.id}/{self._altered(signature)}.gif",
                f"/cm/o/{trace.id}/{their_signature}.gif",
                f"/cm/o/{their_trace.id}/{signature}.gif",
            ],
            f"/cm/o/{ghost}/{sign(ghost)}.gif",
        )
        link = self.env["link.tracker"].search([("mass_mailing_id", "=", trace.mass_mailing_id.id)])
        their_link = self.env["link.tracker"].search([("mass_mailing_id", "=", their_trace.mass_mailing_id.id)])
        self.assertEqual((len(link), len(their_link)), (1, 1))
        status, _location, _body = self._same_as(
            [
                # our signed address with their link: the redirect, and no click anywhere
                f"/cm/r/{their_link.code}/{trace.id}/{signature}",
                f"/cm/r/{their_link.code}/{their_trace.id}/{signature}",
                f"/cm/r/{their_link.code}/{their_trace.id}/{self._altered(their_signature)}",
            ],
            f"/cm/r/{their_link.code}/{ghost}/{sign(ghost)}",
        )
        self.assertEqual(status, 302)

        def clicks(link):
            return self.env["link.tracker.click"].search_count([("link_id", "=", link.id)])

        self.assertEqual((clicks(link), clicks(their_link)), (0, 0))
        self.url_open(f"/cm/r/{link.code}/{trace.id}/{signature}", allow_redirects=False)
        self.env.invalidate_all()
        self.assertEqual((touchpoint.state, touchpoint.click_count, clicks(link)), ("clicked", 1, 1))
        self.assertEqual((theirs.state, theirs.click_count, clicks(their_link)), ("sent", 0, 0))

    def test_email_unsubscribe(self):
        touchpoint, other, theirs = self.ours["email"][0], self.ours["email"][1], self.theirs["email"][0]
        mailing, their_mailing = touchpoint.mailing_id, theirs.mailing_id
        partner, their_partner = touchpoint.partner_id, theirs.partner_id

        def url(mailing_id, document_id, email, token, route="unsubscribe"):
            query = f"document_id={document_id}&email={quote_plus(email)}"
            query += f"&hash_token={token}" if token is not None else ""
            return f"/mailing/{mailing_id}/{route}?{query}"

        token = mailing._generate_mailing_recipient_token(partner.id, partner.email)
        their_token = their_mailing._generate_mailing_recipient_token(their_partner.id, their_partner.email)
        ghost = their_mailing.id + 10**6
        status, _location, _body = self._same_as(
            [
                url(mailing.id, partner.id, partner.email, token[:-8]),
                url(mailing.id, partner.id, partner.email, self._altered(token)),
                url(mailing.id, other.partner_id.id, other.partner_id.email, token),
                url(mailing.id, their_partner.id, their_partner.email, their_token),
                url(their_mailing.id, partner.id, partner.email, token),
            ],
            url(ghost, partner.id, partner.email, token),
        )
        self.assertEqual(status, 401)
        status, _location, _body = self._same_as(
            [url(mailing.id, partner.id, partner.email, None)], url(ghost, partner.id, partner.email, None)
        )
        self.assertEqual(status, 400)
        self._same_as(
            [url(mailing.id, partner.id, partner.email, self._altered(token), "unsubscribe_oneclick")],
            url(ghost, partner.id, partner.email, token, "unsubscribe_oneclick"),
            data={"List-Unsubscribe": "One-Click"},
        )
        # the right link unsubscribes; used again, it changes nothing more
        self.assertEqual(self.url_open(url(mailing.id, partner.id, partner.email, token)).status_code, 200)
        self.env.invalidate_all()
        self.assertEqual((touchpoint.state, other.state, theirs.state), ("unsubscribed", "sent", "sent"))
        self.reference = fingerprint(self.env, ROUTE_TABLES, messages=False)
        self.assertEqual(self.url_open(url(mailing.id, partner.id, partner.email, token)).status_code, 200)
        self._unchanged("replayed")

    def test_logged_in_users_of_another_company(self):
        """A campaign user of the other company, logged in: Email Marketing lets its users manage
        their own subscription without a token, which must neither reach our contacts nor show our
        mailings."""
        touchpoint = self.ours["email"][1]
        mailing, partner = touchpoint.mailing_id, touchpoint.partner_id
        self.authenticate("route_user_c", "route_user_c")
        for route in ("unsubscribe", "view"):
            with self.subTest(route=route):
                query = f"document_id={partner.id}&email={quote_plus(partner.email)}"
                response = self.url_open(f"/mailing/{mailing.id}/{route}?{query}")
                self.assertEqual(response.status_code, 401)
                self.assertNotIn(partner.name, response.text)
                self._unchanged(route)
        # their own company's mailing works as Email Marketing has it
        theirs = self.theirs["email"][1]
        query = f"document_id={theirs.partner_id.id}&email={quote_plus(theirs.partner_id.email)}"
        response = self.url_open(f"/mailing/{theirs.mailing_id.id}/view?{query}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(f"Dear {theirs.partner_id.name}", response.text)
        # a personal page with a wrong address answers them as anybody
        landing = self.ours["landing"][0]
        token = landing.landing_url.rsplit("/", 1)[1]
        ghost = self.env["campaign.touchpoint"]._landing_address_token(secrets.token_urlsafe(24))
        status, _location, _body = self._same_as([f"/c/{self._altered(token)}"], f"/c/{ghost}")
        self.assertEqual(status, 404)

    def test_sms_opt_out(self):
        touchpoint, theirs = self.ours["sms"][0], self.theirs["sms"][0]
        trace, their_trace = touchpoint.mailing_trace_id, theirs.mailing_trace_id
        self.assertTrue(trace.sms_code and their_trace.sms_code)
        mailing_id, ghost = trace.mass_mailing_id.id, their_trace.mass_mailing_id.id + 10**6

        def url(mailing_id, code, number):
            return f"/sms/{mailing_id}/unsubscribe/{code}?sms_number={quote_plus(number)}"

        status, location, _body = self._same_as(
            [
                url(mailing_id, trace.sms_code[:-1], trace.sms_number),
                url(mailing_id, self._altered(trace.sms_code), trace.sms_number),
                url(mailing_id, their_trace.sms_code, their_trace.sms_number),
                url(their_trace.mass_mailing_id.id, trace.sms_code, trace.sms_number),
            ],
            url(ghost, trace.sms_code, trace.sms_number),
        )
        self.assertEqual((status, location.rsplit("/", 1)[-1]), (303, "odoo"))
        # the right code with another number: SMS Marketing's page, and nothing changes
        self.assertEqual(self.url_open(url(mailing_id, trace.sms_code, their_trace.sms_number)).status_code, 200)
        self._unchanged("another number")
        self.url_open(url(mailing_id, trace.sms_code, trace.sms_number))
        self.env.invalidate_all()
        self.assertEqual((touchpoint.state, theirs.state), ("unsubscribed", "queued"))
        self.reference = fingerprint(self.env, ROUTE_TABLES, messages=False)
        self.url_open(url(mailing_id, trace.sms_code, trace.sms_number))
        self._unchanged("replayed")

    def test_landing_page_and_form(self):
        touchpoint, theirs = self.ours["landing"][0], self.theirs["landing"][0]
        token = touchpoint.landing_url.rsplit("/", 1)[1]
        their_token = theirs.landing_url.rsplit("/", 1)[1]
        ghost = self.env["campaign.touchpoint"]._landing_address_token(secrets.token_urlsafe(24))
        wrong = [
            f"/c/{token[:-1]}",
            f"/c/{self._altered(token)}",
            f"/c/{token[:32]}{their_token[32:]}",
            f"/c/{their_token[:32]}{token[32:]}",
            f"/c/{token.upper()}",
        ]
        status, _location, _body = self._same_as(wrong, f"/c/{ghost}")
        self.assertEqual(status, 404)
        self._same_as(["/c/"], "/c")
        # the form: refused alike with a wrong address, one lead for the right one however often sent
        page = self.url_open(f"/c/{token}")
        self.assertEqual(page.status_code, 200)
        self.env.invalidate_all()
        self.assertEqual(touchpoint.visit_count, 1)
        self.reference = fingerprint(self.env, ROUTE_TABLES, messages=False)
        tokens = {key: re.search(rf'name="{key}" value="([^"]+)"', page.text).group(1) for key in ("form_token",)}
        form = {**tokens, "name": "Route visitor", "email": "visitor@example.com"}
        status, _location, _body = self._same_as(wrong, f"/c/{ghost}", data=form)
        self.assertEqual(status, 404)
        for _attempt in range(2):
            self.assertEqual(self.url_open(f"/c/{token}", data=form).status_code, 200)
        self.env.invalidate_all()
        self.assertEqual(touchpoint.state, "converted")
        self.assertEqual(self.env["crm.lead"].search_count([("id", "=", touchpoint.lead_id.id)]), 1)
        self.assertFalse(theirs.lead_id)

    def test_bad_tokens_answer_as_missing_targets(self):
        """Every public route of the campaigns, and mass mailing's reached on a campaign's mailing,
        given malformed tokens (non-ASCII, NUL, very long, invalid encoding...) in each of its
        parameters: the answer of a target that does not exist, never a server error, nothing changed
        (a server error on an existing mailing only would tell which mailing ids exist)."""
        touchpoint, theirs = self.ours["email"][0], self.theirs["email"][0]
        trace, mailing, partner = touchpoint.mailing_trace_id, touchpoint.mailing_id, touchpoint.partner_id
        sms_trace = self.ours["sms"][0].mailing_trace_id
        sign = self.env["mailing.trace"]._campaign_tracking_signature
        ghost_trace = theirs.mailing_trace_id.id + 10**6
        ghost_mailing = max(mailing.id, theirs.mailing_id.id, sms_trace.mass_mailing_id.id) + 10**6
        link = self.env["link.tracker"].search([("mass_mailing_id", "=", mailing.id)])
        mail_id = trace.mail_mail_id_int
        mail_token = self.env["mail.mail"]._generate_mail_recipient_token(mail_id)
        page_ghost = self.env["campaign.touchpoint"]._landing_address_token(secrets.token_urlsafe(24))
        token = mailing._generate_mailing_recipient_token(partner.id, partner.email)
        email = quote_plus(partner.email)

        def unsubscribe(route, mailing_id, document_id=partner.id, email=email, hash_token=token):
            return f"/mailing/{mailing_id}/{route}?document_id={document_id}&email={email}&hash_token={hash_token}"

        self.authenticate(None, None)  # a visitor's session, whose CSRF token the forms carry
        csrf = http.Request.csrf_token(self)
        form = {"csrf_token": csrf, "name": "Visitor", "email": "visitor@example.com"}
        number = quote_plus(sms_trace.sms_number)
        # (route, path with a malformed token, path of a target that does not exist[, data posted])
        routes = [
            ("signed pixel", lambda t: f"/cm/o/{trace.id}/{t}.gif", f"/cm/o/{ghost_trace}/{sign(ghost_trace)}.gif"),
            ("signed click", lambda t: f"/cm/r/{link.code}/{trace.id}/{t}", f"/cm/r/{link.code}/{ghost_trace}/x"),
            ("signed click code", lambda t: f"/cm/r/{t}/{trace.id}/{sign(trace.id)}", f"/cm/r/NoSuchCode/{trace.id}/x"),
            ("page", lambda t: f"/c/{t}", f"/c/{page_ghost}"),
            ("page form", lambda t: f"/c/{t}", f"/c/{page_ghost}", form),
            (
                "mail pixel",
                lambda t: f"/mail/track/{mail_id}/{t}/blank.gif",
                f"/mail/track/{ghost_trace}/{mail_token}/blank.gif",
            ),
            ("short link", lambda t: f"/r/{t}/m/{trace.id}", f"/r/NoSuchCode/m/{ghost_trace}"),
            ("short link alone", lambda t: f"/r/{t}", "/r/NoSuchCode"),
            ("SMS short link", lambda t: f"/r/{t}/s/{sms_trace.sms_id_int}", f"/r/NoSuchCode/s/{ghost_trace}"),
            (
                "unsubscribe token",
                lambda t: unsubscribe("unsubscribe", mailing.id, hash_token=t),
                unsubscribe("unsubscribe", ghost_mailing),
            ),
            (
                "unsubscribe contact",
                lambda t: unsubscribe("unsubscribe", mailing.id, document_id=t),
                unsubscribe("unsubscribe", ghost_mailing),
            ),
            (
                "unsubscribe email",
                lambda t: unsubscribe("unsubscribe", mailing.id, email=t),
                unsubscribe("unsubscribe", ghost_mailing),
            ),
            (
                "one-click",
                lambda t: unsubscribe("unsubscribe_oneclick", mailing.id, hash_token=t),
                unsubscribe("unsubscribe_oneclick", ghost_mailing),
                {"List-Unsubscribe": "One-Click"},
            ),
            ("view", lambda t: unsubscribe("view", mailing.id, hash_token=t), unsubscribe("view", ghost_mailing)),
            (
                "view contact",
                lambda t: unsubscribe("view", mailing.id, document_id=t),
                unsubscribe("view", ghost_mailing),
            ),
            (
                "confirm",
                lambda t: unsubscribe("confirm_unsubscribe", mailing.id, hash_token=t),
                unsubscribe("confirm_unsubscribe", ghost_mailing),
            ),
            (
                "SMS opt-out page",
                lambda t: f"/sms/{sms_trace.mass_mailing_id.id}/{t}",
                f"/sms/{ghost_mailing}/{sms_trace.sms_code}",
            ),
            (
                "SMS opt-out",
                lambda t: f"/sms/{sms_trace.mass_mailing_id.id}/unsubscribe/{t}?sms_number={number}",
                f"/sms/{ghost_mailing}/unsubscribe/{sms_trace.sms_code}?sms_number={number}",
            ),
        ]
        # the same with the token in a form (POST) or a JSON-RPC call
        forms = [
            ("confirm form", "/mailing/confirm_unsubscribe", "mailing_id", {"mailing_id": str(mailing.id)}),
            ("confirm form token", "/mailing/confirm_unsubscribe", "hash_token", {"mailing_id": str(mailing.id)}),
        ]
        calls = [
            (route, "hash_token")
            for route in (
                "/mailing/blocklist/add",
                "/mailing/blocklist/remove",
                "/mailing/list/update",
                "/mailing/feedback",
            )
        ] + [("/mailing/blocklist/add", "document_id")]
        answers = {}
        failures = []
        for name, bad, ghost, *data in routes:
            data = data[0] if data else None  # posted when given
            expected = self._answer(self.url_open(ghost, data=data, allow_redirects=False))
            answers[name] = expected[0]
            for label, value in BAD_TOKENS.items():
                with self._case_of(failures, route=name, token=label):
                    answer = self._answer(self.url_open(bad(value), data=data, allow_redirects=False))
                    self.assertNotEqual(answer[0], 500)
                    self.assertEqual(answer, expected)
        base = {"document_id": str(partner.id), "email": partner.email, "hash_token": token, "csrf_token": csrf}
        for name, path, key, values in forms:
            ghost = {**base, **values, "mailing_id": str(ghost_mailing)}
            expected = self._answer(self.url_open(path, data=ghost, allow_redirects=False))
            answers[name] = expected[0]
            for label, value in BAD_TOKENS.items():
                with self._case_of(failures, route=name, token=label):
                    bad = {**base, **values, key: unquote(value)}
                    answer = self._answer(self.url_open(path, data=bad, allow_redirects=False))
                    self.assertNotEqual(answer[0], 500)
                    self.assertEqual(answer, expected)
        params = {"mailing_id": mailing.id, "document_id": partner.id, "email": partner.email, "hash_token": token}
        for path, key in calls:
            expected = self._json_answer(path, {**params, "mailing_id": ghost_mailing})
            for label, value in BAD_TOKENS.items():
                with self._case_of(failures, route=path, key=key, token=label):
                    self.assertEqual(self._json_answer(path, {**params, key: unquote(value)}), expected)
        self.assertFalse(failures, "\n".join(failures))
        self._unchanged("malformed tokens")
        self.assertEqual(
            answers,
            {
                "signed pixel": 200,
                "signed click": 302,
                "signed click code": 404,
                "page": 404,
                "page form": 404,
                "mail pixel": 401,
                "short link": 404,
                "short link alone": 404,
                "SMS short link": 404,
                "unsubscribe token": 401,
                "unsubscribe contact": 401,
                "unsubscribe email": 401,
                "one-click": 401,
                "view": 401,
                "view contact": 401,
                "confirm": 401,
                "SMS opt-out page": 303,
                "SMS opt-out": 303,
                "confirm form": 401,
                "confirm form token": 401,
            },
        )

    def _json_answer(self, path, params):
        response = self.url_open(
            path,
            data=json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params}),
            headers={"Content-Type": "application/json"},
        )
        answer = response.json()
        return response.status_code, answer.get("result"), (answer.get("error") or {}).get("data", {}).get("name")

    @contextmanager
    def _case_of(self, failures, **params):
        """A subTest whose failure is noted and the loop goes on (every failure listed at once)."""
        with self.subTest(**params):
            try:
                yield
            except AssertionError as error:
                failures.append(f"{params}: {error}")

    def test_json_rpc_refused(self):
        """Through JSON-RPC, a portal user and a campaign user of another company reach nothing."""
        campaign = self.ours["email"].campaign_id
        trace = self.ours["email"][0].mailing_trace_id
        calls = [  # (model, method, arguments, what the other company's campaign user gets)
            ("campaign.campaign", "search_read", [[("id", "=", campaign.id)], ["name"]], []),
            ("campaign.campaign", "read", [campaign.ids, ["name"]], None),
            ("campaign.campaign", "action_stop", [campaign.ids], None),
            ("campaign.touchpoint", "search_count", [[("campaign_id", "=", campaign.id)]], 0),
            ("mailing.mailing", "read", [trace.mass_mailing_id.ids, ["subject"]], None),
            ("mailing.trace", "set_clicked", [trace.ids], None),
            ("res.partner", "read", [self.partners[0].ids, ["campaign_landing_url"]], "no page"),
        ]
        for login in ("route_portal", "route_user_c"):
            self.authenticate(login, login)
            for model, method, args, for_user_c in calls:
                with self.subTest(user=login, model=model, method=method):
                    params = {"model": model, "method": method, "args": args, "kwargs": {}}
                    result = self.url_open(
                        f"/web/dataset/call_kw/{model}/{method}",
                        json={"jsonrpc": "2.0", "method": "call", "params": params},
                    ).json()
                    if login == "route_portal" or for_user_c is None:
                        self.assertEqual(result["error"]["data"]["name"], "odoo.exceptions.AccessError")
                    elif for_user_c == "no page":
                        self.assertEqual(result["result"][0]["campaign_landing_url"], False)
                    else:
                        self.assertEqual(result["result"], for_user_c)
                    self._unchanged(f"{login} {model}.{method}")
        # the printed reports of the campaigns and of their touchpoints are refused alike
        for report, record in (
            ("report_campaign_roi", campaign),
            ("report_campaign_analysis", campaign),
            ("report_campaign_letter", self.ours["email"][0]),
        ):
            with self.subTest(report=report):
                response = self.url_open(f"/report/html/campaign_manager.{report}/{record.id}")
                self.assertNotEqual(response.status_code, 200)
                self.assertNotIn(campaign.name, response.text)
                self.assertNotIn(self.partners[0].name, response.text)
