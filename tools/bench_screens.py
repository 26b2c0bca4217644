"""Server time of the screens a marketing user meets, measured in a real browser (headless Chromium).

Run by ``bash tools/bench.sh`` (see docs/benchmark.md) against an Odoo server that logs
its requests (``--log-level=info``: each request line of ``werkzeug`` ends with the number of SQL
queries, their time and the rest of the server time). The script logs in as a campaign user, walks
the screens one by one and, for each, reads the request lines the server wrote meanwhile: how many
requests the screen made, their queries, and their server time (SQL + Python), in total and for the
slowest request. The browser's own time (rendering, network on loopback) is not counted.

The screens: the campaign list; the campaign form (the key figures, the audience, every tab); each of
its smart buttons (those the user sees); Calculate; the launch dialog; the action form; the order
wizard at each of its steps (Resume Order, then Next from the contacts to the launch step, without
launching) and the Email Marketing editor opened from its media step (Edit Email).

Usage: python tools/bench_screens.py --url http://127.0.0.1:8069 --db DB --log odoo.log
       --login USER --password PASSWORD --campaign NAME --order NAME [--out figures.json]
Needs Playwright for Python (tools/screenshots.sh makes the virtualenv) and /usr/bin/chromium.
"""

import argparse
import json
import re
import runpy
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

# Chromium's path and switches are the browser tests' (tests/chromium_switches.py: plain constants)
_SWITCHES = runpy.run_path(str(Path(__file__).resolve().parent.parent / "tests" / "chromium_switches.py"))
CHROMIUM = _SWITCHES["CHROMIUM"]
CHROMIUM_ARGS = list(_SWITCHES["SWITCHES"])
# werkzeug request line: ... "POST /web/dataset/call_kw/... HTTP/1.1" 200 - <queries> <sql s> <other s>
REQUEST_LINE = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" (?P<status>\d+) \S+ (?P<queries>\d+) '
    r"(?P<sql>[\d.]+) (?P<other>[\d.]+)"
)
# long-lived and static requests are not the screen's work
IGNORED = (
    "/websocket",
    "/longpolling",
    "/web/assets/",
    "/web/static/",
    "/web/image",
    "/web/binary/company_logo",
    "/bus/",
    "/mail/data",
    "/web/webclient/translations",
    "/discuss/",
)


class Screens:
    def __init__(self, page, url, log):
        self.page = page
        self.url = url.rstrip("/")
        self.log = Path(log)
        self.pending = set()
        page.on("request", lambda request: self.pending.add(request))
        page.on("requestfinished", lambda request: self.pending.discard(request))
        page.on("requestfailed", lambda request: self.pending.discard(request))
        self.results = {}

    def wait_idle(self, quiet_ms=600, timeout_s=120):
        deadline = time.monotonic() + timeout_s
        quiet_since = None
        while time.monotonic() < deadline:
            busy = [r for r in self.pending if not any(part in r.url for part in ("/websocket", "/longpolling"))]
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
                return
            self.page.wait_for_timeout(50)
        raise TimeoutError(f"requests still running: {[r.url for r in self.pending]}")

    def measure(self, name, act, wait=None):
        """Run ``act`` (what the user does), wait for ``wait`` and for the client to be idle, and
        record the server's work of the requests logged meanwhile."""
        self.wait_idle()
        time.sleep(0.3)  # let the server write the lines of the previous screen
        start = self.log.stat().st_size
        act()
        if wait:
            self.page.wait_for_selector(wait, state="visible", timeout=120000)
        self.wait_idle()
        time.sleep(0.5)
        with self.log.open("rb") as handle:
            handle.seek(start)
            lines = handle.read().decode("utf-8", "replace").splitlines()
        requests = []
        for line in lines:
            match = REQUEST_LINE.search(line)
            if match and not any(part in match["path"] for part in IGNORED):
                sql, other = float(match["sql"]), float(match["other"])
                requests.append(
                    {
                        "path": match["path"].split("?")[0],
                        "queries": int(match["queries"]),
                        "sql_ms": sql * 1000,
                        "server_ms": (sql + other) * 1000,
                    }
                )
        slowest = max(requests, key=lambda r: r["server_ms"], default={"path": "-", "server_ms": 0})
        figures = {
            "requests": len(requests),
            "queries": sum(r["queries"] for r in requests),
            "sql_ms": round(sum(r["sql_ms"] for r in requests)),
            "server_ms": round(sum(r["server_ms"] for r in requests)),
            "slowest_ms": round(slowest["server_ms"]),
            "slowest": slowest["path"],
            "detail": requests,
        }
        self.results[name] = figures
        print(
            f"  {name:32} {figures['requests']:3} requests {figures['queries']:5} queries "
            f"{figures['sql_ms']:6} ms SQL {figures['server_ms']:6} ms server (slowest {figures['slowest_ms']} ms "
            f"{figures['slowest']})",
            flush=True,
        )
        return figures

    # -- helpers ---------------------------------------------------------------------------------
    def click(self, selector):
        self.page.locator(selector).first.click()

    def stat_button(self, name):
        """Click the smart button ``name``, from the "More" menu when it is there."""
        button = self.page.locator(f".o-form-buttonbox button[name={name}]").first
        if not button.is_visible():
            self.page.locator(".o-form-buttonbox .o_button_more").first.click()
            self.page.wait_for_selector(".o_dropdown_more")
            button = self.page.locator(f".o_dropdown_more button[name={name}]").first
            if not button.count():
                # the user does not have this button: close the menu instead of waiting for it
                self.page.keyboard.press("Escape")
                raise LookupError(f"no smart button {name} for this user")
        button.click()

    def click_row(self, name):
        """Open the record ``name`` of the list."""
        cells = self.page.locator(".o_list_view .o_data_row td[name=name]")
        cells.filter(has_text=re.compile(rf"^\s*{re.escape(name)}\s*$")).first.click()

    def back(self):
        """Back to the previous screen, as the browser's back button does."""
        self.page.go_back()


