from odoo.tests import TransactionCase, new_test_user


class CampaignCase(TransactionCase):
    """Shared fixtures: campaign users of two kinds, an accountant, and helpers that build contacts,
    campaigns and targets without demo data."""

    _phone_counter = 0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(
            context=dict(cls.env.context, tracking_disable=True, mail_create_nolog=True, mail_notrack=True)
        )
        cls.company = cls.env.company
        cls.user_marketing = new_test_user(
            cls.env, login="cm_user", name="Camille Marketing", groups="campaign_manager.group_campaign_user"
        )
        cls.user_marketing_2 = new_test_user(
            cls.env, login="cm_user2", name="Bruno Marketing", groups="campaign_manager.group_campaign_user"
        )
        cls.user_manager = new_test_user(
            cls.env, login="cm_manager", name="Manon Manager", groups="campaign_manager.group_campaign_manager"
        )
        cls.user_accountant = new_test_user(
            cls.env, login="cm_accountant", name="Alain Accountant", groups="account.group_account_invoice"
        )
        cls.user_employee = new_test_user(cls.env, login="cm_employee", name="Emile Employee", groups="base.group_user")
        cls.tag = cls.env["res.partner.category"].create({"name": "Campaign test tag"})
        cls.mail_template = cls.env["mail.template"].create(
            {
                "name": "Campaign test email",
                "model_id": cls.env["ir.model"]._get_id("res.partner"),
                "subject": "Hello {{ object.name }}",
                "body_html": '<p>Dear <t t-out="object.name"/>, '
                '<a href="https://shop.example.com/offer">see our offer</a>.</p>',
            }
        )

    @classmethod
    def _partners(cls, count, prefix="contact", **values):
        """Create ``count`` contacts with unique emails, phones and full addresses unless overridden."""
        country = cls.env.ref("base.fr")
        vals_list = []
        for index in range(count):
            CampaignCase._phone_counter += 1
            number = CampaignCase._phone_counter
            vals = {
                "name": f"{prefix} {index}",
                "email": f"{prefix}.{index}@example.com",
                "phone": f"+33 6 {number // 10000 % 100:02d} {number // 100 % 100:02d} {number % 100:02d} 11",
                "street": f"{index} rue de Paris",
                "zip": "75001",
                "city": "Paris",
                "country_id": country.id,
            }
            vals.update(values)
            vals_list.append(vals)
        return cls.env["res.partner"].create(vals_list)

    @classmethod
    def _campaign(cls, name="TestCampaign", **values):
        return cls.env["campaign.campaign"].create({"name": name, **values})

    @classmethod
    def _email_action(cls, campaign, name="Mail", **values):
        """An email action whose content comes from the test template."""
        return cls.env["campaign.action"].create(
            {"campaign_id": campaign.id, "name": name, "channel": "email", "mail_template_id": cls.mail_template.id}
            | values
        )

    @classmethod
    def _manual_target(cls, campaign, partners, name="Picked"):
        return cls.env["campaign.target"].create(
            {"campaign_id": campaign.id, "name": name, "source": "manual", "partner_ids": [(6, 0, partners.ids)]}
        )

    @classmethod
    def _filter_target(cls, campaign, domain, name="Filter", target_type="dynamic"):
        return cls.env["campaign.target"].create(
            {
                "campaign_id": campaign.id,
                "name": name,
                "source": "filter",
                "target_type": target_type,
                "partner_domain": str(domain),
            }
        )
