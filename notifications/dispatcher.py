"""The dispatcher: one per worker process, sending claimed deliveries on a pool of threads.

`pump()` claims as many due deliveries as the pool has threads free (fairly: see
`services.delivery.deliveries_claim`) and starts each at once, so no claimed attempt waits for a thread
and no lease is granted to an attempt that then sits in a queue. The send threads only make HTTP
requests; one recorder thread writes the finished attempts in batches and pumps again, so while
deliveries are due the pool stays busy without waiting for the next tick.

The embedded worker (`manage.py run_worker`) and every Celery worker process use this same class:
Celery's tasks only say "pump now". A process that dies leaves its claims to expire; another worker then
takes them over (and logs the lost attempt).
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections, connections
from django.utils import timezone

from . import conf
from .models import Delivery
from .services import delivery as deliveries
from .services.outbox import outbox_drain

log = logging.getLogger("notifications.dispatcher")

RECORD_BATCH = 200


class Dispatcher:
    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or conf.worker_threads()
        self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="webhook-send")
        self._lock = threading.Lock()  # guards `_active`
        self._pump_lock = threading.Lock()  # one claim at a time in this process
        self._active = 0  # claimed and not yet recorded
        self._finished: queue.SimpleQueue[deliveries.Sent | None] = queue.SimpleQueue()
        self._idle = threading.Condition(self._lock)
        self._stopping = False
        self._recorder = threading.Thread(target=self._record_loop, name="webhook-recorder", daemon=True)
        self._recorder.start()

    @property
    def active(self) -> int:
        with self._lock:
            return self._active

    def pump(self) -> int:
        """Claim and start as many due deliveries as there are free threads. Returns how many started."""
        with self._pump_lock:
            # Checked under the pump lock, which `shutdown` takes too: a claim in progress finishes (and is
            # counted in `_active`) before shutdown waits for the active attempts to be recorded.
            if self._stopping:
                return 0
            with self._lock:
                free = self.threads - self._active
            if free <= 0:
                return 0
            claimed = deliveries.deliveries_claim(limit=free)
            with self._lock:
                self._active += len(claimed)
            for delivery in claimed:
                self._pool.submit(self._send, delivery)
            return len(claimed)

    def _send(self, delivery: Delivery) -> None:
        try:
            sent = deliveries.attempt_send(delivery)
        except Exception:  # a bug, not a network failure (those are results): the lease brings it back
            log.exception("Webhook attempt for delivery %s failed unexpectedly", delivery.pk)
            with self._lock:
                self._active -= 1
                self._idle.notify_all()
            return
        self._finished.put(sent)

    def _record_loop(self) -> None:
        while True:
            first = self._finished.get()
            if first is None:
                connections.close_all()  # this thread's own connection
                return
            batch = [first]
            while len(batch) < RECORD_BATCH:
                try:
                    item = self._finished.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._finished.put(None)  # stop after this batch
                    break
                batch.append(item)
            try:
                close_old_connections()
                deliveries.attempts_record(batch)
            except Exception:  # the claims stay DELIVERING until their lease runs out, then come back
                log.exception("Could not record %d webhook attempts; they will be retried", len(batch))
            finally:
                with self._lock:
                    self._active -= len(batch)
                    self._idle.notify_all()
            try:
                self.pump()  # threads came free: fill them while work is due
            except Exception:
                log.exception("Webhook dispatch failed; the next tick retries")

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every claimed attempt is recorded (tests, shutdown). False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: self._active == 0, timeout=timeout)

    def shutdown(self, timeout: float | None = None) -> None:
        """Stop claiming, let the attempts in flight finish and be recorded (bounded by the transport's
        timeouts), then stop the threads."""
        with self._pump_lock:
            self._stopping = True
        self.wait_idle(timeout if timeout is not None else conf.lease().total_seconds())
        self._finished.put(None)
        self._recorder.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)
        connections.close_all()


_process: tuple[int, Dispatcher] | None = None
_process_lock = threading.Lock()


def dispatcher() -> Dispatcher:
    """This process's dispatcher, made on first use (after a fork, a new one: threads are not inherited)."""
    global _process
    with _process_lock:
        if _process is None or _process[0] != os.getpid():
            _process = (os.getpid(), Dispatcher())
        return _process[1]


def dispatcher_shutdown(timeout: float | None = None) -> None:
    """Shut this process's dispatcher down, if it has one."""
    global _process
    with _process_lock:
        current, _process = _process, None
    if current is not None and current[0] == os.getpid():
        current[1].shutdown(timeout)


def pump_now() -> int:
    """Relay the outbox, then start what is due: one pass, as beat's tick or a wake-up asks."""
    outbox_drain(clock=timezone.now)
    return dispatcher().pump()
