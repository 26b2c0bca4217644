"""Delivery workers with real commits: several workers at once, workers killed (``kill -9`` of a
worker process running the scheduler's own loop), a stop in the middle of a delivery. Every email
goes to a real SMTP server on loopback.

The fixtures are committed (other connections and processes must see them) and removed afterwards."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.addons.base.models.ir_mail_server import IrMail_Server
from odoo.tests import tagged
from odoo.tools import SQL, config, mute_logger

from .common import CommittedWorkersCase
from .smtp_server import LocalSMTPServer

WORKER_SCRIPT = Path(__file__).with_name("delivery_worker.py")
CONTEXT = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}


class CommittedCampaignCase(CommittedWorkersCase):
    """A committed campaign whose email run is queued (``count`` emails waiting for the delivery
    workers), a mail server on loopback, and the removal of all of it afterwards."""

    prefix = "delivery"

    def _commit_fixture(self, count, port, batch_size=None):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, CONTEXT)
            servers = env["ir.mail_server"].search([("active", "=", True)])
            servers.write({"active": False})
            server = env["ir.mail_server"].create(
                {"name": "Loopback", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_encryption": "none"}
            )
            partners = env["res.partner"].create(
                [{"name": f"{self.prefix} {i}", "email": f"{self.prefix}.{i}@example.com"} for i in range(count)]
            )
            template = env["mail.template"].create(
                {
                    "name": "Delivery",
                    "model_id": env["ir.model"]._get_id("res.partner"),
                    "subject": "Hi {{ object.name }}",
                    "body_html": '<p>Hello <t t-out="object.name"/>, <a href="https://shop.example.com">shop</a></p>',
                }
            )
            campaign = env["campaign.campaign"].create({"name": f"{self.prefix.title()}Workers"})
            env["campaign.target"].create(
                {"campaign_id": campaign.id, "name": "All", "source": "manual", "partner_ids": [(6, 0, partners.ids)]}
            )
            action = env["campaign.action"].create(
                {"campaign_id": campaign.id, "name": "Mail", "channel": "email", "mail_template_id": template.id}
            )
            env["campaign.campaign.launch"].create({"campaign_id": campaign.id, "mode": "now"}).action_launch()
            env["campaign.engine"]._cron_process()
            run = action.run_ids
            parameter = env["ir.config_parameter"]
            previous_batch = parameter.get_param("campaign_manager.delivery_batch_size")
            if batch_size:
                parameter.set_param("campaign_manager.delivery_batch_size", batch_size)
            self.ids = {
                "servers": servers.ids,
                "server": server.id,
                "partners": partners.ids,
                "template": template.id,
                "campaign": campaign.id,
                "action": action.id,
                "run": run.id,
                "mailing": run.mailing_id.id,
                "utm_campaign": campaign.utm_campaign_id.id,
                "utm_source": action.source_id.id,
                "batch": previous_batch,
                "crons": [cron.id for cron in env["campaign.delivery"]._worker_crons().values()],
            }
        self.addCleanup(self._remove_fixture)
        with self.registry.cursor() as cr:
            cr.execute(SQL("SELECT COUNT(*) FROM mail_mail WHERE mailing_id = %s", self.ids["mailing"]))
            self.assertEqual(cr.fetchone()[0], count, "every email queued for the workers")

    def _remove_fixture(self):
        ids = self.ids
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, CONTEXT)
            env["campaign.delivery"]._sync_worker_crons(1)
            if ids["batch"]:
                env["ir.config_parameter"].set_param("campaign_manager.delivery_batch_size", ids["batch"])
            else:
                env["ir.config_parameter"].search([("key", "=", "campaign_manager.delivery_batch_size")]).unlink()
            env.flush_all()
            mailings = SQL(
                "SELECT id FROM mailing_mailing WHERE campaign_action_id IN "
                "(SELECT id FROM campaign_action WHERE campaign_id = %s)",
                ids["campaign"],
            )
            statements = [
                SQL("DELETE FROM campaign_delivery_receipt"),
                SQL("DELETE FROM mail_mail WHERE mailing_id IN (%s)", mailings),
                SQL("DELETE FROM mailing_trace WHERE mass_mailing_id IN (%s)", mailings),
                SQL("DELETE FROM link_tracker_click WHERE mass_mailing_id IN (%s)", mailings),
                SQL("DELETE FROM link_tracker WHERE mass_mailing_id IN (%s)", mailings),
                SQL("DELETE FROM campaign_touchpoint WHERE action_id = %s", ids["action"]),
                SQL("UPDATE campaign_action_run SET mailing_id = NULL WHERE action_id = %s", ids["action"]),
                SQL("DELETE FROM mailing_mailing WHERE id IN (%s)", mailings),
                SQL("DELETE FROM campaign_action_run WHERE action_id = %s", ids["action"]),
                SQL("DELETE FROM campaign_action WHERE campaign_id = %s", ids["campaign"]),
                SQL("DELETE FROM mail_message WHERE model = 'campaign.campaign' AND res_id = %s", ids["campaign"]),
                SQL("DELETE FROM campaign_campaign WHERE id = %s", ids["campaign"]),
                SQL("DELETE FROM utm_source WHERE id = %s", ids["utm_source"]),
                SQL("DELETE FROM utm_campaign WHERE id = %s", ids["utm_campaign"]),
                SQL("DELETE FROM mail_template WHERE id = %s", ids["template"]),
                SQL("DELETE FROM mail_message WHERE model = 'res.partner' AND res_id IN %s", tuple(ids["partners"])),
                SQL("DELETE FROM res_partner WHERE id IN %s", tuple(ids["partners"])),
                SQL("DELETE FROM ir_mail_server WHERE id = %s", ids["server"]),
            ]
            if ids["servers"]:
                statements.append(SQL("UPDATE ir_mail_server SET active = TRUE WHERE id IN %s", tuple(ids["servers"])))
            for statement in statements:
                cr.execute(statement)

    def _state(self):
        """(touchpoint states, trace states, mails left, receipts left) of the run, as committed."""
        with self.registry.cursor() as cr:
            cr.execute(
                SQL("SELECT state, COUNT(*) FROM campaign_touchpoint WHERE run_id = %s GROUP BY state", self.ids["run"])
            )
            touchpoints = dict(cr.fetchall())
            cr.execute(
                SQL(
                    "SELECT trace_status, COUNT(*) FROM mailing_trace WHERE mass_mailing_id = %s GROUP BY trace_status",
                    self.ids["mailing"],
                )
            )
            traces = dict(cr.fetchall())
            cr.execute(
                SQL("SELECT COUNT(*) FROM mail_mail WHERE mailing_id = %s AND state = 'outgoing'", self.ids["mailing"])
            )
            waiting = cr.fetchone()[0]
            cr.execute("SELECT COUNT(*) FROM campaign_delivery_receipt")
            receipts = cr.fetchone()[0]
        return touchpoints, traces, waiting, receipts

    @staticmethod
    def _recipients(server):
        return [message["rcpt_tos"][0] for message in server.messages]


@tagged("post_install", "-at_install")
class TestParallelDelivery(CommittedCampaignCase):
    """Three workers (three database connections, real commits) deliver the same run at once over
    their own SMTP sessions: every email is delivered exactly once, every worker takes part, and
    mass mailing's traces and the touchpoints say sent."""

    prefix = "parallel"

    def test_three_workers_never_deliver_the_same_email(self):
        count = 90
        with LocalSMTPServer(slow_rcpt=0.005) as server:
            self._commit_fixture(count, server.port)
            with self.registry.cursor() as cr:
                api.Environment(cr, SUPERUSER_ID, {})["campaign.delivery"]._sync_worker_crons(3)
            batches = Counter()
            original = type(self.env["mail.mail"])._campaign_deliver

            def deliver(mails, ledger, campaign_of):
                batches[threading.current_thread().name] += len(mails)
                return original(mails, ledger, campaign_of)

            with (
                patch.object(IrMail_Server, "_disable_send", return_value=False),
                patch.object(type(self.env["mail.mail"]), "_campaign_deliver", deliver),
                mute_logger("odoo.addons.mail.models.mail_mail"),
                self.committed_workers(lambda env: env["campaign.delivery"]._cron_deliver(batch_size=5), count=3),
            ):
                pass
        self.assertEqual(set(batches), {"worker-1", "worker-2", "worker-3"}, "every worker delivered")
        self.assertEqual(sum(batches.values()), count, "no email taken by two workers")
        recipients = self._recipients(server)
        self.assertEqual(len(recipients), count)
        self.assertEqual(len(set(recipients)), count, "nobody mailed twice")
        message_ids = {message["message"]["Message-ID"] for message in server.messages}
        self.assertEqual(len(message_ids), count)
        touchpoints, traces, waiting, receipts = self._state()
        self.assertEqual(touchpoints, {"sent": count})
        self.assertEqual(traces, {"sent": count}, "mass mailing's statistics")
        self.assertEqual((waiting, receipts), (0, 0))
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            self.assertEqual(len(env["campaign.delivery"]._worker_crons()), 3, "the setting made three jobs")
            self.assertEqual(env["mailing.mailing"].browse(self.ids["mailing"]).sent, count)


