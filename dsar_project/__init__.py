"""The project package.

The Celery app is loaded here only when a broker is configured (`celery -A dsar_project` finds
`dsar_project.celery` either way). The embedded mode, with no broker, never uses Celery: leaving it out
saves each of its processes about 6 MB (bench/README.md, Exports).
"""

import os

if os.environ.get("CELERY_BROKER_URL") or os.environ.get("CELERY_BROKER_URL_FILE"):
    from .celery import app as celery_app

    __all__ = ("celery_app",)
