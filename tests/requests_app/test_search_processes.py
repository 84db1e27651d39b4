"""Search against `manage.py serve` itself (gunicorn, two worker processes): a request created through the
API is found by `q` and `email` at once, whichever worker answers (the index lives in the database, not in
a process)."""

from __future__ import annotations

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
WORKERS = 2
ROUNDS = 20

pytestmark = pytest.mark.postgres


@pytest.fixture
def server(tmp_path, transactional_db) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "DJANGO_SETTINGS_MODULE"))}
    env.pop("CELERY_BROKER_URL", None)
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=database_url_for_subprocesses(),
        DSAR_API_RATE="100000/min",
        SECRET_KEY="test-search-processes-" + "x" * 40,
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
            "--workers",
            str(WORKERS),
            "--threads",
            "1",
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
        deadline = time.monotonic() + 30
        while proc.output().count("Booting worker") < WORKERS and time.monotonic() < deadline:
            time.sleep(0.1)
        assert proc.output().count("Booting worker") >= WORKERS, proc.output()[-3000:]
        yield base
    finally:
        procs.stop_all()


def test_a_request_created_through_the_api_is_found_at_once_by_every_worker(server, org, intake):
    _, raw = api_key_create(org=org, scopes=["officer"])

    def call(method: str, path: str, **kwargs) -> requests.Response:
        # A new connection each time: the workers share the listening socket, so calls spread over them.
        headers = {"Authorization": f"Bearer {raw}", "Connection": "close"}
        with requests.Session() as session:
            return session.request(method, f"{server}{path}", headers=headers, timeout=30, **kwargs)

    by_q, by_email = [], []
    for n in range(ROUNDS):
        email = f"Round{n}.Person@Search-Test.example"
        body = intake(
            contact=f"020 7946 {n:04d}",
            requestor={"type": "DATA_SUBJECT", "name": f"Ørsted Round{n}", "email": email},
        )
        created = call("POST", "/v1/requests", json=body)
        assert created.status_code == 202, created.text
        request_id = created.json()["data"]["request"]["id"]

        found = call("GET", "/v1/requests", params={"q": f"round{n}.person@"})
        assert found.status_code == 200, found.text
        by_q.append([r["id"] for r in found.json()["data"]["requests"]] == [request_id])

        exact = call("GET", "/v1/requests", params={"email": f"  {email.upper()} "})
        assert exact.status_code == 200, exact.text
        by_email.append([r["id"] for r in exact.json()["data"]["requests"]] == [request_id])

    assert (by_q.count(True), by_email.count(True)) == (ROUNDS, ROUNDS), (by_q, by_email)
    everyone = call("GET", "/v1/requests", params={"q": "@search-test.EXAMPLE", "limit": 1})
    assert everyone.json()["data"]["total"] == ROUNDS
    by_digits = call("GET", "/v1/requests", params={"q": "0207946-0007"})
    assert by_digits.json()["data"]["total"] == 1
