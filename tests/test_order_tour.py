from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestOrderTour(HttpCase):
    """In a real browser: from the Campaigns menu, order a campaign step by step and launch it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # a marketing user as Odoo gives them: Marketing Campaigns / User only
        new_test_user(cls.env, login="cm_order_tour", groups="campaign_manager.group_campaign_user")
        cls.contact = cls.env["res.partner"].create({"name": "Tour Contact One", "email": "tour.contact.1@example.com"})
        cls.template = cls.env["mail.template"].create(
            {
                "name": "Tour Template",
                "model_id": cls.env["ir.model"]._get_id("res.partner"),
                "subject": "Spring offers for {{ object.name }}",
                "body_html": "<p>Hello</p>",
            }
        )

    def test_order_tour(self):
        self.start_tour("/odoo", "campaign_order_tour", login="cm_order_tour")
        campaign = self.env["campaign.campaign"].search([("name", "=", "TourSpring")])
        self.assertEqual(len(campaign), 1)
        self.assertEqual((campaign.state, campaign.order_step), ("active", "done"))
        self.assertEqual(campaign.target_ids.partner_ids, self.contact)
        action = campaign.action_ids
        self.assertEqual(
            (action.channel, action.mail_template_id, action.schedule_type), ("email", self.template, "now")
        )
        # its run started with the launch (the campaign's form showed it at once)
        self.assertEqual((action.state, len(action.run_ids)), ("running", 1))
