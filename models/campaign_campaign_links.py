from odoo import api, fields, models


class CampaignCampaign(models.Model):
    """What ties a campaign to the rest of Odoo: its UTM campaign (mailings, leads, orders and
    invoices carrying it are the campaign's), its analytic account and project (expenses, timesheets
    and bills carrying them are its costs), and the drill-downs from its figures to those documents."""

    _inherit = "campaign.campaign"

    # ------------------------------------------------------------------
    # FIELDS
    # ------------------------------------------------------------------
    # Links to Odoo
    utm_campaign_id = fields.Many2one(
        "utm.campaign",
        string="UTM Campaign",
        readonly=True,
        copy=False,
        ondelete="restrict",
        index="btree_not_null",
        help="UTM campaign created with the campaign and kept in sync: mailings, leads, "
        "orders and invoices carrying it are attributed to the campaign.",
    )
    analytic_account_id = fields.Many2one(
        "account.analytic.account",
        copy=False,
        check_company=True,
        index="btree_not_null",
        help="Analytic account carrying the campaign's costs (expenses, timesheets, bills).",
    )
    project_id = fields.Many2one(
        "project.project",
        copy=False,
        check_company=True,
        index="btree_not_null",
        help="Project holding the campaign's tasks; time logged on it counts as campaign cost.",
    )

    _analytic_account_uniq = models.Constraint(
        "UNIQUE(analytic_account_id)", "An analytic account can carry the costs of one campaign only."
    )
    _project_uniq = models.Constraint("UNIQUE(project_id)", "A project can belong to one campaign only.")

    # ------------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------------
    def action_create_analytic_account(self):
        """Give the campaigns their analytic account (in the Campaigns plan), where their expenses,
        timesheets and bills are tied. Those who may change the campaign need no analytic rights for
        it; accountants who manage analytic accounts may create it on a campaign they only read."""
        campaigns = self.filtered(lambda c: not c.analytic_account_id)
        if not campaigns:
            return True
        campaigns.check_access("read")
        if not campaigns.has_access("write"):
            self.env["account.analytic.account"].check_access("create")
        plan = self.env["account.analytic.plan"]._campaign_plan()
        accounts = (
            self.env["account.analytic.account"]
            .sudo()  # rights checked above: the account is the campaign's own, named after it
            .create(
                [
                    {
                        "name": campaign.name,
                        "code": campaign.name[:20],
                        "plan_id": plan.id,
                        "company_id": campaign.company_id.id,
                    }
                    for campaign in campaigns
                ]
            )
        )
        for campaign, account in zip(campaigns, accounts, strict=True):
            campaign.sudo().analytic_account_id = account  # the accountant may only read the campaign
        return True

    def action_create_project(self):
        """Create the campaign's project. Its Campaigns plan column holds the campaign's analytic account,
        so that the project's timesheets carry it; its Project plan account is created by Odoo.
        Those who may change the campaign need no Project rights for it."""
        campaigns = self.filtered(lambda c: not c.project_id)
        if not campaigns:
            return True
        campaigns.check_access("write")
        column = self.env["account.analytic.plan"]._campaign_plan()._column_name()
        for campaign in campaigns:
            campaign.action_create_analytic_account()
            values = {
                "name": campaign.name,
                "company_id": campaign.company_id.id,
                "user_id": campaign.user_id.id,
                column: campaign.analytic_account_id.id,
                "allow_timesheets": True,
                "type_ids": [fields.Command.set(self._campaign_task_stages().ids)],
            }
            if campaign.scope == "personal":
                # its tasks name the owner's own contacts: only its followers and assignees see them
                values["privacy_visibility"] = "followers"
            # sudo: the project is part of the campaign's set-up (write access checked above), a
            # link only the campaign sets; its manager is the campaign's owner
            campaign.sudo().project_id = self.env["project.project"].sudo().create(values)
        return True

    @api.model
    def _campaign_task_stages(self):
        """Stages of the campaigns' projects (seed 004): Not started, In progress, Done."""
        xmlids = ("not_started", "in_progress", "done")
        stages = self.env["project.task.type"]
        for xmlid in xmlids:
            stages |= self.env.ref(f"campaign_manager.project_task_type_{xmlid}", raise_if_not_found=False) or stages
        return stages

    def action_view_project(self):
        """Open the campaign's project, created first when it has none (by those who may change the
        campaign: others are shown the button only once the project exists)."""
        self.ensure_one()
        self.action_create_project()
        return {
            "type": "ir.actions.act_window",
            "res_model": "project.project",
            "res_id": self.project_id.id,
            "view_mode": "form",
        }

    def action_tie_expenses(self):
        """Tie existing expenses to the campaign (the expenses' own rules decide which ones)."""
        self.ensure_one()
        self.check_access("read")
        return self._action_open_wizard(
            "campaign.campaign.expense", self.env._("Tie Expenses to %(campaign)s", campaign=self.name)
        )

    # Drill-downs: each figure opens the documents it is computed from.
    def _document_action(self, xmlid, name, **values):
        """The window action ``xmlid`` of the documents behind a figure, named for the campaign."""
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        # the web client titles the action (breadcrumb) by its display_name before its name
        action.update(name=name, display_name=name, **values)
        return action

    def action_view_expenses(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Expenses of %(campaign)s", campaign=self.name),
            "res_model": "hr.expense",
            "view_mode": "list,form,pivot,graph",
            "views": [(False, "list"), (False, "form"), (False, "pivot"), (False, "graph")],
            "domain": [
                "|",
                ("campaign_id", "=", self.id),
                ("analytic_distribution", "in", self.analytic_account_id.ids or [0]),
            ],
            "context": {"default_campaign_id": self.id, "search_default_status": 1},
        }

    def action_view_timesheets(self):
        self.ensure_one()
        action = self._document_action(
            "hr_timesheet.timesheet_action_all", self.env._("Timesheets of %(campaign)s", campaign=self.name)
        )
        action["domain"] = self._timesheet_domain()
        action["context"] = {"is_timesheet": 1, "default_project_id": self.project_id.id}
        return action

    def action_view_bills(self):
        self.ensure_one()
        action = self._document_action(
            "account.action_move_in_invoice_type", self.env._("Supplier Bills of %(campaign)s", campaign=self.name)
        )
        action["domain"] = [
            ("move_type", "in", ("in_invoice", "in_refund", "in_receipt")),
            ("expense_ids", "=", False),
            ("company_id", "=", self.company_id.id),
            ("line_ids.analytic_distribution", "in", self.analytic_account_id.ids or [0]),
        ]
        action["context"] = {"default_move_type": "in_invoice"}
        return action

    def action_view_analytic_items(self):
        self.ensure_one()
        action = self._document_action(
            "analytic.account_analytic_line_action_entries",
            self.env._("Analytic Items of %(campaign)s", campaign=self.name),
        )
        column = self.env["account.analytic.plan"]._campaign_plan()._column_name()
        action["domain"] = [(column, "=", self.analytic_account_id.id or 0)]
        action["context"] = {}
        return action

    def action_view_invoices(self):
        self.ensure_one()
        action = self._document_action(
            "account.action_move_out_invoice_type", self.env._("Invoices of %(campaign)s", campaign=self.name)
        )
        action["domain"] = [
            ("move_type", "in", ("out_invoice", "out_refund")),
            ("state", "=", "posted"),
            ("company_id", "=", self.company_id.id),
            ("campaign_id", "=", self.utm_campaign_id.id),
        ]
        action["context"] = {"default_move_type": "out_invoice", "default_campaign_id": self.utm_campaign_id.id}
        return action

    def action_view_orders(self):
        self.ensure_one()
        action = self._document_action("sale.action_orders", self.env._("Sales of %(campaign)s", campaign=self.name))
        action["domain"] = [
            ("state", "=", "sale"),
            ("company_id", "=", self.company_id.id),
            ("campaign_id", "=", self.utm_campaign_id.id),
        ]
        action["context"] = {"default_campaign_id": self.utm_campaign_id.id}
        return action

    def action_view_leads(self):
        self.ensure_one()
        action = self._document_action(
            "crm.crm_lead_all_leads", self.env._("Leads and Opportunities of %(campaign)s", campaign=self.name)
        )
        action["domain"] = [
            ("campaign_id", "=", self.utm_campaign_id.id),
            "|",
            ("company_id", "=", False),
            ("company_id", "=", self.company_id.id),
        ]
        action["context"] = {"active_test": False, "default_campaign_id": self.utm_campaign_id.id}
        action["view_mode"] = "list,kanban,form"
        action["views"] = [(False, "list"), (False, "kanban"), (False, "form")]
        return action

    # ------------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------------
    def _timesheet_domain(self):
        """Timesheets counted as the campaign's cost: on its project, or on its analytic account."""
        self.ensure_one()
        column = self.env["account.analytic.plan"]._campaign_plan()._column_name()
        return [
            ("project_id", "!=", False),
            "|",
            (column, "=", self.analytic_account_id.id or 0),
            ("project_id", "=", self.project_id.id or 0),
        ]

    def _sync_utm_campaign(self):
        """Create the UTM campaign of each campaign, or copy its name, owner and activity on it."""
        utm_model = self.env["utm.campaign"].sudo()  # utm records are technical: users may lack rights on them
        for campaign in self:
            utm = campaign.utm_campaign_id.sudo()
            if not utm:
                campaign.sudo().utm_campaign_id = utm_model.create(
                    {
                        "name": campaign.name,
                        "title": campaign.name,
                        "user_id": campaign.user_id.id,
                        "active": campaign.active,
                    }
                )
                continue
            values = {}
            if utm.title != campaign.name:
                values["title"] = campaign.name
            if utm.user_id != campaign.user_id:
                values["user_id"] = campaign.user_id.id
            if utm.active != campaign.active:
                values["active"] = campaign.active
            if values:
                utm.write(values)

    def _sync_project_account(self):
        """Put the campaign's analytic account on its project (Campaigns plan column), so that the time
        logged on the project carries it, as for projects created from the campaign."""
        with_both = self.filtered(lambda c: c.project_id and c.analytic_account_id)
        if not with_both:
            return
        column = self.env["account.analytic.plan"]._campaign_plan()._column_name()
        for campaign in with_both:
            project = campaign.project_id.sudo()  # campaign users may not manage projects' analytic settings
            if project[column] != campaign.analytic_account_id:
                project[column] = campaign.analytic_account_id
