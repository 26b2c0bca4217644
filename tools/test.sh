#!/usr/bin/env bash
# Run the whole test suite: build a fresh test database with campaign_manager installed (once per
# run, without demo data), then run every test against it with pytest-odoo, then the linters.
# The browser test of the install from Apps runs on a database and an Odoo server of its own.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools/bootstrap.sh
. "$ROOT/tools/bootstrap.sh"
DB=${CAMPAIGN_TEST_DB:-campaign_test}
# The addon's dependencies alone, installed once: the test database is a copy of it with the addon
# installed, and the test of the install from Apps (tests/test_install_from_apps.py) starts from
# another copy, a database without the addon where Apps then installs the addon alone.
TEMPLATE="${DB}_deps"
start=$(date +%s)
say "Building $TEMPLATE (the addon's dependencies) and the test database $DB"
for db in "$DB" "$TEMPLATE"; do
    if psql -p "$PGPORT" -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
        $ODOO_BIN db -c "$ODOO_CONF" drop "$db" >/dev/null
    fi
done
trap '$ODOO_BIN db -c "$ODOO_CONF" drop "$TEMPLATE" >/dev/null 2>&1 || true' EXIT
DEPENDS=$("$VENV/bin/python" -c 'import ast, sys; print(",".join(ast.literal_eval(open(sys.argv[1]).read())["depends"]))' "$ADDON/__manifest__.py")
$ODOO_BIN -c "$ODOO_CONF" -d "$TEMPLATE" -i "$DEPENDS" --stop-after-init --log-level=warn
$ODOO_BIN db -c "$ODOO_CONF" duplicate "$TEMPLATE" "$DB" >/dev/null
$ODOO_BIN -c "$ODOO_CONF" -d "$DB" -i campaign_manager --stop-after-init --log-level=warn
export CAMPAIGN_APPS_TEMPLATE="$TEMPLATE"
say "Databases ready in $(( $(date +%s) - start )) s; running the tests"
status=0
"$VENV/bin/python" -m pytest --odoo-config="$ODOO_CONF" --odoo-database="$DB" -p no:cacheprovider --odoo-http --rootdir="$ADDON" "${@:-$ADDON/tests}" || status=$?
if [ "$status" -eq 0 ] && [ $# -eq 0 ]; then
    bash "$ROOT/tools/lint.sh" || status=$?
fi
say "Finished in $(( $(date +%s) - start )) s"
exit $status
