"""Headless Chromium's command line, in one place: the browser tests (tests/chromium.py) and the
scripts that drive Chromium with Playwright (tools/screenshots.py, tools/bench_screens.py) all start
it with these switches. Plain constants, no import: the tools read this file with ``runpy`` from
their own virtualenv, where neither Odoo nor this package can be imported."""

CHROMIUM = "/usr/bin/chromium"
SWITCHES = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
)
