"""Celery beat's schedule (imported by settings, so no Django imports here).

The dispatch tick is the delivery guarantee behind the on-commit kick; `expires` drops ticks that queued
up while workers were busy or down, since the next one does the same work.
"""

from __future__ import annotations

from .periodic import DISPATCH_EVERY_SECONDS, MAIL_EVERY_SECONDS, SWEEP_EVERY_SECONDS

BEAT_SCHEDULE: dict[str, dict] = {
    "dispatch-tick": {
        "task": "dsar.dispatch",
        "schedule": DISPATCH_EVERY_SECONDS,
        "options": {"expires": 10},
    },
    "mail-tick": {"task": "dsar.mail", "schedule": MAIL_EVERY_SECONDS, "options": {"expires": 30}},
    "sweeps": {"task": "dsar.sweeps", "schedule": SWEEP_EVERY_SECONDS, "options": {"expires": 120}},
    # /healthz reads the worker's heartbeat from a worker running this task; beat writes its own.
    "heartbeat": {"task": "dsar.heartbeat", "schedule": 30.0, "options": {"expires": 60}},
}
