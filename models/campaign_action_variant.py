import string

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import is_html_empty

from ..const import CARRIED_STATES


class CampaignActionVariant(models.Model):
    """One combination of the A/B test of an email action (seed 004): what it changes in the
    action's email (subject, sender, content, send time). Each run sends every combination to its
    part of the test share through a mailing of its own, then the winner to the rest."""

    _name = "campaign.action.variant"
    _description = "Campaign A/B Test Combination"
    _inherit = ["campaign.access.mixin"]
    _order = "sequence, id"
    _check_company_auto = True
    # the combination's own email, created by its Edit Email
    _campaign_engine_fields = frozenset({"mailing_id"})

    action_id = fields.Many2one("campaign.action", required=True, ondelete="cascade", index=True, check_company=True)
    campaign_id = fields.Many2one(related="action_id.campaign_id", store=True, index=True)
    company_id = fields.Many2one(related="action_id.company_id", store=True, index=True)
    sequence = fields.Integer(default=10)
    name = fields.Char(string="Combination", help="Short name of the combination (A, B, ...).")
    subject = fields.Char(help="Subject of this combination (default: the subject of its content).")
    email_from = fields.Char(
        string="Sender", help="Sender name and address of this combination, e.g. “Shop Team <shop@example.com>”."
    )
    mailing_id = fields.Many2one(
        "mailing.mailing",
        string="Content",
        copy=False,
        ondelete="restrict",
        index="btree_not_null",
        help="Email written for this combination with the Email Marketing editor (default: the action's email).",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Content Template",
        domain="[('model', '=', 'res.partner')]",
        help="Contact template used as this combination's content (default: the action's email).",
    )
    send_delay = fields.Integer(
        string="Send After (hours)",
        default=0,
        help="Send time of this combination: hours after the run (0: at once).",
    )

    # Results over all runs (test share only)
    test_count = fields.Integer(string="Test Emails", compute="_compute_results")
    opened_ratio = fields.Float(string="Opened (%)", compute="_compute_results", digits=(16, 1))
    clicked_ratio = fields.Float(string="Clicked (%)", compute="_compute_results", digits=(16, 1))
    win_count = fields.Integer(string="Wins", compute="_compute_results", help="Runs this combination won.")

    _send_delay_positive = models.Constraint(
        "CHECK(send_delay >= 0)", "The send time of a combination cannot be before the run."
    )

    # ------------------------------------------------------------------
    # COMPUTE
    # ------------------------------------------------------------------
    def _compute_results(self):
        groups = self.env["campaign.touchpoint"]._read_group(
            [("variant_id", "in", self.ids), ("ab_group", "=", "test"), ("state", "in", CARRIED_STATES)],
            ["variant_id"],
            ["__count", "date_opened:count", "date_clicked:count"],
        )
        results = {variant.id: (count, opened, clicked) for variant, count, opened, clicked in groups}
        wins = self.env["campaign.action.run"]._read_group(
            [("ab_winner_variant_id", "in", self.ids)], ["ab_winner_variant_id"], ["__count"]
        )
        win_counts = {variant.id: count for variant, count in wins}
        for variant in self:
            count, opened, clicked = results.get(variant.id, (0, 0, 0))
            variant.test_count = count
            variant.opened_ratio = 100.0 * opened / count if count else 0.0
            variant.clicked_ratio = 100.0 * clicked / count if count else 0.0
            variant.win_count = win_counts.get(variant.id, 0)

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        """Combinations without a name are named A, B, C... in their action."""
        actions = self.env["campaign.action"].browse({vals["action_id"] for vals in vals_list if vals.get("action_id")})
        taken = {action.id: len(action.ab_variant_ids) for action in actions}
        for vals in vals_list:
            if not vals.get("name") and vals.get("action_id"):
                index = taken[vals["action_id"]]
                vals["name"] = string.ascii_uppercase[index % 26]
            if vals.get("action_id"):
                taken[vals["action_id"]] += 1
        return super().create(vals_list)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_sent(self):
        if self.env["campaign.touchpoint"].search_count([("variant_id", "in", self.ids)], limit=1):
            raise UserError(
                self.env._("A combination that already reached contacts cannot be deleted: its results would be lost.")
            )

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_edit_email(self):
        """Write this combination's own email in the Email Marketing editor (a copy of the action's
        email, or a new one, on first use)."""
        self.ensure_one()
        action = self.action_id
        if not self.mailing_id:
            values = action._prepare_content_mailing_values()
            values["subject"] = self.subject or action.email_subject or action.name
            # a source of its own: the content mailing must not rename the action's UTM source
            values.pop("source_id")
            values["name"] = self.env._(
                "%(action)s, combination %(variant)s", action=action._utm_source_name(), variant=self.name
            )
            if not action.mailing_id and action.mail_template_id:
                values["body_arch"] = values["body_html"] = action.mail_template_id.body_html
            mailing = action._create_content_mailing(values, model=action.mailing_id or None)
            self._campaign_link({"mailing_id": mailing.id})
        return {
            "type": "ir.actions.act_window",
            "res_model": "mailing.mailing",
            "res_id": self.mailing_id.id,
            "view_mode": "form",
            "views": [(self.env.ref("mass_mailing.view_mail_mass_mailing_form").id, "form")],
            "context": {"campaign_content": True},
        }

    # ------------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------------
    def _has_own_content(self):
        self.ensure_one()
        return bool(self.mailing_id or self.mail_template_id)

    def _missing_for_run(self):
        """What the combination lacks, in the user's language (the action's email checks its own)."""
        self.ensure_one()
        if self.mailing_id:
            missing = []
            if not (self.subject or self.mailing_id.subject):
                missing.append(self.env._("a subject for combination %(name)s", name=self.name))
            if is_html_empty(self.mailing_id.body_html):  # what is sent (as for the action's email)
                missing.append(self.env._("a body for combination %(name)s", name=self.name))
            return missing + self._missing_placeholders(self.mailing_id.body_html)
        missing = []
        if self.mail_template_id and not (self.subject or self.mail_template_id.subject):
            missing.append(self.env._("a subject for combination %(name)s", name=self.name))
        return missing + self._missing_placeholders(self.mail_template_id.body_html)

    def _missing_placeholders(self, html):
        text = self.env._("the email of combination %(name)s", name=self.name)
        return self.action_id._missing_placeholders(html, text)

    def _mailing_content(self):
        """(content mailing, template, subject, sender) of the combination, falling back on the
        action's email for what it does not change."""
        self.ensure_one()
        action = self.action_id
        if self.mailing_id:
            mailing, template = self.mailing_id, self.env["mail.template"]
        elif self.mail_template_id:
            mailing, template = self.env["mailing.mailing"], self.mail_template_id
        elif action.mail_template_id:
            mailing, template = self.env["mailing.mailing"], action.mail_template_id
        else:
            mailing, template = action.mailing_id, self.env["mail.template"]
        return mailing, template, self.subject or False, self.email_from or False
