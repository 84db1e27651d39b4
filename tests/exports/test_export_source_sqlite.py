"""The SQL source on SQLite: matching, filters, plans, read-only, timeout and errors. No Django database:
each test builds its own SQLite file under tmp_path."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import pytest

from exports.mapping import parse_mapping
from exports.sources import open_source, plan_section
from exports.sources.sql import CHUNK, SqlSource
from exports.types import Mapping, SourceError, SubjectMatch, Table
from tests.exports.sql_sources import crm_mapping, read, scope
from tests.exports.sql_sources import source_for as sql_source_for

CUSTOMERS = [
    # id, account, email, name, phone, created_at, password_hash
    (1, "acme", " Jane@Example.org ", "Jane", "+44 (0) 7700-900123", "2026-01-10 09:00:00", "pbkdf2$secret1"),
    (2, "acme", "bob@example.org", "Bob", "07700 900456", "2026-02-01T00:00:00", "pbkdf2$secret2"),
    (3, "other", "jane@example.org", "Jane (other tenant)", "447700900123", "2026-01-10 09:00:00", "x"),
    (42, "acme", "answer@example.org", "Forty-two", None, "2026-03-01T12:00:00+02:00", "y"),
]
ORDERS = [
    # id, customer_id, account_id, ordered_at, total, campaign_id
    (100, 1, "acme", "2026-01-01 00:00:00", "10.50", "spring"),
    (101, 1, "acme", "2026-02-01T00:00:00", "20.00", "summer"),
    (102, 1, "acme", "2026-02-15T10:00:00Z", "30.00", None),
    (103, 1, "other", "2026-02-15T10:00:00", "99.00", "spring"),  # another tenant's row, same customer id
    (104, 2, "acme", "2026-01-20 00:00:00", "5.00", "spring"),
    (105, 3, "other", "2026-01-20 00:00:00", "7.00", "spring"),
]


def _database(path) -> None:
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE customers (id INTEGER PRIMARY KEY, account_id TEXT, email TEXT, name TEXT, phone TEXT,
                                created_at TEXT, password_hash TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, account_id TEXT, ordered_at TEXT,
                             total TEXT, campaign_id TEXT);
        CREATE TABLE devices (serial TEXT, owner_phone TEXT);
        CREATE VIEW slow AS
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT i AS id FROM n;
        """
    )
    db.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?)", CUSTOMERS)
    db.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)", ORDERS)
    db.executemany(
        "INSERT INTO devices VALUES (?, ?)", [("D-1", "+447700900123"), ("D-2", "0044 7700 900999")]
    )
    db.commit()
    db.close()


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "crm.sqlite3"
    _database(path)
    return path


def source_for(db_path, mapping=None, **kwargs):
    return sql_source_for(f"sqlite:///{db_path}", mapping, **kwargs)


def test_it_opens_an_sql_source_without_connecting(db_path):
    source = source_for(db_path)
    assert isinstance(source, SqlSource)
    assert "sqlite" not in repr(source) and str(db_path) not in repr(source)
    source.close()


def test_it_checks_a_matching_database(db_path):
    with source_for(db_path) as source:
        source.check()


def test_it_matches_by_email_trimmed_and_case_insensitively_within_the_tenant(db_path):
    mapping = crm_mapping()
    with source_for(db_path, mapping) as source:
        rows = read(source, mapping, "customers", scope(email="jane@example.org"))
    assert rows == [(1, " Jane@Example.org ", "Jane", "+44 (0) 7700-900123", "2026-01-10 09:00:00")]


def test_it_reads_only_declared_columns(db_path):
    mapping = crm_mapping()
    with source_for(db_path, mapping) as source:
        rows = read(source, mapping, "customers", scope(email="bob@example.org"))
    assert len(rows) == 1
    assert len(rows[0]) == 5
    assert not any("pbkdf2" in str(value) for value in rows[0])


def test_it_matches_by_subject_id_typed_like_the_column(db_path):
    mapping = crm_mapping(
        tenantFilter=None,
        tables=[
            {
                "name": "customers",
                "subject": {"column": "id", "identity": "subject_id"},
                "columns": ["id", "name"],
            }
        ],
    )
    with source_for(db_path, mapping) as source:
        assert read(source, mapping, "customers", scope(data_subject_id="42")) == [(42, "Forty-two")]
        # Not an integer: matches nothing, and is not an error.
        assert read(source, mapping, "customers", scope(data_subject_id="42abc")) == []
        assert read(source, mapping, "customers", scope(data_subject_id="99999999999999999999999")) == []


