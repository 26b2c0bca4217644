"""The campaign jobs run the engine (campaign.engine), no longer a method of campaign.action: their
records are not updated from the data file (noupdate), so an existing database is pointed at the
engine here. New databases get them from data/ir_cron_data.xml."""

from odoo import SUPERUSER_ID, api

CRONS = ("campaign_manager.ir_cron_campaign_process", "campaign_manager.ir_cron_campaign_process_2")


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    engine = env["ir.model"]._get_id("campaign.engine")
    for xmlid in CRONS:
        cron = env.ref(xmlid, raise_if_not_found=False)
        if cron:
            cron.write({"model_id": engine, "code": "model._cron_process()"})
