import threading
import time
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.addons.campaign_manager.models.mailing_mailing import MailingMailing
from odoo.tests import tagged
from odoo.tools import SQL

from .common import CommittedWorkersCase

PARTNERS = 60
BATCH = 5


@tagged("post_install", "-at_install")
class TestConcurrentWorkers(CommittedWorkersCase):
    """Two workers (two database connections, two threads, real commits as in production) dispatch
    the same run at once: every contact is mailed exactly once and both workers take part.

    The fixture is committed (other connections must see it) and removed afterwards."""

    def setUp(self):
        super().setUp()
        context = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}
        with self._real_cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, context)
            partners = env["res.partner"].create(
                [{"name": f"worker {i}", "email": f"worker.{i}@example.com"} for i in range(PARTNERS)]
            )
            template = env["mail.template"].create(
                {
                    "name": "Concurrency",
                    "model_id": env["ir.model"]._get_id("res.partner"),
                    "subject": "Hi {{ object.name }}",
                    "body_html": "<p>Hello</p>",
                }
            )
            action = self._launched_email_campaign(env, "ConcurrencyTest", partners, template)
            campaign = action.campaign_id
            run = env["campaign.engine"]._start_due_runs()
            env["mailing.mailing"]._campaign_run_mailing(run)
            self.ids = {
                "partners": partners.ids,
                "template": template.id,
                "campaign": campaign.id,
                "run": run.id,
                "mailing": run.mailing_id.id,
                "utm_campaign": campaign.utm_campaign_id.id,
                "utm_source": action.source_id.id,
            }
        self.addCleanup(self._remove_fixture)

    def _remove_fixture(self):
        ids = self.ids
        self._remove_email_campaigns(
            [ids["campaign"]],
            [ids["mailing"]],
            [ids["utm_source"]],
            [ids["utm_campaign"]],
            [ids["template"]],
            ids["partners"],
        )

    def test_two_workers_share_a_run_without_duplicates(self):
        original = MailingMailing._campaign_send
        workers_of_batch = []

        def slow_send(mailing_model, run, touchpoints):
            workers_of_batch.append(threading.current_thread().name)
            time.sleep(0.05)  # long enough for the other worker to come in
            return original(mailing_model, run, touchpoints)

        # production behaviour inside the workers: each batch commits
        with (
            patch.object(MailingMailing, "_campaign_send", slow_send),
            self.committed_workers(lambda env: env["campaign.engine"]._dispatch_pending(batch_size=BATCH), count=2),
        ):
            pass
        self.assertEqual(set(workers_of_batch), {"worker-1", "worker-2"}, "both workers carried batches")
        # a batch undone by a conflict with the other worker is carried again, never duplicated
        self.assertGreaterEqual(len(workers_of_batch), PARTNERS // BATCH)
        with self._real_cursor() as cr:
            cr.execute(
                SQL(
                    """SELECT res_id, COUNT(*) FROM mailing_trace WHERE mass_mailing_id = %s
                       GROUP BY res_id HAVING COUNT(*) > 1""",
                    self.ids["mailing"],
                )
            )
            self.assertEqual(cr.fetchall(), [], "nobody mailed twice")
            cr.execute(SQL("SELECT COUNT(*) FROM mail_mail WHERE mailing_id = %s", self.ids["mailing"]))
            self.assertEqual(cr.fetchone()[0], PARTNERS, "nobody dropped")
            cr.execute(
                SQL(
                    "SELECT state, COUNT(*) FROM campaign_touchpoint WHERE run_id = %s GROUP BY state",
                    self.ids["run"],
                )
            )
            states = dict(cr.fetchall())
            cr.execute(
                SQL("SELECT DISTINCT failure_reason FROM campaign_touchpoint WHERE run_id = %s", self.ids["run"])
            )
            self.assertEqual(states, {"queued": PARTNERS}, cr.fetchall())
            env = api.Environment(cr, SUPERUSER_ID, {})
            run = env["campaign.action.run"].browse(self.ids["run"])
            if run.state != "done":  # both finished at once: the next pass closes it
                env["campaign.engine"]._finish_if_complete(run)
            self.assertEqual(run.state, "done")
