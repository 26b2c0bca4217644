#!/usr/bin/env bash
# Benchmark of the campaign pipeline against Odoo's mass mailing (see tools/benchmark.py).
#   bash tools/bench.sh                    # 10,000 and 100,000 contacts
#   BENCH_SIZES=10000,100000,1000000 bash tools/bench.sh
# Builds a template database with the addon (once per run), then one database per size.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tools/bootstrap.sh
. "$ROOT/tools/bootstrap.sh"
TEMPLATE=${BENCH_TEMPLATE:-campaign_bench_tpl}
say "Building the template database $TEMPLATE"
dropdb -p "$PGPORT" --if-exists "$TEMPLATE"
$ODOO_BIN -c "$ODOO_CONF" -d "$TEMPLATE" -i campaign_manager --stop-after-init --log-level=warn
start=$(date +%s)
command -v wrk >/dev/null || { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null 2>&1 \
    || say "wrk is not installed: the routes are loaded by the Python client instead"; }
"$VENV/bin/python" "$ROOT/tools/benchmark.py" --config "$ODOO_CONF" --template "$TEMPLATE" \
    --odoo-bin "$ODOO_BIN" --sizes "${BENCH_SIZES:-10000,100000}" "$@"
say "Benchmark finished in $(( $(date +%s) - start )) s"
