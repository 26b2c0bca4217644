from odoo import api, models


class LinkTrackerClick(models.Model):
    _inherit = "link.tracker.click"

    @api.model
    def _prepare_click_values_from_route(self, **route_values):
        """The click address of an email (``/r/<code>/m/<trace>``) carries the trace's id, unsigned:
        a click reaches the trace (and the campaign touchpoint it carries) only when the trace is one
        of the link's own mailing. Otherwise it counts as a click on the link alone, as for a trace
        that does not exist, so that nobody moves another campaign's contacts by changing the id."""
        values = super()._prepare_click_values_from_route(**route_values)
        trace_id = values.get("mailing_trace_id")
        if trace_id:
            # public route: the trace and the link are read as superuser to compare their mailings
            trace = self.env["mailing.trace"].sudo().browse(trace_id)
            link = self.env["link.tracker"].sudo().browse(values.get("link_id"))
            campaign_mailings = (trace.mass_mailing_id | link.mass_mailing_id).filtered("campaign_action_id")
            if campaign_mailings and trace.mass_mailing_id != link.mass_mailing_id:
                # what Email Marketing took from the trace goes with it
                values.pop("mass_mailing_id", None)
                values.pop("campaign_id", None)
                values["mailing_trace_id"] = False
        return values
