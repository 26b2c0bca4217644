import threading
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.addons.campaign_manager.models.campaign_engine import CampaignEngine
from odoo.tests import tagged
from odoo.tools import SQL

from .common import CommittedWorkersCase, WorkerKilled

SUBSCRIBERS = 30
BATCH = 4


@tagged("post_install", "-at_install")
class TestJourneyWorkers(CommittedWorkersCase):
    """A trigger-fed journey with real commits, as in production: contacts who joined the list are
    reached by its first step exactly once, by two workers at once, and by a worker killed in the
    middle of the step then run again."""

    def setUp(self):
        super().setUp()
        context = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}
        with self._real_cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, context)
            newsletter = env["mailing.list"].create({"name": "Journey workers"})
            template = env["mail.template"].create(
                {
                    "name": "Journey workers",
                    "model_id": env["ir.model"]._get_id("res.partner"),
                    "subject": "Welcome {{ object.name }}",
                    "body_html": "<p>Welcome</p>",
                }
            )
            campaign = env["campaign.campaign"].create({"name": "JourneyWorkers"})
            env["campaign.trigger"].create(
                {"campaign_id": campaign.id, "trigger_type": "mailing_list", "mailing_list_id": newsletter.id}
            )
            action = env["campaign.action"].create(
                {
                    "campaign_id": campaign.id,
                    "name": "Welcome",
                    "channel": "email",
                    "mail_template_id": template.id,
                    "schedule_type": "entry",
                    "delay": 0,
                }
            )
            env["campaign.campaign.launch"].create({"campaign_id": campaign.id, "mode": "now"}).action_launch()
            contacts = env["mailing.contact"].create(
                [
                    {
                        "name": f"journey worker {i}",
                        "email": f"journey.worker.{i}@example.com",
                        "subscription_ids": [(0, 0, {"list_id": newsletter.id})],
                    }
                    for i in range(SUBSCRIBERS)
                ]
            )
            partners = env["res.partner"].search([("email", "=like", "journey.worker.%@example.com")])
            self.ids = {
                "list": newsletter.id,
                "contacts": tuple(contacts.ids),
                "partners": tuple(partners.ids),
                "template": template.id,
                "campaign": campaign.id,
                "action": action.id,
                "utm_campaign": campaign.utm_campaign_id.id,
                "utm_source": action.source_id.id,
            }
        self.addCleanup(self._remove_fixture)

    def _remove_fixture(self):
        ids = self.ids
        mailings = "SELECT id FROM mailing_mailing WHERE campaign_action_id = %s"
        statements = (
            (f"DELETE FROM mail_mail WHERE mailing_id IN ({mailings})", ids["action"]),
            (f"DELETE FROM mailing_trace WHERE mass_mailing_id IN ({mailings})", ids["action"]),
            ("DELETE FROM campaign_enrolment WHERE campaign_id = %s", ids["campaign"]),
            ("DELETE FROM campaign_touchpoint WHERE campaign_id = %s", ids["campaign"]),
            ("UPDATE campaign_action_run SET mailing_id = NULL WHERE campaign_id = %s", ids["campaign"]),
            ("DELETE FROM mailing_mailing WHERE campaign_action_id = %s", ids["action"]),
            ("DELETE FROM campaign_action_run WHERE campaign_id = %s", ids["campaign"]),
            ("DELETE FROM campaign_action WHERE campaign_id = %s", ids["campaign"]),
            ("DELETE FROM campaign_trigger WHERE campaign_id = %s", ids["campaign"]),
            ("DELETE FROM campaign_campaign WHERE id = %s", ids["campaign"]),
            ("DELETE FROM utm_source WHERE id = %s", ids["utm_source"]),
            ("DELETE FROM utm_campaign WHERE id = %s", ids["utm_campaign"]),
            ("DELETE FROM mail_template WHERE id = %s", ids["template"]),
            ("DELETE FROM mailing_subscription WHERE list_id = %s", ids["list"]),
            ("DELETE FROM mailing_contact WHERE id IN %s", ids["contacts"]),
            ("DELETE FROM mailing_list WHERE id = %s", ids["list"]),
            ("DELETE FROM mail_message WHERE model = 'res.partner' AND res_id IN %s", ids["partners"]),
            ("DELETE FROM res_partner WHERE id IN %s", ids["partners"]),
        )
        self._execute_committed(SQL(query, param) for query, param in statements)

    def _assert_each_reached_once(self):
        with self._real_cursor() as cr:
            cr.execute(
                SQL(
                    """SELECT COUNT(*), COUNT(DISTINCT partner_id), COUNT(*) FILTER (WHERE state = 'queued')
                         FROM campaign_touchpoint WHERE action_id = %s""",
                    self.ids["action"],
                )
            )
            self.assertEqual(cr.fetchone(), (SUBSCRIBERS, SUBSCRIBERS, SUBSCRIBERS), "one touchpoint each, all sent")
            cr.execute(
                SQL(
                    """SELECT COUNT(*), COUNT(DISTINCT res_id) FROM mailing_trace
                        WHERE mass_mailing_id IN (SELECT id FROM mailing_mailing WHERE campaign_action_id = %s)""",
                    self.ids["action"],
                )
            )
            self.assertEqual(cr.fetchone(), (SUBSCRIBERS, SUBSCRIBERS), "nobody mailed twice, nobody dropped")
            cr.execute(
                SQL(
                    "SELECT COUNT(*) FROM campaign_enrolment WHERE campaign_id = %s AND step_action_id = %s",
                    self.ids["campaign"],
                    self.ids["action"],
                )
            )
            self.assertEqual(cr.fetchone()[0], SUBSCRIBERS, "every contact moved on to the step")

    def test_two_workers_reach_each_subscriber_once(self):
        with self.committed_workers(lambda env: env["campaign.engine"]._cron_process(batch_size=BATCH), count=2):
            pass
        self._assert_each_reached_once()

    def test_worker_killed_in_the_step_then_rerun(self):
        original = CampaignEngine._carry_out
        calls = []

        def die_at_third_batch(engine, run, touchpoints):
            calls.append(len(touchpoints))
            if len(calls) == 3:
                raise WorkerKilled()
            return original(engine, run, touchpoints)

        def killed(env):
            try:
                env["campaign.engine"]._cron_process(batch_size=BATCH)
            except WorkerKilled:
                threading.current_thread().killed = True  # the process dies: its transaction is lost

        with patch.object(CampaignEngine, "_carry_out", die_at_third_batch), self.committed_workers(killed) as threads:
            pass
        self.assertTrue(getattr(threads[0], "killed", False))
        with self._real_cursor() as cr:
            cr.execute(
                SQL(
                    "SELECT state, COUNT(*) FROM campaign_touchpoint WHERE action_id = %s GROUP BY state",
                    self.ids["action"],
                )
            )
            self.assertEqual(
                dict(cr.fetchall()),
                {"queued": 2 * BATCH, "planned": SUBSCRIBERS - 2 * BATCH},
                "two batches committed, the rest left planned",
            )
        with self.committed_workers(lambda env: env["campaign.engine"]._cron_process(batch_size=BATCH)):
            pass
        self._assert_each_reached_once()
