"""Screenshots of the user guide (docs/guide.md, docs/guide.fr.md), taken with headless Chromium.

Run by ``bash tools/screenshots.sh``, which builds the demo database, serves it and runs this script
with Playwright for Python (installed in a virtualenv of its own, driving the system's Chromium).
This script only talks HTTP to that server: it logs in as the demo users, sets their language and
saves one PNG per screen into ``docs/img/<lang>/``.

Usage: python tools/screenshots.py --url http://127.0.0.1:8069 --db campaign_screenshots
       [--out docs/img] [--lang en fr] [--only campaigns calculate ...]
"""

import argparse
import base64
import runpy
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

# Chromium's path and switches are the browser tests' (tests/chromium_switches.py: plain constants)
_SWITCHES = runpy.run_path(str(Path(__file__).resolve().parent.parent / "tests" / "chromium_switches.py"))
CHROMIUM = _SWITCHES["CHROMIUM"]
CHROMIUM_ARGS = list(_SWITCHES["SWITCHES"])
VIEWPORT = {"width": 1280, "height": 800}
REFS = {}  # xml id -> database id, read once by the administrator
LANGS = {"en": ("en_US", "en-US"), "fr": ("fr_FR", "fr-FR")}
# No blinking caret, no transitions: the same screen gives the same picture.
QUIET_CSS = (
    "*, *::before, *::after { caret-color: transparent !important; transition: none !important;"
    " animation: none !important; }"
)


