"""Beat's scheduler: Celery's own, plus a heartbeat written by beat itself on every tick.

`/healthz` and the admin read it: if beat stops, retries and sweeps stop with it, and that must show even
while the workers are fine. Configured as CELERY_BEAT_SCHEDULER.
"""

from __future__ import annotations

import contextlib
from typing import Any

from celery.beat import PersistentScheduler

from core.health import heartbeat


class HeartbeatScheduler(PersistentScheduler):
    def tick(self, *args: Any, **kwargs: Any) -> float:
        # At most every 10 s. If the cache is down, /healthz says so; beat goes on scheduling.
        with contextlib.suppress(Exception):
            heartbeat("beat")
        return super().tick(*args, **kwargs)
