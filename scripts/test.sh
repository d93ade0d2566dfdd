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

set +e
.venv/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "no tests ran: that is a failure"
    exit 1
fi
exit "$status"
