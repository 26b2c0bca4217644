import json
from urllib.parse import quote

from odoo import Command, fields
from odoo.tests import new_test_user, tagged

from .tour_common import TourCase


@tagged("post_install", "-at_install")
class TestManagerEraseTour(TourCase):
    """In a real browser, a campaign manager (their group only) erases a contact from the
    campaigns, from the contact's form."""

    def test_manager_erases_a_contact(self):
        manager = new_test_user(
            self.env, login="tour_manager", name="Mona Manager", groups="campaign_manager.group_campaign_manager"
        )
        contact = self.env["res.partner"].create({"name": "Erin Erased", "email": "erin.erased@example.com"})
        campaign = self.env["campaign.campaign"].create({"name": "EraseSpring"})
        action = self.env["campaign.action"].create({"campaign_id": campaign.id, "name": "Mail", "channel": "email"})
        touchpoint = self.env["campaign.touchpoint"].create(
            {"action_id": action.id, "partner_id": contact.id, "state": "sent", "date_done": fields.Datetime.now()}
        )
        self.start_tour(f"/odoo/res.partner/{contact.id}", "campaign_erase_contact_tour", login=manager.login)
        self.env.invalidate_all()
        self.assertNotEqual(touchpoint.partner_id, contact, "the touchpoint no longer points to the contact")
        self.assertEqual(touchpoint.state, "sent", "it still counts in the campaign")
        self.assertTrue(self.env["mail.blacklist"].search([("email", "=", "erin.erased@example.com")]))


@tagged("post_install", "-at_install")
class TestAccountantTour(TourCase):
    """In a real browser, an accountant with Invoicing and expense approval rights (those groups
    only, no campaign group, no employee of their own): a campaign shows them only what they may
    use, its Calculate figures, an approved expense tied to it from the campaign, its analysis and
    its ROI report; then a submitted expense tied to it from the Expenses app."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.accountant = new_test_user(
            env,
            login="tour_accountant",
            name="Ada Accountant",
            groups="account.group_account_invoice,hr_expense.group_hr_expense_user",
        )
        owner = new_test_user(env, login="tour_owner", groups="campaign_manager.group_campaign_user")
        cls.campaign = env["campaign.campaign"].create({"name": "LedgerSpring", "user_id": owner.id, "budget": 500})
        contacts = env["res.partner"].create(
            [{"name": f"Ledger contact {index}", "email": f"ledger.{index}@example.com"} for index in range(2)]
        )
        env["campaign.target"].create(
            {
                "campaign_id": cls.campaign.id,
                "name": "Picked",
                "source": "manual",
                "partner_ids": [Command.set(contacts.ids)],
            }
        )
        env["campaign.action"].create({"campaign_id": cls.campaign.id, "name": "Mail", "channel": "email"})
        employee = env["hr.employee"].create({"name": "Paul Painter"})
        product = env["product.product"].create(
            {"name": "Travel", "type": "service", "can_be_expensed": True, "standard_price": 0, "supplier_taxes_id": []}
        )

        def expense(name, amount, approval_state):
            record = env["hr.expense"].create(
                {"name": name, "employee_id": employee.id, "product_id": product.id, "total_amount_currency": amount}
            )
            record.approval_state = approval_state
            return record

        cls.taxi = expense("Taxi to the fair", 120, "approved")
        cls.stand = expense("Stand hire", 300, "submitted")

    def test_accountant_reads_ties_and_prints(self):
        self.assertFalse(self.accountant.employee_ids, "an accountant who is no employee")
        self.start_tour("/odoo", "campaign_accountant_tour", login=self.accountant.login, timeout=180)
        self.env.invalidate_all()
        self.assertEqual(self.taxi.campaign_id, self.campaign)
        account = self.campaign.analytic_account_id
        self.assertTrue(account, "the campaign got its analytic account")
        self.assertEqual(self.taxi.analytic_distribution, {str(account.id): 100.0})
        self.assertEqual(self.campaign.cost_expenses, 120.0)
        self.assertEqual(self.taxi.write_uid, self.accountant, "tied by the accountant")

        self.start_tour("/odoo", "campaign_accountant_expense_tour", login=self.accountant.login, timeout=120)
        self.env.invalidate_all()
        self.assertEqual(self.stand.campaign_id, self.campaign)
        self.assertEqual(self.campaign.committed_expenses, 300.0, "a submitted expense is committed")

        # the report route answers the PDF to the accountant's own session (printed by wkhtmltopdf:
        # in tests, Odoo renders reports as HTML unless told otherwise)
        self.authenticate(self.accountant.login, self.accountant.login)
        context = quote(json.dumps({"force_report_rendering": True}))
        response = self.url_open(
            f"/report/pdf/campaign_manager.report_campaign_roi/{self.campaign.id}?context={context}", timeout=120
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        self.assertTrue(response.content.startswith(b"%PDF"))
