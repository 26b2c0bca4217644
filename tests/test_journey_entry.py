from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .journey_common import JourneyCase


@tagged("post_install", "-at_install")
class TestJourneyEntry(JourneyCase):
    """Entry triggers: each enrols exactly the contacts whose event it listens to, once (or again
    after the re-entry delay), only in active campaigns; the audience resolution of the first step
    excludes the blacklisted, opted-out and unreachable ones, which leave the journey with their
    reason."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.category = cls.env["product.category"].create({"name": "Garden"})
        cls.sub_category = cls.env["product.category"].create({"name": "Seeds", "parent_id": cls.category.id})
        cls.seeds = cls.env["product.product"].create({"name": "Tomato seeds", "categ_id": cls.sub_category.id})
        cls.chair = cls.env["product.product"].create({"name": "Chair"})
        cls.shop = cls._campaign("FirstSeeds")
        cls.seed_trigger = cls.env["campaign.trigger"].create(
            {
                "campaign_id": cls.shop.id,
                "trigger_type": "sale_order",
                "sale_filter": "product",
                "product_id": cls.seeds.id,
            }
        )
        cls.shop_step = cls._email_action(cls.shop, name="Thanks", schedule_type="entry", delay=1, delay_unit="hours")

    def _order(self, partner, *products):
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "order_line": [Command.create({"product_id": p.id, "product_uom_qty": 1}) for p in products],
            }
        )
        order.action_confirm()
        return order

    # ------------------------------------------------------------------
    def test_list_subscription_enrols_the_subscriber_once(self):
        self._subscribe("early")
        self.assertFalse(self._enrolments(), "a campaign that is not active enrols nobody")
        self._launch()
        subscription = self._subscribe("anna")
        self._subscribe("bob", mailing_list=self.other_list)
        anna = self._partner("anna")
        self.assertTrue(anna, "the subscriber without a contact got one, as for a target of lists")
        enrolment = self._enrolments()
        self.assertEqual(enrolment.partner_id, anna, "exactly the subscriber of the list listened to")
        self.assertEqual(
            (enrolment.cause, enrolment.cause_ref, enrolment.trigger_id, enrolment.state, enrolment.entry_count),
            ("mailing_list", "Newsletter", self.trigger, "active", 1),
        )
        # opting out then in again, or joining through the contact's list_ids: still one entry
        subscription.opt_out = True
        subscription.opt_out = False
        self.env["mailing.contact"].create(
            {"name": "anna again", "email": "anna@example.com", "list_ids": [Command.link(self.newsletter.id)]}
        )
        self.assertEqual(self._enrolments().entry_count, 1, "once ever: the later events enrol nobody again")
        self.assertEqual(len(self._enrolments()), 1)
        self.assertFalse(self.env["campaign.enrolment"].search([("partner_id", "=", self._partner("early").id)]))

    def test_first_step_excludes_by_the_audience_resolution(self):
        self._launch()
        self._subscribe("fine")
        self._subscribe("black")
        self._subscribe("gone")
        self.env["mail.blacklist"]._add("black@example.com")
        self._partner("gone").email = False
        self._process()
        by_partner = {tp.partner_id: tp for tp in self._touchpoints(self.step_1)}
        self.assertEqual(by_partner[self._partner("fine")].state, "queued")
        self.assertEqual(
            {p.name: (tp.state, tp.exclusion_reason) for p, tp in by_partner.items() if tp.state == "excluded"},
            {"black": ("excluded", "blacklisted"), "gone": ("excluded", "no_address")},
        )
        states = {e.partner_id.name: (e.state, e.exit_reason) for e in self._enrolments()}
        self.assertEqual(
            states,
            {"fine": ("active", False), "black": ("excluded", "blacklisted"), "gone": ("excluded", "no_address")},
        )
        self._process()
        self.assertEqual(len(self._touchpoints(self.step_1)), 3, "each contact's step once")

    def test_sale_order_trigger_enrols_the_customers_of_the_product(self):
        self._launch(self.shop)
        buyer, other = self._partners(2, prefix="buyer")
        order = self._order(buyer, self.chair, self.seeds)
        self._order(other, self.chair)
        enrolment = self._enrolments(self.shop)
        self.assertEqual(enrolment.partner_id, buyer, "only the order containing the product")
        self.assertEqual((enrolment.cause, enrolment.cause_ref), ("sale_order", order.name))
        self._order(buyer, self.seeds)
        self.assertEqual(self._enrolments(self.shop).entry_count, 1)

    def test_sale_order_trigger_on_a_category_and_its_children(self):
        self.seed_trigger.write({"sale_filter": "category", "product_category_id": self.category.id})
        self._launch(self.shop)
        buyer, other = self._partners(2, prefix="garden")
        self._order(buyer, self.seeds)
        self._order(other, self.chair)
        self.assertEqual(self._enrolments(self.shop).partner_id, buyer)

    def test_per_contact_delay_of_the_first_step(self):
        with freeze_time("2026-03-02 09:00:00"):
            self._launch(self.shop)
            buyer = self._partners(1, prefix="hour")
            self._order(buyer, self.seeds)
            self._process()
            self.assertFalse(self._touchpoints(self.shop_step), "the step is due an hour after the entry")
            self.assertFalse(self.shop_step.run_ids, "no run while nobody is due")
        with freeze_time("2026-03-02 10:00:01"):
            self._process()
        self.assertEqual(self._touchpoints(self.shop_step).partner_id, buyer)

    def test_reentry_after_days(self):
        self.shop.write({"journey_reentry": "after", "journey_reentry_days": 10})
        buyer = self._partners(1, prefix="again")
        with freeze_time("2026-03-02 09:00:00"):
            self._launch(self.shop)
            self._order(buyer, self.seeds)
        with freeze_time("2026-03-03 12:00:00"):
            self._process()
        first = self._touchpoints(self.shop_step)
        self.assertEqual(len(first), 1)
        with freeze_time("2026-03-08 09:00:00"):
            self._order(buyer, self.seeds)
            self._process()
        self.assertEqual(self._enrolments(self.shop).entry_count, 1, "5 days after: not again yet")
        with freeze_time("2026-03-12 09:00:01"):
            second_order = self._order(buyer, self.seeds)
        enrolment = self._enrolments(self.shop)
        self.assertEqual((enrolment.entry_count, enrolment.cause_ref), (2, second_order.name))
        self.assertFalse(enrolment.step_action_id, "the new entry starts from the first step")
        with freeze_time("2026-03-12 10:00:02"):
            self._process()
        self.assertEqual(len(self._touchpoints(self.shop_step)), 2, "the first step again, once more")
        self.assertEqual(len(self._enrolments(self.shop)), 1, "one enrolment per contact and campaign")

    def test_lead_reaching_a_stage_enrols_its_contact(self):
        stage = self.env["crm.stage"].create({"name": "Qualified (journey)", "sequence": 70})
        campaign = self._campaign("Qualified")
        self.env["campaign.trigger"].create(
            {"campaign_id": campaign.id, "trigger_type": "lead_stage", "lead_stage_id": stage.id}
        )
        self._email_action(campaign, name="Hello", schedule_type="entry")
        self._launch(campaign)
        moving, staying = self._partners(2, prefix="lead")
        leads = self.env["crm.lead"].create(
            [{"name": "L1", "partner_id": moving.id}, {"name": "L2", "partner_id": staying.id}]
        )
        leads[0].stage_id = stage
        self.assertEqual(self._enrolments(campaign).partner_id, moving)

    def test_trigger_without_its_record_refused(self):
        with self.assertRaisesRegex(ValidationError, "orders containing a product needs the product"):
            self.env["campaign.trigger"].create(
                {"campaign_id": self.shop.id, "trigger_type": "sale_order", "sale_filter": "product"}
            )
        with self.assertRaisesRegex(ValidationError, "on a mailing list needs the list"):
            self.env["campaign.trigger"].create({"campaign_id": self.shop.id, "trigger_type": "mailing_list"})

    def test_a_journey_campaign_needs_no_target_to_launch(self):
        self._launch()
        self.assertEqual(self.campaign.state, "active")
        self.assertEqual(self.step_1.state, "scheduled")
        self.assertEqual(self.step_1.schedule_type, "entry", "the launch leaves the journey's steps as they are")
        campaign = self._campaign("NoTrigger")
        action = self._email_action(campaign, name="Lonely", schedule_type="entry")
        self.assertIn("an entry trigger on the campaign", "\n".join(action._missing_for_run()))

    def test_erased_contact_leaves_no_trace_in_the_journey(self):
        self._launch()
        self._subscribe("erased")
        partner = self._partner("erased")
        self.env["campaign.contact.erase"].with_user(self.user_manager).create(
            {"partner_ids": partner.ids}
        ).action_erase()
        enrolment = self._enrolments()
        self.assertEqual((enrolment.partner_id.name, enrolment.cause_ref), ("Anonymised contact", False))
        self._process()
        self.assertEqual(
            (self._touchpoints(self.step_1).exclusion_reason, enrolment.state, enrolment.exit_reason),
            ("archived", "excluded", "archived"),
            "the placeholder is never contacted",
        )

    def test_date_of_the_contact_coming_round(self):
        # a date of the contacts, as an administrator adds one (Odoo's contacts have none of their life)
        self.env["ir.model.fields"].create(
            {
                "model_id": self.env["ir.model"]._get_id("res.partner"),
                "name": "x_contract_end",
                "ttype": "date",
                "field_description": "Contract End",
            }
        )
        campaign = self._campaign("Anniversary")
        trigger = self.env["campaign.trigger"].create(
            {"campaign_id": campaign.id, "trigger_type": "date", "date_field": "x_contract_end", "date_offset": 3}
        )
        self._email_action(campaign, name="Soon", schedule_type="entry", delay=0)
        due, later, leap = self._partners(3, prefix="anniversary")
        due.x_contract_end = date(2019, 3, 8)  # comes round 3 days after the 5th
        later.x_contract_end = date(2020, 3, 20)
        leap.x_contract_end = date(2020, 2, 29)
        with freeze_time("2026-03-05 08:00:00"):
            self._launch(campaign)
            self.env["campaign.trigger"]._enrol_on_dates()
        enrolment = self._enrolments(campaign)
        self.assertEqual((enrolment.partner_id, enrolment.cause_ref), (due, "2019-03-08"))
        self.assertEqual(trigger.date_checked, date(2026, 3, 5))
        # a 29 February comes round on the 28th in the other years (three days after the 25th)
        with freeze_time("2026-02-25 08:00:00"):
            trigger.date_checked = date(2026, 2, 24)
            self.env["campaign.trigger"]._enrol_on_dates()
        self.assertEqual(self._enrolments(campaign).partner_id, due | leap)
        # the job down for a month: the days missed are caught up, each once
        with freeze_time("2026-03-25 08:00:00"):
            self.env["campaign.trigger"]._enrol_on_dates()
            self.env["campaign.trigger"]._enrol_on_dates()
        self.assertEqual(self._enrolments(campaign).partner_id, due | later | leap)
        self.assertEqual(set(self._enrolments(campaign).mapped("entry_count")), {1})
        with self.assertRaisesRegex(ValidationError, "on a date of the contact needs the date"):
            trigger.date_field = False

    def test_customer_invoice_paid_enrols_its_customer(self):
        campaign = self._campaign("PaidThanks")
        self.env["campaign.trigger"].create({"campaign_id": campaign.id, "trigger_type": "invoice_paid"})
        self._email_action(campaign, name="Thanks", schedule_type="entry", delay=0)
        self._launch(campaign)
        payer, debtor = self._partners(2, prefix="invoice")
        invoices = self.env["account.move"].create(
            [
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_line_ids": [Command.create({"product_id": self.chair.id, "price_unit": 100})],
                }
                for partner in (payer, debtor)
            ]
        )
        invoices.action_post()
        self.assertFalse(self._enrolments(campaign), "posted, not paid")
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoices[0].ids
        ).create({})._create_payments()
        self.assertIn(invoices[0].payment_state, ("paid", "in_payment"))
        enrolment = self._enrolments(campaign)
        self.assertEqual((enrolment.partner_id, enrolment.cause_ref), (payer, invoices[0].name))
