"""The embedded worker: the same dispatch and sweeps as Celery, in one process, no broker.

`python manage.py run_worker` runs `run_loop` in the foreground; `manage.py serve` starts that command as
a supervised child process when CELERY_BROKER_URL is unset. Apps wake the loop early through
`core.wakeup`: in-process through `local_wake`, and across processes through a one-byte UDP datagram on
127.0.0.1:DSAR_WORKER_WAKE_PORT when that is set. Without a wake the loop still polls every
`poll_seconds`, which is the guarantee.

It logs its start and stop, failed deliveries and disabled or backed-off endpoints (one line each, no
payloads: see `notifications.services.delivery`), sweeps that did something, and errors; an idle pass
logs nothing.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone

from core.health import heartbeat
from core.wakeup import local_wake, wake_port

from . import periodic

log = logging.getLogger("dsar.worker")


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
            local_wake.set()


class _Exporter:
    """Runs export jobs handed to the background on threads of their own (DSAR_EXPORT_WORKERS)."""

    def __init__(self, threads: int) -> None:
        self.threads = max(1, threads)
        self._pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="exports")
        self._running: set[Future] = set()

    def start_waiting(self) -> None:
        from exports.background import export_take_and_run, jobs_waiting

        self._running = {f for f in self._running if not f.done()}
        free = self.threads - len(self._running)
        if free <= 0:
            return
        for job_id in jobs_waiting(free):
            self._running.add(self._pool.submit(self._run, export_take_and_run, job_id))

    @staticmethod
    def _run(run: Callable[[str], bool], job_id: str) -> None:
        try:
            run(job_id)
        except Exception:
            log.exception("Export job %s failed in the worker", job_id)
        finally:
            connections.close_all()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class _Mailer:
    """Sends the messages to data subjects on a thread of its own: a mail server that is slow or times out
    never delays a webhook delivery or a sweep."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail")
        self._running: Future | None = None

    def start(self) -> None:
        if self._running is not None and not self._running.done():
            return
        self._running = self._pool.submit(self._send)

    @staticmethod
    def _send() -> None:
        try:
            sent = periodic.mail_pass()
            if sent:
                log.info("Mail: %d message(s) sent.", sent)
        except Exception:
            log.exception("Sending mail failed; the next pass retries")
        finally:
            connections.close_all()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class _Sweeper:
    """Runs the sweeps on their own thread, so a long sweep never delays a delivery."""

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sweeps")
        self._running: Future | None = None

    def start(self) -> None:
        if self._running is not None and not self._running.done():
            return
        self._running = self._pool.submit(self._sweep)

    @staticmethod
    def _sweep() -> None:
        try:
            counts = periodic.sweeps(now=timezone.now())
            if any(counts.values()):
                log.info("Sweeps: %s", ", ".join(f"{name} {n}" for name, n in counts.items() if n))
        except Exception:
            log.exception("Sweeps failed; the next run retries")
        finally:
            connections.close_all()

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def run_loop(
    stop: threading.Event,
    *,
    poll_seconds: float = 1.0,
    sweep_seconds: float = periodic.SWEEP_EVERY_SECONDS,
    threads: int | None = None,
    wake_port_number: int | None = None,
    once: bool = False,
    min_pass_seconds: float = 0.05,
) -> None:
    """Run until `stop` is set (or one pass with `once`). Exceptions are logged and the loop goes on.

    Passes start at least `min_pass_seconds` apart: under a burst of commits (each one wakes the loop) the
    events of a few milliseconds are relayed together instead of one pass each. Deliveries in flight do
    not wait for a pass: the dispatcher fills its free threads itself."""
    from notifications.dispatcher import Dispatcher
    from notifications.services import outbox_drain

    dispatcher = Dispatcher(threads)
    sweeper = _Sweeper()
    mailer = _Mailer()
    exporter = _Exporter(settings.DSAR_EXPORT_WORKERS)
    port = wake_port_number if wake_port_number is not None else wake_port()
    if port:
        threading.Thread(target=_listen_for_wakes, args=(port, stop), name="worker-wake", daemon=True).start()
    last_sweep = float("-inf")
    log.info(
        "Background worker started (%d delivery threads, poll %.1f s).", dispatcher.threads, poll_seconds
    )
    try:
        while not stop.is_set():
            local_wake.clear()
            started = time.monotonic()
            try:
                outbox_drain()
                dispatcher.pump()
                exporter.start_waiting()
                mailer.start()
                heartbeat("worker")  # /healthz: the embedded worker is alive
                if time.monotonic() - last_sweep >= sweep_seconds:
                    last_sweep = time.monotonic()
                    sweeper.start()
                    heartbeat("beat", every_seconds=0)  # ... and its scheduler starts the sweeps
            except Exception:
                log.exception("Background worker pass failed; retrying")
            finally:
                close_old_connections()
            if once:
                break
            local_wake.wait(poll_seconds)
            stop.wait(max(0.0, started + min_pass_seconds - time.monotonic()))
    finally:
        if once:
            dispatcher.wait_idle(timeout=None)
            exporter.shutdown()
        dispatcher.shutdown()
        sweeper.shutdown()
        mailer.shutdown()
        exporter.shutdown()
        connections.close_all()
        log.info("Background worker stopped.")


def request_stop(stop: threading.Event) -> None:
    """For signal handlers: stop the loop and interrupt its wait."""
    stop.set()
    local_wake.set()
