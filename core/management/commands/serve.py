"""`manage.py serve`: the whole product on one machine.

The web app runs under gunicorn. With no CELERY_BROKER_URL (the embedded mode) the background work —
outbox relay, webhook deliveries with retries, deadline sweeps — runs beside it as a child process
(`manage.py run_worker`), so nothing needs Redis. `serve` supervises that child: if it dies, it is
restarted with backoff and both events are logged. With a broker, only the web app runs here; start
`celery -A dsar_project worker` and `celery -A dsar_project beat` separately.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

log = logging.getLogger("dsar.serve")

# Restart backoff: 1 s, doubling to 30 s; a child that ran this long before dying starts the series again.
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
HEALTHY_AFTER = 60.0
STOP_TIMEOUT = 15.0


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

        supervisor: WorkerSupervisor | None = None
        if not settings.CELERY_BROKER_URL and not options["no_background"]:
            # Web workers wake the background worker on commit with a datagram on this port, so a webhook
            # leaves within milliseconds rather than at the next poll. Set once, before gunicorn forks:
            # every web process and every restarted worker sees the same port.
            os.environ.setdefault("DSAR_WORKER_WAKE_PORT", str(_free_udp_port()))
            manage = Path(settings.BASE_DIR) / "manage.py"
            supervisor = WorkerSupervisor(
                [sys.executable, str(manage), "run_worker", "--exit-with-parent"], env=os.environ.copy()
            )
            pid = supervisor.start()
            self.stdout.write(f"Embedded background worker started (pid {pid}).")
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
                    # gunicorn's control socket is one path per user: two installations (or tests) on a
                    # host would share it. serve is controlled by signals and its service manager.
                    "control_socket_disable": True,
                    "accesslog": "-",
                    # The path without its query string: a download link's `token` is a bearer secret.
                    "access_log_format": '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"',
                    "errorlog": "-",
                },
                supervisor=supervisor,
            ).run()
        finally:
            if supervisor is not None:
                supervisor.stop()


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# gunicorn forks web workers from the main thread while the supervisor may be spawning a child from its
# own thread. A fork in the middle of `Popen()` would copy Popen's exec-status pipe into a web worker,
# and Popen would then wait for that pipe to close — for the web worker's whole life. So no fork happens
# while a spawn is in progress (the at-fork hooks run around every `os.fork()` in this process).
_spawn_lock = threading.Lock()
_fork_guard_installed = False


def _install_fork_guard() -> None:
    global _fork_guard_installed
    if not _fork_guard_installed:
        os.register_at_fork(
            before=_spawn_lock.acquire,
            after_in_parent=_spawn_lock.release,
            after_in_child=_spawn_lock.release,
        )
        _fork_guard_installed = True


def describe_exit(status: int | None) -> str:
    """A wait status in words; None when something other than the supervisor reaped the child."""
    if status is None:
        return "exit status unknown (reaped by another waiter)"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"killed by {name}"
    if os.WIFEXITED(status):
        return f"exit code {os.WEXITSTATUS(status)}"
    return f"wait status {status}"


class WorkerSupervisor:
    """Runs one child process and restarts it whenever it exits, until `stop()`.

    A thread of its own blocks in `waitpid(pid)`. gunicorn's arbiter, in the same process, reaps any child
    with `waitpid(-1)` when it handles SIGCHLD, and often gets there first; so the arbiter calls `collect()`
    before it reaps (as it does for its own dirty arbiter): a targeted `waitpid` that keeps the status for
    this thread, whose `waitpid` then says ECHILD. Only if something else reaped the child is its status
    unknown; it is gone all the same. `stop()` signals the child and lets the thread collect it.
    """

    def __init__(
        self,
        args: list[str],
        *,
        env: dict[str, str],
        first_backoff: float = FIRST_BACKOFF,
        max_backoff: float = MAX_BACKOFF,
        healthy_after: float = HEALTHY_AFTER,
    ) -> None:
        self.args = args
        self.env = env  # the same mapping for every restart: same wake port, same database
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.healthy_after = healthy_after
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # guards `_child` against `stop()` racing a restart
        self._child: subprocess.Popen[bytes] | None = None
        self._collected: dict[int, int] = {}  # pid -> wait status, reaped by `collect()`
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        _install_fork_guard()
        child = self._spawn()
        assert child is not None  # not stopping yet
        self._thread = threading.Thread(target=self._supervise, args=(child,), name="worker-supervisor")
        self._thread.daemon = True  # never keep serve alive on its own; stop() joins it
        self._thread.start()
        return child.pid

    def _spawn(self) -> subprocess.Popen[bytes] | None:
        with self._lock:
            if self._stopping.is_set():
                return None
            with _spawn_lock:
                self._child = subprocess.Popen(self.args, env=self.env)  # noqa: S603
            return self._child

    def _supervise(self, child: subprocess.Popen[bytes]) -> None:
        backoff = self.first_backoff
        while True:
            started = time.monotonic()
            status = self._wait(child)
            ran = time.monotonic() - started
            if self._stopping.is_set():
                log.info("Background worker (pid %s) stopped: %s.", child.pid, describe_exit(status))
                return
            if ran >= self.healthy_after:
                backoff = self.first_backoff
            log.warning(
                "Background worker (pid %s) exited after %.0f s: %s; restarting in %g s.",
                child.pid,
                ran,
                describe_exit(status),
                backoff,
            )
            while True:
                if self._stopping.wait(backoff):
                    return
                backoff = min(backoff * 2, self.max_backoff)
                try:
                    restarted = self._spawn()
                except OSError:
                    log.exception("Could not restart the background worker; trying again in %g s.", backoff)
                    continue
                break
            if restarted is None:  # stopping
                return
            child = restarted
            log.warning("Background worker restarted (pid %s).", child.pid)

    def _wait(self, child: subprocess.Popen[bytes]) -> int | None:
        """Block until the child has exited; its wait status, or None if something else reaped it."""
        status: int | None
        try:
            _, status = os.waitpid(child.pid, 0)
        except ChildProcessError:
            with self._lock:  # `collect()` reaps and records under the lock: read after it is done
                status = self._collected.pop(child.pid, None)
        with self._lock:
            # Popen itself records 0 for a child it cannot wait for (ECHILD); never wait on this pid again.
            child.returncode = os.waitstatus_to_exitcode(status) if status is not None else 0
        return status

    def collect(self) -> None:
        """For gunicorn's arbiter, before its `waitpid(-1)`: reap the child if it has exited, keeping its
        status. Non-blocking."""
        with self._lock:
            child = self._child
            if child is None or child.returncode is not None:
                return
            try:
                pid, status = os.waitpid(child.pid, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == child.pid:
                self._collected[pid] = status

    def stop_restarting(self) -> None:
        """From now on an exit is final. Cheap and non-blocking: gunicorn calls it from its main loop."""
        with self._lock:
            self._stopping.set()

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop restarting, then SIGTERM the child and wait for it (SIGKILL after `timeout`)."""
        self.stop_restarting()
        child, thread = self._child, self._thread
        if child is None or thread is None:
            return
        if thread.is_alive():
            _signal(child, signal.SIGTERM)
            thread.join(timeout)
            if thread.is_alive():
                _signal(child, signal.SIGKILL)
                thread.join(5)