class Shooter:
    """One logged-in browser context and the helpers to drive Odoo's web client."""

    def __init__(self, browser, url, db, out_dir, lang, login, password):
        self.url = url.rstrip("/")
        self.db = db
        self.out_dir = out_dir
        self.lang = lang
        self.context = browser.new_context(
            viewport=VIEWPORT, locale=LANGS[lang][1], timezone_id="Europe/Paris", device_scale_factor=1
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(30000)
        # Requests in flight (Playwright's "networkidle" never comes: the web client keeps one open).
        self.pending = set()
        self.page.on("request", lambda request: self.pending.add(request))
        self.page.on("requestfinished", lambda request: self.pending.discard(request))
        self.page.on("requestfailed", lambda request: self.pending.discard(request))
        self.login(login, password)

    # -- session -----------------------------------------------------------------------------
    def login(self, login, password):
        page = self.page
        page.goto(f"{self.url}/web/login?db={self.db}")
        page.fill("input[name=login]", login)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url("**/odoo**")
        self.uid = self.rpc("res.users", "search_read", [("login", "=", login)], fields=["id"])[0]["id"]

    def rpc(self, model, method, *args, **kwargs):
        response = self.page.request.post(
            f"{self.url}/web/dataset/call_kw/{model}/{method}",
            data={
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
            },
        )
        body = response.json()
        if "error" in body:
            raise RuntimeError(f"{model}.{method}: {body['error']['data']['message']}")
        return body["result"]

    def load_refs(self):
        """Read the ids of the addon's records (needs the administrator: others cannot read ir.model.data)."""
        rows = self.rpc(
            "ir.model.data", "search_read", [("module", "=", "campaign_manager")], fields=["name", "res_id"]
        )
        REFS.update({f"campaign_manager.{row['name']}": row["res_id"] for row in rows})

    def ref(self, xmlid):
        if xmlid not in REFS:
            raise RuntimeError(f"{xmlid} not found: is the demo data installed?")
        return REFS[xmlid]

    def find(self, model, domain):
        ids = self.rpc(model, "search", domain, limit=1)
        if not ids:
            raise RuntimeError(f"No {model} matching {domain}")
        return ids[0]

    # -- web client --------------------------------------------------------------------------
    def settle(self, selector=None):
        """Wait for the web client to be idle (and ``selector`` shown), then for the last paint."""
        if selector:
            self.page.wait_for_selector(selector, state="visible")
        self.wait_idle()
        self.page.wait_for_function("!document.querySelector('.o_loading_indicator, .o_blockUI')")
        self.page.add_style_tag(content=QUIET_CSS)
        self.page.mouse.move(VIEWPORT["width"] - 2, VIEWPORT["height"] - 2)
        self.page.wait_for_timeout(600)

    def wait_idle(self, quiet_ms=500, timeout_s=60):
        """Wait until no request but the bus's long ones has been in flight for ``quiet_ms``."""
        deadline = time.monotonic() + timeout_s
        quiet_since = None
        while time.monotonic() < deadline:
            busy = [r for r in self.pending if "/websocket" not in r.url and "/longpolling" not in r.url]
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = time.monotonic()
            elif (time.monotonic() - quiet_since) * 1000 >= quiet_ms:
                return
            self.page.wait_for_timeout(100)
        raise TimeoutError(f"Requests still running: {[r.url for r in self.pending]}")

    def open(self, path, selector):
        self.page.goto(f"{self.url}/odoo/{path}")
        self.settle(selector)

    def click(self, selector, wait=None):
        self.page.locator(selector).first.click()
        self.settle(wait)

    def stat(self, name, wait=None):
        """Click the smart button ``name`` of the form, opening the button box's "More" menu when it is there."""
        button = self.page.locator(f".o_form_view .o-form-buttonbox button[name={name}]").first
        if not button.is_visible():
            self.click(".o_form_view .o-form-buttonbox .o_button_more")
            button = self.page.locator(f".o_dropdown_more button[name={name}]").first
        button.click()
        self.settle(wait)

    def tab(self, name):
        """Open the notebook page ``name`` and scroll it to the top of the screen."""
        self.click(f".o_form_view .o_notebook a.nav-link[name={name}]")
        self.scroll_to(".o_form_view .o_notebook")

    def scroll_to(self, selector):
        """Scroll the view so that ``selector`` starts just below the form's sticky status bar."""
        self.page.locator(selector).first.evaluate(
            """el => {
                const scroller = el.closest('.o_content') || document.scrollingElement;
                const bar = document.querySelector('.o_form_view .o_form_statusbar');
                const top = bar ? bar.getBoundingClientRect().bottom : scroller.getBoundingClientRect().top;
                scroller.scrollTop += el.getBoundingClientRect().top - top - 8;
            }"""
        )
        self.settle()

    def close_dialogs(self):
        while self.page.locator(".modal .btn-close").count():
            self.page.locator(".modal .btn-close").last.click()
            self.page.wait_for_timeout(300)
        self.settle()

    def shot(self, name):
        path = self.out_dir / f"{name}.png"
        self.page.screenshot(path=str(path))
        print(f"  {path}", flush=True)


# ------------------------------------------------------------------------------------------------
# The screens. Each takes the Shooter of a demo user (see the lists below) in the guide's language.
# ------------------------------------------------------------------------------------------------
def campaign_form(s, xmlid="campaign_manager.campaign_janoffers_demo"):
    s.open(f"action-campaign_manager.campaign_campaign_action/{s.ref(xmlid)}", ".o_form_view .o_notebook")


def shot_campaigns(s):
    s.open("action-campaign_manager.campaign_campaign_action", ".o_list_view .o_data_row")
    s.shot("campaigns")


def shot_campaign_form(s):
    campaign_form(s)
    s.shot("campaign-form")


def shot_smart_buttons(s):
    # The documents behind the figures, as the accountant sees them: those that do not fit are under "More".
    campaign_form(s)
    more = s.page.locator(".o_form_view .o-form-buttonbox .o_button_more")
    if more.count():
        s.click(".o_form_view .o-form-buttonbox .o_button_more", ".o_dropdown_more")
    s.shot("smart-buttons")
    s.page.keyboard.press("Escape")


def shot_campaign_tabs(s):
    campaign_form(s)
    s.tab("actions")
    s.shot("campaign-actions")
    s.tab("journey")
    s.shot("journey-tree")
    s.tab("tracking")
    s.shot("campaign-tracking")


def shot_target(s):
    target = s.ref("campaign_manager.campaign_target_b2b_purchasers_demo")
    s.open(f"action-campaign_manager.campaign_target_action/{target}", ".o_form_view .o_form_sheet")
    s.shot("target-form")


def shot_calculate(s):
    campaign_form(s)
    s.click(".o_form_view .o_statusbar_buttons button[name=action_calculate]", ".modal .o_form_view")
    s.shot("calculate")
    s.close_dialogs()


def shot_order(s):
    # A new order: its first step lists the others.
    s.open("action-campaign_manager.campaign_campaign_action", ".o_list_view")
    s.click('.o_main_navbar [data-menu-xmlid="campaign_manager.campaign_campaign_menu_main"]')
    s.click(
        '.dropdown-item[data-menu-xmlid="campaign_manager.campaign_campaign_order_menu"]',
        '.o_form_view .o_statusbar_status button[data-value="summary"][aria-checked="true"]',
    )
    s.shot("order-start")
    # The demo order AutumnLaunch stopped at the media step: Resume Order, then back to the contacts.
    campaign_form(s, "campaign_manager.campaign_order_autumn_demo")
    s.click(
        ".o_form_view .o_statusbar_buttons button[name=action_order]",
        '.o_form_view .o_statusbar_status button[data-value="media"][aria-checked="true"]',
    )
    s.shot("order-media")
    s.click(
        ".o_form_view .o_form_statusbar button[name=action_back]",
        '.o_form_view .o_statusbar_status button[data-value="contacts"][aria-checked="true"]',
    )
    s.shot("order-contacts")


def shot_launch(s):
    campaign_form(s, "campaign_manager.campaign_fidelity_demo")
    s.click(".o_form_view .o_statusbar_buttons button[name=action_launch]", ".modal .o_form_view")
    s.shot("launch")
    s.close_dialogs()


def shot_actions(s):
    # A follow-up: the SMS sent 3 days after the offer email of JanOffers.
    action = s.ref("campaign_manager.campaign_action_janoffers_sms_demo")
    s.open(f"action-campaign_manager.campaign_action_action/{action}", ".o_form_view .o_notebook")
    s.shot("action-followup")
    # A recurring email and its send-time suggestion (Suggest a Send Time), from the past opens of its contacts.
    action = s.ref("campaign_manager.campaign_action_fidelity_email_demo")
    s.open(f"action-campaign_manager.campaign_action_action/{action}", ".o_form_view .o_notebook")
    s.tab("email")
    s.click(".o_form_view button[name=action_view_send_time]", ".modal .o_form_view .alert-info")
    s.shot("email-action")
    s.close_dialogs()


def shot_email_editor(s):
    # The demo order's email has no template: "Edit Email" opens the Email Marketing editor.
    action = s.ref("campaign_manager.campaign_action_order_autumn_email_demo")
    s.open(f"action-campaign_manager.campaign_action_action/{action}", ".o_form_view .o_notebook")
    s.click(
        ".o_form_view .o_statusbar_buttons button[name=action_edit_email]",
        ".o_form_view .o_mail_theme_selector, .o_form_view iframe",
    )
    theme = s.page.locator('.o_mail_theme_selector [role=menuitem][data-name="default"]')
    if theme.count():
        # A new email: start from Email Marketing's "Welcome Message" layout.
        theme.first.click()
        s.settle(".o_form_view iframe")
    s.page.wait_for_timeout(1500)
    s.shot("email-editor")


def shot_calendar(s):
    s.open(
        "action-campaign_manager.campaign_calendar_entry_action",
        ".o_calendar_view .fc-event, .o_calendar_view .o_event",
    )
    s.shot("calendar")


def shot_touchpoints(s):
    campaign_form(s)
    s.stat("action_view_touchpoints", ".o_list_view .o_data_row")
    s.shot("touchpoints")


def shot_runs(s):
    campaign_form(s)
    s.stat("action_view_runs", ".o_list_view .o_data_row")
    s.click(".o_list_view .o_data_row td.o_data_cell", ".o_form_view .o_form_sheet")
    s.shot("run")


def shot_analysis(s):
    s.open("action-campaign_manager.campaign_analysis_report_action", ".o_pivot_view .o_pivot table")
    # The cost and revenue sources as rows, the measures of all campaigns as columns.
    s.click(".o_pivot_view .o_pivot_flip_button")
    s.click(".o_pivot_view thead .o_pivot_header_cell_opened")
    s.shot("analysis")


def shot_roi_report(s):
    campaign = s.ref("campaign_manager.campaign_janoffers_demo")
    report = "campaign_manager.report_campaign_roi"
    if not shutil.which("pdftoppm"):
        # No poppler-utils: the report's HTML rendering, as the browser shows it.
        s.page.goto(f"{s.url}/report/html/{report}/{campaign}")
        s.settle(".page, .article")
        s.shot("roi-report")
        return
    response = s.page.request.get(f"{s.url}/report/pdf/{report}/{campaign}", timeout=120000)
    if not response.ok or not response.body().startswith(b"%PDF"):
        raise RuntimeError(f"The ROI report did not render as a PDF ({response.status})")
    with tempfile.TemporaryDirectory() as tmp:
        pdf = Path(tmp) / "roi.pdf"
        pdf.write_bytes(response.body())
        # The first two pages side by side, as a PDF viewer shows them.
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-l",
                "2",
                "-scale-to-x",
                "620",
                "-scale-to-y",
                "-1",
                str(pdf),
                str(Path(tmp) / "page"),
            ],
            check=True,
        )
        pages = sorted(Path(tmp).glob("page*.png"))
        images = "".join(
            f'<img src="data:image/png;base64,{base64.b64encode(page.read_bytes()).decode()}"/>' for page in pages
        )
    s.page.set_content(
        "<html><body style='margin:0;background:#525659'>"
        "<div id='pages' style='display:flex;gap:12px;padding:12px;width:fit-content'>"
        f"{images}</div></body></html>"
    )
    s.page.add_style_tag(content="#pages img { box-shadow: 0 2px 8px rgba(0,0,0,.5); background: white; }")
    s.page.locator("#pages").screenshot(path=str(s.out_dir / "roi-report.png"))
    print(f"  {s.out_dir / 'roi-report.png'}", flush=True)


