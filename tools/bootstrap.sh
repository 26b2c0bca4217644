#!/usr/bin/env bash
# Prepare everything campaign_manager needs on this machine, idempotently:
#   - a virtualenv (cached outside the repository, keyed by the requirements),
#   - Odoo 19.0 installed from $ODOO_SRC (default /opt/odoo), or, only when
#     there is none, from the upstream 19.0 source archive,
#   - psycopg2, pytest-odoo, ruff, pylint-odoo,
#   - a running PostgreSQL cluster and a role for the current user,
#   - the checkout linked as `campaign_manager` into an addons folder of its own, kept in the
#     cache outside the checkout (a link inside it would make Odoo's file walks loop),
#   - an Odoo configuration file .odoo.conf (ignored by git).
# Source it (`. tools/bootstrap.sh`) or run it; it exports VENV, ODOO_BIN, ODOO_CONF.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ODOO_SRC=${ODOO_SRC:-/opt/odoo}
ODOO_BRANCH=19.0
ODOO_ARCHIVE_URL=${ODOO_ARCHIVE_URL:-https://github.com/odoo/odoo/archive/refs/heads/${ODOO_BRANCH}.tar.gz}
CACHE=${CAMPAIGN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/campaign_manager}
PYTHON=${PYTHON:-python3.11}
PGPORT=${PGPORT:-5432}
export PGPORT

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[setup] %s\033[0m\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

# --- Python ------------------------------------------------------------------
check_python() {
    command -v "$PYTHON" >/dev/null || PYTHON=python3
    command -v "$PYTHON" >/dev/null || die "No python3 found. Install Python 3.11 (Debian: apt-get install python3 python3-venv python3-dev)."
    local ver
    ver=$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    case "$ver" in
        3.10|3.11|3.12) ;;
        *) die "Python $ver found; Odoo 19.0 needs Python 3.10 to 3.12 (3.11 is what we test). Set PYTHON=/path/to/python3.11." ;;
    esac
    "$PYTHON" -c 'import venv' 2>/dev/null || die "Python's venv module is missing (Debian: apt-get install python3-venv)."
}

