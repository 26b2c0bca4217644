import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import closing
from pathlib import Path

import requests

import odoo
from odoo.tests import BaseCase, get_db_name, tagged
from odoo.tools import SQL, config

from .chromium import Chromium
from .smtp_server import LocalSMTPServer, free_port

_logger = logging.getLogger(__name__)
ADMIN = ("admin", "admin")  # the administrator of a new database
INSTALL_TIMEOUT = 1200  # the addon and what it depends on, on a busy machine
CARD = '.o_kanban_record:has(main[title="Marketing Campaigns"])'  # the addon's card in Apps


@tagged("post_install", "-at_install")
class TestInstallFromApps(BaseCase):
    """As an administrator, in headless Chromium, on a new database without the addon (its own
    database and Odoo server, not the test's): Apps, search "Marketing Campaigns", Activate; the
    Campaigns app opens; then uninstall it from Apps, after which Email Marketing (installed with
    it) still sends a mailing, through a real SMTP server."""

    def setUp(self):
        super().setUp()
        self.db = f"{get_db_name()}_apps_{os.getpid()}"[:60]
        self.workdir = Path(tempfile.mkdtemp(prefix="campaign_apps_"))
        self.server = None
        self.addCleanup(self._cleanup)
        self.timings = {}

    def _cleanup(self):
        if self.server and self.server.poll() is None:
            self.server.terminate()
            try:
                self.server.wait(30)
            except subprocess.TimeoutExpired:
                self.server.kill()
        odoo.sql_db.close_db(self.db)
        with closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
            cr._cnx.autocommit = True  # DROP DATABASE runs outside a transaction
            cr.execute(SQL("DROP DATABASE IF EXISTS %s WITH (FORCE)", SQL.identifier(self.db)))
        shutil.rmtree(config.filestore(self.db), ignore_errors=True)
        shutil.rmtree(self.workdir, ignore_errors=True)

    # ------------------------------------------------------------------
    # THE OTHER SERVER
    # ------------------------------------------------------------------
    @staticmethod
    def _odoo_bin():
        executable = shutil.which("odoo", path=os.path.dirname(sys.executable))
        return [executable] if executable else [sys.executable, "-m", "odoo"]

    def _odoo(self, *args):
        """Odoo's command line, with the test's configuration file, on the new database."""
        return [*self._odoo_bin(), "-c", config["config"], "-d", self.db, "--db-filter", f"^{self.db}$", *args]

    def _log(self):
        log = self.workdir / "odoo.log"
        return log.read_text(errors="replace")[-4000:] if log.exists() else ""

    def _new_database(self):
        """A database without the addon: a copy of ``CAMPAIGN_APPS_TEMPLATE`` when the test command
        built it (the addon's dependencies installed, as on a database already using Email
        Marketing, CRM, Sales...: Apps then installs the addon alone), else a new one with Odoo's
        base only, as a new Odoo has (Apps then installs the dependencies too: some minutes more)."""
        started = time.monotonic()
        template = os.environ.get("CAMPAIGN_APPS_TEMPLATE")
        if template:
            with closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
                cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template])
                self.assertTrue(cr.fetchone(), f"CAMPAIGN_APPS_TEMPLATE: no database {template}")
            # a copy as Odoo's database manager makes (data, then filestore, then a database uuid of
            # its own), without loading the template's registry in the test's process
            with closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
                cr._cnx.autocommit = True  # CREATE DATABASE runs outside a transaction
                cr.execute(
                    SQL(
                        "CREATE DATABASE %s ENCODING 'unicode' TEMPLATE %s",
                        SQL.identifier(self.db),
                        SQL.identifier(template),
                    )
                )
            if os.path.isdir(config.filestore(template)):
                shutil.copytree(config.filestore(template), config.filestore(self.db))
            with odoo.sql_db.db_connect(self.db).cursor() as cr:  # committed when the block ends
                cr.execute("UPDATE ir_config_parameter SET value = %s WHERE key = 'database.uuid'", [str(uuid.uuid1())])
            self.timings["database copied from the template"] = time.monotonic() - started
            return
        subprocess.run(
            self._odoo("-i", "base", "--stop-after-init", "--log-level=warn", "--without-demo"),
            check=True,
            timeout=600,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.timings["new database with base only"] = time.monotonic() - started

    def _start_server(self):
        self._new_database()
        started = time.monotonic()
        self.assertNotEqual(self._module_state(), "installed", "the database has no campaign_manager yet")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = subprocess.Popen(
            self._odoo(
                f"--http-port={self.port}",
                "--http-interface=127.0.0.1",
                "--gevent-port=0",
                "--workers=0",
                "--max-cron-threads=1",
                f"--logfile={self.workdir / 'odoo.log'}",
                "--log-level=warn",
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/web/login", timeout=5).status_code == 200:
                    self.timings["server started"] = time.monotonic() - started
                    return
            except requests.RequestException as error:
                _logger.debug("The server does not answer yet: %s", error)
            self.assertIsNone(self.server.poll(), f"the server stopped:\n{self._log()}")
            time.sleep(0.5)
        self.fail(f"the server does not answer:\n{self._log()}")

    def _module_state(self):
        with odoo.sql_db.db_connect(self.db).cursor() as cr:
            cr.execute("SELECT state FROM ir_module_module WHERE name = %s", ["campaign_manager"])
            row = cr.fetchone()
        return row and row[0]

    def _wait_module(self, state, timeout=INSTALL_TIMEOUT):
        deadline = time.monotonic() + timeout
        while self._module_state() != state:
            self.assertIsNone(self.server.poll(), f"the server stopped:\n{self._log()}")
            if time.monotonic() > deadline:
                self.fail(f"campaign_manager is {self._module_state()}, not {state}:\n{self._log()}")
            time.sleep(1)

    def _rpc(self, session, model, method, *args, **kwargs):
        response = session.post(
            f"{self.url}/web/dataset/call_kw/{model}/{method}",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"model": model, "method": method, "args": args, "kwargs": kwargs},
            },
            timeout=120,
        )
        answer = response.json()
        self.assertNotIn("error", answer, json.dumps(answer.get("error"))[:2000])
        return answer.get("result")

    # ------------------------------------------------------------------
    # THE ADMINISTRATOR'S WAY
    # ------------------------------------------------------------------
    def _login(self, browser):
        browser.goto(f"{self.url}/web/login")
        browser.type("input[name=login]", ADMIN[0])
        browser.type("input[name=password]", ADMIN[1])
        browser.click("button[type=submit]")
        browser.wait("location.pathname.startsWith('/odoo')", what="the web client")
        browser.idle()

    def _search_apps(self, browser, text):
        browser.goto(f"{self.url}/odoo/action-base.open_module_tree")
        browser.idle()
        browser.type(".o_searchview_input", text, enter=True)
        browser.wait_for(CARD)
        browser.idle()

    def _confirm_uninstall(self, browser):
        """Click the uninstall wizard's *Uninstall* as an administrator would: when Odoo refuses
        because a scheduled action is running at that moment (the server's cron thread runs the jobs
        the install has just created), close the message and click again a little later."""
        deadline = time.monotonic() + INSTALL_TIMEOUT
        while True:
            browser.click(".modal button[name=action_uninstall]")
            browser.wait(
                # booleans: a DOM element has no JSON value, so the page would answer {} (false) for it
                "!!document.querySelector('.o_error_dialog')"
                " || !document.querySelector('.modal button[name=action_uninstall]')",
                timeout=INSTALL_TIMEOUT,
                what="the uninstall to start or be refused",
            )
            refusal = browser.evaluate(
                "document.querySelector('.o_error_dialog') ? document.querySelector('.o_error_dialog').innerText : ''"
            )
            if not refusal:
                return
            # only the busy scheduler's refusal is worth a second try: anything else fails the test
            self.assertIn("processing a scheduled action", refusal, refusal)
            self.assertLess(time.monotonic(), deadline, "the scheduler stayed busy: uninstall refused throughout")
            browser.click(".o_error_dialog .modal-footer .btn-primary")
            browser.wait("!document.querySelector('.o_error_dialog')", what="the message to close")
            time.sleep(5)

    def test_install_from_apps_then_uninstall(self):
        self._start_server()
        with Chromium() as browser:
            try:
                started = time.monotonic()
                self._login(browser)
                self.timings["logged in"] = time.monotonic() - started
                # Apps → search → Activate
                self._search_apps(browser, "Marketing Campaigns")
                started = time.monotonic()
                browser.click(f"{CARD} button[name=button_immediate_install]", text="Activate")
                self._wait_module("installed")
                browser.wait("!document.querySelector('.o_blockUI, .o_ui_blocked')", timeout=INSTALL_TIMEOUT)
                self.timings["install from Apps"] = time.monotonic() - started
                browser.goto(f"{self.url}/odoo")
                browser.idle()
                browser.click(".o_navbar_apps_menu button")
                browser.click('.o_app[data-menu-xmlid="campaign_manager.campaign_manager_menu_root"]')
                browser.wait_for(".o_list_view, .o_view_nocontent", timeout=120)
                browser.wait_for(".o_main_navbar .o_menu_brand", text="Campaigns")

                # Apps → the installed module → Uninstall…
                started = time.monotonic()
                self._search_apps(browser, "Marketing Campaigns")
                browser.click(f"{CARD} .o_dropdown_kanban button")
                browser.click(".o-dropdown--menu .dropdown-item", text="Uninstall")
                self._confirm_uninstall(browser)
                self._wait_module("uninstalled")
                browser.wait("!document.querySelector('.o_blockUI, .o_ui_blocked')", timeout=INSTALL_TIMEOUT)
                self.timings["uninstall from Apps"] = time.monotonic() - started
                with odoo.sql_db.db_connect(self.db).cursor() as cr:
                    cr.execute("SELECT model FROM ir_model WHERE model LIKE 'campaign.%'")
                    self.assertEqual(cr.fetchall(), [], "the addon's models are gone")
                    cr.execute("SELECT to_regclass('campaign_campaign')")
                    self.assertIsNone(cr.fetchone()[0], "the addon's tables are gone")
                browser.goto(f"{self.url}/odoo")
                browser.idle()
                browser.click(".o_navbar_apps_menu button")
                browser.wait_for('.o_app[data-menu-xmlid="mass_mailing.mass_mailing_menu_root"]')
                self.assertFalse(
                    browser.evaluate(
                        "!!document.querySelector('.o_app[data-menu-xmlid=\"campaign_manager.campaign_manager_menu_root\"]')"
                    ),
                    "the Campaigns app is gone",
                )
            except Exception:
                browser.screenshot(str(self.workdir / "failure.png"))
                shutil.copy(self.workdir / "failure.png", tempfile.gettempdir() + "/campaign_apps_failure.png")
                raise

        # Email Marketing still sends a mailing (the Send button's method, then its scheduled job)
        started = time.monotonic()
        with LocalSMTPServer() as smtp:
            session = requests.Session()
            session.post(
                f"{self.url}/web/session/authenticate",
                json={"jsonrpc": "2.0", "params": {"db": self.db, "login": ADMIN[0], "password": ADMIN[1]}},
                timeout=60,
            ).raise_for_status()
            self._rpc(
                session,
                "ir.mail_server",
                "create",
                {"name": "Test SMTP", "smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_encryption": "none"},
            )
            partner = self._rpc(
                session, "res.partner", "create", {"name": "Still Reached", "email": "still@example.com"}
            )
            model_id = self._rpc(session, "ir.model", "search", [["model", "=", "res.partner"]])[0]
            mailing = self._rpc(
                session,
                "mailing.mailing",
                "create",
                {
                    "subject": "After the uninstall",
                    "email_from": "Marketing <marketing@example.com>",
                    "mailing_model_id": model_id,
                    "mailing_domain": json.dumps([["id", "=", partner]]),
                    "body_html": "<p>Email Marketing works on its own.</p>",
                },
            )
            self._rpc(session, "mailing.mailing", "action_launch", [mailing])
            deadline = time.monotonic() + 180
            while not smtp.messages and time.monotonic() < deadline:
                time.sleep(0.5)
            self.assertEqual([m["rcpt_tos"] for m in smtp.messages], [["still@example.com"]], self._log())
            self.assertEqual(smtp.messages[0]["message"]["Subject"], "After the uninstall")
        self.timings["mailing sent"] = time.monotonic() - started
        _logger.info("Install from Apps, timings (s): %s", {key: round(value) for key, value in self.timings.items()})
