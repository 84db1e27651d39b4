""" "Work is waiting": how an app asks the background runner to look now, without importing the runner.

An app calls `work_waiting()` after a commit that left work behind (an outbox row, a replay, an export
to build). The runner lives at the project level (`dsar_project/background/`); the apps never import it:

- with a broker (CELERY_BROKER_URL), the task named `DISPATCH_TASK` is sent by name, from a background
  thread, because publishing to a broker that is down blocks for seconds and must not hold up an API
  answer; kicks that arrive while one is being published fold into the next;
- without one (the embedded mode), a one-byte datagram goes to 127.0.0.1:DSAR_WORKER_WAKE_PORT, where
  the embedded worker listens, and `local_wake` is set for a runner in this same process.

Nothing here is needed for correctness: the runner also polls (beat's tick, the embedded loop's poll), so
a kick lost to a broker outage or a full socket buffer only costs that wait.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from django.conf import settings

log = logging.getLogger(__name__)

DISPATCH_TASK = "dsar.dispatch"
WARN_EVERY = 60.0  # seconds between "broker unreachable" warnings during an outage
BACKOFF = 1.0  # seconds to wait after a failed publish, so an outage is not a busy loop

local_wake = threading.Event()


def wake_port() -> int | None:
    """The embedded worker's UDP port; `serve` hands it to its processes through the environment."""
    value = getattr(settings, "DSAR_WORKER_WAKE_PORT", None) or os.environ.get("DSAR_WORKER_WAKE_PORT")
    return int(value) if value else None


def work_waiting() -> None:
    """Ask the background runner to look for work now. Best effort: never blocks, never raises."""
    try:
        if settings.CELERY_BROKER_URL:
            _kicker.kick()
        else:
            local_wake.set()
            _datagram()
    except Exception:
        log.warning("Could not wake the background worker; its next poll will find the work.", exc_info=True)


_udp: socket.socket | None = None
_udp_lock = threading.Lock()


def _datagram() -> None:
    port = wake_port()
    if port is None:
        return
    global _udp
    with _udp_lock:
        try:
            if _udp is None:
                _udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                _udp.setblocking(False)
            _udp.sendto(b"k", ("127.0.0.1", port))
        except OSError:
            pass  # nobody listening, or the buffer is full: the poll will find the work


class _CeleryKicker:
    """Sends `DISPATCH_TASK` by name off the calling thread, one publish per burst of kicks."""

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._last_warning = float("-inf")

    def kick(self) -> None:
        self._ensure_thread()
        self._wake.set()

    def _ensure_thread(self) -> None:
        # A forked child (gunicorn, Celery prefork) inherits the object but not the thread.
        with self._lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="work-waiting-kicker", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        from celery import current_app

        while True:
            self._wake.wait()
            self._wake.clear()
            try:
                # No publish retries: the next kick, or beat's tick, is the retry.
                current_app.send_task(DISPATCH_TASK, retry=False)
            except Exception:
                now = time.monotonic()
                if now - self._last_warning >= WARN_EVERY:
                    self._last_warning = now
                    log.warning("Broker unreachable; background work waits for beat's tick.", exc_info=True)
                time.sleep(BACKOFF)


_kicker = _CeleryKicker()