def _signal(child: subprocess.Popen[bytes], signum: int) -> None:
    # Only while this supervisor has not collected it: a collected pid may already belong to someone else.
    if child.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child.pid, signum)


class _Gunicorn:
    """gunicorn's documented custom-application hook, built lazily so importing this module stays cheap."""

    def __init__(self, options: dict[str, Any], *, supervisor: WorkerSupervisor | None = None):
        from gunicorn.app.base import BaseApplication
        from gunicorn.arbiter import Arbiter

        from dsar_project.wsgi import application

        class SupervisingArbiter(Arbiter):
            """gunicorn's arbiter, leaving serve's background worker to its supervisor."""

            def reap_workers(self) -> None:
                if supervisor is not None:
                    supervisor.collect()  # before `waitpid(-1)` takes the worker's exit status
                super().reap_workers()

            def halt(self, reason: Any = None, exit_status: int = 0) -> None:
                # On SIGTERM/SIGINT the whole process group may have been signalled: the worker exits too,
                # and must not be restarted while gunicorn winds down its web workers.
                if supervisor is not None:
                    supervisor.stop_restarting()
                super().halt(reason, exit_status)

        class App(BaseApplication):
            def load_config(self) -> None:
                for key, value in options.items():
                    self.cfg.set(key, value)

            def load(self):
                return application

            def run(self) -> None:
                # BaseApplication.run, with the arbiter above.
                try:
                    SupervisingArbiter(self).run()
                except RuntimeError as e:
                    print(f"\nError: {e}\n", file=sys.stderr, flush=True)
                    sys.exit(1)

        self._app = App()

    def run(self) -> None:
        self._app.run()
