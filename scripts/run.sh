#!/usr/bin/env bash
# Install, migrate, seed the demo org (keys and login printed) and run the whole product on SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# A local SECRET_KEY, made once and kept in the git-ignored .secret_key; settings never read the file.
if [ -z "${SECRET_KEY:-}" ]; then
  if [ ! -s .secret_key ]; then
    (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' > .secret_key)
  fi
  SECRET_KEY=$(cat .secret_key)
  export SECRET_KEY
fi
# The demo's customer database (made by seed_demo), read by export jobs through the substrate `crm`.
export DSAR_DEMO_CRM_URL="${DSAR_DEMO_CRM_URL:-sqlite:///$PWD/var/demo/crm.sqlite3}"
.venv/bin/python manage.py migrate --no-input
.venv/bin/python manage.py seed_demo
exec .venv/bin/python manage.py serve "$@"