# --- Odoo source ---------------------------------------------------------------
ensure_odoo_source() {
    if [ -f "$ODOO_SRC/odoo/release.py" ]; then
        return
    fi
    local dl="$CACHE/odoo-$ODOO_BRANCH"
    if [ -f "$dl/odoo/release.py" ]; then
        ODOO_SRC=$dl
        return
    fi
    say "No Odoo source in $ODOO_SRC: downloading the upstream $ODOO_BRANCH source archive"
    mkdir -p "$CACHE"
    if ! curl -fsSL --retry 2 -o "$CACHE/odoo.tar.gz" "$ODOO_ARCHIVE_URL"; then
        rm -f "$CACHE/odoo.tar.gz"
        die "No Odoo source in $ODOO_SRC and the download of $ODOO_ARCHIVE_URL failed (no network?).
    Put an Odoo $ODOO_BRANCH source tree there (git clone -b $ODOO_BRANCH --depth 1 https://github.com/odoo/odoo $ODOO_SRC)
    or point ODOO_SRC at one."
    fi
    mkdir -p "$dl.tmp"
    tar -xzf "$CACHE/odoo.tar.gz" -C "$dl.tmp" --strip-components=1
    mv "$dl.tmp" "$dl"
    rm -f "$CACHE/odoo.tar.gz"
    ODOO_SRC=$dl
}

check_odoo_version() {
    local serie
    serie=$(sed -n "s/^version_info = (\([0-9]*\), \([0-9]*\).*/\1.\2/p" "$ODOO_SRC/odoo/release.py")
    [ "$serie" = "19.0" ] || die "$ODOO_SRC holds Odoo $serie; campaign_manager needs 19.0. Set ODOO_SRC to a 19.0 tree."
}

# --- system packages ---------------------------------------------------------
ensure_system_packages() {
    # Build headers for python-ldap, PDF rendering, a browser for the tours, the PostgreSQL client/server.
    local missing=()
    [ -f /usr/include/ldap.h ] || missing+=(libldap2-dev)
    [ -f /usr/include/sasl/sasl.h ] || missing+=(libsasl2-dev)
    command -v pg_config >/dev/null || missing+=(libpq-dev)
    command -v wkhtmltopdf >/dev/null || missing+=(wkhtmltopdf)
    # headless browser for the tours (Odoo looks for any of these names)
    command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null \
        || command -v google-chrome-stable >/dev/null || missing+=(chromium)
    command -v psql >/dev/null || missing+=(postgresql postgresql-client)
    [ ${#missing[@]} -eq 0 ] && return
    if command -v apt-get >/dev/null && as_root true 2>/dev/null; then
        say "Installing system packages: ${missing[*]}"
        as_root apt-get update -qq >/dev/null || true
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
            || die "apt-get could not install: ${missing[*]}"
    else
        die "Missing system packages: ${missing[*]} (Debian names). Install them, then run this again."
    fi
}

# --- virtualenv ----------------------------------------------------------------
ensure_venv() {
    local key
    key=$( { "$PYTHON" --version 2>&1; cat "$ODOO_SRC/requirements.txt" "$ROOT/tools/requirements.txt"; echo "$ODOO_SRC"; } | sha256sum | cut -c1-12)
    VENV="$CACHE/venv-$key"
    if [ -f "$VENV/.complete" ]; then
        return
    fi
    say "Creating virtualenv $VENV (Odoo requirements: a few minutes the first time)"
    rm -rf "$VENV"
    mkdir -p "$CACHE"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade "pip>=25" "setuptools<81" wheel
    # cbor2 (pinned by Odoo) does not build with setuptools >= 81.
    printf 'setuptools<81\n' > "$VENV/build-constraints.txt"
    PIP_BUILD_CONSTRAINT="$VENV/build-constraints.txt" \
        "$VENV/bin/pip" install -q --build-constraint "$VENV/build-constraints.txt" -r "$ODOO_SRC/requirements.txt" \
        || die "Installing Odoo's requirements failed (see above). Debian needs: libldap2-dev libsasl2-dev libpq-dev python3-dev."
    "$VENV/bin/pip" install -q --no-deps -e "$ODOO_SRC" --config-settings editable_mode=compat \
        || die "Installing Odoo from $ODOO_SRC failed."
    "$VENV/bin/pip" install -q -r "$ROOT/tools/requirements.txt" || die "Installing the tools in tools/requirements.txt failed."
    touch "$VENV/.complete"
}

# --- PostgreSQL ----------------------------------------------------------------
ensure_postgres() {
    command -v pg_isready >/dev/null || die "No PostgreSQL client (Debian: apt-get install postgresql)."
    if ! pg_isready -q -p "$PGPORT"; then
        if command -v pg_lsclusters >/dev/null; then
            local cluster
            cluster=$(pg_lsclusters -h | awk -v p="$PGPORT" '$3 == p {print $1" "$2; exit}')
            if [ -z "$cluster" ] && command -v pg_createcluster >/dev/null; then
                local ver
                ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
                say "Creating PostgreSQL cluster $ver/main on port $PGPORT"
                as_root pg_createcluster -p "$PGPORT" "$ver" main >/dev/null || die "pg_createcluster failed."
                cluster="$ver main"
            fi
            [ -n "$cluster" ] || die "No PostgreSQL cluster on port $PGPORT and none can be created. Start PostgreSQL, or set PGPORT."
            say "Starting PostgreSQL cluster $cluster"
            # shellcheck disable=SC2086
            as_root pg_ctlcluster $cluster start || die "Could not start PostgreSQL cluster $cluster (try: sudo pg_ctlcluster $cluster start)."
        else
            die "PostgreSQL does not answer on localhost:$PGPORT. Start it (or set PGPORT), then run this again."
        fi
        for _ in $(seq 30); do pg_isready -q -p "$PGPORT" && break; sleep 1; done
        pg_isready -q -p "$PGPORT" || die "PostgreSQL still does not answer on localhost:$PGPORT."
    fi
    PGUSER_NAME=$(id -un)
    if ! psql -p "$PGPORT" -d postgres -Atc "select 1" >/dev/null 2>&1; then
        say "Creating PostgreSQL role $PGUSER_NAME"
        if [ "$PGUSER_NAME" = postgres ]; then
            die "Cannot connect to PostgreSQL as postgres."
        fi
        if as_root true 2>/dev/null; then
            as_root su postgres -c "createuser -p $PGPORT -s $PGUSER_NAME" 2>/dev/null || true
        fi
        psql -p "$PGPORT" -d postgres -Atc 'select 1' >/dev/null 2>&1 \
            || die "PostgreSQL role $PGUSER_NAME is missing and could not be created: sudo -u postgres createuser -s $PGUSER_NAME"
    fi
}

# --- addons path and config ----------------------------------------------------
ensure_addons_link() {
    ADDONS_DIR="$CACHE/addons-$(printf '%s' "$ROOT" | sha256sum | cut -c1-10)"
    mkdir -p "$ADDONS_DIR"
    ln -sfn "$ROOT" "$ADDONS_DIR/campaign_manager"
    ADDON="$ADDONS_DIR/campaign_manager"
}

write_config() {
    ODOO_CONF="$ROOT/.odoo.conf"
    local addons="$ODOO_SRC/addons,$ADDONS_DIR"
    cat > "$ODOO_CONF" <<EOF
[options]
; written by tools/bootstrap.sh; not versioned
addons_path = $addons
db_port = $PGPORT
db_user = $(id -un)
admin_passwd = admin
http_port = ${HTTP_PORT:-8069}
http_interface = ${HTTP_INTERFACE:-127.0.0.1}
data_dir = $CACHE/filestore
without_demo = True
limit_time_cpu = 3600
limit_time_real = 7200
EOF
}

check_python
ensure_odoo_source
check_odoo_version
ensure_system_packages
ensure_venv
ensure_postgres
ensure_addons_link
write_config
ODOO_BIN="$VENV/bin/odoo"
[ -x "$ODOO_BIN" ] || ODOO_BIN="$VENV/bin/python $ODOO_SRC/odoo-bin"
export VENV ODOO_BIN ODOO_CONF ODOO_SRC ADDON ADDONS_DIR
say "Ready: Odoo from $ODOO_SRC, virtualenv $VENV, config $ODOO_CONF"
