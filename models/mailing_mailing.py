from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

# What mass mailing writes on a mailing after each batch it sends.
MASS_MAILING_STATUS_FIELDS = {"state", "sent_date", "kpi_mail_required"}
# Mailings made by the campaigns are records of the engine: no "created" note in their chatter and
# no "You have been assigned to..." email to the responsible at each run.
CAMPAIGN_MAILING_CONTEXT = {"mail_create_nolog": True, "mail_auto_subscribe_no_notify": True}


class MailingMailing(models.Model):
    """Email actions send through Email Marketing: one mailing per run, copied from the action's
    content mailing (or built from its template), whose recipients are exactly the run's
    touchpoints. Traces, tracking, unsubscribe and bounces are mass mailing's own."""

    _name = "mailing.mailing"
    _inherit = ["mailing.mailing", "campaign.carrier.mixin"]
    # the UTM values of a mailing: never those of a campaign out of the user's reach
    _campaign_checked_fields = frozenset({"campaign_id", "source_id"})

    campaign_action_id = fields.Many2one(
        help="Action of a marketing campaign this mailing belongs to: its content, or one of its runs."
    )
    campaign_run_id = fields.Many2one(help="Run of the campaign action this mailing carried out.")
    campaign_variant_id = fields.Many2one(
        "campaign.action.variant",
        string="A/B Test Combination",
        index="btree_not_null",
        ondelete="restrict",
        readonly=True,
        copy=False,
        help="Combination of a campaign A/B test this mailing sent to its part of the test share.",
    )

    campaign_recipients = fields.Char(
        compute="_compute_campaign_recipients",
        help="Who receives the email of a campaign action.",
    )

    @api.depends("subject", "name", "campaign_action_id", "campaign_run_id.run_number")
    def _compute_display_name(self):
        """A campaign mailing is named after its action (its subject holds placeholders such as
        {{ object.name }}, which would name it "Our winter offers, {{ object.name }}" on its
        touchpoints and in Email Marketing); a run's mailing after its run."""
        result = super()._compute_display_name()
        for mailing in self.filtered(lambda mailing: mailing.campaign_action_id and mailing.name):
            if mailing.campaign_run_id and not mailing.campaign_variant_id:
                mailing.display_name = self.env._(
                    "%(name)s, run %(run)s", name=mailing.name, run=mailing.campaign_run_id.run_number
                )
            else:
                mailing.display_name = mailing.name
        return result

    @api.depends("campaign_action_id", "campaign_run_id")
    def _compute_campaign_recipients(self):
        for mailing in self:
            action = mailing.campaign_action_id
            if not action or mailing.campaign_run_id:
                mailing.campaign_recipients = False
                continue
            # the content of an action has no recipients of its own (its domain finds none before the
            # first run): what it is sent to is said in words
            mailing.campaign_recipients = self.env._(
                "The contacts of the action “%(action)s” of the campaign %(campaign)s, at each of its runs "
                "(Calculate on the campaign counts them).",
                action=action.name,
                campaign=action.campaign_id.name,
            )

    def write(self, vals):
        if vals.get("subject") and "name" not in vals and self.filtered("campaign_action_id"):
            # Email Marketing renames a mailing's UTM source after its subject ("<subject> (Email
            # Marketing created on ...)"): the source of a campaign mailing is its action's (or its
            # combination's), named after the campaign and the action, and keeps that name
            campaign_mailings = self.filtered("campaign_action_id")
            for mailing in campaign_mailings:
                super(MailingMailing, mailing).write(dict(vals, name=mailing.source_id.name))
            others = self - campaign_mailings
            return super(MailingMailing, others).write(vals) if others else True
        if (
            self
            and set(vals) <= MASS_MAILING_STATUS_FIELDS
            and all(mailing.campaign_run_id and mailing.state == "done" for mailing in self)
        ):
            # mass mailing marks a mailing done after every batch; a campaign run mailing is done from
            # its creation, and skipping this write spares every worker sending the run a lock on it
            return True
        return super().write(vals)

    # ------------------------------------------------------------------
    # GUARDS: campaign mailings are sent by the campaign engine only
    # ------------------------------------------------------------------
    def _check_not_campaign_mailing(self):
        campaign_mailings = self.filtered("campaign_action_id")
        if campaign_mailings:
            raise UserError(
                self.env._(
                    "The mailing “%(mailing)s” belongs to the campaign action “%(action)s”: it is sent "
                    "when the campaign runs. Launch the campaign instead.",
                    mailing=campaign_mailings[0].subject,
                    action=campaign_mailings[0].campaign_action_id.name,
                )
            )

    def action_launch(self):
        self._check_not_campaign_mailing()
        return super().action_launch()

    def action_schedule(self):
        self._check_not_campaign_mailing()
        return super().action_schedule()

    def action_put_in_queue(self):
        self._check_not_campaign_mailing()
        return super().action_put_in_queue()

    def action_send_mail(self, res_ids=None):
        self._check_not_campaign_mailing()
        return super().action_send_mail(res_ids=res_ids)

    def action_send_sms(self, res_ids=None):
        self._check_not_campaign_mailing()
        return super().action_send_sms(res_ids=res_ids)

    def action_open_campaign_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "campaign.action",
            "res_id": self.campaign_action_id.id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------
    # TRACKING SETTINGS
    # ------------------------------------------------------------------
    def _get_seen_list(self):
        """A campaign run never reaches an address twice (contacts de-duplicated by address when the
        run is generated, traces checked before each batch): no need to read back every trace of
        the mailing before each batch of emails."""
        if self.campaign_run_id:
            return set()
        return super()._get_seen_list()

    def _get_link_tracker_values(self):
        """Without sales link tracking, tracked links of campaign mailings carry no UTM values."""
        values = super()._get_link_tracker_values()
        campaign = self.campaign_action_id.campaign_id
        if campaign and not campaign.track_sales_links:
            return {"mass_mailing_id": self.id}
        return values

    def _get_mass_mailing_context(self):
        """Campaign mailings always queue their emails (the campaign's delivery workers send them,
        checking that the campaign is still active); without click tracking, links are not
        shortened."""
        context = super()._get_mass_mailing_context()
        if self.campaign_run_id:
            context["default_force_send"] = False
            # the links of a run's mailing are shortened once, when the mailing is made: mass
            # mailing's shortening of each rendered email would only track what placeholders
            # write, i.e. the personal page address (its visits are counted on the page itself)
            # and the anchors of templates
            context.pop("post_convert_links", None)
        campaign = self.campaign_action_id.campaign_id
        if campaign and not campaign.track_clicks:
            context.pop("post_convert_links", None)
        return context

    # ------------------------------------------------------------------
    # ENGINE
    # ------------------------------------------------------------------
    @api.model
    def _campaign_run_mailing(self, run, variant=None):
        """The mailing of an email or SMS run, created on the first batch (run row locked, so that
        two workers starting the same run create one mailing). In an A/B test run (email), ``variant``
        gives the mailing of that combination's test share; without it, the mailing of the rest,
        built from the winner."""
        mailing = self._campaign_find_run_mailing(run, variant)
        if mailing:
            return mailing
        self.env.cr.execute(SQL("SELECT id FROM campaign_action_run WHERE id = %s FOR UPDATE", run.id))
        run.invalidate_recordset()
        mailing = self._campaign_find_run_mailing(run, variant)
        if mailing:
            return mailing
        action = run.action_id
        campaign = action.campaign_id
        values = {
            "campaign_id": campaign.utm_campaign_id.id,
            "source_id": action.source_id.id,
            "medium_id": action.medium_id.id,
            "campaign_action_id": action.id,
            "campaign_run_id": run.id,
            "mailing_model_id": self.env["ir.model"]._get_id("res.partner"),
            "mailing_domain": str([("campaign_touchpoint_ids.run_id", "=", run.id)]),
            "contact_list_ids": [fields.Command.clear()],
            "user_id": action.user_id.id or self.env.user.id,
            # sent by the campaign engine only (never by mass mailing's queue): done from the start
            "state": "done",
            "sent_date": fields.Datetime.now(),
            "kpi_mail_required": False,
            "ab_testing_enabled": False,
        }
        mailing = self._campaign_make_run_mailing(run, variant, values)
        if not variant:
            run.mailing_id = mailing
        return mailing

    @api.model
    def _campaign_make_run_mailing(self, run, variant, values):
        """Create the mailing of a run from ``values``, what the mailings of every channel share: the
        channels that send through mailings add their content (models/channels/email.py, sms.py)."""
        raise UserError(self.env._("The channel of this action cannot run."))

    @api.model
    def _campaign_placeholder_allowed(self, expression):
        """Whether ``{{ expression }}`` is replaced in the body of a campaign email, letter or page:
        the expressions Odoo lets every user write in the templates of contacts."""
        return self.env["ir.qweb"]._is_expression_allowed(expression, "res.partner")

    def _campaign_send_to(self, res_ids):
        """Hand the contacts over to Email or SMS Marketing: mails (committed by mass mailing as
        it goes) or SMS (not committed: they go with the batch), queued for the delivery workers."""
        self.ensure_one()
        mailing = self
        sender = self.campaign_action_id._campaign_sender()
        if self.env.su and sender:
            # the job sends as the action's responsible (still with the job's superuser rights): the
            # "user" of templates (signature, sender) and the author of the emails are theirs, never
            # the job's OdooBot
            mailing = self.with_user(sender).sudo()
        mailing._campaign_queue(res_ids)
        # the campaign's delivery workers send them (not Odoo's hourly queues): wake them up
        self.env["campaign.delivery"]._trigger_workers()

    def _campaign_queue(self, res_ids):
        """Queue the mailing's messages to ``res_ids``: Email Marketing's own sending (an SMS mailing's
        is in models/channels/sms.py)."""
        self._action_send_mail(res_ids=res_ids)

    @api.model
    def _campaign_find_run_mailing(self, run, variant=None):
        if not variant:
            return run.mailing_id
        return self.search([("campaign_run_id", "=", run.id), ("campaign_variant_id", "=", variant.id)], limit=1)

    @api.model
    def _campaign_send(self, run, touchpoints, variant=None):
        """Queue the emails or SMS of a batch of touchpoints through the run's mailing (the mailing
        of ``variant`` for the test share of an A/B test). Idempotent: a contact who already has a
        trace in this mailing (an earlier attempt got that far before being interrupted) is linked
        to it, never mailed again."""
        mailing = self._campaign_run_mailing(run, variant=variant)
        self.env.flush_all()
        self.env.cr.execute(
            SQL("SELECT id, partner_id FROM campaign_touchpoint WHERE id IN %s", tuple(touchpoints.ids))
        )
        partner_ids = [partner_id for _id, partner_id in self.env.cr.fetchall()]
        self.env.cr.execute(
            SQL(
                """SELECT res_id FROM mailing_trace
                    WHERE mass_mailing_id = %s AND model = 'res.partner' AND res_id IN %s""",
                mailing.id,
                tuple(partner_ids),
            )
        )
        traced = {row[0] for row in self.env.cr.fetchall()}
        to_send = [partner_id for partner_id in partner_ids if partner_id not in traced]
        if to_send:
            mailing._campaign_send_to(to_send)
        self.env.flush_all()
        server = run._mail_server()
        self.env.cr.execute(
            SQL(
                """UPDATE campaign_touchpoint tp
                      SET mailing_id = tr.mass_mailing_id, mailing_trace_id = tr.id,
                          res_model = 'mailing.trace', res_id = tr.id, mail_server_id = %(server)s,
                          state = 'queued'
                     FROM mailing_trace tr
                    WHERE tp.id IN %(ids)s AND tp.state = 'planned'
                      AND tr.mass_mailing_id = %(mailing)s AND tr.model = 'res.partner'
                      AND tr.res_id = tp.partner_id
                RETURNING tr.id""",
                server=server.id or None,
                ids=tuple(touchpoints.ids),
                mailing=mailing.id,
            )
        )
        trace_ids = [row[0] for row in self.env.cr.fetchall()]
        touchpoints.invalidate_recordset()
        # the trace may already be sent, cancelled (blacklisted meanwhile, invalid address...)
        self.env["mailing.trace"].browse(trace_ids)._campaign_sync_touchpoints()
