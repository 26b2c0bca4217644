import base64

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.mail import validate_url

QR_CODE_SIZE = 300


class CampaignWeblink(models.Model):
    """A tracked link placed outside (seed 003's "Web link" channel and URL builder): on a partner's
    blog, in an ad, as a QR code on a flyer. Its short URL is a ``link.tracker`` carrying the
    campaign's UTM campaign, the link's source and medium, so that clicks, and the leads and orders
    of the visitors it brings, are attributed to it."""

    _name = "campaign.weblink"
    _description = "Campaign Web Link"
    _inherit = ["campaign.access.mixin", "campaign.archive.mixin"]
    _order = "action_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(
        string="Placement",
        required=True,
        help="Where the link is placed, e.g. Paul's blog, Spring flyer QR code, LinkedIn ad.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    action_id = fields.Many2one(
        "campaign.action",
        required=True,
        ondelete="cascade",
        index=True,
        check_company=True,
        domain="[('channel', '=', 'weblink')]",
    )
    campaign_id = fields.Many2one(related="action_id.campaign_id", store=True, index=True)
    company_id = fields.Many2one(related="action_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    url = fields.Char(string="Target URL", required=True, help="Page the visitors land on.")
    source_id = fields.Many2one(
        "utm.source",
        string="UTM Source",
        ondelete="restrict",
        copy=False,
        help="Where the visitors come from. Left empty, a source named after the campaign and the "
        "placement is created.",
    )
    medium_id = fields.Many2one(
        "utm.medium",
        string="UTM Medium",
        compute="_compute_medium_id",
        store=True,
        readonly=False,
        precompute=True,
        ondelete="restrict",
        help="Kind of placement (Web Link by default; Banner, Facebook...).",
    )
    link_tracker_id = fields.Many2one(
        "link.tracker", readonly=True, copy=False, ondelete="set null", index="btree_not_null"
    )
    short_url = fields.Char(
        related="link_tracker_id.short_url", string="Short URL", help="The link to place: it counts the clicks."
    )
    tracked_url = fields.Char(
        related="link_tracker_id.redirected_url",
        string="URL with UTM Parameters",
        help="The target URL with the campaign, source and medium as UTM parameters, for places "
        "where a short link cannot be used.",
    )
    click_count = fields.Integer(related="link_tracker_id.count", string="Clicks")
    lead_count = fields.Integer(
        string="Leads", compute="_compute_results", help="Leads and opportunities of the visitors brought by the link."
    )
    order_count = fields.Integer(
        string="Orders", compute="_compute_results", help="Confirmed sales orders of the visitors brought by the link."
    )
    revenue = fields.Monetary(
        compute="_compute_results",
        currency_field="currency_id",
        help="Untaxed amount of the confirmed sales orders brought by the link, in the company's currency.",
    )
    qr_code = fields.Binary(
        string="QR Code",
        compute="_compute_qr_code",
        help="QR code of the short URL, to print on flyers and posters.",
    )

    _action_name_uniq = models.Constraint(
        "UNIQUE(action_id, name)", "Two links of the same action cannot have the same placement."
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    @api.depends("action_id")
    def _compute_medium_id(self):
        for link in self:
            if not link.medium_id and link.action_id:
                link.medium_id = link.action_id.medium_id

    @api.depends("link_tracker_id", "source_id", "medium_id", "campaign_id")
    def _compute_results(self):
        utm_keys = {
            (link.campaign_id.utm_campaign_id.id, link.source_id.id, link.medium_id.id): link
            for link in self
            if link.campaign_id.utm_campaign_id and link.source_id
        }
        lead_counts, orders = {}, {}
        if utm_keys:
            campaign_ids = list({key[0] for key in utm_keys})
            source_ids = list({key[1] for key in utm_keys})
            # Figures only (counts and sums): campaign users need not be salesmen to see what their
            # links brought, so leads and orders are read as superuser, restricted to the company.
            leads = self.env["crm.lead"].sudo().with_context(active_test=False)
            for campaign, source, medium, count in leads._read_group(
                [
                    ("campaign_id", "in", campaign_ids),
                    ("source_id", "in", source_ids),
                    ("company_id", "in", [*self.company_id.ids, False]),
                ],
                ["campaign_id", "source_id", "medium_id"],
                ["__count"],
            ):
                lead_counts[campaign.id, source.id, medium.id] = count
            for campaign, source, medium, currency, count, amount in (
                self.env["sale.order"]
                .sudo()
                ._read_group(
                    [
                        ("campaign_id", "in", campaign_ids),
                        ("source_id", "in", source_ids),
                        ("state", "=", "sale"),
                        ("company_id", "in", self.company_id.ids),
                    ],
                    ["campaign_id", "source_id", "medium_id", "currency_id"],
                    ["__count", "amount_untaxed:sum"],
                )
            ):
                orders.setdefault((campaign.id, source.id, medium.id), []).append((currency, count, amount))
        today = fields.Date.context_today(self)
        for link in self:
            key = (link.campaign_id.utm_campaign_id.id, link.source_id.id, link.medium_id.id)
            link.lead_count = lead_counts.get(key, 0) if key in utm_keys else 0
            link_orders = orders.get(key, []) if key in utm_keys else []
            link.order_count = sum(count for _currency, count, _amount in link_orders)
            link.revenue = sum(
                currency._convert(amount, link.currency_id, link.company_id, today)
                for currency, _count, amount in link_orders
            )

    @api.depends("link_tracker_id")
    def _compute_qr_code(self):
        report = self.env["ir.actions.report"]
        for link in self:
            if link.short_url:
                png = report.barcode("QR", link.short_url, width=QR_CODE_SIZE, height=QR_CODE_SIZE)
                link.qr_code = base64.b64encode(png)
            else:
                link.qr_code = False

    # ------------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------------
    @api.constrains("action_id")
    def _check_action_channel(self):
        for link in self:
            if link.action_id.channel != "weblink":
                raise ValidationError(
                    self.env._(
                        "The action “%(action)s” is not a web link action: tracked links belong to web link actions.",
                        action=link.action_id.name,
                    )
                )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "url" in vals:  # an empty address too: the link would lead nowhere
                vals["url"] = self._check_url(vals["url"])
        links = super().create(vals_list)
        links._sync_link_trackers()
        return links

    def write(self, vals):
        if "url" in vals:
            vals["url"] = self._check_url(vals["url"])
        res = super().write(vals)
        if {"url", "source_id", "medium_id", "name", "action_id"} & set(vals):
            self._sync_link_trackers()
        return res

    def copy(self, default=None):
        """A link copied within its action gets "(copy)" after its placement, which must be unique
        there; links copied with their action (``action_id`` given) keep theirs."""
        default = dict(default or {})
        if "name" in default or "action_id" in default:
            return super().copy(default)
        copies = self.browse()
        for link in self:
            copies |= super(CampaignWeblink, link).copy(
                {**default, "name": self.env._("%(name)s (copy)", name=link.name)}
            )
        return copies

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_view_clicks(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Clicks on %(link)s", link=self.name),
            "res_model": "link.tracker.click",
            "view_mode": "list,graph",
            "domain": [("link_id", "=", self.link_tracker_id.id)],
            "context": {"create": False},
        }

    def action_view_leads(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Leads from %(link)s", link=self.name),
            "res_model": "crm.lead",
            "view_mode": "list,form",
            "domain": self._utm_domain(),
            "context": {"active_test": False, "create": False},
        }

    def action_view_orders(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Orders from %(link)s", link=self.name),
            "res_model": "sale.order",
            "view_mode": "list,form",
            "domain": [*self._utm_domain(), ("state", "=", "sale")],
            "context": {"create": False},
        }

    def action_download_qr_code(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/qr_code?download=true&filename=qr-{self.id}.png",
            "target": "self",
        }

    # ------------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------------
    @api.model
    def _check_url(self, url):
        """Return the URL with a scheme (https assumed), or raise a clear error."""
        url = (url or "").strip()
        if not url or url.startswith(("?", "#")) or " " in url:
            raise UserError(self.env._("“%(url)s” is not a valid web address.", url=url))
        return validate_url(url)

    def _utm_domain(self):
        self.ensure_one()
        return [
            ("campaign_id", "=", self.campaign_id.utm_campaign_id.id),
            ("source_id", "=", self.source_id.id),
            ("medium_id", "=", self.medium_id.id),
        ]

    def _sync_link_trackers(self):
        """Give each link its UTM source and its link tracker, or bring the tracker in line."""
        # utm sources are technical records campaign users may lack the rights to create
        missing_sources = self.filtered(lambda link: not link.source_id)
        if missing_sources:
            sources = (
                self.env["utm.source"]
                .sudo()
                .create([{"name": f"{link.campaign_id.name} - {link.name}"} for link in missing_sources])
            )
            for link, source in zip(missing_sources, sources, strict=True):
                link.source_id = source
        to_create = self.filtered(lambda link: not link.link_tracker_id)
        if to_create:
            # title given so that link_tracker does not fetch the page over the network
            trackers = self.env["link.tracker"].create([link._link_tracker_values() for link in to_create])
            for link, tracker in zip(to_create, trackers, strict=True):
                link._campaign_link({"link_tracker_id": tracker.id})
        for link in self - to_create:
            values = link._link_tracker_values()
            tracker = link.link_tracker_id
            changed = {
                key: value
                for key, value in values.items()
                if (tracker[key].id if key.endswith("_id") else tracker[key]) != value
            }
            if changed:
                tracker.write(changed)

    def _link_tracker_values(self):
        self.ensure_one()
        return {
            "url": self.url,
            "title": self.name,
            "label": self.name,
            "campaign_id": self.campaign_id.utm_campaign_id.id,
            "source_id": self.source_id.id,
            "medium_id": self.medium_id.id,
        }