def test_it_matches_by_phone_digits(db_path):
    mapping = crm_mapping(
        tenantFilter=None,
        tables=[
            {
                "name": "devices",
                "subject": {"column": "owner_phone", "identity": "phone"},
                "columns": ["serial", "owner_phone"],
            }
        ],
    )
    with source_for(db_path, mapping) as source:
        assert read(source, mapping, "devices", scope(phone="+44 7700 900123")) == [("D-1", "+447700900123")]
        assert read(source, mapping, "devices", scope(phone="+44 7700 900000")) == []


def test_it_follows_a_via_hop_with_the_tenant_filter_on_both_tables(db_path):
    mapping = crm_mapping()
    with source_for(db_path, mapping) as source:
        rows = read(source, mapping, "orders", scope(email="JANE@example.org"))
    # Jane's acme orders: not order 103 (another tenant's row) nor 105 (the other tenant's Jane).
    assert sorted(row[0] for row in rows) == [100, 101, 102]


def test_a_table_without_the_tenant_column_reached_by_via_is_read(db_path):
    db = sqlite3.connect(db_path)
    db.execute("CREATE TABLE notes (customer_id INTEGER, body TEXT)")
    db.executemany("INSERT INTO notes VALUES (?, ?)", [(1, "called"), (3, "other tenant's Jane")])
    db.commit()
    db.close()
    data = {
        "name": "notes",
        "subject": {"via": {"parent": "customers", "parentColumn": "id", "column": "customer_id"}},
        "columns": ["customer_id", "body"],
    }
    base = crm_mapping()
    from exports.mapping import mapping_to_json

    raw = mapping_to_json(base)
    raw["tables"].append(data)
    mapping = parse_mapping(raw)
    with source_for(db_path, mapping) as source:
        source.check()
        assert read(source, mapping, "notes", scope(email="jane@example.org")) == [(1, "called")]


def test_a_directly_matched_table_without_the_tenant_column_is_a_schema_mismatch(db_path):
    mapping = crm_mapping(
        tables=[
            {
                "name": "devices",
                "subject": {"column": "owner_phone", "identity": "phone"},
                "columns": ["serial", "owner_phone"],
            }
        ]
    )
    with source_for(db_path, mapping) as source, pytest.raises(SourceError) as caught:
        source.check()
    assert caught.value.kind == "schema_mismatch"
    assert "account_id" in caught.value.message and "devices" in caught.value.message


def test_it_applies_the_window_with_text_and_iso_forms(db_path):
    mapping = crm_mapping()
    window = scope(
        email="jane@example.org",
        window_start=datetime(2026, 2, 1, tzinfo=UTC),
        window_end=datetime(2026, 2, 15, 10, tzinfo=UTC),
    )
    with source_for(db_path, mapping) as source:
        # 101 sits on the start (included); 102 on the end (excluded); 100 is before.
        assert [row[0] for row in read(source, mapping, "orders", window)] == [101]
        shifted = scope(
            email="jane@example.org",
            window_start=datetime(2026, 2, 15, 11, tzinfo=timezone(timedelta(hours=2))),  # 09:00Z
            window_end=datetime(2026, 3, 1, tzinfo=UTC),
        )
        assert [row[0] for row in read(source, mapping, "orders", shifted)] == [102]


def test_a_stored_offset_is_honoured_in_the_window(db_path):
    mapping = crm_mapping(
        tenantFilter=None,
        tables=[
            {
                "name": "customers",
                "subject": {"column": "id", "identity": "subject_id"},
                "timeColumn": "created_at",
                "columns": ["id", "created_at"],
            }
        ],
    )
    # Customer 42 was created at 12:00+02:00 = 10:00Z.
    with source_for(db_path, mapping) as source:
        before = scope(data_subject_id="42", window_end=datetime(2026, 3, 1, 10, tzinfo=UTC))
        after = scope(data_subject_id="42", window_start=datetime(2026, 3, 1, 10, tzinfo=UTC))
        assert read(source, mapping, "customers", before) == []
        assert read(source, mapping, "customers", after) == [(42, "2026-03-01T12:00:00+02:00")]


