from odoo import api, models
from odoo.tools import SQL


class CrmLead(models.Model):
    """A lead or opportunity reaching a stage enrols its contact in the journeys listening to that
    stage; won, it takes them out of the journeys whose goal is a won opportunity."""

    _inherit = "crm.lead"

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        leads._campaign_journeys()
        return leads

    def write(self, vals):
        result = super().write(vals)
        if "stage_id" in vals:
            self._campaign_journeys()
        return result

    def _campaign_journeys(self):
        leads = self.filtered("partner_id")
        if not leads:
            return
        won = leads.filtered(lambda lead: lead.stage_id.is_won)
        if won:
            self.env["campaign.enrolment"]._reach_goals("won", won.partner_id.ids)
        self.env.flush_all()
        self.env["campaign.trigger"]._enrol_matching(
            "lead_stage",
            SQL(
                """SELECT t.id, l.partner_id, l.name
                     FROM crm_lead l
                     JOIN campaign_trigger t ON t.trigger_type = 'lead_stage' AND t.lead_stage_id = l.stage_id
                    WHERE l.id IN %s""",
                tuple(leads.ids),
            ),
        )
