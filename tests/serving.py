"""`manage.py serve` as a child process, for the tests that need a real server (several gunicorn workers
sharing one listening socket): started on a free port, waited for until every worker has booted and it
answers, and stopped afterwards."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests

from tests.notifications.conftest import Procs, database_url_for_subprocesses, free_port

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def served(tmp_path: Path, *, workers: int, threads: int, api_rate: str, name: str) -> Iterator[str]:
    """The base URL of `serve --no-background` on this test's database (which must be committed to:
    use it from a `transactional_db` test)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_SETTINGS_MODULE"))}
    env.pop("CELERY_BROKER_URL", None)
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=database_url_for_subprocesses(),
        DSAR_API_RATE=api_rate,
        SECRET_KEY=f"test-{name}-" + "x" * 40,
        DEBUG="0",
        PYTHONUNBUFFERED="1",
    )
    procs = Procs(tmp_path)
    command = [sys.executable, str(ROOT / "manage.py"), "serve", "--no-background"]
    proc = procs.start(
        "serve",
        [*command, "--workers", str(workers), "--threads", str(threads), "--port", str(port)],
        env=env,
    )
    try:
        proc.wait_for_output("Booting worker", timeout=60)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"{base}/v1/openapi.json", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        while proc.output().count("Booting worker") < workers and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.output().count("Booting worker") >= workers, proc.output()[-3000:]
        yield base
    finally:
        procs.stop_all()
