from odoo import api, fields, models
from odoo.exceptions import UserError


class HrExpense(models.Model):
    _name = "hr.expense"
    _inherit = ["hr.expense", "campaign.access.mixin"]
    # an expense is tied to a campaign its author may read (accountants and employees change no campaign)
    _campaign_read_fields = frozenset({"campaign_id"})

    campaign_id = fields.Many2one(
        "campaign.campaign",
        index="btree_not_null",
        check_company=True,
        help="Marketing campaign the expense is for: its analytic distribution goes to the campaign's "
        "analytic account. Approved and posted expenses count in the campaign's actual cost, submitted "
        "ones in its committed cost.",
    )

    @api.depends("campaign_id")
    def _compute_analytic_distribution(self):
        super()._compute_analytic_distribution()
        # the campaign may be out of the current user's reach (an employee editing an expense an
        # accountant tied to a campaign): its analytic account is read as superuser
        with_campaign = self.filtered(lambda e: e.sudo().campaign_id.analytic_account_id)
        if not with_campaign:
            return
        plan = self.env["account.analytic.plan"]._campaign_plan()
        # Accounts of the Campaigns plan already in the distributions are replaced by the campaign's.
        account_ids = {
            int(account_id)
            for expense in with_campaign
            for key in (expense.analytic_distribution or {})
            for account_id in key.split(",")
        }
        campaign_accounts = set(
            self.env["account.analytic.account"]
            .browse(account_ids)
            .exists()
            .filtered(lambda a: a.root_plan_id == plan)
            .ids
        )
        for expense in with_campaign:
            expense.analytic_distribution = expense._campaign_distribution(campaign_accounts)

    @api.model_create_multi
    def create(self, vals_list):
        self._ensure_campaign_accounts(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        if "campaign_id" in vals:
            self._check_campaign_editable()
        self._ensure_campaign_accounts([vals])
        return super().write(vals)

    def _check_campaign_editable(self):
        """The campaign sets the expense's analytic distribution: it changes on the expenses whose
        distribution the user may change (Expenses' own rule, see ``is_editable``), and only there."""
        if self.env.su:
            return
        locked = self.filtered(lambda expense: not expense.is_editable)
        if locked:
            raise UserError(
                self.env._(
                    "You cannot change the campaign of these expenses: %(expenses)s. An employee changes "
                    "their own draft expenses; expense approvers change the expenses they approve, until "
                    "they are posted.",
                    expenses=", ".join(locked.mapped("name")),
                )
            )

    def _ensure_campaign_accounts(self, vals_list):
        """Give an analytic account to the campaigns chosen on expenses that have none yet."""
        campaign_ids = {vals["campaign_id"] for vals in vals_list if vals.get("campaign_id")}
        if campaign_ids:
            campaigns = self.env["campaign.campaign"].browse(campaign_ids)
            campaigns.check_access("read")
            # the expense's author may not manage campaigns nor analytic accounts: the account is
            # the campaign's own, created the same way as from the campaign form
            campaigns.filtered(lambda c: not c.sudo().analytic_account_id).sudo().action_create_analytic_account()

    def _campaign_distribution(self, campaign_accounts):
        """The expense's distribution with the campaign's account in place of any Campaigns account,
        other plans kept; 100% to the campaign's account when there was none.

        :param set campaign_accounts: ids of accounts of the Campaigns plan
        """
        self.ensure_one()
        account = str(self.sudo().campaign_id.analytic_account_id.id)  # see _compute_analytic_distribution
        distribution = {}
        for key, percentage in (self.analytic_distribution or {}).items():
            ids = [i for i in key.split(",") if int(i) not in campaign_accounts]
            new_key = ",".join([*ids, account])
            distribution[new_key] = distribution.get(new_key, 0.0) + percentage
        return distribution or {account: 100.0}
