"""The PostgreSQL backend (core/db/postgresql) and its options: statements prepared per connection, and a
health check that polls the socket instead of sending `SELECT 1` before every request."""

from __future__ import annotations

import select
import time

import psycopg
import pytest
from django.db import close_old_connections, connection

from dsar_project.settings import database_from_url


@pytest.mark.parametrize(
    ("query", "server_side", "threshold"),
    [
        ("", True, 2),
        ("?prepare_threshold=5", True, 5),
        ("?prepare_threshold=off", True, None),  # behind a pooler that keeps no prepared statements
        ("?server_side_binding=0", False, None),  # a transaction-mode pooler: neither
    ],
)
def test_statements_are_prepared_unless_the_url_says_not(query, server_side, threshold):
    options = database_from_url(f"postgres://u@db.example:5432/dsar{query}")["OPTIONS"]
    assert options["server_side_binding"] is server_side
    assert options["prepare_threshold"] == threshold


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_statement_run_twice_on_a_connection_is_prepared_by_the_server():
    with connection.cursor() as cursor:
        for _ in range(3):
            cursor.execute("SELECT count(*) FROM core_org WHERE name = %s", ["prepared-probe"])
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert any("prepared-probe" not in s and "core_org" in s for s in statements), statements


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
    socket_ready = select.poll()
    socket_ready.register(connection.connection.fileno(), select.POLLIN)
    deadline = time.monotonic() + 5
    while not socket_ready.poll(50) and time.monotonic() < deadline:
        pass

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
