#!/usr/bin/env bash
# Run the whole test suite: build a fresh test database with campaign_manager installed (once per
# run, without demo data), then run every test against it with pytest-odoo, then the linters.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools/bootstrap.sh
. "$ROOT/tools/bootstrap.sh"
DB=${CAMPAIGN_TEST_DB:-campaign_test}
start=$(date +%s)
say "Building the test database $DB"
dropdb -p "$PGPORT" --if-exists "$DB"
$ODOO_BIN -c "$ODOO_CONF" -d "$DB" -i campaign_manager --stop-after-init --log-level=warn
say "Database ready in $(( $(date +%s) - start )) s; running the tests"
status=0
"$VENV/bin/python" -m pytest --odoo-config="$ODOO_CONF" --odoo-database="$DB" -p no:cacheprovider --odoo-http --rootdir="$ADDON" "${@:-$ADDON/tests}" || status=$?
if [ "$status" -eq 0 ] && [ $# -eq 0 ]; then
    bash "$ROOT/tools/lint.sh" || status=$?
fi
say "Finished in $(( $(date +%s) - start )) s"
exit $status
