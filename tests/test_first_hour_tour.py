from odoo.tests import new_test_user, tagged

from .tour_common import TourCase


@tagged("post_install", "-at_install")
class TestFirstHourTour(TourCase):
    """In a real browser, as a marketing user (only the Marketing Campaigns / User group): what
    the first screens of a campaign say."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env,
            login="tour_marketing",
            name="Tour Marketing",
            email="tour.marketing@example.com",
            groups="campaign_manager.group_campaign_user",
        )
        cls.partners = cls.env["res.partner"].create(
            [{"name": f"Tour Winter {index}", "email": f"tour.winter.{index}@example.com"} for index in range(2)]
        )
        cls.template = cls.env["mail.template"].create(
            {
                "name": "Tour winter template",
                "model_id": cls.env["ir.model"]._get_id("res.partner"),
                "subject": "Winter offers for {{ object.name }}",
                "body_html": "<p>Hello {{ object.name }}</p>",
            }
        )
        env = cls.env(user=cls.user)
        cls.campaign = env["campaign.campaign"].create({"name": "TourWinter", "user_id": cls.user.id})
        env["campaign.target"].create(
            {"campaign_id": cls.campaign.id, "name": "Picked", "source": "manual", "partner_ids": cls.partners.ids}
        )

    def _action(self, **values):
        return self.env(user=self.user)["campaign.action"].create(
            {"campaign_id": self.campaign.id, "name": "Winter email", "channel": "email"} | values
        )

    def test_launch_note_says_when_the_actions_start(self):
        self._action(mail_template_id=self.template.id)
        self.start_tour(
            f"/odoo/action-campaign_manager.campaign_campaign_action/{self.campaign.id}",
            "campaign_launch_note_tour",
            login=self.user.login,
        )
        self.assertEqual(self.campaign.state, "active")

    def test_content_mailing_says_who_receives_it(self):
        action = self._action()
        self.start_tour(
            f"/odoo/action-campaign_manager.campaign_action_action/{action.id}",
            "campaign_content_recipients_tour",
            login=self.user.login,
        )
        self.assertTrue(action.mailing_id, "the email was created by Edit Email")

    def test_analysis_opens_on_the_message_figures(self):
        action = self._action(mail_template_id=self.template.id)
        self.env["campaign.campaign.launch"].create({"campaign_id": self.campaign.id, "mode": "now"}).action_launch()
        self.env["campaign.engine"]._cron_process()
        traces = action.run_ids.touchpoint_ids.mailing_trace_id.sorted("id")
        traces.set_sent()
        traces[:1].set_opened()
        self.start_tour(
            f"/odoo/action-campaign_manager.campaign_campaign_action/{self.campaign.id}",
            "campaign_analysis_tour",
            login=self.user.login,
        )
