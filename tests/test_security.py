from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import CampaignCase


@tagged("post_install", "-at_install")
class TestSecurity(CampaignCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.partners = cls._partners(2)
        Campaign = cls.env["campaign.campaign"]
        cls.company_campaign = Campaign.create({"name": "CompanyWide", "user_id": cls.user_marketing_2.id})
        cls.personal_mine = Campaign.create(
            {"name": "MinePersonal", "scope": "personal", "user_id": cls.user_marketing.id}
        )
        cls.personal_other = Campaign.create(
            {"name": "OtherPersonal", "scope": "personal", "user_id": cls.user_marketing_2.id}
        )
        for campaign in cls.company_campaign | cls.personal_mine | cls.personal_other:
            target = cls._manual_target(campaign, cls.partners)
            action = cls.env["campaign.action"].create(
                {"campaign_id": campaign.id, "name": "Mail", "target_ids": [(4, target.id)]}
            )
            cls.env["campaign.touchpoint"].create({"action_id": action.id, "partner_id": cls.partners[0].id})
        cls.other_company = cls.env["res.company"].create({"name": "Campaign Other Co"})
        cls.foreign_campaign = Campaign.create({"name": "Foreign", "company_id": cls.other_company.id})
        cls.mine = cls.company_campaign | cls.personal_mine | cls.personal_other

    def _visible(self, user, model="campaign.campaign"):
        return (
            self.env[model]
            .with_user(user)
            .search([("campaign_id" if model != "campaign.campaign" else "id", "!=", False)])
        )

    def test_personal_campaigns_visible_to_owner_and_managers_only(self):
        visible = self._visible(self.user_marketing)
        self.assertIn(self.company_campaign, visible)
        self.assertIn(self.personal_mine, visible)
        self.assertNotIn(self.personal_other, visible)
        visible_2 = self._visible(self.user_marketing_2)
        self.assertIn(self.personal_other, visible_2)
        self.assertNotIn(self.personal_mine, visible_2)
        self.assertTrue(self.mine <= self._visible(self.user_manager))
        with self.assertRaises(AccessError):
            self.personal_other.with_user(self.user_marketing).read(["name"])
        with self.assertRaises(AccessError):
            self.personal_other.with_user(self.user_marketing).write({"budget": 10})

    def test_personal_rule_follows_to_targets_actions_touchpoints(self):
        for model in ("campaign.target", "campaign.action", "campaign.touchpoint"):
            records = self._visible(self.user_marketing, model)
            self.assertEqual(
                records.campaign_id, self.company_campaign | self.personal_mine, f"{model} follows its campaign"
            )
            self.assertEqual(self._visible(self.user_manager, model).campaign_id & self.mine, self.mine)

    def test_multi_company_isolation(self):
        self.user_manager.write({"company_ids": [(4, self.company.id)]})
        self.assertNotIn(self.foreign_campaign, self._visible(self.user_manager))
        with self.assertRaises(AccessError):
            self.foreign_campaign.with_user(self.user_manager).read(["name"])
        self.user_manager.write({"company_ids": [(4, self.other_company.id)]})
        visible = (
            self.env["campaign.campaign"]
            .with_user(self.user_manager)
            .with_context(allowed_company_ids=[self.company.id, self.other_company.id])
            .search([])
        )
        self.assertIn(self.foreign_campaign, visible)

    def test_user_creates_own_campaign(self):
        campaign = self.env["campaign.campaign"].with_user(self.user_marketing).create({"name": "ByUser"})
        self.assertEqual(campaign.user_id, self.user_marketing)
        self.assertTrue(campaign.utm_campaign_id, "the UTM campaign is created even without UTM rights")
        target = (
            self.env["campaign.target"]
            .with_user(self.user_marketing)
            .create(
                {
                    "campaign_id": campaign.id,
                    "name": "Mine",
                    "source": "filter",
                    "partner_domain": str([("id", "in", self.partners.ids)]),
                }
            )
        )
        self.assertEqual(campaign.with_user(self.user_marketing)._resolve_recipients("email")["final"], 2)
        self.assertEqual(target.recipient_count, 2)

    def test_accountant_reads_but_changes_nothing(self):
        campaign = self.company_campaign.with_user(self.user_accountant)
        self.assertEqual(campaign.name, "CompanyWide")
        self.assertTrue(campaign.action_ids.touchpoint_ids)
        with self.assertRaises(AccessError):
            campaign.write({"budget": 1})
        with self.assertRaises(AccessError):
            self.env["campaign.campaign"].with_user(self.user_accountant).create({"name": "ByAccountant"})
        with self.assertRaises(AccessError):
            campaign.action_ids.with_user(self.user_accountant).write({"fixed_cost": 3})
        self.assertNotIn(self.personal_other, self._visible(self.user_accountant))

    def test_accountant_reads_figures_of_a_mailing_list_target(self):
        """Accountants cannot read mailing lists (Email Marketing's right), yet the campaign's audience
        and its targets' counts, which read the lists' subscribers, open for them."""
        extra = self._partners(3, prefix="listed")
        mailing_list = self.env["mailing.list"].create({"name": "Accountant list"})
        self.env["mailing.contact"].create(
            [{"name": partner.name, "email": partner.email, "list_ids": [(4, mailing_list.id)]} for partner in extra]
        )
        campaign = self._campaign("ListCampaign")
        target = self.env["campaign.target"].create(
            {
                "campaign_id": campaign.id,
                "name": "Subscribers",
                "source": "mailing_list",
                "mailing_list_ids": [(4, mailing_list.id)],
            }
        )
        self._manual_target(campaign, self.partners | extra[0])
        with self.assertRaises(AccessError):
            mailing_list.with_user(self.user_accountant).check_access("read")
        as_accountant = campaign.with_user(self.user_accountant)
        self.assertEqual(as_accountant.target_ids.with_user(self.user_accountant).mapped("recipient_count"), [3, 3])
        self.assertEqual(target.with_user(self.user_accountant).recipient_count, 3)
        self.assertEqual(as_accountant.audience_size, 5)

    def test_user_without_group_refused(self):
        for model in ("campaign.campaign", "campaign.target", "campaign.action", "campaign.touchpoint"):
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.user_employee).search([])
        with self.assertRaises(AccessError):
            self.env["campaign.campaign"].with_user(self.user_employee).create({"name": "Nope"})

    def test_user_cannot_delete_touchpoints(self):
        touchpoint = self.company_campaign.touchpoint_ids.with_user(self.user_marketing)
        with self.assertRaises(AccessError):
            touchpoint.unlink()
