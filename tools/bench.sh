#!/usr/bin/env bash
# Benchmark of the campaign pipeline against Odoo's mass mailing, and of the screens (see tools/benchmark.py).
#   bash tools/bench.sh                    # 10,000 and 100,000 contacts, then the screens
#   BENCH_SIZES=10000,100000,1000000 bash tools/bench.sh
#   bash tools/bench.sh --screens-only     # only the screens: demo database, and 100,000 contacts
#                                          # with 1,000,000 touchpoints (about 15 minutes)
#   BENCH_SCREENS=0 bash tools/bench.sh    # without the screens (no browser, no demo database)
#   BENCH_SCREENS_DEMO=0 ...               # the screens at scale only (no demo database)
#   BENCH_DB_PREFIX=mine ...               # databases mine_tpl, mine_demo, mine_10000... (default campaign_bench)
# Builds a template database with the addon (once per run), then one database per size; the screens
# step also builds a demo database (campaign_bench_demo) and drives /usr/bin/chromium with Playwright
# (a virtualenv of its own, as tools/screenshots.sh makes it).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools/bootstrap.sh
. "$ROOT/tools/bootstrap.sh"
PREFIX=${BENCH_DB_PREFIX:-campaign_bench}
TEMPLATE=${BENCH_TEMPLATE:-${PREFIX}_tpl}
DEMO_DB=${BENCH_DEMO_DB:-${PREFIX}_demo}
PLAYWRIGHT_VERSION=1.65.2
say "Building the template database $TEMPLATE"
dropdb -p "$PGPORT" --if-exists "$TEMPLATE"
$ODOO_BIN -c "$ODOO_CONF" -d "$TEMPLATE" -i campaign_manager --stop-after-init --log-level=warn
start=$(date +%s)
command -v wrk >/dev/null || { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
    || say "wrk is not installed: the routes are loaded by the Python client instead"; }

screens=()
if [ "${BENCH_SCREENS:-1}" = 1 ]; then
    [ -x /usr/bin/chromium ] || die "The screens step needs Chromium in /usr/bin/chromium (or BENCH_SCREENS=0)."
    SHOTS_VENV="$CACHE/venv-screenshots-$( { "$PYTHON" --version 2>&1; echo "$PLAYWRIGHT_VERSION"; } | sha256sum | cut -c1-12)"
    if [ ! -f "$SHOTS_VENV/.complete" ]; then
        say "Creating $SHOTS_VENV (Playwright $PLAYWRIGHT_VERSION; the system's Chromium is used)"
        rm -rf "$SHOTS_VENV"
        "$PYTHON" -m venv "$SHOTS_VENV"
        "$SHOTS_VENV/bin/pip" install -q "playwright==$PLAYWRIGHT_VERSION" || die "Installing Playwright failed."
        touch "$SHOTS_VENV/.complete"
    fi
    screens=(--screens-python "$SHOTS_VENV/bin/python")
    if [ "${BENCH_SCREENS_DEMO:-1}" = 1 ]; then
        say "Building the demo database $DEMO_DB (its screens are measured too)"
        dropdb -p "$PGPORT" --if-exists "$DEMO_DB"
        $ODOO_BIN -c "$ODOO_CONF" -d "$DEMO_DB" -i campaign_manager --with-demo --load-language=fr_FR \
            --stop-after-init --log-level=warn
        screens+=(--demo-db "$DEMO_DB")
    fi
else
    screens=(--no-screens)
fi
"$VENV/bin/python" "$ROOT/tools/benchmark.py" --config "$ODOO_CONF" --template "$TEMPLATE" \
    --odoo-bin "$ODOO_BIN" --sizes "${BENCH_SIZES:-10000,100000}" --db-prefix "$PREFIX" "${screens[@]}" "$@"
say "Benchmark finished in $(( $(date +%s) - start )) s"