def shot_settings(s):
    s.open("action-campaign_manager.res_config_settings_action", '.o_setting_container [data-key="campaign_manager"]')
    s.scroll_to('[data-key="campaign_manager"]')
    s.shot("settings")


def shot_expense(s):
    expense = s.ref("campaign_manager.hr_expense_janoffers_stand_demo")
    s.open(f"action-hr_expense.hr_expense_actions_all/{expense}", ".o_form_view .o_form_sheet")
    s.shot("expense")


def shot_accountant(s):
    campaign_form(s)
    s.tab("budget")
    s.shot("accountant-budget")


# The screens of the guide's part for marketing users, as the demo marketing user sees them (only the
# Marketing Campaigns / User group); those of the part for accountants as the demo accountant; the
# settings as the administrator.
MARKETING_SHOTS = [
    shot_campaigns,
    shot_campaign_form,
    shot_campaign_tabs,
    shot_target,
    shot_calculate,
    shot_order,
    shot_launch,
    shot_actions,
    shot_email_editor,
    shot_calendar,
    shot_touchpoints,
    shot_runs,
]
ACCOUNTANT_SHOTS = [shot_accountant, shot_expense, shot_smart_buttons, shot_analysis, shot_roi_report]
ADMIN_SHOTS = [shot_settings]


def selected(shots, only):
    return [shot for shot in shots if not only or shot.__name__.removeprefix("shot_") in only]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "docs" / "img"))
    parser.add_argument("--lang", nargs="+", default=list(LANGS), choices=list(LANGS))
    parser.add_argument("--only", nargs="*", help="names of the shots to take (e.g. campaigns calculate), default all")
    parser.add_argument("--admin", default="admin:admin", help="login:password of the administrator")
    parser.add_argument("--accountant", default="accountant:accountant", help="login:password of the demo accountant")
    parser.add_argument("--marketing", default="marketing:marketing", help="login:password of the demo marketing user")
    args = parser.parse_args()
    start = time.monotonic()
    failures = 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for lang in args.lang:
            out_dir = Path(args.out) / lang
            out_dir.mkdir(parents=True, exist_ok=True)
            print(f"Screenshots in {LANGS[lang][0]} into {out_dir}", flush=True)
            # The web client speaks the language the user had when the session opened: set it (and the
            # accountant's) for this pass, then log in again.
            setup = Shooter(browser, args.url, args.db, out_dir, lang, *args.admin.split(":", 1))
            logins = [account.split(":", 1)[0] for account in (args.admin, args.accountant, args.marketing)]
            # A database created with --load-language=fr_FR has only French active: activate English too.
            lang_ids = setup.rpc("res.lang", "search", [("code", "=", LANGS[lang][0]), ("active", "=", False)])
            if lang_ids:
                setup.rpc("res.lang", "write", lang_ids, {"active": True})
            users = setup.rpc("res.users", "search", [("login", "in", logins)])
            setup.rpc("res.users", "write", users, {"lang": LANGS[lang][0], "tz": "Europe/Paris"})
            setup.load_refs()
            setup.context.close()
            for account, shots in (
                (args.marketing, MARKETING_SHOTS),
                (args.accountant, ACCOUNTANT_SHOTS),
                (args.admin, ADMIN_SHOTS),
            ):
                chosen = selected(shots, args.only)
                if not chosen:
                    continue
                shooter = Shooter(browser, args.url, args.db, out_dir, lang, *account.split(":", 1))
                for shot in chosen:
                    failures += take(shot, shooter)
                shooter.context.close()
        browser.close()
    print(f"Screenshots taken in {time.monotonic() - start:.0f} s", flush=True)
    if failures:
        print(f"{failures} screen(s) failed: see above and the *-failed.png pictures in {tempfile.gettempdir()}")
        return 1
    return 0


def take(shot, shooter):
    """Take one shot; on failure, say why, keep a picture of the screen for the diagnosis and go on."""
    try:
        shot(shooter)
    except Exception as error:  # any failure of one screen must not stop the others
        failed = Path(tempfile.gettempdir()) / f"screenshots-{shooter.lang}-{shot.__name__}-failed.png"
        shooter.page.screenshot(path=str(failed))
        print(f"  FAILED {shot.__name__}: {str(error).splitlines()[0]} (screen: {failed})", flush=True)
        shooter.close_dialogs()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
