"""One webhook POST to an address netguard has vetted. No Django, no retries, no redirects.

`http.client` is used directly because it lets us connect to the vetted IP while the Host header, SNI
and certificate check still use the URL's name (`requests` would resolve the name again). A watchdog
bounds the whole exchange, since socket timeouts only bound each read: a receiver dripping one byte every
few seconds could otherwise hold a worker past its lease, and then a second worker would send too.
One watchdog thread serves every request in the process.
"""

from __future__ import annotations

import contextlib
import email.utils
import heapq
import http.client
import itertools
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC

from .netguard import Target

USER_AGENT = "DSAR-Core-Webhooks/1.0 (+https://www.standardwebhooks.com/)"
EXCERPT_BYTES = 1024
ERROR_CHARS = 500


@dataclass(frozen=True)
class HttpResult:
    status: int | None  # None: no HTTP response at all
    latency_ms: int
    error: str  # empty on a 2xx
    retry_after: float | None = None  # seconds, when the receiver asked for it

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # SNI and the certificate check are against the URL's host, not the address we pinned.
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


class _Watchdog:
    """One thread per process enforcing every in-flight request's deadline (cheaper than a Timer each)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._callbacks: dict[int, Callable[[], None]] = {}
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None

    def watch(self, seconds: float, callback: Callable[[], None]) -> int:
        key = next(self._seq)
        with self._cond:
            if self._thread is None or self._pid != os.getpid():  # not inherited across fork
                self._pid = os.getpid()
                self._heap, self._callbacks = [], {}
                self._thread = threading.Thread(target=self._run, name="webhook-watchdog", daemon=True)
                self._thread.start()
            self._callbacks[key] = callback
            heapq.heappush(self._heap, (time.monotonic() + seconds, key))
            self._cond.notify()
        return key

    def cancel(self, key: int) -> None:
        with self._cond:
            self._callbacks.pop(key, None)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                deadline, key = self._heap[0]
                if key not in self._callbacks:
                    heapq.heappop(self._heap)
                    continue
                remaining = deadline - time.monotonic()
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                heapq.heappop(self._heap)
                callback = self._callbacks.pop(key)
            with contextlib.suppress(Exception):
                callback()


_watchdog = _Watchdog()


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        at = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return max(0.0, at.timestamp() - now)


def _excerpt(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace")
    return " ".join(text.split())


def post(
    *,
    target: Target,
    address: str,
    body: bytes,
    headers: dict[str, str],
    connect_timeout: float,
    read_timeout: float,
) -> HttpResult:
    """POST `body` to `target` via `address`; never raises for network trouble, it reports it."""
    cls = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    conn = cls(target.host, target.port, address=address, timeout=connect_timeout)
    expired = threading.Event()

    def on_deadline() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    started = time.monotonic()
    stage = "connect"
    watch = _watchdog.watch(connect_timeout + read_timeout, on_deadline)
    try:
        conn.connect()
        conn.sock.settimeout(read_timeout)
        stage = "send"
        conn.putrequest("POST", target.target, skip_accept_encoding=True)
        all_headers = {
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            "User-Agent": USER_AGENT,
            "Connection": "close",
            **headers,
        }
        for name, value in all_headers.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        stage = "response"
        response = conn.getresponse()
        raw = response.read(EXCERPT_BYTES)
        status = response.status
        latency = int((time.monotonic() - started) * 1000)
        if expired.is_set():
            # The watchdog shut the socket while the response was still arriving: whatever the status
            # line said, the exchange did not complete, so it is a failure to retry, not a delivery.
            limit = connect_timeout + read_timeout
            return HttpResult(
                status=None,
                latency_ms=latency,
                error=f"Timed out: the response (HTTP {status}) was cut off after {limit:g} s.",
            )
        if 200 <= status < 300:
            return HttpResult(status=status, latency_ms=latency, error="")
        reason = f"HTTP {status} {response.reason}".strip()
        if 300 <= status < 400:
            location = response.getheader("Location") or ""
            reason += f" (redirects are not followed{'; Location: ' + location if location else ''})"
        text = _excerpt(raw)
        error = f"{reason}: {text}" if text else reason
        retry_after = None
        if status in (429, 502, 503, 504):
            retry_after = parse_retry_after(response.getheader("Retry-After"), now=time.time())
        return HttpResult(
            status=status, latency_ms=latency, error=error[:ERROR_CHARS], retry_after=retry_after
        )
    except (TimeoutError, OSError, http.client.HTTPException, ssl.SSLError) as exc:
        latency = int((time.monotonic() - started) * 1000)
        if expired.is_set():
            error = f"Timed out: no complete response within {connect_timeout + read_timeout:g} s."
        elif isinstance(exc, TimeoutError):
            limit = connect_timeout if stage == "connect" else read_timeout
            error = f"Timed out during {stage} after {limit:g} s."
        elif isinstance(exc, ssl.SSLError):
            error = f"TLS error: {exc}"
        elif isinstance(exc, ConnectionRefusedError):
            error = f"Connection refused by {address}:{target.port}."
        else:
            error = f"{type(exc).__name__} during {stage}: {exc}"
        return HttpResult(status=None, latency_ms=latency, error=error[:ERROR_CHARS])
    finally:
        _watchdog.cancel(watch)
        conn.close()
