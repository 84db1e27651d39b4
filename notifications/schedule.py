"""Celery beat's schedule for the notifications work (imported by settings, so no Django imports here).

The dispatch tick is the delivery guarantee behind the on-commit kick; `expires` drops ticks that queued
up while workers were busy or down, since the next one does the same work.
"""

from __future__ import annotations

BEAT_SCHEDULE: dict[str, dict] = {
    "notifications-dispatch-tick": {
        "task": "notifications.dispatch_tick",
        "schedule": 2.0,
        "options": {"expires": 10},
    },
    "notifications-sweeps": {
        "task": "notifications.sweeps",
        "schedule": 60.0,
        "options": {"expires": 120},
    },
}