def run(args):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        page.set_default_timeout(120000)
        screens = Screens(page, args.url, args.log)
        url = screens.url

        def login():
            page.goto(f"{url}/web/login?db={args.db}")
            page.wait_for_selector("input[name=login]", state="visible")
            page.fill("input[name=login]", args.login)
            page.fill("input[name=password]", args.password)
            page.click("button[type=submit]")
            page.wait_for_url("**/odoo**")

        screens.measure("login and home", login, ".o_home_menu, .o_action_manager")
        action = "action-campaign_manager.campaign_campaign_action"
        screens.measure("campaign list", lambda: page.goto(f"{url}/odoo/{action}"), ".o_list_view .o_data_row")
        form = ".o_form_view .o_notebook"
        screens.measure(
            "campaign form",
            lambda: screens.click_row(args.campaign),
            form,
        )
        for name in (
            "action_view_targets",
            "action_view_actions",
            "action_view_touchpoints",
            "action_view_runs",
            "action_view_calendar",
            "action_view_project",
            "action_view_expenses",
            "action_view_timesheets",
            "action_view_bills",
            "action_view_analytic_items",
            "action_view_invoices",
            "action_view_orders",
            "action_view_leads",
            "action_view_analysis",
        ):
            if (
                not page.locator(f".o-form-buttonbox button[name={name}]").count()
                and not page.locator(".o-form-buttonbox .o_button_more").count()
            ):
                continue
            try:
                screens.measure(
                    f"smart button {name[12:]}",
                    lambda n=name: screens.stat_button(n),
                    ".o_list_view, .o_calendar_view, .o_pivot_view, .o_kanban_view,"
                    " .o_form_view:not(:has(.o_notebook))",
                )
            except Exception as error:  # a button the user does not have
                print(f"  {name}: skipped ({str(error).splitlines()[0]})", flush=True)
                page.keyboard.press("Escape")
                continue
            screens.measure(f"back from {name[12:]}", screens.back, form)
        screens.measure(
            "calculate",
            lambda: screens.click(".o_form_statusbar button[name=action_calculate]"),
            ".modal div[name=final]",
        )
        page.locator(".modal .modal-footer button.btn-secondary").first.click()
        screens.measure(
            "action form",
            lambda: (
                screens.click(".o_notebook a.nav-link[name=actions]"),
                screens.click(".o_form_view div[name=action_ids] .o_data_row td[name=name]"),
            ),
            ".o_form_view div[name=channel], .modal div[name=channel]",
        )
        page.keyboard.press("Escape")
        screens.wait_idle()
        # the order of a draft campaign, step by step, up to the launch step (not launched)
        page.goto(f"{url}/odoo/{action}")
        page.wait_for_selector(".o_list_view .o_data_row")
        screens.measure(
            "draft campaign form",
            lambda: screens.click_row(args.order),
            form,
        )
        screens.measure(
            "launch dialog",
            lambda: screens.click(".o_form_statusbar button[name=action_launch]"),
            ".modal div[name=line_ids]",
        )
        page.locator(".modal .modal-footer button.btn-secondary").first.click()
        step = ".o_statusbar_status button[data-value='{}'][aria-checked=true]"
        checked = ".o_statusbar_status button[aria-checked=true]"
        screens.measure("order: resume", lambda: screens.click("button[name=action_order]"), checked)
        # the order resumes at the step it reached (an earlier walk left it at the media step): back to
        # the contacts, unmeasured, so that every walk measures the same steps
        while page.locator(checked).first.get_attribute("data-value") != "contacts":
            page.locator("button[name=action_back]:visible").first.click()
            screens.wait_idle()
        page.wait_for_selector(step.format("contacts"), state="visible")
        walked = ["contacts"]
        for following in ("media", "schedule", "launch"):
            figures = screens.measure(
                f"order: {walked[-1]} to {following}",
                lambda: screens.click("button[name=action_next]:visible"),
                f"{step.format(following)}, .o_error_dialog",
            )
            if page.locator(".o_error_dialog").count():
                figures["refused"] = page.locator(".o_error_dialog .modal-body").first.inner_text()[:300]
                print(f"    refused: {figures['refused']}", flush=True)
                page.locator(".o_error_dialog .modal-footer button").first.click()
                break
            walked.append(following)
        while walked[-1] != "media" and "media" in walked:
            screens.measure(
                f"order: back to {walked[-2]}",
                lambda: screens.click("button[name=action_back]:visible"),
                step.format(walked[-2]),
            )
            walked.pop()
        if walked[-1] == "media" and page.locator("div[name=line_ids] button[name=action_edit_email]").count():
            screens.measure(
                "order: edit email",
                lambda: screens.click("div[name=line_ids] button[name=action_edit_email]"),
                ".o_form_view .o_field_widget[name=subject]",
            )
        browser.close()
    return screens.results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--log", required=True, help="the server's log file (log level info)")
    parser.add_argument("--login", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--campaign", required=True, help="campaign whose form and smart buttons are measured")
    parser.add_argument("--order", required=True, help="draft campaign whose order is walked (not launched)")
    parser.add_argument("--out", help="write the figures to this JSON file")
    args = parser.parse_args()
    results = run(args)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
