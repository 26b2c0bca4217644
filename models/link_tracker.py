from odoo import api, models, tools
from odoo.tools import SQL

# Fields that change where a link redirects to.
REDIRECT_FIELDS = {"url", "campaign_id", "medium_id", "source_id"}


class LinkTracker(models.Model):
    _name = "link.tracker"
    _inherit = ["link.tracker", "campaign.access.mixin"]
    # the UTM values and mailing of a link: never those of a campaign out of the user's reach
    _campaign_checked_fields = frozenset({"campaign_id", "source_id", "mass_mailing_id"})

    @api.model
    @tools.ormcache("code")
    def _campaign_redirect_url(self, code):
        """Address the short link ``code`` redirects to, cached per worker: the click route of
        campaign emails answers it without reading the link at every click."""
        # a public route asks: only the address of the link is read
        link = self.env["link.tracker.code"].sudo().search([("code", "=", code)], limit=1).link_id
        return link.redirected_url if link else None

    @api.model
    def _campaign_refresh_click_counts(self):
        """The signed click route of campaign emails records clicks in SQL (to stay fast and not to
        make every click of a mailing wait on its link's row): the stored click count of their links
        is brought up to date here, by the campaign job, in one statement."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE link_tracker l SET count = c.clicks
                     FROM (SELECT k.link_id, COUNT(*) AS clicks
                             FROM link_tracker_click k
                             JOIN link_tracker t ON t.id = k.link_id
                             JOIN mailing_mailing m ON m.id = t.mass_mailing_id
                            WHERE m.campaign_action_id IS NOT NULL
                         GROUP BY k.link_id) AS c
                    WHERE l.id = c.link_id AND l.count IS DISTINCT FROM c.clicks"""
            )
        )
        self.invalidate_model(["count"])

    def write(self, vals):
        res = super().write(vals)
        if REDIRECT_FIELDS & set(vals):
            self.env.registry.clear_cache()
        return res