@tagged("post_install", "-at_install")
class TestKilledWorker(CommittedCampaignCase):
    """A worker process running the scheduler's own loop on its delivery job, killed (``kill -9``)
    three times while it delivers, restarted each time: every email is delivered, at most one
    twice per kill (the one the server accepted just before the kill, with the same Message-ID),
    and the job is not put off by the scheduler: the last restart finishes in seconds."""

    prefix = "killed"

    def _start_worker(self):
        """A worker process with its registry loaded, waiting for ``_go``."""
        process = subprocess.Popen(
            [
                sys.executable,
                str(WORKER_SCRIPT),
                config["config"],
                self.env.cr.dbname,
                ",".join(map(str, self.ids["crons"])),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.addCleanup(self._stop, process)
        return process

    def _go(self, process):
        self.assertEqual(process.stdout.readline().strip(), "ready")
        process.stdin.write("go\n")
        process.stdin.flush()

    @staticmethod
    def _stop(process):
        if process.poll() is None:
            process.kill()
            process.wait(30)

    @staticmethod
    def _wait_for(server, count, timeout):
        deadline = time.monotonic() + timeout
        while len(server.messages) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return len(server.messages)

    def test_killed_three_times_each_email_once_and_not_put_off(self):
        count = 300
        kills = 3
        with LocalSMTPServer(slow_rcpt=0.003) as server:
            self._commit_fixture(count, server.port, batch_size=20)
            worker = self._start_worker()
            for kill in range(kills):
                self._go(worker)
                following = self._start_worker()  # loads its registry meanwhile
                target = len(server.messages) + 50
                self.assertGreaterEqual(self._wait_for(server, target, 120), target, f"delivering before kill {kill}")
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait(30)
                worker = following
            self._go(worker)
            started = time.monotonic()
            deadline = started + 90
            while len(set(self._recipients(server))) < count and time.monotonic() < deadline:
                time.sleep(0.05)
            finished = time.monotonic() - started
            time.sleep(0.5)  # nothing more arrives
            self._stop(worker)
        recipients = self._recipients(server)
        self.assertEqual(len(set(recipients)), count, "nobody lost")
        twice = [rcpt for rcpt, seen in Counter(recipients).items() if seen > 1]
        self.assertLessEqual(len(recipients) - count, kills, "at most one email twice per kill")
        for rcpt in twice:
            ids = {message["message"]["Message-ID"] for message in server.messages if message["rcpt_tos"][0] == rcpt}
            self.assertEqual(len(ids), 1, "sent again with the same Message-ID")
        self.assertLess(finished, 60, "the job went on at once after the last restart")
        for _attempt in range(50):  # the last batch is recorded just after its last email
            touchpoints, traces, waiting, receipts = self._state()
            if touchpoints == {"sent": count}:
                break
            time.sleep(0.1)
        self.assertEqual(touchpoints, {"sent": count})
        self.assertEqual(traces, {"sent": count})
        self.assertEqual((waiting, receipts), (0, 0))
        with self.registry.cursor() as cr:
            cr.execute(SQL("SELECT failure_count FROM ir_cron WHERE id IN %s", tuple(self.ids["crons"])))
            self.assertEqual({row[0] for row in cr.fetchall()}, {0}, "the scheduler saw no failure")


@tagged("post_install", "-at_install")
class TestStopDuringDelivery(CommittedCampaignCase):
    """The campaign is stopped while a worker delivers its emails: once the stop is saved nothing
    more leaves, the emails not sent are withdrawn (those the worker holds by the worker itself),
    and after the resume every contact has received the email exactly once."""

    prefix = "stopping"

    def test_stop_is_final_and_resume_sends_the_rest_once(self):
        count = 120
        with LocalSMTPServer(slow_rcpt=0.01) as server:
            self._commit_fixture(count, server.port)
            with (
                patch.object(IrMail_Server, "_disable_send", return_value=False),
                mute_logger("odoo.addons.mail.models.mail_mail"),
            ):
                deliver = self.committed_workers(
                    lambda env: env["campaign.delivery"]._cron_deliver(batch_size=50), together=False, timeout=60
                )
                with deliver as [thread]:
                    while len(server.messages) < 20 and thread.is_alive():
                        time.sleep(0.005)
                    with self.registry.cursor() as cr:  # committed when the block ends
                        env = api.Environment(cr, SUPERUSER_ID, CONTEXT)
                        env["campaign.campaign"].browse(self.ids["campaign"]).action_stop()
                    at_stop = len(server.messages)
                self.assertEqual(len(server.messages), at_stop, "nothing left once the stop was saved")
                self.assertLess(at_stop, count)
                touchpoints, _traces, waiting, receipts = self._state()
                self.assertEqual(touchpoints, {"sent": at_stop, "planned": count - at_stop}, "the rest waits")
                self.assertEqual((waiting, receipts), (0, 0), "emails not sent are withdrawn")
                with self.registry.cursor() as cr:  # committed when the block ends
                    env = api.Environment(cr, SUPERUSER_ID, CONTEXT)
                    env["campaign.campaign"].browse(self.ids["campaign"]).action_resume()
                    env["campaign.engine"]._cron_process()
                with self.registry.cursor() as cr:
                    api.Environment(cr, SUPERUSER_ID, CONTEXT)["campaign.delivery"]._cron_deliver()
        recipients = self._recipients(server)
        self.assertEqual(len(recipients), count)
        self.assertEqual(len(set(recipients)), count, "each contact once")
        self.assertEqual(self._state()[0], {"sent": count})
