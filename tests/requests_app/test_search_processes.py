"""Search against `manage.py serve` itself (gunicorn, two worker processes): a request created through the
API is found by `q` and `email` at once, whichever worker answers (the index lives in the database, not in
a process)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from core.services import api_key_create
from tests.serving import served

WORKERS = 2
ROUNDS = 20

pytestmark = pytest.mark.postgres


@pytest.fixture
def server(tmp_path, transactional_db) -> Iterator[str]:
    with served(tmp_path, workers=WORKERS, threads=1, api_rate="100000/min", name="search-processes") as base:
        yield base


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
