"""The SQL source on PostgreSQL: a scratch database of its own per test module, dropped afterwards."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from exports.sources import plan_section
from exports.sources.sql import CHUNK
from exports.types import SourceError
from tests.exports.sql_sources import crm_mapping, one_table, read, scope, source_for

pytestmark = pytest.mark.postgres


def _server_url() -> str:
    """The server the suite runs on (DATABASE_URL), else the local one; always its `postgres` database."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = "postgres://postgres@127.0.0.1:5432/postgres"
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


SCHEMA = """
CREATE TABLE customers (
    id bigint PRIMARY KEY, account_id text, email text, name text, phone text,
    created_at timestamptz, password_hash text
);
CREATE TABLE orders (
    id serial PRIMARY KEY, customer_id bigint, account_id text, ordered_at timestamp, total numeric,
    campaign_id text
);
CREATE TABLE devices (serial text, owner_phone text, account_id text);
CREATE TABLE tokens (token uuid, account_id text, label text);
CREATE SCHEMA sales;
CREATE TABLE sales.leads (lead_id integer, account_id text, email text);
CREATE VIEW probe AS SELECT 1 AS id, 'acme'::text AS account_id,
    current_setting('transaction_read_only') AS read_only, current_setting('statement_timeout') AS timeout;
CREATE VIEW slow AS SELECT 1 AS id, 'acme'::text AS account_id FROM pg_sleep(2);
INSERT INTO customers VALUES
    (1, 'acme', ' Jane@Example.org ', 'Jane', '+44 (0) 7700-900123', '2026-01-10 09:00:00+00', 'pbkdf2$s1'),
    (2, 'acme', 'bob@example.org', 'Bob', '07700 900456', '2026-02-01 00:00:00+00', 'pbkdf2$s2'),
    (3, 'other', 'jane@example.org', 'Other Jane', '4407700900123', '2026-01-10 09:00:00+00', 'x');
INSERT INTO orders (id, customer_id, account_id, ordered_at, total, campaign_id) VALUES
    (100, 1, 'acme', '2026-01-01 00:00:00', 10.50, 'spring'),
    (101, 1, 'acme', '2026-02-01 00:00:00', 20.00, 'summer'),
    (102, 1, 'acme', '2026-02-15 10:00:00', 30.00, NULL),
    (103, 1, 'other', '2026-02-15 09:00:00', 99.00, 'spring'),
    (104, 3, 'other', '2026-01-20 00:00:00', 7.00, 'spring');
INSERT INTO devices VALUES ('D-1', '+44 07700 900123', 'acme'), ('D-2', '+44 7700 900999', 'acme');
INSERT INTO tokens VALUES ('6f1c3a52-1111-4a8e-9d7e-0123456789ab', 'acme', 'laptop');
INSERT INTO sales.leads VALUES (7, 'acme', 'jane@example.org');
"""


@pytest.fixture(scope="module")
def pg_url():
    server = _server_url()
    name = f"dsar_export_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = _with_database(server, name)
    try:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(SCHEMA)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def scratch(pg_url):
    """Run DDL on the scratch database (autocommit)."""

    def run(statement: str) -> None:
        with psycopg.connect(pg_url, autocommit=True) as db:
            db.execute(statement)

    return run


def test_it_checks_and_matches_by_email_within_the_tenant(pg_url):
    mapping = crm_mapping()
    with source_for(pg_url, mapping) as source:
        source.check()
        rows = read(source, mapping, "customers", scope(email="jane@example.org"))
    assert [(row[0], row[2]) for row in rows] == [(1, "Jane")]
    assert rows[0][4] == datetime(2026, 1, 10, 9, tzinfo=UTC)  # values as the driver gives them
    assert all("pbkdf2" not in str(value) for value in rows[0])


