"""Against `manage.py serve` itself (gunicorn, three worker processes): what only a real server shows.

The rate limit holds across processes, a chunked body arrives whole, and HEAD answers like GET.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from core.services import api_key_create
from tests.notifications.conftest import Procs, database_url_for_subprocesses, free_port

ROOT = Path(__file__).resolve().parents[2]
SERVE_ARGS = ["--workers", "3", "--threads", "1"]


@pytest.fixture
def server(tmp_path, transactional_db) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_SETTINGS_MODULE"))}
    env.pop("CELERY_BROKER_URL", None)
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=database_url_for_subprocesses(),
        DSAR_API_RATE="20/min",
        SECRET_KEY="test-live-server-" + "x" * 40,
        DEBUG="0",
        PYTHONUNBUFFERED="1",
    )
    procs = Procs(tmp_path)
    proc = procs.start(
        "serve",
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "serve",
            "--no-background",
            *SERVE_ARGS,
            "--port",
            str(port),
        ],
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
        yield base
    finally:
        procs.stop_all()


def _wait_for_a_fresh_window(seconds: int = 60, margin: float = 15.0) -> None:
    into = time.time() % seconds
    if into > seconds - margin:
        time.sleep(seconds - into + 0.5)


def test_the_rate_limit_holds_across_every_worker_process(server, org):
    _, raw = api_key_create(org=org, scopes=["intake"])
    _wait_for_a_fresh_window()

    codes = []
    for _ in range(30):
        # A new connection each time: gunicorn's workers share the listening socket, so calls spread.
        response = requests.get(
            f"{server}/v1/requests?limit=1", headers={"Authorization": f"Bearer {raw}", "Connection": "close"}
        )
        codes.append(response.status_code)

    assert codes.count(200) == 20, codes
    assert codes.count(429) == 10, codes
    assert codes[:20] == [200] * 20
    last = requests.get(f"{server}/v1/requests", headers={"Authorization": f"Bearer {raw}"})
    assert last.status_code == 429
    assert last.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(last.headers["Retry-After"]) <= 60


def test_a_chunked_body_arrives_whole_and_head_answers_like_get(server, org, intake):
    _, raw = api_key_create(org=org, scopes=["officer"])
    body = json.dumps(intake()).encode()

    def chunks():
        for start in range(0, len(body), 50):
            yield body[start : start + 50]

    headers = {"Authorization": f"Bearer {raw}", "Content-Type": "application/json"}
    created = requests.post(f"{server}/v1/requests", data=chunks(), headers=headers)
    assert created.status_code == 202, created.text
    request_id = created.json()["data"]["request"]["id"]

    get = requests.get(f"{server}/v1/requests/{request_id}", headers=headers)
    head = requests.head(f"{server}/v1/requests/{request_id}", headers=headers)
    assert (get.status_code, head.status_code) == (200, 200)
    assert head.content == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]
