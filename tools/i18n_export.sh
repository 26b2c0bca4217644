#!/usr/bin/env bash
# Export the addon's terms to i18n/campaign_manager.pot and merge them into i18n/fr.po (msgmerge).
# The export runs against a database with the addon and its demo data (default campaign_demo).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools/bootstrap.sh
. "$ROOT/tools/bootstrap.sh"
DB=${CAMPAIGN_DB:-campaign_demo}
$ODOO_BIN i18n export -c "$ODOO_CONF" -d "$DB" -o "$ROOT/i18n/campaign_manager.pot" campaign_manager
if [ -f "$ROOT/i18n/fr.po" ]; then
    msgmerge --quiet --no-fuzzy-matching --update --backup=none "$ROOT/i18n/fr.po" "$ROOT/i18n/campaign_manager.pot"
else
    cp "$ROOT/i18n/campaign_manager.pot" "$ROOT/i18n/fr.po"
fi
say "i18n/campaign_manager.pot exported from $DB; i18n/fr.po merged"
