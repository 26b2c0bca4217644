from odoo import api, fields, models, tools
from odoo.tools import SQL

from ..const import ACTION_STATES
from ..models.campaign_calendar_item import CALENDAR_ITEM_STATES, SOCIAL_NETWORKS

ENTRY_STATES = list({**dict(ACTION_STATES), **dict(CALENDAR_ITEM_STATES)}.items())


class CampaignCalendarEntry(models.Model):
    """The campaign calendar (seed 004): the actions of the campaigns and the items planned beside
    them (social posts, SMS, reminders), on one calendar. Opening an entry opens the action or the
    item itself."""

    _name = "campaign.calendar.entry"
    _description = "Campaign Calendar Entry"
    _auto = False
    _order = "date_start, id"

    name = fields.Char(readonly=True)
    kind = fields.Selection(selection="_selection_kind", readonly=True)
    network = fields.Selection(selection=SOCIAL_NETWORKS, readonly=True)
    state = fields.Selection(selection=ENTRY_STATES, string="Status", readonly=True)
    date_start = fields.Datetime(string="Start", readonly=True)
    date_stop = fields.Datetime(string="End", readonly=True)
    campaign_id = fields.Many2one("campaign.campaign", readonly=True)
    user_id = fields.Many2one("res.users", string="Responsible", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    action_id = fields.Many2one("campaign.action", readonly=True)
    item_id = fields.Many2one("campaign.calendar.item", string="Calendar Item", readonly=True)

    @api.model
    def _selection_kind(self):
        """The channels of the actions, then the kinds of calendar items that are no channel."""
        channels = self.env["campaign.action"]._selection_channel()
        keys = {key for key, _label in channels}
        items = self.env["campaign.calendar.item"]._fields["kind"]._description_selection(self.env)
        return [*channels, *((key, label) for key, label in items if key not in keys)]

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        # ids: actions get even ones, items odd ones, so that both live in one calendar.
        self.env.cr.execute(
            SQL(
                """
            CREATE OR REPLACE VIEW %s AS (
                SELECT a.id * 2 AS id, a.name, a.channel AS kind, NULL AS network, a.state,
                       a.date_start, COALESCE(a.date_stop, a.date_start) AS date_stop,
                       a.campaign_id, a.user_id, a.company_id, a.id AS action_id, NULL::integer AS item_id
                  FROM campaign_action a
                  JOIN campaign_campaign c ON c.id = a.campaign_id
                 WHERE a.date_start IS NOT NULL AND c.active
                UNION ALL
                SELECT i.id * 2 + 1, i.name, i.kind, i.network, i.state,
                       i.date_start, COALESCE(i.date_stop, i.date_start),
                       i.campaign_id, i.user_id, i.company_id, NULL, i.id
                  FROM campaign_calendar_item i
                  LEFT JOIN campaign_campaign c ON c.id = i.campaign_id
                 WHERE c.id IS NULL OR c.active
            )""",
                SQL.identifier(self._table),
            )
        )

    def action_open(self):
        """The form of the action or item behind the entry."""
        self.ensure_one()
        record = self.action_id or self.item_id
        return {
            "type": "ir.actions.act_window",
            "res_model": record._name,
            "res_id": record.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }
