"""A real webhook receiver on 127.0.0.1 (no mocks of the HTTP layer) and small helpers for the cast."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


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
    """Records every POST; answers with the scripted replies in order, then `default`."""

    Reply = Reply  # test modules cannot import from conftest; they build replies as `receiver.Reply(...)`

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.script: list[Reply] = []
        self.default = Reply()
        self.cond = threading.Condition()
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
                    receiver.cond.notify_all()
                if reply.delay:
                    time.sleep(reply.delay)
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
                pass

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
