#!/usr/bin/env bash
# Take the screenshots of the user guide (docs/img/en/, docs/img/fr/) with headless Chromium:
#   1. builds a fresh demo database as tools/run.sh does (campaign_manager with demo data, French loaded),
#   2. serves it on HTTP_PORT (default 8069) without scheduled jobs, so that the demo data stays as it is,
#   3. runs tools/screenshots.py with Playwright for Python (in a virtualenv of its own, driving
#      /usr/bin/chromium: no browser download), in English then in French.
# Variables: SCREENSHOT_DB (default campaign_screenshots; dropped and created again unless KEEP_DB=1),
# HTTP_PORT, and the arguments of tools/screenshots.py (e.g. `bash tools/screenshots.sh --lang fr`).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools/bootstrap.sh
. "$ROOT/tools/bootstrap.sh"
DB=${SCREENSHOT_DB:-campaign_screenshots}
PORT=${HTTP_PORT:-8069}
PLAYWRIGHT_VERSION=1.65.2
start=$(date +%s)

[ -x /usr/bin/chromium ] || die "Chromium is needed in /usr/bin/chromium (Debian: apt-get install chromium)."
# pdftoppm turns the ROI report's PDF into a picture; without it the report's HTML is shot instead.
if ! command -v pdftoppm >/dev/null && command -v apt-get >/dev/null && as_root true 2>/dev/null; then
    say "Installing poppler-utils (pdftoppm)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends poppler-utils >/dev/null \
        || say "poppler-utils could not be installed: the ROI report is shot as HTML"
fi

# Playwright in a virtualenv of its own: its greenlet would not suit Odoo's pinned one.
SHOTS_VENV="$CACHE/venv-screenshots-$( { "$PYTHON" --version 2>&1; echo "$PLAYWRIGHT_VERSION"; } | sha256sum | cut -c1-12)"
if [ ! -f "$SHOTS_VENV/.complete" ]; then
    say "Creating $SHOTS_VENV (Playwright $PLAYWRIGHT_VERSION; the system's Chromium is used, no browser is downloaded)"
    rm -rf "$SHOTS_VENV"
    "$PYTHON" -m venv "$SHOTS_VENV"
    "$SHOTS_VENV/bin/pip" install -q "playwright==$PLAYWRIGHT_VERSION" || die "Installing Playwright failed."
    touch "$SHOTS_VENV/.complete"
fi

if [ "${KEEP_DB:-0}" = 1 ] && psql -p "$PGPORT" -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    say "Reusing the database $DB"
else
    say "Creating $DB with demo data (a few minutes)"
    dropdb -p "$PGPORT" --if-exists "$DB"
    $ODOO_BIN -c "$ODOO_CONF" -d "$DB" -i campaign_manager --with-demo --load-language=fr_FR \
        --stop-after-init --log-level=warn
fi

say "Serving $DB on http://127.0.0.1:$PORT"
LOG=$(mktemp)
$ODOO_BIN -c "$ODOO_CONF" -d "$DB" --db-filter="^$DB\$" --http-port="$PORT" --http-interface=127.0.0.1 \
    --max-cron-threads=0 --log-level=warn >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; rm -f "$LOG"' EXIT
for _ in $(seq 120); do
    curl -fs -o /dev/null "http://127.0.0.1:$PORT/web/login" && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$LOG" >&2; die "Odoo stopped (log above)."; }
    sleep 1
done
curl -fs -o /dev/null "http://127.0.0.1:$PORT/web/login" || die "Odoo does not answer on port $PORT (log: $LOG)."

status=0
"$SHOTS_VENV/bin/python" "$ROOT/tools/screenshots.py" --url "http://127.0.0.1:$PORT" --db "$DB" \
    --out "$ROOT/docs/img" "$@" || status=$?
say "Finished in $(( $(date +%s) - start )) s"
exit $status
