#!/usr/bin/env bash
# Runs the app for development: virtualenv, dependencies, migrations, then serve.
# Without DATABASE_URL it uses the embedded PostgreSQL under instance/ (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh requirements.txt
.venv/bin/flask --app app db upgrade
exec .venv/bin/flask --app app run --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}"
