from odoo import api, models

# Bus notification telling the open campaign and action forms that their runs changed.
SCREEN_REFRESH_NOTIFICATION = "campaign_manager/runs_changed"


class CampaignActionRun(models.Model):
    """Open screens follow the job: the campaign and action forms a user is looking at reload
    themselves when the job starts or finishes a run (their smart buttons showed 0 touchpoints and
    0 runs after *Launch* until the page was reloaded, the runs being started by the job a moment
    later)."""

    _inherit = "campaign.action.run"

    @api.model_create_multi
    def create(self, vals_list):
        runs = super().create(vals_list)
        runs._notify_open_screens()
        return runs

    def write(self, vals):
        result = super().write(vals)
        if "state" in vals:
            self._notify_open_screens()
        return result

    def _notify_open_screens(self):
        """Sent to the campaign users' group channel (every campaign user's web client listens to
        its groups' channels); the forms showing one of these campaigns or actions reload, the
        others ignore it. The payload holds ids only, nothing a user could not already read. Sent
        when the transaction commits, so that the screens read what the job wrote."""
        if not self:
            return
        self.env["bus.bus"]._sendone(
            self.env.ref("campaign_manager.group_campaign_user"),
            SCREEN_REFRESH_NOTIFICATION,
            {"campaign_ids": self.campaign_id.ids, "action_ids": self.action_id.ids},
        )
