"""Test mode of a journey (issue 14): the campaign's steps carried out for one test contact, one
*Next Step* at a time or straight to the end with the delays compressed. Each message is written
with that contact's data and delivered to the test address only (models/campaign_journey_test.py
and each channel's ``_journey_test_deliver``). Nothing is recorded for the campaign: no run, no
touchpoint, no trace, no enrolment, so its figures do not move."""

from markupsafe import Markup

from odoo import api, fields, models, tools
from odoo.exceptions import UserError
from odoo.fields import Command

# Steps that Run to the End carries out at most (actions cannot follow each other in a loop: this
# only bounds a very long journey, which Next Step then continues).
TEST_MAX_STEPS = 50
TEST_STATES = [("draft", "Not Started"), ("running", "In Progress"), ("done", "Finished")]


class CampaignJourneyTest(models.TransientModel):
    _name = "campaign.journey.test"
    _description = "Campaign Journey Test"
    _inherit = ["campaign.access.mixin"]
    # a test can be continued during the working day
    _transient_max_hours = 10.0

    campaign_id = fields.Many2one("campaign.campaign", required=True, ondelete="cascade")
    partner_id = fields.Many2one(
        "res.partner",
        string="Test Contact",
        required=True,
        default=lambda self: self.env.user.partner_id,
        help="The messages are written with this contact's data (name, address, language) and the branches "
        "are those this contact would take; nothing is sent to this contact.",
    )
    email_to = fields.Char(
        string="Test Email",
        default=lambda self: self.env.user.email,
        help="Every email of the test (and every letter and personal page, as an email) goes to this address only.",
    )
    phone_to = fields.Char(
        string="Test Mobile",
        default=lambda self: self.env.user.partner_id.phone,
        help="Every SMS of the test goes to this number only.",
    )
    state = fields.Selection(selection=TEST_STATES, string="Status", default="draft", required=True)
    current_action_id = fields.Many2one("campaign.action", string="Last Step", ondelete="cascade")
    candidate_action_ids = fields.Many2many(
        "campaign.action", string="Possible Next Steps", compute="_compute_candidate_action_ids"
    )
    next_action_id = fields.Many2one(
        "campaign.action",
        string="Next Step",
        compute="_compute_next_action_id",
        store=True,
        readonly=False,
        ondelete="cascade",
        domain="[('id', 'in', candidate_action_ids)]",
        help="The step the test contact reaches next. When several may follow (opened or not, clicked or "
        "not...), choose the one to try.",
    )
    candidates_summary = fields.Text(string="Next Steps", compute="_compute_candidate_action_ids")
    date_clock = fields.Datetime(
        string="Journey Clock",
        help="When the last step would have been carried out for a contact entering now: the delays are "
        "compressed, this is the date they stand for.",
    )
    line_ids = fields.One2many("campaign.journey.test.line", "test_id", string="Steps Carried Out")

    @api.depends("campaign_id", "current_action_id", "partner_id", "state")
    def _compute_candidate_action_ids(self):
        labels = dict(self.env["campaign.action"]._fields["followup_filter"]._description_selection(self.env))
        for test in self:
            candidates = test._candidates() if test.state != "done" else self.env["campaign.action"]
            test.candidate_action_ids = candidates
            test.candidates_summary = "\n".join(
                self.env._("%(action)s: %(when)s", action=action.name, when=action._journey_test_when(labels))
                for action in candidates
            )

    @api.depends("candidate_action_ids")
    def _compute_next_action_id(self):
        for test in self:
            if test.next_action_id not in test.candidate_action_ids:
                test.next_action_id = test.candidate_action_ids[:1]

    def _candidates(self):
        """The steps that may come next for the test contact: the first steps of the journey (those
        due when a contact enters, else the campaign's actions following none), then the follow-ups
        of the last step the contact may take."""
        self.ensure_one()
        actions = self.campaign_id.action_ids
        if self.current_action_id:
            steps = actions.filtered(lambda a: a.parent_id == self.current_action_id)
        else:
            steps = actions.filtered(lambda a: a.schedule_type == "entry") or actions.filtered(
                lambda a: not a.parent_id
            )
        return steps.filtered(lambda a: a._journey_test_follows(self.partner_id))

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_next_step(self):
        """Carry out the chosen next step for the test contact."""
        self.ensure_one()
        self._check_test()
        if not self.next_action_id:
            raise UserError(self._no_next_step_message())
        self._carry_out(self.next_action_id)
        return self._reopen()

    def action_run_to_end(self):
        """Carry out the steps one after the other, the delays compressed, each time the first step
        that may follow, until the journey ends for the test contact."""
        self.ensure_one()
        self._check_test()
        if not self.next_action_id:
            raise UserError(self._no_next_step_message())
        for _step in range(TEST_MAX_STEPS):
            if not self.next_action_id:
                break
            self._carry_out(self.next_action_id)
        return self._reopen()

    def action_restart(self):
        """Start the test again from the first step (the history is cleared)."""
        self.ensure_one()
        self.write({"line_ids": [Command.clear()], "current_action_id": False, "state": "draft", "date_clock": False})
        return self._reopen()

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Test the Journey"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }

    def _no_next_step_message(self):
        if self.current_action_id:
            return self.env._(
                "The journey ends after “%(action)s” for %(contact)s: no further step follows it for this contact. "
                "Restart the test to try it again.",
                action=self.current_action_id.name,
                contact=self.partner_id.display_name,
            )
        return self.env._(
            "The campaign “%(campaign)s” has no step to test: add an action (scheduled “When a contact enters the "
            "journey” for a journey) first.",
            campaign=self.campaign_id.name,
        )

    def _check_test(self):
        """The user tries what they may read: the campaign, its steps and the test contact (a
        wizard's links are only checked to be readable, this says so again before anything is sent)."""
        self.campaign_id.check_access("read")
        self.partner_id.check_access("read")
        if self.next_action_id and self.next_action_id.campaign_id != self.campaign_id:
            raise UserError(self.env._("The next step must be an action of the campaign under test."))

    def _carry_out(self, action):
        """Deliver ``action`` to the test address and record it as the contact's last step."""
        self.ensure_one()
        clock = self.date_clock or fields.Datetime.now()
        if self.current_action_id or action.schedule_type == "entry":
            clock += action._journey_delay()
        try:
            with self.env.cr.savepoint():
                result = action._journey_test_deliver(self)
        except UserError:
            raise  # what the user must give (a test address): nothing is recorded, they give it and go on
        except Exception as error:  # pylint: disable=broad-except
            result = {"state": "failed", "summary": self.env._("The step failed: %(error)s", error=error)}
        self.write(
            {
                "line_ids": [
                    Command.create(
                        {
                            "sequence": len(self.line_ids) + 1,
                            "action_id": action.id,
                            "date_clock": clock,
                            "recipient": result.get("recipient") or False,
                            "result": result["state"],
                            "summary": result.get("summary") or False,
                        }
                    )
                ],
                "current_action_id": action.id,
                "date_clock": clock,
                "state": "running",
            }
        )
        if not self.candidate_action_ids:
            self.state = "done"

    # ------------------------------------------------------------------
    # DELIVERY (called by the channels' _journey_test_deliver)
    # ------------------------------------------------------------------
    def _render_for_contact(self, subject, body):
        """(subject, body) written for the test contact as the engine writes them for each contact
        (campaign.action._render_for_contacts), in its language, with the rights of the user testing."""
        self.ensure_one()
        partner = self.partner_id
        actions = self.env["campaign.action"].with_context(lang=partner.lang or self.env.lang)
        return actions._render_for_contacts(partner, subject, body, post_process=True)[partner.id]

    def _render_text_for_contact(self, text):
        """A text (SMS) with ``{{ ... }}`` placeholders written for the test contact."""
        return self._render_for_contact(text, False)[0]

    def _test_email_address(self, action):
        address = tools.email_normalize(self.email_to or "")
        if not address:
            raise UserError(
                self.env._(
                    "Give a valid test email address: the step “%(action)s” sends an email there.", action=action.name
                )
            )
        return address

    def _send_test_email(self, action, subject, body, email_from=False, reply_to=False):
        """Send one email of the test to the test address; return the step's result."""
        address = self._test_email_address(action)
        html = self.env["ir.qweb"]._render(
            "mass_mailing.mass_mailing_mail_layout",
            {"body": body, "mailing_style": Markup("")},
            minimal_qcontext=True,
        )
        html = self.env["mail.render.mixin"]._replace_local_links(html)
        test_subject = self.env._("[TEST] %(subject)s", subject=subject or action.name)
        # sudo: a campaign user may not create outgoing mails; this one only goes to the address the
        # user typed, with a content rendered above with the user's own rights
        mail = (
            self.env["mail.mail"]
            .sudo()
            .create(
                {
                    "email_from": email_from or self.env.user.email_formatted,
                    "reply_to": reply_to or False,
                    "email_to": address,
                    "subject": test_subject,
                    "body_html": html,
                    "is_notification": True,
                    "auto_delete": False,
                }
            )
        )
        mail.send(raise_exception=False)
        sent = mail.state == "sent"
        summary = (
            test_subject
            if sent
            else self.env._("The email could not be sent: %(reason)s", reason=mail.failure_reason or "?")
        )
        mail.unlink()
        return {"state": "sent" if sent else "failed", "recipient": address, "summary": summary}

    def _send_test_sms(self, action, text):
        """Send one SMS of the test to the test mobile number; return the step's result."""
        number = self.partner_id._phone_format(number=self.phone_to or "", country=self.partner_id.country_id)
        if not number:
            raise UserError(
                self.env._(
                    "Give a valid test mobile number: the step “%(action)s” sends an SMS there.", action=action.name
                )
            )
        # sudo: a campaign user may not create SMS records; this one only goes to the number the user
        # typed, with a text rendered with the user's own rights
        sms = self.env["sms.sms"].sudo().create({"number": number, "body": text})
        sms.send(unlink_failed=False, unlink_sent=False, raise_exception=False)
        sent = sms.state in ("pending", "sent", "process")
        summary = text if sent else self.env._("The SMS could not be sent (%(error)s).", error=sms.failure_type or "")
        sms.unlink()
        return {"state": "sent" if sent else "failed", "recipient": number, "summary": summary}


class CampaignJourneyTestLine(models.TransientModel):
    _name = "campaign.journey.test.line"
    _description = "Campaign Journey Test Step"
    _inherit = ["campaign.access.mixin"]
    _order = "test_id, sequence, id"

    test_id = fields.Many2one("campaign.journey.test", required=True, ondelete="cascade")
    sequence = fields.Integer(string="#")
    action_id = fields.Many2one("campaign.action", required=True, ondelete="cascade")
    channel = fields.Selection(related="action_id.channel")
    date_clock = fields.Datetime(string="Due On", help="When the step would be due for a contact entering now.")
    recipient = fields.Char(string="Delivered To")
    result = fields.Selection(
        selection=[("sent", "Delivered"), ("shown", "Shown Only"), ("failed", "Failed")],
        required=True,
    )
    summary = fields.Text(string="Details")
