#!/usr/bin/env bash
# Runs the whole test suite. Arguments go to pytest (e.g. -k, -x, tests/test_x.py).
#
# Installs the Python dependencies into .venv, and when run as root the Debian
# packages some lanes need (chromium, pgbouncer). Without them those lanes are
# skipped with a message; with CI=true a skipped lane is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh requirements-dev.txt

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing Debian packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "not root: lanes needing ${missing[*]} will be skipped (install them with apt-get)"
    fi
fi

run_pytest() {
    set +e
    .venv/bin/python -m pytest "$@"
    local status=$?
    set -e
    if [ "$status" -eq 5 ]; then
        echo "no tests ran: that is a failure"
        return 1
    fi
    return "$status"
}

if [ $# -gt 0 ]; then
    run_pytest "$@"
    exit $?
fi

# Lint first (ruff, configured in pyproject.toml): a finding fails the run.
echo "=== ruff ==="
.venv/bin/ruff check .

# The whole suite directly on PostgreSQL, then the PgBouncer lane: the tests marked
# `pooled` (services and API) again, through PgBouncer in transaction mode.
direct=0; pooled=0
run_pytest || direct=$?
echo "=== PgBouncer lane ==="
TEST_PGBOUNCER=1 run_pytest || pooled=$?
if [ "$direct" -ne 0 ] || [ "$pooled" -ne 0 ]; then
    echo "FAILED: direct lane exit $direct, PgBouncer lane exit $pooled"
    exit 1
fi
