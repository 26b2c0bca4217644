"""Touchpoints: the company and the currency are read through the action (their columns, foreign
keys and index go), and the indexes that composite ones already cover go too: PostgreSQL checked and
maintained each of them for every touchpoint a run inserts. New databases never have them."""

from odoo.tools import SQL

REDUNDANT_INDEXES = (
    "campaign_touchpoint__action_id_index",  # leading column of the (action, run number, contact) constraint
    "campaign_touchpoint__campaign_id_index",  # leading column of campaign_touchpoint_campaign_state_idx
    "campaign_touchpoint__run_id_index",  # leading column of campaign_touchpoint_run_state_idx
)


def migrate(cr, version):
    cr.execute("ALTER TABLE campaign_touchpoint DROP COLUMN IF EXISTS company_id, DROP COLUMN IF EXISTS currency_id")
    for name in REDUNDANT_INDEXES:
        cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))
