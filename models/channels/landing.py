"""The landing page channel (PURL): one personal page per contact, at the address of their
touchpoint, with an optional reply form that creates a lead; the link reaches the contact by an
email or a letter of the campaign."""

import re
import secrets

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, consteq, hmac, is_html_empty, plaintext2html

from ...const import CARRIED_STATES

# What the personal pages of a landing action show (their cached copies are made again when it changes).
LANDING_PAGE_FIELDS = {"landing_title", "landing_body", "landing_form", "landing_thanks"}

# Landing page addresses: /c/<key><signature>. The key (random, stored on the touchpoint) finds the
# touchpoint; the signature (HMAC of the key with the database secret) lets forged or altered
# addresses be refused in constant time before any lookup.
LANDING_HMAC_SCOPE = "campaign-purl"
# The reply form of a page carries a token signed for that page: a form from another page is refused.
LANDING_FORM_SCOPE = "campaign-purl-form"
LANDING_KEY_BYTES = 24  # 32 URL-safe characters
LANDING_KEY_LENGTH = 32
LANDING_SIGNATURE_LENGTH = 32  # hex characters (128 bits)
LANDING_TOKEN_RE = re.compile(rf"[A-Za-z0-9_-]{{{LANDING_KEY_LENGTH}}}[0-9a-f]{{{LANDING_SIGNATURE_LENGTH}}}")


class CampaignAction(models.Model):
    _inherit = "campaign.action"

    channel = fields.Selection(selection_add=[("landing", "Landing page")], ondelete={"landing": "cascade"})
    # Landing page (PURL): one personal page per contact, at the address of their touchpoint.
    landing_delivery = fields.Selection(
        selection=[("email", "By email"), ("letter", "By letter")],
        string="Link Sent",
        default="email",
        help="How contacts receive the link to their page (an email or a letter of the campaign that "
        "follows this action). Pages are made only for the contacts that channel can reach: with an "
        "email address (not blacklisted), or with a full postal address.",
    )
    landing_title = fields.Char(
        string="Page Title",
        help="Title of the page. Placeholders such as {{ object.name }} are replaced with the contact's values.",
    )
    landing_body = fields.Html(
        string="Page Content",
        sanitize="email_outgoing",
        help="Content of the page, personalised for each contact like an email template "
        '(e.g. <t t-out="object.name"/>).',
    )
    landing_form = fields.Boolean(
        string="Reply Form",
        help="Show a form (name, email, phone, message) on the page: each reply creates a lead "
        "carrying the campaign's UTM values.",
    )
    landing_thanks = fields.Html(
        string="Thank-you Text",
        help="Shown once the form is sent. Leave empty for a short default message.",
    )
    landing_version = fields.Integer(
        readonly=True,
        copy=False,
        help="Raised each time the page's content changes: the personal pages kept by the web "
        "workers are made again (see controllers/landing.py).",
    )

    def _check_landing_placeholders(self):
        """The page is rendered for anonymous visitors like a mail template is rendered: only the
        users allowed to write code in templates may save more than simple placeholders. Called on
        create and write (constraints run as superuser: they cannot tell who writes)."""
        if self.env.su or self.env.user.has_group("mail.group_mail_template_editor"):
            return
        renderer = self.env["mail.render.mixin"]
        for action in self:
            if renderer._has_unsafe_expression_template_qweb(
                action.landing_body, "res.partner"
            ) or renderer._has_unsafe_expression_template_inline_template(action.landing_title, "res.partner"):
                raise AccessError(
                    self.env._(
                        "The page of “%(name)s” contains code: only template editors may use more than "
                        "simple placeholders such as the contact's name.",
                        name=action.name,
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        actions = super().create(vals_list)
        actions.filtered(lambda a: a.landing_title or a.landing_body)._check_landing_placeholders()
        return actions

    def write(self, vals):
        res = super().write(vals)
        if {"landing_title", "landing_body"} & set(vals):
            self._check_landing_placeholders()
        if LANDING_PAGE_FIELDS & set(vals):
            # the new content is in the database before its version is
            self.flush_recordset(list(LANDING_PAGE_FIELDS & set(vals)))
            self.env.cr.execute(
                SQL(
                    "UPDATE campaign_action SET landing_version = COALESCE(landing_version, 0) + 1 WHERE id IN %s",
                    tuple(self.ids),
                )
            )
            self.invalidate_recordset(["landing_version"])
        return res

    def _journey_test_deliver(self, test):
        """The personal page of the test contact, emailed to the test address (no page is published
        for the test: it would count as a visit)."""
        if self.channel != "landing":
            return super()._journey_test_deliver(test)
        title, body = test._render_for_contact(self.landing_title, self.landing_body)
        return test._send_test_email(self, self.env._("Personal page: %(title)s", title=title or self.name), body)

    def _default_medium(self):
        if self.channel != "landing":
            return super()._default_medium()
        return self.env.ref("utm.utm_medium_website", raise_if_not_found=False)

    def _channel_can_run(self):
        return self.channel == "landing" or super()._channel_can_run()

    def _channel_missing(self):
        if self.channel != "landing":
            return super()._channel_missing()
        missing = []
        if not self.landing_title:
            missing.append(self.env._("a title for the page"))
        if is_html_empty(self.landing_body):
            missing.append(self.env._("a content for the page"))
        missing += self._missing_placeholders(self.landing_body, self.env._("the page"))
        return missing

    def _channel_dispatch(self, run, touchpoints):
        if self.channel != "landing":
            return super()._channel_dispatch(run, touchpoints)
        touchpoints._landing_publish()

    @api.model
    def _channel_audience_rules(self, channel, action=None):
        if channel != "landing":
            return super()._channel_audience_rules(channel, action=action)
        # a landing page sends nothing itself: its contacts are those the channel delivering
        # their link (an email or a letter) can reach
        delivery = (action.landing_delivery if action else False) or "email"
        return self._channel_audience_rules(delivery, action=action)


class CampaignTouchpoint(models.Model):
    _inherit = "campaign.touchpoint"

    # Landing page (PURL)
    landing_token = fields.Char(
        string="Page Key",
        readonly=True,
        copy=False,
        groups="campaign_manager.group_campaign_user",
        help="Random key of the address of the contact's personal page.",
    )
    landing_url = fields.Char(
        string="Page Address",
        compute="_compute_landing_url",
        groups="campaign_manager.group_campaign_user",
        help="Address of the contact's personal page: whoever has it sees the page, so send it to the contact only.",
    )
    lead_id = fields.Many2one(
        "crm.lead",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="Lead created by the form of the landing page.",
    )

    _landing_token_uniq = models.UniqueIndex("(landing_token) WHERE landing_token IS NOT NULL")

    @api.depends("landing_token")
    def _compute_landing_url(self):
        for touchpoint in self:
            key = touchpoint.landing_token
            touchpoint.landing_url = (
                f"{touchpoint.get_base_url()}/c/{self._landing_address_token(key)}" if key else False
            )

    @api.model
    def _landing_signature(self, key):
        # the database secret is read with superuser rights: only the signature leaves this method
        return hmac(self.env(su=True), LANDING_HMAC_SCOPE, key)[:LANDING_SIGNATURE_LENGTH]

    @api.model
    def _landing_address_token(self, key):
        """The token of a page address: the touchpoint's key followed by its signature."""
        return f"{key}{self._landing_signature(key)}"

    def _landing_publish(self):
        """Put the pages of the touchpoints online: each gets its random key (kept when it already
        has one) and becomes 'sent'. One statement for the whole batch; nothing leaves the database,
        so an interrupted batch is simply done again."""
        if not self:
            return
        self.env.flush_all()
        rows = SQL(", ").join(SQL("(%s, %s)", tp_id, secrets.token_urlsafe(LANDING_KEY_BYTES)) for tp_id in self.ids)
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint t
                      SET landing_token = COALESCE(t.landing_token, v.key), state = 'sent', date_done = %(now)s
                     FROM (VALUES %(rows)s) AS v(id, key)
                    WHERE t.id = v.id AND t.state = 'planned'""",
                rows=rows,
                now=fields.Datetime.now(),
            )
        )
        self.invalidate_recordset(["landing_token", "landing_url", "state", "date_done"])

    @api.model
    def _landing_find(self, token):
        """The touchpoint whose page address carries ``token``, or an empty recordset when the
        token is malformed, altered, forged or unknown (the caller answers all of them alike)."""
        return self._landing_find_page(token)[0]

    @api.model
    def _landing_find_page(self, token):
        """(touchpoint, version of its page) for ``token`` (see ``_landing_find``), in one query.
        The version changes whenever what the page shows may change: the action's content, the
        contact, the company, the reply received."""
        if not isinstance(token, str) or not LANDING_TOKEN_RE.fullmatch(token):
            return self.browse(), None
        key, signature = token[:LANDING_KEY_LENGTH], token[LANDING_KEY_LENGTH:]
        if not consteq(signature, self._landing_signature(key)):
            return self.browse(), None
        self.env.cr.execute(
            SQL(
                """SELECT tp.id, tp.landing_token, tp.lead_id, a.landing_version, p.write_date, p.lang, co.write_date
                     FROM campaign_touchpoint tp
                     JOIN campaign_action a ON a.id = tp.action_id
                     JOIN res_partner p ON p.id = tp.partner_id
                     JOIN res_company co ON co.id = a.company_id
                    WHERE tp.landing_token = %s AND tp.channel = 'landing' AND tp.state IN %s""",
                key,
                CARRIED_STATES,
            )
        )
        row = self.env.cr.fetchone()
        if not row or not consteq(row[1], key):
            return self.browse(), None
        return self.browse(row[0]), (self.env.cr.dbname, row[0], *row[2:])

    def _landing_form_token(self):
        """Token of the page's reply form: the form's answer is accepted only with it. Bound to the
        page's key (the visitor's only credential), not to a session: pages need no session, so
        they can be cached and served without writing one per visitor."""
        self.ensure_one()
        # the database secret is read with superuser rights: only the token leaves this method
        return hmac(self.env(su=True), LANDING_FORM_SCOPE, self.sudo().landing_token)[:LANDING_SIGNATURE_LENGTH]

    def _landing_record_visit(self):
        """Count a visit of the page: first and last visit dates, one more visit. One UPDATE that
        adds to the stored count: of two concurrent visits, the second fails to serialize and Odoo
        retries its request (not logged as an error), so every visit is counted."""
        self.ensure_one()
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint
                      SET visit_count = visit_count + 1, date_visited = COALESCE(date_visited, %(now)s),
                          date_last_visited = %(now)s
                    WHERE id = %(id)s""",
                now=now,
                id=self.id,
            ),
            log_exceptions=False,
        )
        self.invalidate_recordset(["visit_count", "date_visited", "date_last_visited"])

    def _landing_render(self):
        """(title, content) of the touchpoint's page, personalised for its contact the way mail
        templates are (``object`` is the contact), in the contact's language."""
        self.ensure_one()
        action = self.action_id
        partner = self.partner_id
        actions = self.env["campaign.action"].with_context(lang=partner.lang or self.env.context.get("lang"))
        return actions._render_for_contacts(partner, action.landing_title, action.landing_body)[partner.id]

    def _landing_convert(self, values):
        """Create the lead of a reply to the page's form and mark the touchpoint converted. At most
        one lead per touchpoint: a reply sent again (reload, double click) returns the first lead.

        :param dict values: the checked form values (name, email, phone, message)
        :return: the lead
        """
        self.ensure_one()
        # the row lock makes a concurrent second reply wait, then see the first one's lead
        self.env.cr.execute(SQL("SELECT lead_id FROM campaign_touchpoint WHERE id = %s FOR UPDATE", self.id))
        lead_id = self.env.cr.fetchone()[0]
        if lead_id:
            return self.env["crm.lead"].browse(lead_id)
        lead = self.env["crm.lead"].create(self._landing_lead_values(values))
        self.write({"lead_id": lead.id, "state": "converted", "date_converted": fields.Datetime.now()})
        return lead

    def _landing_lead_values(self, values):
        """Values of the lead of a form reply: the contact, the campaign's UTM campaign, the action's
        source and medium. What the visitor typed goes into the notes only: an anonymous form never
        changes the contact's email or phone (a lead's email and phone are written to its contact)."""
        self.ensure_one()
        action = self.action_id
        campaign = self.campaign_id
        team = campaign.team_id
        lead_model = self.env["crm.lead"]
        if team:
            lead_type = "lead" if team.use_leads else "opportunity"
        else:  # leads are enabled for the company when its users have the group
            lead_type = "lead" if campaign.user_id.has_group("crm.group_use_lead") else "opportunity"
        salesperson = team.user_id if team and not lead_model._is_rule_based_assignment_activated() else False
        this = self.with_context(lang=action.user_id.lang or self.env.context.get("lang"))
        return {
            "name": this.env._("%(page)s: %(contact)s", page=action.name, contact=self.partner_id.name),
            "type": lead_type,
            "partner_id": self.partner_id.id,
            "team_id": team.id,
            "user_id": salesperson.id if salesperson else False,
            "company_id": campaign.company_id.id,
            "campaign_id": campaign.utm_campaign_id.id,
            "source_id": action.source_id.id,
            "medium_id": action.medium_id.id,
            "description": this._landing_lead_description(values),
        }

    def _landing_lead_description(self, values):
        line = Markup("<li>%s: %s</li>")
        lines = Markup("")
        if values.get("name"):
            lines += line % (self.env._("Name"), values["name"])
        if values.get("email"):
            lines += line % (self.env._("Email"), values["email"])
        if values.get("phone"):
            lines += line % (self.env._("Phone"), values["phone"])
        intro = self.env._("Reply to the personal page of the campaign %(campaign)s:", campaign=self.campaign_id.name)
        message = plaintext2html(values["message"]) if values.get("message") else Markup("")
        return Markup("<p>%s</p><ul>%s</ul>%s") % (intro, lines, message)
