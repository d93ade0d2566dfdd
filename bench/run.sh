#!/usr/bin/env bash
# The benchmark, one command: installs what it needs (wrk, and redis-server when no Redis
# answers on 127.0.0.1:6379; Debian packages, when root), then runs bench/run.py.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh requirements.txt
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if [ -z "${BENCH_REDIS_URL:-}" ] && ! command -v redis-server >/dev/null 2>&1 \
        && ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
    missing+=(redis-server)
fi
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "missing: ${missing[*]} (install the Debian packages)" >&2
        exit 2
    fi
fi
exec .venv/bin/python bench/run.py "$@"
