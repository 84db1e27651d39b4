#!/usr/bin/env bash
# Install and run the whole test suite. SQLite by default; DATABASE_URL=postgres://... runs it on PostgreSQL.
# Browser tests need Debian's chromium, the broker tests redis-server (each installed here when missing and
# we are root).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "warning: could not install chromium"
fi
if ! command -v redis-server >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null) || echo "warning: could not install redis-server"
fi
exec .venv/bin/pytest "$@"
