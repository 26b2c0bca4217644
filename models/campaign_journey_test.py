"""Test mode of a journey, on the campaign and its actions: the button that opens it, the steps a
test contact may take, and what a step does for it (the channels that send messages extend
``_journey_test_deliver``, see wizards/campaign_journey_test.py)."""

from odoo import models


class CampaignCampaign(models.Model):
    _inherit = "campaign.campaign"

    def action_test_journey(self):
        """Open the test mode of the campaign's journey for the current user."""
        self.ensure_one()
        self.check_access("read")
        test = self.env["campaign.journey.test"].create({"campaign_id": self.id})
        return test._reopen()


class CampaignAction(models.Model):
    _inherit = "campaign.action"

    def _journey_test_follows(self, partner):
        """Whether the test contact ``partner`` may take this step (its branch, see the branches)."""
        self.ensure_one()
        return True

    def _journey_test_when(self, labels):
        """When the step comes in the journey and for whom, in a few words (test mode's choice)."""
        self.ensure_one()
        if not self.parent_id:
            return self._journey_delay_label() if self.schedule_type == "entry" else self.env._("first step")
        delay = self._journey_delay_label()
        if self.followup_filter == "targets":
            return delay
        return f"{labels.get(self.followup_filter, '')} · {delay}"

    def _journey_delay_label(self):
        unit = dict(self._fields["delay_unit"]._description_selection(self.env)).get(self.delay_unit, "")
        if not self.delay:
            return self.env._("at once")
        return self.env._("%(delay)s %(unit)s later", delay=self.delay, unit=unit.lower())

    def _journey_test_deliver(self, test):
        """Carry the step out for the test of a journey (``test``: campaign.journey.test): each
        channel sending a message renders it for the test contact and delivers it to the test address
        (see the channels); a step that is no message to the contact (a task, an event, a call to
        another system) is only described, never carried out.

        :return: {"state": "sent"|"shown"|"failed", "recipient": str, "summary": str}
        """
        self.ensure_one()
        channel = dict(self._fields["channel"]._description_selection(self.env)).get(self.channel, self.channel)
        return {
            "state": "shown",
            "summary": self.env._(
                "“%(action)s” (%(channel)s) is not a message to the contact: the test does not carry it out.",
                action=self.name,
                channel=channel,
            ),
        }
