from odoo import api, models
from odoo.tools import SQL


class MailingSubscription(models.Model):
    """A new subscription to a mailing list (or a subscriber opting in again) enrols the contact in
    the journeys of the campaigns listening to the list (campaign.trigger)."""

    _inherit = "mailing.subscription"

    @api.model_create_multi
    def create(self, vals_list):
        subscriptions = super().create(vals_list)
        subscriptions._campaign_enrol()
        return subscriptions

    def write(self, vals):
        opting_in = self.filtered("opt_out") if "opt_out" in vals and not vals["opt_out"] else self.browse()
        result = super().write(vals)
        opting_in._campaign_enrol()
        return result

    def _campaign_enrol(self):
        """Enrol the subscribers of ``self`` (those not opted out) in the journeys listening to their
        lists: set-based, and one indexed look-up when no journey listens to these lists."""
        if not self:
            return
        # sudo: whoever subscribes (a visitor of the website, a user of Email Marketing) enrols the
        # contact in the campaigns, whose triggers and contacts they need not see
        self = self.sudo()
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT s.id FROM mailing_subscription s
                     JOIN campaign_trigger t ON t.mailing_list_id = s.list_id AND t.trigger_type = 'mailing_list'
                     JOIN campaign_campaign c ON c.id = t.campaign_id AND c.state = 'active'
                    WHERE s.id IN %s AND NOT s.opt_out""",
                tuple(self.ids),
            )
        )
        ids = tuple({row[0] for row in self.env.cr.fetchall()})
        if not ids:
            return
        # subscribers without a contact get one, as the subscribers of a target's lists do
        self.env["campaign.target"]._create_subscriber_partners(SQL("s.id IN %s", ids))
        self.env["campaign.trigger"]._enrol_matching(
            "mailing_list",
            SQL(
                """SELECT t.id,
                          (SELECT p.id FROM res_partner p WHERE p.email_normalized = mc.email_normalized
                            ORDER BY p.active DESC, p.id LIMIT 1),
                          l.name
                     FROM mailing_subscription s
                     JOIN mailing_contact mc ON mc.id = s.contact_id
                     JOIN mailing_list l ON l.id = s.list_id
                     JOIN campaign_trigger t ON t.mailing_list_id = s.list_id
                    WHERE s.id IN %s""",
                ids,
            ),
        )
