#!/usr/bin/env bash
# The benchmark, one command: installs what it needs (wrk when root), then runs bench/run.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh requirements.txt
if ! command -v wrk >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
    else
        echo "wrk not found: install the Debian package wrk" >&2
        exit 2
    fi
fi
exec .venv/bin/python bench/run.py "$@"
