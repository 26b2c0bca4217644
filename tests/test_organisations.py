from odoo import fields
from odoo.tests import tagged
from odoo.tools import SQL

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestOrganisations(CampaignCase):
    """Targets reach companies, their contact persons (all or some) or both (seed 001); the
    expansion happens before de-duplication and exclusions; letters go to a person at their
    company's address."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Partner = cls.env["res.partner"]
        cls.acme = cls._partners(1, prefix="acme", name="ACME", is_company=True)
        cls.a1, cls.a2, cls.a3, cls.a4 = (
            cls._partners(1, prefix=prefix, parent_id=cls.acme.id, function=function)
            for prefix, function in (
                ("a1", "Purchasing Manager"),
                ("a2", "CEO"),
                ("a3", "Purchaser"),
                ("a4", "Purchaser"),
            )
        )
        cls.a1.category_id = cls.tag
        cls.a4.active = False
        cls.acme_delivery = Partner.create({"name": "ACME warehouse", "parent_id": cls.acme.id, "type": "delivery"})
        cls.beta = cls._partners(1, prefix="beta", name="BETA", is_company=True, street=False)
        cls.b1 = cls._partners(1, prefix="b1", parent_id=cls.beta.id, function="Assistant", street=False, email=False)
        cls.i1 = cls._partners(1, prefix="i1")
        # a3's address was lost by an import: letters to a3 go to ACME's address
        cls.env.flush_all()
        cls.env.cr.execute(
            SQL("UPDATE res_partner SET street = NULL, zip = NULL, city = NULL WHERE id = %s", cls.a3.id)
        )
        cls.a3.invalidate_recordset()

        cls.campaign = cls._campaign("Organisations")
        cls.target = cls._manual_target(cls.campaign, cls.acme | cls.beta | cls.i1 | cls.a2, name="Key accounts")

    def _reached(self, **reach):
        self.target.write(reach)
        self.env.flush_all()
        self.env.cr.execute(SQL("SELECT partner_id FROM (%s) AS t(partner_id)", self.target._reached_partner_ids_sql()))
        partner_ids = [row[0] for row in self.env.cr.fetchall()]
        self.assertEqual(len(partner_ids), len(set(partner_ids)), "each contact once per target")
        self.assertEqual(self.target.recipient_count, len(partner_ids))
        return self.env["res.partner"].browse(partner_ids)

    def test_reach_contacts_as_found_by_default(self):
        self.assertEqual(self.target.reach, "contacts")
        self.assertEqual(self._reached(), self.acme | self.beta | self.i1 | self.a2)

    def test_reach_companies(self):
        # a2 is replaced by ACME, i1 (no company) is left out
        self.assertEqual(self._reached(reach="companies"), self.acme | self.beta)

    def test_reach_contact_persons(self):
        # i1 and a2 found directly, a1 a2 a3 from ACME (not the archived a4 nor the delivery
        # address), b1 from BETA
        persons = self._reached(reach="persons")
        self.assertEqual(persons, self.i1 | self.a2 | self.a1 | self.a3 | self.b1)

    def test_reach_persons_by_function_or_tag(self):
        by_function = self._reached(reach="persons", person_function="purchas")
        self.assertEqual(by_function, self.i1 | self.a2 | self.a1 | self.a3)
        by_tag = self._reached(reach="persons", person_function=False, person_category_ids=self.tag)
        self.assertEqual(by_tag, self.i1 | self.a2 | self.a1)
        both_filters = self._reached(person_function="manager", person_category_ids=self.tag)
        self.assertEqual(both_filters, self.i1 | self.a2 | self.a1)

    def test_reach_companies_and_persons(self):
        reached = self._reached(reach="both")
        self.assertEqual(reached, self.acme | self.beta | self.i1 | self.a1 | self.a2 | self.a3 | self.b1)
        # the campaign's Reachable Now is Calculate's final count: b1 has no email, so 6 of the 7
        self.assertEqual((self.campaign.audience_size, self.campaign.audience_excluded), (6, 1))

    def test_dedup_and_exclusions_after_expansion(self):
        self.target.reach = "both"
        self._filter_target(self.campaign, [("id", "=", self.acme.id)], name="ACME people").reach = "persons"
        self.env["mail.blacklist"]._add(self.a1.email)
        stats = self.campaign._resolve_recipients("email")
        self.assertEqual(stats["total"], 10, "7 from the key accounts + a1 a2 a3 from ACME")
        self.assertEqual(stats["contacts"], 7)
        self.assertEqual(stats["duplicates"], 3)
        self.assertEqual(stats["excluded"], {"blacklisted": 1, "no_address": 1}, "a1 blacklisted, b1 has no email")
        self.assertEqual(stats["final"], 5)

    def test_letter_to_person_at_company_address(self):
        self.target.reach = "both"
        action = self.env["campaign.action"].create(
            {"campaign_id": self.campaign.id, "name": "Letter", "channel": "letter"}
        )
        self.env.flush_all()
        self.env.cr.execute(self.target._classified_sql("letter", action))
        reasons = {row[0]: row[1] for row in self.env.cr.fetchall()}
        # BETA and b1 have no street; a3 has none either but ACME has a full address
        self.assertEqual(
            reasons,
            {
                self.acme.id: None,
                self.beta.id: "no_address",
                self.i1.id: None,
                self.a1.id: None,
                self.a2.id: None,
                self.a3.id: None,
                self.b1.id: "no_address",
            },
        )
        self.assertEqual(self.a3._campaign_letter_address(), self.acme)
        self.assertEqual(self.a1._campaign_letter_address(), self.a1)
        self.assertEqual(self.b1._campaign_letter_address(), self.b1)
        block = self.a3._campaign_letter_address_block().split("\n")
        self.assertEqual(block[:3], ["a3 0", "ACME", "0 rue de Paris"])
        self.assertIn("75001 Paris", block)
        self.assertEqual(self.i1._campaign_letter_address_block().split("\n")[:2], ["i1 0", "0 rue de Paris"])

    def test_action_overrides_the_targets_reach(self):
        self.target.reach = "both"
        action = self.env["campaign.action"].create(
            {"campaign_id": self.campaign.id, "name": "Letter", "channel": "letter", "reach": "companies"}
        )
        stats = action._audience_stats()
        self.assertEqual((stats["contacts"], stats["excluded"], stats["final"]), (2, {"no_address": 1}, 1))
        action.write({"reach": "persons", "person_function": "Purchas"})
        stats = action._audience_stats()
        self.assertEqual((stats["contacts"], stats["excluded"], stats["final"]), (4, {}, 4))
        action.reach = "target"
        self.assertEqual(action._audience_stats()["final"], 5)

    def test_calculate_wizard_uses_the_action_reach(self):
        self.target.reach = "persons"
        action = self.env["campaign.action"].create(
            {"campaign_id": self.campaign.id, "name": "Mail", "channel": "email", "reach": "companies"}
        )
        wizard = self.env["campaign.campaign.calculate"].create({"campaign_id": self.campaign.id})
        self.assertEqual((wizard.channel, wizard.total, wizard.final), ("email", 5, 4), "b1 has no email")
        wizard.action_id = action
        wizard.action_calculate()
        self.assertEqual((wizard.total, wizard.final), (2, 2))

    def test_engine_run_follows_the_reach(self):
        """The engine's run creates one touchpoint per company / person reached, with its figures."""
        self.target.reach = "both"
        calls = self.env["campaign.action"].create(
            {"campaign_id": self.campaign.id, "name": "Call the companies", "channel": "task", "reach": "companies"}
        )
        run = self.env["campaign.engine"]._create_run(calls, fields.Datetime.now())
        self.assertEqual(run.touchpoint_ids.partner_id, self.acme | self.beta)
        self.assertEqual((run.total_count, run.duplicate_count, run.excluded_count, run.planned_count), (2, 0, 0, 2))
        letters = self.env["campaign.action"].create(
            {"campaign_id": self.campaign.id, "name": "Letters", "channel": "letter"}
        )
        run = self.env["campaign.engine"]._create_run(letters, fields.Datetime.now())
        planned = run.touchpoint_ids.filtered(lambda tp: tp.state == "planned")
        self.assertEqual(planned.partner_id, self.acme | self.i1 | self.a1 | self.a2 | self.a3)
        self.assertEqual((run.total_count, run.excluded_count), (7, 2), "BETA and b1 have no address")
