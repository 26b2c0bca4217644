from odoo import models
from odoo.tools import SQL


class SmsSms(models.Model):
    """Campaign SMS go out through Odoo's SMS queue, which sends nothing for a campaign that is not
    active: checked batch by batch under a share lock on the campaign rows, so that a saved stop
    is final. SMS of a stopped campaign are withdrawn (their contacts wait for the resume)."""

    _inherit = "sms.sms"

    def _send(self, unlink_failed=False, unlink_sent=True, raise_exception=False):
        held = self._campaign_hold_stopped()
        to_send = self - held
        if not to_send:
            return None
        return super(SmsSms, to_send)._send(
            unlink_failed=unlink_failed, unlink_sent=unlink_sent, raise_exception=raise_exception
        )

    def _campaign_hold_stopped(self):
        """Withdraw the SMS of ``self`` whose campaign is not active. The campaigns of the others
        stay share-locked until the SMS are sent and committed: a stop waits for them.

        :return: the SMS withdrawn (deleted)
        """
        if not self.ids:
            return self.browse()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT s.id, r.campaign_id
                     FROM sms_sms s
                     JOIN mailing_mailing m ON m.id = s.mailing_id
                     JOIN campaign_action_run r ON r.id = m.campaign_run_id
                    WHERE s.id IN %s""",
                tuple(self.ids),
            )
        )
        campaign_of = dict(self.env.cr.fetchall())
        if not campaign_of:
            return self.browse()
        # campaigns in id order, so that two senders never wait for each other
        self.env.cr.execute(
            SQL(
                "SELECT id, state FROM campaign_campaign WHERE id IN %s ORDER BY id FOR SHARE",
                tuple(set(campaign_of.values())),
            )
        )
        inactive = {campaign_id for campaign_id, state in self.env.cr.fetchall() if state != "active"}
        held = self.browse([sms_id for sms_id, campaign_id in campaign_of.items() if campaign_id in inactive])
        held._campaign_hold()
        return held

    def _campaign_hold(self):
        """Withdraw outgoing campaign SMS: SMS and traces are removed and their touchpoints planned
        again, so that a resume sends them once."""
        if not self:
            return
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint tp
                      SET state = 'planned', mailing_trace_id = NULL, res_model = NULL, res_id = NULL,
                          date_dispatched = NULL
                     FROM mailing_trace tr
                    WHERE tr.sms_id_int IN %s AND tp.mailing_trace_id = tr.id AND tp.state = 'queued'
                RETURNING tp.run_id""",
                tuple(self.ids),
            )
        )
        run_ids = {row[0] for row in self.env.cr.fetchall()}
        self.env["campaign.touchpoint"].invalidate_model()
        # traces and SMS are technical records of SMS Marketing; the SMS queue may run as any user
        self.env["mailing.trace"].sudo().search([("sms_id_int", "in", self.ids)]).unlink()
        self.sudo().unlink()
        runs = self.env["campaign.action.run"].sudo().browse(run_ids).filtered(lambda r: r.state == "done")
        runs.write({"state": "sending", "date_done": False})