def test_it_matches_by_subject_id_typed_like_the_column(pg_url):
    mapping = one_table("customers", "id", "subject_id", ["id", "name"])
    with source_for(pg_url, mapping) as source:
        assert read(source, mapping, "customers", scope(data_subject_id="2")) == [(2, "Bob")]
        # Not an integer: nothing, and no "invalid input syntax" error.
        assert read(source, mapping, "customers", scope(data_subject_id="2abc")) == []


def test_it_matches_a_uuid_column(pg_url):
    mapping = one_table("tokens", "token", "subject_id", ["token", "label"])
    with source_for(pg_url, mapping) as source:
        rows = read(source, mapping, "tokens", scope(data_subject_id="6F1C3A52-1111-4A8E-9D7E-0123456789AB"))
        assert [row[1] for row in rows] == ["laptop"]
        assert read(source, mapping, "tokens", scope(data_subject_id="not-a-uuid")) == []


def test_it_matches_by_phone_digits(pg_url):
    mapping = one_table("devices", "owner_phone", "phone", ["serial", "owner_phone"])
    with source_for(pg_url, mapping) as source:
        assert read(source, mapping, "devices", scope(phone="44 0 7700-900-123")) == [
            ("D-1", "+44 07700 900123")
        ]


def test_it_follows_a_via_hop_with_the_tenant_filter(pg_url):
    mapping = crm_mapping()
    with source_for(pg_url, mapping) as source:
        rows = read(source, mapping, "orders", scope(email="JANE@example.org"))
    assert sorted(row[0] for row in rows) == [100, 101, 102]


def test_it_applies_the_window_to_naive_timestamps_as_utc(pg_url):
    mapping = crm_mapping()
    window = scope(
        email="jane@example.org",
        window_start=datetime(2026, 2, 1, tzinfo=UTC),
        window_end=datetime(2026, 2, 15, 10, tzinfo=UTC),
    )
    with source_for(pg_url, mapping) as source:
        assert [row[0] for row in read(source, mapping, "orders", window)] == [101]
        assert [row[0] for row in read(source, mapping, "customers", window)] == []


def test_it_filters_campaigns(pg_url):
    mapping = crm_mapping()
    with source_for(pg_url, mapping) as source:
        rows = read(source, mapping, "orders", scope(email="jane@example.org", campaign_ids=("spring",)))
    assert [row[0] for row in rows] == [100]


def test_a_schema_prefix_is_honoured(pg_url):
    mapping = one_table("sales.leads", "email", "email", ["lead_id", "email"])
    with source_for(pg_url, mapping) as source:
        source.check()
        assert read(source, mapping, "sales.leads", scope(email="jane@example.org")) == [
            (7, "jane@example.org")
        ]
    missing = one_table("leads", "email", "email", ["lead_id", "email"])  # not on the search_path
    with source_for(pg_url, missing) as source, pytest.raises(SourceError) as caught:
        source.check()
    assert caught.value.kind == "schema_mismatch"


def test_reads_are_read_only_transactions_with_the_timeout(pg_url):
    mapping = one_table("probe", "id", "subject_id", ["id", "read_only", "timeout"])
    with source_for(pg_url, mapping, statement_timeout=7) as source:
        assert read(source, mapping, "probe", scope(data_subject_id="1")) == [(1, "on", "7s")]
        connection = source._dialect.conn
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            connection.execute("DELETE FROM customers")
        connection.rollback()


def test_a_slow_statement_times_out(pg_url):
    mapping = one_table("slow", "id", "subject_id", ["id"])
    asked = scope(data_subject_id="1")
    plan = plan_section(mapping.tables[0], asked)
    with source_for(pg_url, mapping, statement_timeout=0.1) as source:
        source.check()
        with pytest.raises(SourceError) as caught:
            list(source.rows(plan, asked))
        assert caught.value.kind == "timeout" and "slow" in caught.value.message
        with pytest.raises(SourceError) as counted:
            source.count(plan, asked)
        assert counted.value.kind == "timeout"
        # The connection is still usable after a timeout.
        source.check()


