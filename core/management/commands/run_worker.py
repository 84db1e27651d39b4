"""`python manage.py run_worker`: the embedded background worker, in the foreground until SIGTERM/SIGINT."""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from dsar_project.background.worker import request_stop, run_loop


class Command(BaseCommand):
    help = (
        "The embedded background worker: deliver webhooks (relay, fair dispatch, retries with backoff) and "
        "run every app's sweeps, without a broker. "
        "Stops cleanly on SIGTERM or SIGINT, letting in-flight attempts finish."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--poll-seconds", type=float, default=1.0, help="Look for due work this often.")
        parser.add_argument(
            "--sweep-seconds", type=float, default=60.0, help="Sweep interval (deadline notices, purges)."
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="Concurrent delivery attempts (default DSAR_WEBHOOK_WORKER_THREADS, 32).",
        )
        parser.add_argument(
            "--wake-port",
            type=int,
            default=None,
            help="UDP port on 127.0.0.1 to listen on for commit kicks (default: DSAR_WORKER_WAKE_PORT).",
        )
        parser.add_argument(
            "--once", action="store_true", help="One pass (relay, due attempts, sweep), then exit."
        )
        parser.add_argument(
            "--exit-with-parent",
            action="store_true",
            help="Stop when the parent process goes away (`manage.py serve` starts this as its child).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.CELERY_BROKER_URL and not options["once"]:
            self.stderr.write(
                "CELERY_BROKER_URL is set: Celery workers and beat do this work; running the embedded "
                "loop as well is safe (claims are exclusive) but usually not what you want."
            )
        stop = threading.Event()

        def on_signal(signum: int, frame: Any) -> None:
            request_stop(stop)

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        if options["exit_with_parent"]:
            parent = os.getppid()

            def watch_parent() -> None:
                while not stop.wait(1.0):
                    if os.getppid() != parent:
                        request_stop(stop)

            threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
        run_loop(
            stop,
            poll_seconds=options["poll_seconds"],
            sweep_seconds=options["sweep_seconds"],
            threads=options["threads"],
            wake_port_number=options["wake_port"],
            once=options["once"],
        )
