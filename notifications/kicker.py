"""Publishes relay and deliver tasks after commits, off the request thread, coalescing bursts.

Publishing to a broker that is down blocks for seconds (connection attempts), so it never happens on the
thread that served the API call. Kicks that arrive while a publish is in flight are folded into the next
one: a relay run picks up every event committed before it starts, so one publish per burst is enough.
Nothing here is needed for correctness: the beat dispatch tick relays and dispatches whatever a kick
missed.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable

log = logging.getLogger(__name__)

WARN_EVERY = 60.0  # seconds between "broker unreachable" warnings during an outage
BACKOFF = 1.0  # seconds to wait after a failed publish, so an outage is not a busy loop
CHUNK = 25  # delivery ids per deliver task


class CeleryKicker:
    def __init__(self) -> None:
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._relay = False
        self._delivery_ids: list[str] = []
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._last_warning = float("-inf")

    def kick(self, *, delivery_ids: Iterable[str] = ()) -> None:
        """Ask for a relay run (no ids) or for these deliveries to be attempted now (a replay)."""
        with self._lock:
            ids = list(delivery_ids)
            if ids:
                self._delivery_ids.extend(ids)
            else:
                self._relay = True
        self._ensure_thread()
        self._wake.set()

    def _ensure_thread(self) -> None:
        # A forked child (gunicorn, Celery prefork) inherits the object but not the thread.
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="webhook-kicker", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        from .tasks import deliver_task, relay_task

        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                relay, self._relay = self._relay, False
                ids, self._delivery_ids = self._delivery_ids, []
            try:
                # No publish retries: the next kick, or the beat tick, is the retry.
                if relay:
                    relay_task.apply_async(retry=False)
                for start in range(0, len(ids), CHUNK):
                    deliver_task.apply_async(args=[ids[start : start + CHUNK]], retry=False)
            except Exception:
                now = time.monotonic()
                if now - self._last_warning >= WARN_EVERY:
                    self._last_warning = now
                    log.warning(
                        "Broker unreachable; webhook delivery waits for the dispatch tick.", exc_info=True
                    )
                time.sleep(BACKOFF)


celery_kicker = CeleryKicker()
