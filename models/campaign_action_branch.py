import ast

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL

from ..const import BRANCHES


class CampaignAction(models.Model):
    """Branches (issue 14): an action splits the contacts it reached on a filter on the contact
    (country, tag, company...); each follow-up of it takes every contact, those matching the split
    (yes) or those not matching it (no), so that each branch leads to its own actions. The engine
    applies the split in SQL, with the rights of the campaign's owner (as the goal's filter)."""

    _inherit = "campaign.action"

    split_domain = fields.Char(
        string="Split Following Steps On",
        help="A yes/no split of the contacts this action reached, on their data (country, tag, company...): "
        "each follow-up then takes the contacts matching it (yes branch), those not matching it (no branch) "
        "or every contact. Applied when the follow-up runs, with the rights of the campaign's owner.",
    )
    branch = fields.Selection(
        selection=BRANCHES,
        default="all",
        required=True,
        help="Which contacts of the previous action this follow-up takes, on that action's split: every "
        "contact, those matching the split (yes) or those not matching it (no). The yes and no branches "
        "never share a contact. To wait for an event with a time-out (clicked within 3 days, else another "
        "message), give the previous action two follow-ups: one reaching those who clicked, the other "
        "those who did not click 3 days later. In a journey a contact is at one step at a time: of two "
        "follow-ups that could both take them, the first to run does.",
    )

    # ------------------------------------------------------------------
    # CONSTRAINTS
    # ------------------------------------------------------------------
    @api.constrains("split_domain", "branch", "parent_id", "campaign_id")
    def _check_branch(self):
        for action in self:
            error = action._split_error(execute=True)
            if error:
                raise ValidationError(
                    self.env._(
                        "The split of the action “%(name)s” is not valid: %(error)s", name=action.name, error=error
                    )
                )
            if action.branch != "all" and not action.parent_id:
                raise ValidationError(
                    self.env._(
                        "The action “%(name)s” can only take a branch of a split when it follows another action.",
                        name=action.name,
                    )
                )
            if action.branch != "all" and not action.parent_id._has_split():
                raise ValidationError(
                    self.env._(
                        "The action “%(name)s” takes a branch of the split of “%(parent)s”, which has no split: "
                        "set one on “%(parent)s”, or let the action reach every contact.",
                        name=action.name,
                        parent=action.parent_id.name,
                    )
                )
        unsplit = self.filtered(lambda a: not a._has_split())
        branches = unsplit and self.search([("parent_id", "in", unsplit.ids), ("branch", "!=", "all")])
        if branches:
            raise ValidationError(
                self.env._(
                    "The action “%(name)s” has branches following it (%(branches)s): keep its split, or let "
                    "them reach every contact.",
                    name=branches[0].parent_id.name,
                    branches=", ".join(
                        branches.filtered(lambda b: b.parent_id == branches[0].parent_id).mapped("name")
                    ),
                )
            )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    def copy_data(self, default=None):
        # a copy that follows no action (copied without the one it followed) takes every contact
        vals_list = super().copy_data(default=default)
        for vals in vals_list:
            if not vals.get("parent_id"):
                vals["branch"] = "all"
        return vals_list

    # ------------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------------
    def _has_split(self):
        """Whether the action (one, or none: False) splits the contacts it reached."""
        return len(self) == 1 and bool(self.split_domain) and self.split_domain.replace(" ", "") != "[]"

    def _split_owner(self):
        """The user whose rights the split applies with: the campaign's owner (empty: the current user)."""
        return self.campaign_id.user_id

    def _split_error(self, execute=False):
        """Why the action's split cannot be applied (translated), or False (no split: False)."""
        self.ensure_one()
        if not self._has_split():
            return False
        return self.env["campaign.target"]._check_filter(
            self.split_domain, "res.partner", self._split_owner(), execute=execute
        )[1]

    def _split_partners(self):
        """(the contacts model with the rights the split applies with, archived ones included; the
        split as a Domain, or None when there is none or its owner can no longer apply it)"""
        self.ensure_one()
        Target = self.env["campaign.target"]
        partners = Target._filter_model("res.partner", self._split_owner()).with_context(active_test=False)
        if not self._has_split():
            return partners, None
        domain = Target._check_filter(self.split_domain, "res.partner", self._split_owner())[0]
        return partners, (Domain(domain) if domain is not None else None)

    def _branch_sql(self, partner):
        """SQL condition on the partner id ``partner``: whether the contact takes the action's branch
        of its parent's split (TRUE for every contact; FALSE while the split cannot be applied)."""
        self.ensure_one()
        if self.branch == "all":
            return SQL("TRUE")
        partners, domain = self.parent_id._split_partners()
        if domain is None:
            return SQL("FALSE")  # nobody takes a branch of a split its owner can no longer apply
        matching = partners._search(domain).select()
        # NOT IN the same set: the yes and no branches share no contact and leave none out
        if self.branch == "yes":
            return SQL("%s IN (%s)", partner, matching)
        return SQL("%s NOT IN (%s)", partner, matching)

    def _split_description(self):
        """The split in a few words of the reader's language ("Country = France"), or its domain
        when it is more than a list of conditions all to be met."""
        self.ensure_one()
        if not self._has_split():
            return ""
        try:
            domain = ast.literal_eval(self.split_domain)
        except (ValueError, SyntaxError):
            return self.split_domain
        partners = self.env["res.partner"]
        parts = []
        for leaf in domain if isinstance(domain, (list, tuple)) else [None]:
            if not isinstance(leaf, (list, tuple)) or len(leaf) != 3 or not isinstance(leaf[0], str):
                return self.split_domain
            path, operator, value = leaf
            field = partners._fields.get(path)
            if field is None:
                return self.split_domain
            if field.relational and value and isinstance(value, (int, list, tuple)):
                ids = [value] if isinstance(value, int) else [v for v in value if isinstance(v, int)]
                try:
                    value = ", ".join(self.env[field.comodel_name].browse(ids).exists().mapped("display_name"))
                except AccessError:
                    return self.split_domain  # records the reader may not see: the domain as written
            elif field.type == "selection" and isinstance(value, str):
                value = dict(field._description_selection(self.env)).get(value, value)
            parts.append(f"{field._description_string(self.env)} {operator} {value}")
        return self.env._(" and ").join(parts)

    def _journey_test_follows(self, partner):
        # the test mode of a journey takes the branch the test contact would take (one contact)
        if self.branch == "all" or not super()._journey_test_follows(partner):
            return super()._journey_test_follows(partner)
        partners, domain = self.parent_id._split_partners()
        if domain is None:
            return False
        matches = bool(partners.search_count(Domain("id", "=", partner.id) & domain, limit=1))
        return matches == (self.branch == "yes")

    def _journey_test_when(self, labels):
        when = super()._journey_test_when(labels)
        if self.branch == "all" or not self.parent_id:
            return when
        return f"{dict(self._fields['branch']._description_selection(self.env))[self.branch]} · {when}"

    def _missing_for_run(self):
        missing = super()._missing_for_run()
        if self.branch != "all":
            error = self.parent_id._split_error() if self.parent_id._has_split() else self.env._("it has none")
            if error:
                missing.append(
                    self.env._(
                        "a valid split on “%(parent)s”, the action it follows: %(error)s",
                        parent=self.parent_id.name,
                        error=error,
                    )
                )
        return missing


class CampaignEngine(models.AbstractModel):
    """The engine takes the contacts of a branch only: in a journey among those at the previous
    step, in a batch campaign among those the follow-up classifies, in SQL."""

    _inherit = "campaign.engine"

    def _journey_contacts_filter(self, action):
        condition = super()._journey_contacts_filter(action)
        if action.branch == "all":
            return condition
        return SQL("%s AND %s", condition, action._branch_sql(SQL("e.partner_id")))

    def _run_contacts(self, run):
        contacts, targets = super()._run_contacts(run)
        action = run.action_id
        if action.branch == "all" or action._is_journey_step():
            return contacts, targets  # a journey's step: its due contacts are already of its branch
        if contacts is None:
            contacts = SQL("SELECT u.partner_id FROM (%s) AS u(target_id, partner_id)", targets._union_sql(action))
        branch = SQL(
            "SELECT b.partner_id FROM (%s) AS b(partner_id) WHERE %s", contacts, action._branch_sql(SQL("b.partner_id"))
        )
        return branch, targets
