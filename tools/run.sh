#!/usr/bin/env bash
# Serve Odoo on http://localhost:8069 with campaign_manager and its demo data in the database
# campaign_demo (login admin / admin). Creates the database on first run, updates the addon after.
# The demo speaks French (its users' and contacts' language) with English active too, so that each
# user can switch in their preferences.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools/bootstrap.sh
. "$ROOT/tools/bootstrap.sh"
DB=${CAMPAIGN_DB:-campaign_demo}
if psql -p "$PGPORT" -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
    say "Updating campaign_manager in $DB"
    $ODOO_BIN -c "$ODOO_CONF" -d "$DB" -u campaign_manager --stop-after-init --log-level=warn
else
    say "Creating $DB with demo data (a few minutes the first time)"
    $ODOO_BIN -c "$ODOO_CONF" -d "$DB" -i campaign_manager --with-demo --load-language=fr_FR,en_US \
        --stop-after-init --log-level=warn
fi
say "Odoo on http://localhost:${HTTP_PORT:-8069} (database $DB, login admin / admin). Ctrl+C stops it."
exec $ODOO_BIN -c "$ODOO_CONF" -d "$DB" --db-filter="^$DB\$" "$@"