def test_it_filters_campaigns(db_path):
    mapping = crm_mapping()
    with source_for(db_path, mapping) as source:
        rows = read(
            source, mapping, "orders", scope(email="jane@example.org", campaign_ids=("spring", "autumn"))
        )
    assert [row[0] for row in rows] == [100]


def test_plans_skip_sections_without_an_identity_and_never_touch_the_source(db_path):
    mapping = crm_mapping()
    customers, orders = mapping.tables
    no_email = scope()
    plan = plan_section(customers, no_email)
    assert plan.skipped
    assert plan.notes == (
        "Section customers is matched by email; the scope has no email, "
        "so it was not read and holds no rows.",
    )
    child = plan_section(orders, no_email, via_parent=customers)
    assert child.skipped and "through customers" in child.notes[0]
    # No DSN at all: any touch would fail with not_configured.
    source = open_source(mapping, env={})
    assert source.count(plan, no_email) == 0
    assert list(source.rows(child, no_email)) == []


def test_plans_note_filters_a_section_cannot_apply(db_path):
    mapping = crm_mapping()
    customers, orders = mapping.tables
    asked = scope(
        email="jane@example.org", window_start=datetime(2026, 1, 1, tzinfo=UTC), campaign_ids=("spring",)
    )
    plan = plan_section(customers, asked, substrate="crm")
    assert plan.apply_window and not plan.apply_campaigns and not plan.skipped
    assert plan.notes == (
        "Section crm.customers has no campaign column, so the campaign filter could not be applied: "
        "it holds every matching row whatever its campaign.",
    )
    assert "spring" not in plan.notes[0]
    assert plan_section(orders, asked, via_parent=customers).notes == ()
    with source_for(db_path, mapping) as source:
        # Read without the campaign filter: Jane's acme customer row is there.
        assert [row[0] for row in source.rows(plan, asked)] == [1]


def test_it_streams_more_rows_than_a_chunk(db_path):
    db = sqlite3.connect(db_path)
    db.executemany(
        "INSERT INTO orders (customer_id, account_id, ordered_at, total) VALUES (2, 'acme', '2026-01-01', ?)",
        [(str(n),) for n in range(CHUNK * 2 + 7)],
    )
    db.commit()
    db.close()
    mapping = crm_mapping()
    with source_for(db_path, mapping) as source:
        assert len(read(source, mapping, "orders", scope(email="bob@example.org"))) == CHUNK * 2 + 8


def test_a_consumer_may_stop_early_and_read_again(db_path):
    mapping = crm_mapping()
    asked = scope(email="jane@example.org")
    plan = plan_section(mapping.tables[1], asked, via_parent=mapping.tables[0])
    with source_for(db_path, mapping) as source:
        rows = source.rows(plan, asked)
        next(rows)
        rows.close()
        assert len(list(source.rows(plan, asked))) == 3


def test_the_connection_is_read_only(db_path):
    with source_for(db_path) as source:
        source.check()
        connection = source._dialect.conn
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
            connection.execute("DELETE FROM customers")
    db = sqlite3.connect(db_path)
    assert db.execute("SELECT count(*) FROM customers").fetchone()[0] == len(CUSTOMERS)
    db.close()


def test_a_slow_statement_times_out(db_path):
    mapping = crm_mapping(
        tenantFilter=None,
        tables=[{"name": "slow", "subject": {"column": "id", "identity": "subject_id"}, "columns": ["id"]}],
    )
    asked = scope(data_subject_id="0")
    plan = plan_section(mapping.tables[0], asked)
    with source_for(db_path, mapping, statement_timeout=0.05) as source:
        source.check()
        with pytest.raises(SourceError) as caught:
            list(source.rows(plan, asked))
        assert caught.value.kind == "timeout"
        assert "slow" in caught.value.message and "timeout" in caught.value.message
        with pytest.raises(SourceError) as counted:
            source.count(plan, asked)
        assert counted.value.kind == "timeout"


def test_a_column_dropped_after_registration_is_a_schema_mismatch(db_path):
    mapping = crm_mapping()
    with source_for(db_path, mapping) as source:
        source.check()
    db = sqlite3.connect(db_path)
    db.execute("ALTER TABLE orders DROP COLUMN campaign_id")
    db.commit()
    db.close()
    with source_for(db_path, mapping) as source:
        with pytest.raises(SourceError) as caught:
            source.check()
        assert caught.value.kind == "schema_mismatch"
        assert "orders" in caught.value.message and "campaign_id" in caught.value.message
        # And again before reading, whatever check said earlier.
        asked = scope(email="jane@example.org")
        plan = plan_section(mapping.tables[1], asked, via_parent=mapping.tables[0])
        with pytest.raises(SourceError) as reading:
            list(source.rows(plan, asked))
        assert reading.value.kind == "schema_mismatch"


