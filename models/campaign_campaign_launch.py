from datetime import timedelta

from odoo import models
from odoo.exceptions import UserError
from odoo.tools import SQL


class CampaignCampaign(models.Model):
    """Launching a campaign, stopping it (its queued emails and SMS withdrawn), resuming it, and
    duplicating it with its targets and actions."""

    _inherit = "campaign.campaign"

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        default = default or {}
        for campaign, vals in zip(self, vals_list, strict=True):
            if "name" not in default:
                vals["name"] = campaign._unique_copy_name()
        return vals_list

    def copy(self, default=None):
        """Duplicate the campaign with its settings, targets and actions, without touchpoints
        nor results. Dates are shifted by ``campaign_date_shift`` days (context) when given."""
        shift = self.env.context.get("campaign_date_shift")
        new_campaigns = self.env["campaign.campaign"]
        for campaign in self:
            values = dict(default or {})
            if shift is not None:
                delta = timedelta(days=shift)
                values.setdefault("date_start", campaign.date_start and campaign.date_start + delta)
                values.setdefault("date_end", campaign.date_end and campaign.date_end + delta)
            new_campaign = super(CampaignCampaign, campaign).copy(values)
            campaign.action_ids._copy_to_campaign(new_campaign, date_shift=shift)
            new_campaigns |= new_campaign
        return new_campaigns

    def _unique_copy_name(self):
        self.ensure_one()
        base = f"{self.name}Copy"
        taken = set(
            self.with_context(active_test=False)
            .sudo()  # names are unique per company, including the campaigns the user may not see
            .search([("name", "=like", f"{base}%"), ("company_id", "=", self.company_id.id)])
            .mapped("name")
        )
        name, index = base, 2
        while name in taken:
            name = f"{base}{index}"
            index += 1
        return name

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_launch(self):
        """Open the launch wizard (seed 003: immediately, at a date and time, or recurring)."""
        self.ensure_one()
        return self._action_open_wizard(
            "campaign.campaign.launch", self.env._("Launch %(campaign)s", campaign=self.name)
        )

    def action_stop(self):
        """Stop the campaign: once saved, nothing more goes out. Emails and SMS waiting in their
        queues are withdrawn; their contacts are reached when the campaign resumes."""
        self.write({"state": "stopped"})
        # the UPDATE of the campaign row waits for any email being sent right now (its delivery
        # worker holds a share lock on the row until it is sent and recorded); later emails see the stop
        self.env.flush_all()
        self._hold_queued_emails()
        self._hold_queued_sms()
        for campaign in self:
            campaign.message_post(body=self.env._("Campaign stopped: nothing more goes out until it resumes."))

    def action_resume(self):
        self.write({"state": "active"})
        self.env["campaign.engine"]._trigger()

    def action_order(self):
        """Resume the order of the campaign at the step reached (seed 000)."""
        self.ensure_one()
        if self.order_step == "done" or self.state not in ("draft", "ready"):
            raise UserError(
                self.env._("The order of the campaign %(name)s is complete: use its buttons instead.", name=self.name)
            )
        return self.env["campaign.campaign.order"]._open_for_campaign(self)

    def _action_show_instead(self, back=False):
        """Show the campaign's form in place of the screen that returns this (the order once launched),
        read again so that its figures and smart buttons are those of now.

        :param bool back: that screen was opened from the campaign's form: go back to it
        """
        self.ensure_one()
        return {
            "type": "ir.actions.client",
            "tag": "campaign_manager.show_record",
            "params": {
                "back": back,
                "action": {
                    "type": "ir.actions.act_window",
                    "res_model": self._name,
                    "res_id": self.id,
                    "view_mode": "form",
                    "views": [(False, "form")],
                    "target": "current",
                },
            },
        }

    def action_open_duplicate(self):
        self.ensure_one()
        return self._action_open_wizard("campaign.campaign.duplicate", self.env._("Duplicate Campaign"))

    # ------------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------------
    def _hold_queued_emails(self):
        """Withdraw the campaign's emails queued but not sent yet (see ``mail.mail._campaign_hold``).
        Emails a delivery worker is sending right now are locked by it and skipped here: the worker
        sees the stop once it is saved and withdraws them itself. Emails a worker sent but could not
        record yet (receipt) are not withdrawn: they left."""
        if not self:
            return
        self.env.cr.execute(
            SQL(
                """SELECT mm.id FROM mail_mail mm
                     JOIN mailing_mailing m ON m.id = mm.mailing_id
                     JOIN campaign_action_run r ON r.id = m.campaign_run_id
                    WHERE r.campaign_id IN %s AND mm.state = 'outgoing'
                      AND NOT EXISTS (SELECT 1 FROM campaign_delivery_receipt d WHERE d.mail_id = mm.id)
                      FOR NO KEY UPDATE OF mm SKIP LOCKED""",
                tuple(self.ids),
            )
        )
        mail_ids = [row[0] for row in self.env.cr.fetchall()]
        # mails are technical records of the mail queue
        self.env["mail.mail"].sudo().browse(mail_ids)._campaign_hold()

    def _hold_queued_sms(self):
        """Withdraw the campaign's SMS queued but not sent yet (see ``sms.sms._campaign_hold``).
        SMS being sent right now are locked by their sender and skipped here: the sender sees the
        stop once it is saved and withdraws them itself."""
        if not self:
            return
        self.env.cr.execute(
            SQL(
                """SELECT s.id FROM sms_sms s
                     JOIN mailing_mailing m ON m.id = s.mailing_id
                     JOIN campaign_action_run r ON r.id = m.campaign_run_id
                    WHERE r.campaign_id IN %s AND s.state = 'outgoing'
                      FOR UPDATE OF s SKIP LOCKED""",
                tuple(self.ids),
            )
        )
        sms_ids = [row[0] for row in self.env.cr.fetchall()]
        # SMS are technical records of the SMS queue
        self.env["sms.sms"].sudo().browse(sms_ids)._campaign_hold()

    def _missing_for_launch(self):
        """Everything the campaign and its actions still need before a launch (user's language)."""
        self.ensure_one()
        # launching starts the campaign today when it has no start date yet
        missing = self._missing_for_ready(require_start=False) if self.state == "draft" else []
        for action in self.action_ids.filtered(lambda a: a.state in ("draft", "scheduled")):
            missing += [
                self.env._("%(action)s: %(missing)s", action=action.name, missing=item)
                for item in action._missing_for_run()
            ]
        if self.reply_mode == "campaign" and not self.alias_email:
            missing.append(self.env._("an email alias for the replies (Tracking tab), with an alias domain"))
        return missing
