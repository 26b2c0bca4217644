#!/usr/bin/env bash
# ruff and pylint-odoo (OCA's mandatory checks) on the addon.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -z "${VENV:-}" ] || [ -z "${ADDONS_DIR:-}" ]; then
    # shellcheck source=tools/bootstrap.sh
    . "$ROOT/tools/bootstrap.sh" >/dev/null
fi
cd "$ROOT"
echo "[lint] ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
echo "[lint] pylint-odoo"
(cd "$ADDONS_DIR" && "$VENV/bin/pylint" --rcfile="$ROOT/.pylintrc" campaign_manager)
echo "[lint] clean"
