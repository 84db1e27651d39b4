"""Against `manage.py serve` itself (gunicorn, three worker processes): what only a real server shows.

The rate limit holds across processes, a chunked body arrives whole, and HEAD answers like GET.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import requests

from core.services import api_key_create
from tests.serving import served


@pytest.fixture
def server(tmp_path, transactional_db) -> Iterator[str]:
    with served(tmp_path, workers=3, threads=1, api_rate="20/min", name="live-server") as base:
        yield base


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
