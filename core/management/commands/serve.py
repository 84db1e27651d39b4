"""`manage.py serve`: the whole product on one machine.

The web app runs under gunicorn. With no CELERY_BROKER_URL (the embedded mode) the background work —
outbox relay, webhook deliveries with retries, deadline sweeps — runs beside it as a child process
(`manage.py run_worker`), so nothing needs Redis. With a broker, only the web app runs here; start
`celery -A dsar_project worker` and `celery -A dsar_project beat` separately.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


class Command(BaseCommand):
    help = "Run the web app (gunicorn) and, in embedded mode, the background worker beside it."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
        parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
        parser.add_argument("--no-background", action="store_true", help="do not start the embedded worker")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not (os.environ.get("SECRET_KEY") or os.environ.get("SECRET_KEY_FILE")):
            # The built-in key is in the public repository: sessions and signed links made with it can be
            # forged by anyone. It is for DEBUG=1 development only.
            raise CommandError(
                "SECRET_KEY is not set. Set SECRET_KEY (the same value on every web host) or run "
                "`bash scripts/run.sh`, which generates a local one; DEBUG=1 allows the demo key."
            )
        executor = MigrationExecutor(connection)
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.stderr.write(
                self.style.WARNING("Unapplied migrations: run `python manage.py migrate` first.")
            )
            sys.exit(2)
        connection.close()  # gunicorn forks: no inherited connection

        child: subprocess.Popen | None = None
        if not settings.CELERY_BROKER_URL and not options["no_background"]:
            # Web workers wake the background worker on commit with a datagram on this port, so a webhook
            # leaves within milliseconds rather than at the next poll.
            os.environ.setdefault("DSAR_WORKER_WAKE_PORT", str(_free_udp_port()))
            manage = Path(settings.BASE_DIR) / "manage.py"
            child = subprocess.Popen(  # noqa: S603
                [sys.executable, str(manage), "run_worker", "--exit-with-parent"], env=os.environ.copy()
            )
            self.stdout.write(f"Embedded background worker started (pid {child.pid}).")
        elif settings.CELERY_BROKER_URL:
            self.stdout.write(
                "Broker configured: run `celery -A dsar_project worker` and `celery -A dsar_project beat`."
            )

        bind = f"{options['host']}:{options['port']}"
        self.stdout.write(f"DSAR Core on http://{bind}/  (API /v1/, docs /v1/docs, admin /admin/)")
        try:
            _Gunicorn(
                {
                    "bind": bind,
                    "workers": options["workers"],
                    "threads": options["threads"],
                    "worker_class": "gthread",
                    "timeout": 60,
                    "graceful_timeout": 10,
                    "accesslog": "-",
                    "errorlog": "-",
                }
            ).run()
        finally:
            if child is not None and child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Gunicorn:
    """gunicorn's documented custom-application hook, built lazily so importing this module stays cheap."""

    def __init__(self, options: dict[str, Any]):
        from gunicorn.app.base import BaseApplication

        from dsar_project.wsgi import application

        class App(BaseApplication):
            def load_config(self) -> None:
                for key, value in options.items():
                    self.cfg.set(key, value)

            def load(self):
                return application

        self._app = App()

    def run(self) -> None:
        self._app.run()
