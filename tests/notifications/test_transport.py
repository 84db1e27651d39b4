"""The HTTP leg on its own: pinned address, whole-exchange deadline, no redirects, error reporting."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from notifications import netguard, transport


def _post(url: str, *, address: str = "127.0.0.1", connect: float = 1.0, read: float = 0.5):
    return transport.post(
        target=netguard.url_parse(url),
        address=address,
        body=b"{}",
        headers={"webhook-id": "evt_1"},
        connect_timeout=connect,
        read_timeout=read,
    )


def _raw_server(handler) -> tuple[int, threading.Thread]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)

    def run():
        conn, _ = listener.accept()
        with conn, listener:
            handler(conn)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread


def test_it_connects_to_the_vetted_address_but_speaks_to_the_named_host(receiver):
    # The URL names a host the resolver would send elsewhere; the request still goes to the pinned IP.
    result = _post(f"http://webhooks.example.invalid:{receiver.port}/in?x=1")
    assert result.ok and result.status == 200
    (got,) = receiver.received
    assert got.headers["host"] == f"webhooks.example.invalid:{receiver.port}"
    assert got.path == "/in?x=1"
    assert got.headers["user-agent"].startswith("DSAR-Core-Webhooks/")


def test_a_receiver_dripping_bytes_is_cut_off_at_the_whole_exchange_deadline():
    def drip(conn):
        conn.recv(65536)
        # The client hangs up at its deadline; the broken pipe that follows is the expected end.
        with contextlib.suppress(OSError):
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100:
                conn.sendall(bytes([byte]))
                time.sleep(0.2)  # each read sees data well within the 0.5 s read timeout

    port, _ = _raw_server(drip)
    started = time.monotonic()
    result = _post(f"http://127.0.0.1:{port}/", connect=0.5, read=0.5)
    assert time.monotonic() - started < 2.0
    assert result.status is None and result.error.startswith("Timed out: no complete response within 1 s")


def test_a_200_whose_body_is_cut_off_by_the_watchdog_is_a_failure_not_a_delivery():
    # The status line and headers arrive at once; the body then drips within the read timeout each time,
    # so only the whole-exchange deadline stops it. The exchange never completed: not DELIVERED.
    def slow_body(conn):
        conn.recv(65536)
        with contextlib.suppress(OSError):
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(1000):
                conn.sendall(b"x")
                time.sleep(0.2)

    port, _ = _raw_server(slow_body)
    result = _post(f"http://127.0.0.1:{port}/", connect=0.5, read=0.5)
    assert not result.ok
    assert result.status is None
    assert result.error == "Timed out: the response (HTTP 200) was cut off after 1 s."


def test_a_refused_connection_is_reported():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _post(f"http://127.0.0.1:{port}/")
    assert result.status is None and "refused" in result.error


def test_redirects_and_throttling_are_failures_with_their_reasons(receiver):
    receiver.script = [
        receiver.Reply(301, headers={"Location": "http://10.0.0.1/"}),
        receiver.Reply(503, headers={"Retry-After": "7"}, body=b"maintenance\n  until noon"),
    ]
    moved = _post(receiver.url())
    assert not moved.ok and "redirects are not followed; Location: http://10.0.0.1/" in moved.error
    busy = _post(receiver.url())
    assert busy.status == 503 and busy.retry_after == 7
    assert busy.error == "HTTP 503 Service Unavailable: maintenance until noon"


def test_errors_are_cut_to_500_characters(receiver):
    receiver.script = [receiver.Reply(500, body=b"x" * 5000)]
    assert len(_post(receiver.url()).error) == 500
