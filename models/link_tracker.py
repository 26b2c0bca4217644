from odoo import api, models, tools

# Fields that change where a link redirects to.
REDIRECT_FIELDS = {"url", "campaign_id", "medium_id", "source_id"}


class LinkTracker(models.Model):
    _inherit = "link.tracker"

    @api.model
    @tools.ormcache("code")
    def _campaign_redirect_url(self, code):
        """Address the short link ``code`` redirects to, cached per worker: the click route of
        campaign emails answers it without reading the link at every click."""
        # a public route asks: only the address of the link is read
        link = self.env["link.tracker.code"].sudo().search([("code", "=", code)], limit=1).link_id
        return link.redirected_url if link else None

    def write(self, vals):
        res = super().write(vals)
        if REDIRECT_FIELDS & set(vals):
            self.env.registry.clear_cache()
        return res
