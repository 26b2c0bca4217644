from odoo import api, fields, models


class CampaignAudienceBreakdownMixin(models.AbstractModel):
    """The *Calculate* figures of an audience, as the screens that count one show them (the Calculate
    and the order wizards): found in the targets, duplicates removed, each exclusion reason, reachable
    now. Filled from the figures of ``campaign.target._audience_stats`` by
    ``_audience_breakdown_values``."""

    _name = "campaign.audience.breakdown.mixin"
    _description = "Audience Breakdown"

    total = fields.Integer(
        string="Found in Targets",
        readonly=True,
        help="Contacts found by each target, added up: a contact found by two targets counts twice.",
    )
    duplicates = fields.Integer(
        string="Duplicates Removed", readonly=True, help="Contacts found in several targets, kept once."
    )
    contacts = fields.Integer(string="Distinct Contacts", readonly=True)
    excluded_archived = fields.Integer(string="Archived", readonly=True)
    excluded_no_address = fields.Integer(string="No Usable Address", readonly=True)
    excluded_blacklisted = fields.Integer(string="Blacklisted", readonly=True)
    excluded_opted_out = fields.Integer(string="Opted Out", readonly=True)
    excluded_already_reached = fields.Integer(string="Already Reached", readonly=True)
    excluded_duplicate = fields.Integer(
        string="Same Address",
        readonly=True,
        help="Different contacts sharing one email address or phone number: one is kept.",
    )
    excluded_held_out = fields.Integer(
        string="Held Out",
        readonly=True,
        help="Contacts held out as the control group of the campaign or the action: never contacted.",
    )
    excluded_pressure = fields.Integer(
        string="Marketing Pressure",
        readonly=True,
        help="Contacts left out of this run because they have received as many messages as the "
        "company's marketing pressure caps allow.",
    )
    held_pressure = fields.Integer(
        string="Held by the Pressure Caps",
        readonly=True,
        help="Contacts reachable, but over a marketing pressure cap of the company right now: held and "
        "sent as soon as the caps allow it. Counted in Reachable Now.",
    )
    final = fields.Integer(
        string="Reachable Now",
        readonly=True,
        help="Distinct contacts the campaign can reach right now on this channel: found in the targets, "
        "counted once, the excluded ones left out. The campaign's Reachable Now is this figure.",
    )
    excluded_total = fields.Integer(
        string="Excluded", readonly=True, help="Distinct contacts left out, whatever the reason (detailed below)."
    )

    @api.model
    def _audience_breakdown_values(self, stats):
        """The values of the breakdown fields for the figures ``stats`` (see
        ``campaign.target._audience_stats``)."""
        excluded = stats["excluded"]
        return {
            "total": stats["total"],
            "duplicates": stats["duplicates"],
            "contacts": stats["contacts"],
            "excluded_archived": excluded.get("archived", 0),
            "excluded_no_address": excluded.get("no_address", 0),
            "excluded_blacklisted": excluded.get("blacklisted", 0),
            "excluded_opted_out": excluded.get("opted_out", 0),
            "excluded_already_reached": excluded.get("already_reached", 0),
            "excluded_duplicate": excluded.get("duplicate", 0),
            "excluded_held_out": excluded.get("held_out", 0),
            "excluded_pressure": excluded.get("pressure", 0),
            "held_pressure": stats.get("held", 0),
            "excluded_total": sum(excluded.values()),
            "final": stats["final"],
        }