def test_it_streams_through_a_server_side_cursor(pg_url, scratch):
    scratch(
        f"INSERT INTO orders (id, customer_id, account_id, ordered_at, total) "
        f"SELECT 1000 + n, 2, 'acme', '2026-01-01', n FROM generate_series(1, {CHUNK * 2 + 5}) n"
    )
    mapping = crm_mapping()
    asked = scope(email="bob@example.org")
    with source_for(pg_url, mapping) as source:
        assert len(read(source, mapping, "orders", asked)) == CHUNK * 2 + 5
        plan = plan_section(mapping.tables[1], asked, via_parent=mapping.tables[0])
        rows = source.rows(plan, asked)
        next(rows)
        rows.close()  # a consumer that stops early leaves the connection usable
        assert source.count(plan, asked) == CHUNK * 2 + 5


def test_a_column_dropped_after_registration_is_a_schema_mismatch(pg_url, scratch):
    scratch("CREATE TABLE shrinking (id int, email text, account_id text, note text)")
    mapping = one_table("shrinking", "email", "email", ["id", "email", "note"])
    with source_for(pg_url, mapping) as source:
        source.check()
        scratch("ALTER TABLE shrinking DROP COLUMN note")
        with pytest.raises(SourceError) as caught:
            source.check()
    assert caught.value.kind == "schema_mismatch"
    assert "shrinking" in caught.value.message and "note" in caught.value.message


def test_a_directly_matched_table_needs_the_tenant_column(pg_url, scratch):
    scratch("CREATE TABLE untenanted (email text)")
    mapping = one_table("untenanted", "email", "email", ["email"])
    with source_for(pg_url, mapping) as source, pytest.raises(SourceError) as caught:
        source.check()
    assert caught.value.kind == "schema_mismatch" and "account_id" in caught.value.message


def test_a_refused_connection_names_neither_host_port_nor_password():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgres://exporter:s3cr3t-pw@127.0.0.1:{port}/crm"
    with source_for(url) as source, pytest.raises(SourceError) as caught:
        source.check()
    assert caught.value.kind == "connection_refused"
    message = str(caught.value)
    for secret in ("127.0.0.1", str(port), "s3cr3t-pw", "exporter", "postgres://"):
        assert secret not in message
    assert "crm" in message


def test_a_wrong_database_is_refused(pg_url):
    with (
        source_for(_with_database(pg_url, "no_such_database_here")) as source,
        pytest.raises(SourceError) as caught,
    ):
        source.check()
    assert caught.value.kind == "connection_refused"
    assert "no_such_database_here" not in caught.value.message


def test_a_table_the_role_cannot_select_is_permission_denied(pg_url, scratch):
    role = f"dsar_export_reader_{uuid.uuid4().hex[:8]}"
    scratch("CREATE TABLE guarded (email text, account_id text)")
    scratch(f"CREATE ROLE {role} LOGIN")
    try:
        scratch(f"GRANT INSERT ON guarded TO {role}")  # the catalog shows it; SELECT is refused
        parts = urlsplit(pg_url)
        url = urlunsplit((parts.scheme, f"{role}@{parts.hostname}:{parts.port or 5432}", parts.path, "", ""))
        mapping = one_table("guarded", "email", "email", ["email"])
        asked = scope(email="jane@example.org")
        with source_for(url, mapping) as source:
            source.check()
            with pytest.raises(SourceError) as caught:
                list(source.rows(plan_section(mapping.tables[0], asked), asked))
        assert caught.value.kind == "permission_denied"
        assert role not in caught.value.message
    finally:
        scratch(f"DROP OWNED BY {role}")
        scratch(f"DROP ROLE {role}")


def test_injection_in_values_is_inert(pg_url):
    mapping = crm_mapping()
    with source_for(pg_url, mapping) as source:
        assert read(source, mapping, "customers", scope(email="x' OR '1'='1")) == []
        assert (
            read(source, mapping, "orders", scope(email="jane@example.org", campaign_ids=("') OR 1=1 --",)))
            == []
        )
