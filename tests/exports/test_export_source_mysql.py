"""The SQL source on MariaDB/MySQL: a scratch database per test module on 127.0.0.1:3306 as root (or
DSAR_TEST_MYSQL_URL), dropped afterwards."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit, urlunsplit

import pymysql
import pytest

from exports.sources import plan_section
from exports.sources.sql import CHUNK
from exports.types import SourceError
from tests.exports.sql_sources import crm_mapping, one_table, read, scope, source_for

pytestmark = pytest.mark.mysql

SERVER_URL = os.environ.get("DSAR_TEST_MYSQL_URL") or "mysql://root@127.0.0.1:3306/"

STATEMENTS = [
    """CREATE TABLE customers (id BIGINT PRIMARY KEY, account_id VARCHAR(40), email VARCHAR(200),
        name VARCHAR(200), phone VARCHAR(40), created_at DATETIME, password_hash VARCHAR(200))""",
    """CREATE TABLE orders (id INT PRIMARY KEY, customer_id BIGINT, account_id VARCHAR(40),
        ordered_at DATETIME, total DECIMAL(10, 2), campaign_id VARCHAR(40))""",
    "CREATE TABLE devices (serial VARCHAR(20), owner_phone VARCHAR(40), account_id VARCHAR(40))",
    "CREATE VIEW slow AS SELECT 1 AS id, 'acme' AS account_id, SLEEP(3) AS slept",
    """INSERT INTO customers VALUES
        (1, 'acme', ' Jane@Example.org ', 'Jane', '+44 (0) 7700-900123', '2026-01-10 09:00:00', 'pbkdf2$s1'),
        (2, 'acme', 'bob@example.org', 'Bob', '07700 900456', '2026-02-01 00:00:00', 'pbkdf2$s2'),
        (3, 'other', 'jane@example.org', 'Other Jane', '4407700900123', '2026-01-10 09:00:00', 'x'),
        (42, 'acme', 'answer@example.org', 'Forty-two', NULL, '2026-03-01 10:00:00', 'y')""",
    """INSERT INTO orders VALUES
        (100, 1, 'acme', '2026-01-01 00:00:00', 10.50, 'spring'),
        (101, 1, 'acme', '2026-02-01 00:00:00', 20.00, 'summer'),
        (102, 1, 'acme', '2026-02-15 10:00:00', 30.00, NULL),
        (103, 1, 'other', '2026-02-15 09:00:00', 99.00, 'spring'),
        (104, 3, 'other', '2026-01-20 00:00:00', 7.00, 'spring')""",
    "INSERT INTO devices VALUES ('D-1', '+44 07700 900123', 'acme'), ('D-2', '+44 7700 900999', 'acme')",
]


def _connect(url: str, database: str | None = None):
    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        database=database,
        autocommit=True,
    )


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


@pytest.fixture(scope="module")
def my_url():
    name = f"dsar_export_test_{uuid.uuid4().hex[:12]}"
    admin = _connect(SERVER_URL)
    try:
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        with _connect(SERVER_URL, name) as db, db.cursor() as cursor:
            for statement in STATEMENTS:
                cursor.execute(statement)
        yield _with_database(SERVER_URL, name)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


@pytest.fixture
def scratch(my_url):
    def run(statement: str) -> None:
        with _connect(my_url, urlsplit(my_url).path.lstrip("/")) as db, db.cursor() as cursor:
            cursor.execute(statement)

    return run


def test_it_checks_and_matches_by_email_within_the_tenant(my_url):
    mapping = crm_mapping()
    with source_for(my_url, mapping) as source:
        source.check()
        rows = read(source, mapping, "customers", scope(email="jane@example.org"))
    assert [(row[0], row[2]) for row in rows] == [(1, "Jane")]
    assert rows[0][4] == datetime(2026, 1, 10, 9)
    assert all("pbkdf2" not in str(value) for value in rows[0])


def test_it_matches_by_subject_id_typed_like_the_column(my_url):
    mapping = one_table("customers", "id", "subject_id", ["id", "name"])
    with source_for(my_url, mapping) as source:
        assert read(source, mapping, "customers", scope(data_subject_id="42")) == [(42, "Forty-two")]
        # MySQL would compare '42abc' = 42 as true; bound as an integer it cannot be one, so nothing matches.
        assert read(source, mapping, "customers", scope(data_subject_id="42abc")) == []


def test_it_matches_by_phone_digits(my_url):
    mapping = one_table("devices", "owner_phone", "phone", ["serial", "owner_phone"])
    with source_for(my_url, mapping) as source:
        assert read(source, mapping, "devices", scope(phone="44 0 7700-900-123")) == [
            ("D-1", "+44 07700 900123")
        ]


def test_it_follows_a_via_hop_with_the_tenant_filter(my_url):
    mapping = crm_mapping()
    with source_for(my_url, mapping) as source:
        rows = read(source, mapping, "orders", scope(email="JANE@example.org"))
    assert sorted(row[0] for row in rows) == [100, 101, 102]


def test_it_applies_the_window_as_utc(my_url):
    mapping = crm_mapping()
    window = scope(
        email="jane@example.org",
        window_start=datetime(2026, 2, 1, tzinfo=UTC),
        window_end=datetime(2026, 2, 15, 10, tzinfo=UTC),
    )
    with source_for(my_url, mapping) as source:
        assert [row[0] for row in read(source, mapping, "orders", window)] == [101]


def test_it_filters_campaigns(my_url):
    mapping = crm_mapping()
    with source_for(my_url, mapping) as source:
        rows = read(source, mapping, "orders", scope(email="jane@example.org", campaign_ids=("spring", "x")))
    assert [row[0] for row in rows] == [100]


def test_the_connection_is_read_only(my_url):
    with source_for(my_url) as source:
        source.check()
        connection = source._dialect.conn
        with connection.cursor() as cursor, pytest.raises(pymysql.MySQLError) as caught:
            cursor.execute("DELETE FROM customers")
        assert caught.value.args[0] == 1792  # ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
    mapping = one_table("customers", "id", "subject_id", ["id"])
    with source_for(my_url, mapping) as source:
        assert read(source, mapping, "customers", scope(data_subject_id="1")) == [(1,)]


def test_a_slow_statement_times_out(my_url):
    mapping = one_table("slow", "id", "subject_id", ["id"])
    asked = scope(data_subject_id="1")
    plan = plan_section(mapping.tables[0], asked)
    with source_for(my_url, mapping, statement_timeout=0.2) as source:
        source.check()
        with pytest.raises(SourceError) as caught:
            list(source.rows(plan, asked))
        assert caught.value.kind == "timeout" and "slow" in caught.value.message
        source.check()  # still usable


def test_it_streams_through_an_unbuffered_cursor(my_url, scratch):
    scratch(
        "INSERT INTO orders (id, customer_id, account_id, ordered_at, total) "
        f"SELECT 1000 + seq, 2, 'acme', '2026-01-01', seq FROM seq_1_to_{CHUNK * 2 + 5}"
    )
    mapping = crm_mapping()
    asked = scope(email="bob@example.org")
    with source_for(my_url, mapping) as source:
        assert len(read(source, mapping, "orders", asked)) == CHUNK * 2 + 5
        plan = plan_section(mapping.tables[1], asked, via_parent=mapping.tables[0])
        rows = source.rows(plan, asked)
        next(rows)
        rows.close()  # stopping early leaves the source usable
        assert source.count(plan, asked) == CHUNK * 2 + 5


def test_a_column_dropped_after_registration_is_a_schema_mismatch(my_url, scratch):
    scratch("CREATE TABLE shrinking (id INT, email VARCHAR(100), account_id VARCHAR(40), note TEXT)")
    mapping = one_table("shrinking", "email", "email", ["id", "email", "note"])
    with source_for(my_url, mapping) as source:
        source.check()
        scratch("ALTER TABLE shrinking DROP COLUMN note")
        with pytest.raises(SourceError) as caught:
            source.check()
    assert caught.value.kind == "schema_mismatch"
    assert "shrinking" in caught.value.message and "note" in caught.value.message


def test_a_missing_table_is_a_schema_mismatch(my_url):
    mapping = one_table("Customers", "email", "email", ["email"])  # table names are exact
    with source_for(my_url, mapping) as source, pytest.raises(SourceError) as caught:
        source.check()
    assert caught.value.kind == "schema_mismatch"


def test_a_refused_connection_names_neither_host_port_nor_password():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"mysql://exporter:s3cr3t-pw@127.0.0.1:{port}/crm"
    with source_for(url) as source, pytest.raises(SourceError) as caught:
        source.check()
    assert caught.value.kind == "connection_refused"
    for secret in ("127.0.0.1", str(port), "s3cr3t-pw", "exporter", "mysql://"):
        assert secret not in str(caught.value)


def test_bad_credentials_are_refused_without_showing_them(my_url):
    parts = urlsplit(my_url)
    url = urlunsplit(
        (parts.scheme, f"nobody_here:wrong-pw@{parts.hostname}:{parts.port or 3306}", parts.path, "", "")
    )
    with source_for(url) as source, pytest.raises(SourceError) as caught:
        source.check()
    assert caught.value.kind == "connection_refused"
    assert "nobody_here" not in caught.value.message and "wrong-pw" not in caught.value.message


def test_injection_in_values_is_inert(my_url):
    mapping = crm_mapping()
    with source_for(my_url, mapping) as source:
        assert read(source, mapping, "customers", scope(email="x' OR '1'='1")) == []
        assert (
            read(source, mapping, "orders", scope(email="jane@example.org", campaign_ids=("') OR 1=1 -- ",)))
            == []
        )
