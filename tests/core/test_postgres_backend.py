"""The PostgreSQL backend (core/db/postgresql) and its options: statements prepared per connection, and a
health check that polls the socket instead of sending `SELECT 1` before every request."""

from __future__ import annotations

import select

import psycopg
import pytest
from django.db import close_old_connections, connection

from dsar_project.settings import ONLY_WHEN_ASKED, database_from_url


@pytest.mark.parametrize(
    ("query", "server_side", "threshold"),
    [
        ("", True, ONLY_WHEN_ASKED),
        ("?prepare_threshold=off", True, None),  # behind a pooler that keeps no prepared statements
        ("?server_side_binding=0", False, None),  # a transaction-mode pooler: neither
    ],
)
def test_statements_are_prepared_where_asked_unless_the_url_says_not(query, server_side, threshold):
    options = database_from_url(f"postgres://u@db.example:5432/dsar{query}")["OPTIONS"]
    assert options["server_side_binding"] is server_side
    assert options["prepare_threshold"] == threshold


def _prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_hot_statements_are_prepared_and_nothing_else(officer):
    """The key lookup, one request, the rate counter, the inserts, the queue by status (count and pages) and
    a search keep a server plan; date windows, whose best plan depends on their values, and every other ORM
    query are planned per call."""
    created = officer.post(
        "/v1/requests",
        {
            "jurisdiction": "GB",
            "intakeSource": {
                "channel": "EMAIL",
                "rawText": "Please send me my data.",
                "receivedAt": "2026-11-01T09:12:00Z",
                "contact": "prepared@example.org",
            },
            "requestor": {"type": "DATA_SUBJECT", "name": "P", "email": "prepared@example.org"},
            "requestTypes": ["ACCESS"],
        },
        content_type="application/json",
    )
    assert created.status_code == 202, created.content
    request_id = created.json()["data"]["request"]["id"]
    queries = ("", "?status=RECEIVED&limit=1", "?q=prepared%40example&limit=5", "?atRiskDays=40&offset=300")
    queries += ("?status=RECEIVED&offset=250",)  # the deferred join: its ids come as an array
    for query in queries:
        assert officer.get(f"/v1/requests{query}").status_code == 200
    assert officer.get(f"/v1/requests/{request_id}").status_code == 200
    statements = _prepared_statements()

    def prepared(*fragments: str) -> bool:
        return any(all(fragment in s for fragment in fragments) for s in statements)

    assert prepared('FROM "core_apikey"', "prefix")
    assert prepared('FROM "requests_app_datasubjectrequest"', '"id" = $2')
    assert prepared("INSERT INTO core_ratecounter")
    assert prepared('INSERT INTO "requests_app_datasubjectrequest"')
    assert prepared("COUNT(*)", '"status" = $2')
    assert prepared("LIKE", "strpos", "OFFSET $")  # a search's page: planned the same for any needle
    assert prepared('"status" = $2', "OFFSET $")  # a page of the queue by status
    assert prepared("= ANY(ARRAY(SELECT", "OFFSET $")  # …and past the deferred join's offset
    assert not prepared('"clock_due_date" <= $'), statements  # date windows


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_connection_the_server_ended_is_replaced_at_the_next_request_without_a_round_trip():
    close_old_connections()  # what a request's start does
    before = _backend_pid()
    assert connection.is_usable()  # idle and healthy: the poll finds nothing to read

    settings = connection.settings_dict
    with psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        dbname=settings["NAME"],
        autocommit=True,
    ) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [before])
    # the server's goodbye reaches the idle connection's socket (at most 5 s to wait for it)
    goodbye = select.poll()
    goodbye.register(connection.connection.fileno(), select.POLLIN)
    assert goodbye.poll(5000)

    assert not connection.is_usable()
    close_old_connections()  # the next request's start: the health check runs with its first query
    after = _backend_pid()
    assert after != before


@pytest.mark.postgres
@pytest.mark.django_db
def test_inside_a_transaction_the_health_check_still_asks_the_server():
    """A connection in a transaction has nothing to read either, but it is not idle: Django's `SELECT 1`."""
    assert connection.in_atomic_block
    assert connection.is_usable()
