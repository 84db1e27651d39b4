"""The embedded worker: the same relay, deliveries, retries and sweeps as Celery, in one process, no broker.

`python manage.py run_worker` runs `run_loop` in the foreground; `manage.py serve` starts that command as
a child process when CELERY_BROKER_URL is unset. Commits wake the loop early: in-process through a
threading.Event, and across processes through a one-byte UDP datagram on 127.0.0.1:DSAR_WORKER_WAKE_PORT
when that is set. Without a wake the loop still polls every `poll_seconds`, which is the guarantee.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from django.db import close_old_connections, connections
from django.utils import timezone

from core import ratelimit
from core.health import heartbeat

from . import conf, services
from .tasks import run_sweeps

log = logging.getLogger(__name__)

RELAY_BATCH = 200

_wake = threading.Event()
_udp: socket.socket | None = None
_udp_lock = threading.Lock()


def wake() -> None:
    """Ask the loop to look for work now. Harmless (and cheap) when no loop runs."""
    _wake.set()
    port = conf.wake_port()
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


def _listen_for_wakes(port: int, stop: threading.Event) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        log.warning("Cannot listen for wake-ups on 127.0.0.1:%s; polling only.", port, exc_info=True)
        sock.close()
        return
    sock.settimeout(0.5)
    with sock:
        while not stop.is_set():
            try:
                sock.recv(64)
            except TimeoutError:
                continue
            except OSError:
                return
            _wake.set()


class _Dispatcher:
    """Attempts due deliveries on a small thread pool, so one slow receiver does not hold up the rest."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook")
        self.inflight: set[str] = set()
        self.futures: set[Future] = set()
        self.lock = threading.Lock()
        self.saturated = False
        self.sweep: Future | None = None

    def dispatch_due(self) -> None:
        with self.lock:
            free = self.threads * 2 - len(self.inflight)
        if free <= 0:
            self.saturated = True
            return
        ids = services.deliveries_due(now=timezone.now(), limit=free + len(self.inflight))
        candidates = [i for i in ids if i not in self.inflight]
        fresh = candidates[:free]
        # More due than free slots: let each finishing attempt wake the loop instead of waiting a poll.
        self.saturated = len(candidates) > len(fresh)
        for delivery_id in fresh:
            with self.lock:
                self.inflight.add(delivery_id)
            self.submit(self._attempt, delivery_id)

    def _attempt(self, delivery_id: str) -> None:
        try:
            services.delivery_attempt(delivery_id=delivery_id, now=timezone.now())
        except Exception:
            log.exception("Webhook attempt failed unexpectedly for %s", delivery_id)
        finally:
            with self.lock:
                self.inflight.discard(delivery_id)
            close_old_connections()
            if self.saturated:
                _wake.set()

    def start_sweep(self) -> None:
        if self.sweep is not None and not self.sweep.done():
            return
        self.sweep = self.submit(self._sweep)

    def _sweep(self) -> None:
        try:
            counts = run_sweeps(now=timezone.now())
            if any(counts.values()):
                log.info("Sweeps: %s", ", ".join(f"{name} {count}" for name, count in counts.items()))
        except Exception:
            log.exception("Deadline sweep failed")
        finally:
            close_old_connections()

    def submit(self, fn: Callable[..., object], *args: object) -> Future:
        future = self.executor.submit(fn, *args)
        with self.lock:
            self.futures.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future) -> None:
        with self.lock:
            self.futures.discard(future)

    def shutdown(self, *, drain: bool = False) -> None:
        """In-flight attempts finish (bounded by the transport's timeouts); queued ones are dropped unless
        `drain`, and simply stay due in the database."""
        with self.lock:
            futures = list(self.futures)
        if not drain:
            for future in futures:
                future.cancel()
        wait(futures)
        self._close_thread_connections()
        self.executor.shutdown(wait=True)
        with self.lock:
            self.inflight.clear()

    def _close_thread_connections(self) -> None:
        # Connections are per thread and outlive the jobs (CONN_MAX_AGE), so close each on its own thread:
        # one job per thread, all held at a barrier so that no thread takes two.
        barrier = threading.Barrier(self.threads)

        def close() -> None:
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=5)
            connections.close_all()

        wait([self.executor.submit(close) for _ in range(self.threads)], timeout=30)


def run_pass(dispatcher: _Dispatcher) -> None:
    """One turn of the loop: drain the outbox, then start the due attempts."""
    relayed = RELAY_BATCH
    while relayed >= RELAY_BATCH:  # a full batch means more rows may be waiting
        relayed = services.outbox_relay(limit=RELAY_BATCH, now=timezone.now()).events
    dispatcher.dispatch_due()


def run_loop(
    stop: threading.Event,
    *,
    poll_seconds: float = 1.0,
    sweep_seconds: float = 60.0,
    threads: int | None = None,
    wake_port: int | None = None,
    once: bool = False,
) -> None:
    """Run until `stop` is set (or one pass with `once`). Exceptions are logged and the loop goes on."""
    dispatcher = _Dispatcher(threads or conf.worker_threads())
    port = wake_port if wake_port is not None else conf.wake_port()
    if port:
        threading.Thread(
            target=_listen_for_wakes, args=(port, stop), name="webhook-wake", daemon=True
        ).start()
    last_sweep = float("-inf")
    log.info("Webhook worker started (%d threads, poll %.1f s).", dispatcher.threads, poll_seconds)
    try:
        while not stop.is_set():
            _wake.clear()
            try:
                run_pass(dispatcher)
                heartbeat("worker")  # /healthz: the embedded worker is alive
                if time.monotonic() - last_sweep >= sweep_seconds:
                    last_sweep = time.monotonic()
                    dispatcher.start_sweep()
                    heartbeat("beat", every_seconds=0)  # ... and its scheduler starts the sweeps
                    ratelimit.purge_ended()
            except Exception:
                log.exception("Webhook worker pass failed; retrying")
            finally:
                close_old_connections()
            if once:
                break
            _wake.wait(poll_seconds)
    finally:
        dispatcher.shutdown(drain=once)
        connections.close_all()
        log.info("Webhook worker stopped.")


def request_stop(stop: threading.Event) -> None:
    """For signal handlers: stop the loop and interrupt its wait."""
    stop.set()
    _wake.set()
