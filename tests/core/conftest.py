from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.notifications.conftest import Procs, RedisServer, free_port


@pytest.fixture
def redis_url(tmp_path) -> Iterator[str]:
    """A redis-server of this test's own, on a spare loopback port, stopped afterwards."""
    procs = Procs(tmp_path)
    server = RedisServer(procs, free_port())
    try:
        server.start()
        yield server.url
    finally:
        procs.stop_all()
