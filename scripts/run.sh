#!/usr/bin/env bash
# Install, migrate, seed the demo org (keys and login printed) and run the whole product on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/python manage.py migrate --no-input
.venv/bin/python manage.py seed_demo
exec .venv/bin/python manage.py serve "$@"
