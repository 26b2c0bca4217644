from datetime import date

from odoo.tests import Form

from .common import CampaignCase


class JourneyCase(CampaignCase):
    """A welcome journey (issue 14): contacts enter on joining the newsletter, receive a welcome
    email at once and a second email two days after it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.newsletter = cls.env["mailing.list"].create({"name": "Newsletter"})
        cls.other_list = cls.env["mailing.list"].create({"name": "Other list"})
        cls.campaign = cls._campaign("Welcome", date_start=date(2026, 3, 1))
        cls.trigger = cls.env["campaign.trigger"].create(
            {"campaign_id": cls.campaign.id, "trigger_type": "mailing_list", "mailing_list_id": cls.newsletter.id}
        )
        cls.step_1 = cls._email_action(cls.campaign, name="Welcome", schedule_type="entry", delay=0)
        cls.step_2 = cls._email_action(
            cls.campaign, name="Second", schedule_type="after", parent_id=cls.step_1.id, delay=2, delay_unit="days"
        )

    def _launch(self, campaign=None):
        campaign = campaign or self.campaign
        Form(self.env["campaign.campaign.launch"].with_context(default_campaign_id=campaign.id)).save().action_launch()

    def _process(self):
        self.env["campaign.engine"]._cron_process()

    def _subscribe(self, name, mailing_list=None, **values):
        """A subscriber joining the list as the website's form makes them (a mailing contact, then
        its subscription)."""
        contact = self.env["mailing.contact"].create({"name": name, "email": f"{name}@example.com", **values})
        return self.env["mailing.subscription"].create(
            {"contact_id": contact.id, "list_id": (mailing_list or self.newsletter).id}
        )

    def _partner(self, name):
        return self.env["res.partner"].search([("email", "=", f"{name}@example.com")])

    def _enrolments(self, campaign=None):
        return self.env["campaign.enrolment"].search([("campaign_id", "=", (campaign or self.campaign).id)])

    def _touchpoints(self, action):
        return self.env["campaign.touchpoint"].search([("action_id", "=", action.id)])
