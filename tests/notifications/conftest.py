"""A real webhook receiver on 127.0.0.1 (no mocks of the HTTP layer) and small helpers for the cast."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Received:
    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    headers: dict[str, str]
    path: str
    at: float  # time.time() when the request arrived

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    delay: float = 0.0  # seconds to sleep before answering (a slow receiver)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"


class Receiver:
    """Records every POST; answers with the scripted replies in order, then `default`.

    `max_in_flight[path]` is the most requests to that path it held at once (from arrival until it starts
    answering: a window inside the sender's own, so it never overstates the sender's concurrency).
    """

    Reply = Reply  # test modules cannot import from conftest; they build replies as `receiver.Reply(...)`

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: list[Reply] = []
        self.default = Reply()
        self.cond = threading.Condition()
        self.in_flight: Counter[str] = Counter()
        self.max_in_flight: Counter[str] = Counter()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.cond:
                    reply = receiver.script.pop(0) if receiver.script else receiver.default
                    receiver.received.append(
                        Received(
                            webhook_id=self.headers.get("webhook-id", ""),
                            timestamp=self.headers.get("webhook-timestamp", ""),
                            signature=self.headers.get("webhook-signature", ""),
                            body=body,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            path=self.path,
                            at=time.time(),
                        )
                    )
                    receiver.in_flight[self.path] += 1
                    receiver.max_in_flight[self.path] = max(
                        receiver.max_in_flight[self.path], receiver.in_flight[self.path]
                    )
                    receiver.cond.notify_all()
                if reply.delay:
                    time.sleep(reply.delay)
                with receiver.cond:
                    receiver.in_flight[self.path] -= 1
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the sender gave up (timeout) and closed the socket

            def log_message(self, format: str, *args: object) -> None:
                """Silenced: the test asserts on what was received, not on the server's log lines."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.received) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} deliveries, got {len(self.received)}")
                self.cond.wait(remaining)
            return list(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def allow_private(settings):
    """Local receivers live on 127.0.0.1, which production refuses."""
    settings.DSAR_WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    return settings


@pytest.fixture
def fast_http(settings):
    settings.DSAR_WEBHOOK_CONNECT_TIMEOUT = 1.0
    settings.DSAR_WEBHOOK_READ_TIMEOUT = 0.5
    return settings


@pytest.fixture
def endpoint_for(org, allow_private):
    """`endpoint_for(receiver, event_types=["*"], org=org)` registers a webhook through the service."""
    from notifications.services import endpoint_create

    def make(receiver: Receiver, *, event_types=("*",), owner=None, path: str = "/hook"):
        return endpoint_create(org=owner or org, url=receiver.url(path), event_types=list(event_types))

    return make


# --- real processes (Redis, Celery, run_worker) against the test database ---------------------------------


def database_url_for_subprocesses() -> str:
    """A DATABASE_URL that points another process at *this* test database (SQLite file or PostgreSQL)."""
    from urllib.parse import quote

    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(s["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            pytest.fail(
                "needs a file-backed SQLite test database (settings give one unless test_name is :memory:)"
            )
        return f"sqlite:///{name}" if name.startswith("/") else f"sqlite:///{os.path.abspath(name)}"
    if connection.vendor == "postgresql":
        auth = quote(s["USER"] or "")
        if s["PASSWORD"]:
            auth += ":" + quote(s["PASSWORD"])
        host = f"{auth}@{s['HOST'] or 'localhost'}" if auth else (s["HOST"] or "localhost")
        port = f":{s['PORT']}" if s["PORT"] else ""
        return f"postgres://{host}{port}/{quote(s['NAME'])}"
    pytest.fail(f"no subprocess database URL for {connection.vendor}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Proc:
    """A child process in its own process group, logging to a file; stopped (or killed) with its children."""

    def __init__(self, name: str, args: list[str], *, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            args, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output():
                return
            if self.popen.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited ({self.popen.returncode}):\n{self.output()[-3000:]}"
                )
            time.sleep(0.1)
        raise AssertionError(f"{self.name} never printed {text!r}:\n{self.output()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole group: no goodbye, no ack, nothing recorded."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(10)

    def stop(self, timeout: float = 15.0) -> int | None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)  # stragglers (pool children) of a clean exit
        self.log.close()
        return self.popen.returncode


class Procs:
    """Starts processes for one test and always stops them, in reverse order."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[Proc] = []

    def start(self, name: str, args: list[str], *, env: dict[str, str]) -> Proc:
        proc = Proc(name, args, env=env, log_dir=self.log_dir)
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in reversed(self.started):
            proc.stop()


@pytest.fixture
def procs(tmp_path, transactional_db) -> Iterator[Procs]:
    # Depends on the database fixture so the processes stop before the test database is flushed.
    p = Procs(tmp_path)
    yield p
    p.stop_all()


@pytest.fixture
def child_env(tmp_path, allow_private):
    """`child_env(**overrides)`: the environment for a child process on this test database.

    `settings={"NAME": value}` writes a settings module importing the project's and overriding those
    names (things the environment cannot express, like a short retry schedule), and selects it.
    """

    def make(*, settings: dict | None = None, **overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_SETTINGS_MODULE"))}
        env.update(
            DATABASE_URL=database_url_for_subprocesses(),
            DSAR_WEBHOOK_ALLOW_PRIVATE_NETWORKS="1",
            PYTHONUNBUFFERED="1",
            PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]),
            DJANGO_SETTINGS_MODULE="dsar_project.settings",
        )
        env.pop("CELERY_BROKER_URL", None)
        if settings:
            module = tmp_path / "child_settings.py"
            lines = ["from dsar_project.settings import *  # noqa: F403", ""]
            lines += [f"{name} = {value!r}" for name, value in settings.items()]
            module.write_text("\n".join(lines) + "\n")
            env["DJANGO_SETTINGS_MODULE"] = "child_settings"
        env.update(overrides)
        return env

    return make


@pytest.fixture
def port() -> Iterator[int]:
    yield free_port()


def _eventually(check, timeout: float = 10.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition still false after {timeout} s: {check}")
        time.sleep(interval)


@pytest.fixture
def eventually():
    """`eventually(lambda: ..., timeout=10)`: poll until truthy (other processes write asynchronously)."""
    return _eventually


# --- a Redis broker of the test's own (test_celery_redis.py, test_fairness.py) ---------------------------


class RedisServer:
    """`redis-server` on a free port of 127.0.0.1 (never the shared 6379), no persistence. `stop()` is a
    crash: whatever sat in the queues is gone."""

    def __init__(self, procs, port: int) -> None:
        self.procs, self.port = procs, port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc = None
        self.generation = 0

    def start(self) -> None:
        self.generation += 1
        self.proc = self.procs.start(
            f"redis-{self.generation}",
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--maxmemory-policy",
                "noeviction",
            ],
            env={"PATH": "/usr/bin:/bin:/usr/local/bin"},
        )
        self.proc.wait_for_output("Ready to accept connections", timeout=10)

    def stop(self) -> None:
        # A hard stop: whatever sat in the queues is gone, as after a real broker crash.
        self.proc.kill()


@pytest.fixture
def redis_server(procs, port) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        # Never skipped: these are the real-broker tests. `scripts/test.sh` installs it (Debian, as root).
        pytest.fail("redis-server is missing: install Debian's redis-server (scripts/test.sh does, as root).")
    server = RedisServer(procs, port)
    server.start()
    yield server


def _use_broker(app, url: str) -> None:
    app.conf.broker_url = url
    # The app caches its connection and producer pools for the URL it first used; drop them so the next
    # publish builds new ones for this URL (kombu keys its pools by connection, so old ones stay apart).
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker(redis_server, settings) -> Iterator[str]:
    """Point this process's Celery app (the on-commit kick, `apply_async`) at the test's Redis."""
    from dsar_project.celery import app

    previous = app.conf.broker_url
    settings.CELERY_BROKER_URL = redis_server.url
    _use_broker(app, redis_server.url)
    yield redis_server.url
    _use_broker(app, previous)