def test_a_missing_table_is_a_schema_mismatch(db_path):
    mapping = crm_mapping(
        tables=[
            {"name": "main.people", "subject": {"column": "id", "identity": "subject_id"}, "columns": ["id"]}
        ]
    )
    with source_for(db_path, mapping) as source, pytest.raises(SourceError) as caught:
        source.check()
    assert caught.value.kind == "schema_mismatch" and "main.people" in caught.value.message


def test_a_schema_prefix_is_honoured(db_path):
    mapping = crm_mapping(
        tenantFilter=None,
        tables=[
            {
                "name": "main.customers",
                "subject": {"column": "id", "identity": "subject_id"},
                "columns": ["id"],
            }
        ],
    )
    with source_for(db_path, mapping) as source:
        source.check()
        assert read(source, mapping, "main.customers", scope(data_subject_id="2")) == [(2,)]


def test_identifier_injection_never_reaches_the_database(db_path):
    """parse_mapping refuses such names (test_export_mapping.py); a Mapping built in code, bypassing it, is
    stopped by the catalog check."""
    table = Table(
        name="customers",
        subject=SubjectMatch(column="id", identity="subject_id"),
        columns=("id", 'name" FROM customers; --', "password_hash"),
    )
    mapping = Mapping(key="crm", kind="sql", dsn_env="CRM_URL", tables=(table,))
    with source_for(db_path, mapping) as source, pytest.raises(SourceError) as caught:
        source.check()
    assert caught.value.kind == "schema_mismatch"
    evil = Table(
        name='customers" --', subject=SubjectMatch(column="id", identity="subject_id"), columns=("id",)
    )
    mapping = Mapping(key="crm", kind="sql", dsn_env="CRM_URL", tables=(evil,))
    with source_for(db_path, mapping) as source, pytest.raises(SourceError) as caught:
        source.check()
    assert caught.value.kind == "schema_mismatch"


def test_values_are_bound_not_formatted(db_path):
    mapping = crm_mapping()
    with source_for(db_path, mapping) as source:
        assert read(source, mapping, "customers", scope(email="x' OR '1'='1")) == []
        assert (
            read(source, mapping, "orders", scope(email="jane@example.org", campaign_ids=("') OR 1=1 --",)))
            == []
        )


def test_an_unset_dsn_variable_is_not_configured(db_path):
    with open_source(crm_mapping(), env={}) as source, pytest.raises(SourceError) as caught:
        source.check()
    assert caught.value.kind == "not_configured"
    assert "CRM_URL" in caught.value.message


def test_an_unknown_dsn_scheme_is_not_configured_and_not_shown():
    source = open_source(crm_mapping(), env={"CRM_URL": "oracle://scott:tiger@db/orcl"})
    with pytest.raises(SourceError) as caught:
        source.check()
    assert caught.value.kind == "not_configured"
    assert "tiger" not in caught.value.message and "oracle" not in caught.value.message


def test_a_missing_database_file_is_refused_without_naming_it(tmp_path):
    missing = tmp_path / "secret-location" / "nowhere.sqlite3"
    with source_for(missing) as source, pytest.raises(SourceError) as caught:
        source.check()
    assert caught.value.kind == "connection_refused"
    assert "secret-location" not in caught.value.message and str(tmp_path) not in caught.value.message
    assert "crm" in caught.value.message


def test_a_file_that_is_not_a_database_is_refused(tmp_path):
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with source_for(path) as source, pytest.raises(SourceError) as caught:
        source.check()
    assert caught.value.kind == "connection_refused"


def test_env_defaults_to_the_process_environment(db_path, monkeypatch):
    monkeypatch.setenv("CRM_URL", f"sqlite:///{db_path}")
    with open_source(crm_mapping()) as source:
        source.check()


def test_a_relative_sqlite_url_is_relative_to_the_working_directory(db_path, monkeypatch):
    monkeypatch.chdir(db_path.parent)
    with open_source(crm_mapping(), env={"CRM_URL": f"sqlite:///{db_path.name}"}) as source:
        source.check()
