"""The files source: CSV and NDJSON files in a root under DSAR_EXPORT_FILE_ROOTS, matched in Python with the
SQL sources' meaning, and confined to the root."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from exports.mapping import parse_mapping
from exports.sources import files as files_module
from exports.sources import open_source, plan_section
from exports.sources.files import FileSource
from exports.types import Mapping, SourceError, SubjectMatch, SubjectScope, Table

PEOPLE_CSV = (
    "id,account,email,name,phone,joined,secret\n"
    '1,acme, Jane@Example.org ,"Doe, Jane",+44 (0) 7700-900123,2026-01-10 09:00:00,s1\n'
    "2,acme,bob@example.org,Bob,07700 900456,2026-02-01T00:00:00Z,s2\n"
    "3,other,jane@example.org,Jane (other tenant),447700900123,2026-01-10,s3\n"
    "4,acme,empty@example.org,,,,s4\n"
)
EVENTS = [
    {"person": 1, "account": "acme", "at": "2026-01-01T00:00:00", "campaign": "spring", "kind": "login"},
    {
        "person": "1",
        "account": "acme",
        "at": "2026-02-01T00:00:00+00:00",
        "campaign": "summer",
        "kind": "buy",
    },
    {"person": 1, "account": "acme", "at": "2026-02-15T12:00:00+02:00", "kind": "view"},  # 10:00Z
    {"person": 1, "account": "other", "at": "2026-02-15T10:00:00", "campaign": "spring", "kind": "leak"},
    {"person": 2, "account": "acme", "at": "not a date", "campaign": "spring", "kind": "bob"},
    {"person": 3, "account": "other", "at": "2026-01-20", "campaign": "spring", "kind": "other jane"},
]


# "07700 900456" in full-width digits, as a subject on a Japanese keyboard may type it.
FULL_WIDTH_PHONE = "".join(chr(0xFF10 + int(c)) if c.isdigit() else c for c in "07700 900456")


@pytest.fixture
def roots(tmp_path):
    allowed = tmp_path / "allowed"
    root = allowed / "crm"
    root.mkdir(parents=True)
    (root / "people.csv").write_text(PEOPLE_CSV, encoding="utf-8")
    lines = [json.dumps(event) for event in EVENTS]
    lines.insert(2, "")  # a blank line is ignored
    (root / "events.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return allowed, root


def mapping_for(root, tables=None, **overrides) -> Mapping:
    data = {
        "key": "crm_files",
        "kind": "files",
        "root": str(root),
        "tenantFilter": {"column": "account", "value": "acme"},
        "tables": tables
        or [
            {
                "name": "people.csv",
                "subject": {"column": "email", "identity": "email"},
                "timeColumn": "joined",
                "columns": ["id", "email", "name", "phone", "joined"],
            },
            {
                "name": "events.ndjson",
                "subject": {"via": {"parent": "people.csv", "parentColumn": "id", "column": "person"}},
                "timeColumn": "at",
                "campaignColumn": "campaign",
                "columns": ["person", "at", "campaign", "kind"],
            },
        ],
    }
    data.update(overrides)
    return parse_mapping(data, file_roots=[str(root.parent)])


def read(source, mapping, name, scope):
    table = mapping.table(name)
    parent = mapping.table(table.subject.via.parent) if table.subject.via else None
    plan = plan_section(table, scope, via_parent=parent)
    rows = list(source.rows(plan, scope))
    assert source.count(plan, scope) == len(rows)
    return rows


def scope(**kwargs) -> SubjectScope:
    kwargs.setdefault("data_subject_id", "subj-1")
    return SubjectScope(**kwargs)


@pytest.fixture
def crm_files(roots):
    allowed, root = roots
    mapping = mapping_for(root)
    source = open_source(mapping, file_roots=[str(allowed)])
    yield mapping, source
    source.close()


def test_it_opens_a_file_source_and_checks_it(crm_files):
    _mapping, source = crm_files
    assert isinstance(source, FileSource)
    source.check()
    assert "allowed" not in repr(source)


def test_it_matches_csv_rows_by_email_within_the_tenant(crm_files):
    mapping, source = crm_files
    rows = read(source, mapping, "people.csv", scope(email="jane@example.org"))
    assert rows == [("1", " Jane@Example.org ", "Doe, Jane", "+44 (0) 7700-900123", "2026-01-10 09:00:00")]


def test_csv_values_stay_strings_and_empty_stays_empty(crm_files):
    mapping, source = crm_files
    rows = read(source, mapping, "people.csv", scope(email="empty@example.org"))
    assert rows == [("4", "empty@example.org", "", "", "")]


def test_it_reads_only_declared_columns(crm_files):
    mapping, source = crm_files
    for row in read(source, mapping, "people.csv", scope(email="bob@example.org")):
        assert len(row) == 5
        assert "s2" not in row


def test_it_matches_by_subject_id_as_strings(roots):
    allowed, root = roots
    mapping = mapping_for(
        root,
        tenantFilter=None,
        tables=[
            {
                "name": "events.ndjson",
                "subject": {"column": "person", "identity": "subject_id"},
                "columns": ["person", "kind"],
            }
        ],
    )
    with open_source(mapping, file_roots=[str(allowed)]) as source:
        # NDJSON 1 and "1" are the same subject id.
        assert [row[1] for row in read(source, mapping, "events.ndjson", scope(data_subject_id="1"))] == [
            "login",
            "buy",
            "view",
            "leak",
        ]
        assert read(source, mapping, "events.ndjson", scope(data_subject_id="01")) == []


def test_it_matches_by_phone_digits(roots):
    allowed, root = roots
    mapping = mapping_for(
        root,
        tables=[
            {
                "name": "people.csv",
                "subject": {"column": "phone", "identity": "phone"},
                "columns": ["id", "phone"],
            }
        ],
    )
    with open_source(mapping, file_roots=[str(allowed)]) as source:
        assert read(source, mapping, "people.csv", scope(phone="+44 0 7700 900123")) == [
            ("1", "+44 (0) 7700-900123")
        ]
        assert read(source, mapping, "people.csv", scope(phone="+44 7700 900000")) == []
        # Full-width digits typed by the subject count as digits.
        assert read(source, mapping, "people.csv", scope(phone=FULL_WIDTH_PHONE)) == [("2", "07700 900456")]


def test_it_follows_a_via_hop_with_the_tenant_filter(crm_files):
    mapping, source = crm_files
    rows = read(source, mapping, "events.ndjson", scope(email="JANE@example.org"))
    assert [row[3] for row in rows] == ["login", "buy", "view"]
    # Values as JSON gave them; a record without a key gives None.
    assert rows[0][0] == 1 and rows[1][0] == "1" and rows[2][2] is None


def test_it_applies_the_window_as_utc_with_unparsable_times_outside(crm_files):
    mapping, source = crm_files
    window = dict(
        window_start=datetime(2026, 2, 1, tzinfo=UTC), window_end=datetime(2026, 2, 15, 10, tzinfo=UTC)
    )
    rows = read(source, mapping, "events.ndjson", scope(email="jane@example.org", **window))
    assert [row[3] for row in rows] == ["buy"]  # on the start: in; at the end (12:00+02:00): out
    assert read(source, mapping, "events.ndjson", scope(email="bob@example.org", **window)) == []
    everything = read(source, mapping, "events.ndjson", scope(email="bob@example.org"))
    assert [row[3] for row in everything] == ["bob"]


def test_it_filters_campaigns(crm_files):
    mapping, source = crm_files
    rows = read(
        source, mapping, "events.ndjson", scope(email="jane@example.org", campaign_ids=("spring", "x"))
    )
    assert [row[3] for row in rows] == ["login"]


def test_skipped_plans_read_nothing(crm_files):
    mapping, _source = crm_files
    customers, events = mapping.tables
    plan = plan_section(events, scope(phone="no digits here"), via_parent=customers)
    assert plan.skipped and plan.notes
    broken = FileSource(mapping, file_roots=[])  # would fail with not_configured if it read anything
    assert broken.count(plan, scope()) == 0
    assert list(broken.rows(plan, scope())) == []


def test_a_symlink_out_of_the_root_is_refused(roots, tmp_path):
    allowed, root = roots
    outside = tmp_path / "outside.csv"
    outside.write_text("id,email\n1,jane@example.org\n", encoding="utf-8")
    (root / "leak.csv").symlink_to(outside)
    mapping = mapping_for(
        root,
        tenantFilter=None,
        tables=[
            {
                "name": "leak.csv",
                "subject": {"column": "email", "identity": "email"},
                "columns": ["id", "email"],
            }
        ],
    )
    with open_source(mapping, file_roots=[str(allowed)]) as source:
        with pytest.raises(SourceError) as caught:
            source.check()
        assert caught.value.kind == "permission_denied"
        assert "leak.csv" in caught.value.message
        assert str(tmp_path) not in caught.value.message
        plan = plan_section(mapping.tables[0], scope(email="jane@example.org"))
        with pytest.raises(SourceError):
            list(source.rows(plan, scope(email="jane@example.org")))


def test_a_symlink_inside_the_root_is_followed(roots):
    allowed, root = roots
    (root / "alias.csv").symlink_to(root / "people.csv")
    mapping = mapping_for(
        root,
        tables=[
            {
                "name": "alias.csv",
                "subject": {"column": "email", "identity": "email"},
                "columns": ["id", "email"],
            }
        ],
    )
    with open_source(mapping, file_roots=[str(allowed)]) as source:
        assert read(source, mapping, "alias.csv", scope(email="bob@example.org")) == [
            ("2", "bob@example.org")
        ]


def test_dot_dot_names_are_refused(roots, tmp_path):
    allowed, root = roots
    (tmp_path / "allowed" / "sibling.csv").write_text("id,email,account\n", encoding="utf-8")
    table = Table(
        name="../sibling.csv", subject=SubjectMatch(column="email", identity="email"), columns=("id",)
    )
    mapping = Mapping(key="crm_files", kind="files", root=str(root), tables=(table,))
    with pytest.raises(SourceError) as caught:
        FileSource(mapping, file_roots=[str(allowed)]).check()
    assert caught.value.kind == "permission_denied"
    assert str(tmp_path) not in caught.value.message
    parent = Table(name="..", subject=SubjectMatch(column="email", identity="email"), columns=("id",))
    with pytest.raises(SourceError) as caught:
        FileSource(
            Mapping(key="k", kind="files", root=str(root), tables=(parent,)), file_roots=[str(allowed)]
        ).check()
    assert caught.value.kind == "permission_denied"


def test_a_directory_is_not_a_table(roots):
    allowed, root = roots
    (root / "folder.csv").mkdir()
    mapping = mapping_for(
        root,
        tables=[
            {
                "name": "folder.csv",
                "subject": {"column": "email", "identity": "email"},
                "columns": ["id", "email"],
            }
        ],
    )
    with pytest.raises(SourceError) as caught:
        FileSource(mapping, file_roots=[str(allowed)]).check()
    assert caught.value.kind == "schema_mismatch" and "folder.csv" in caught.value.message


def test_a_missing_file_is_a_schema_mismatch(roots):
    allowed, root = roots
    mapping = mapping_for(
        root,
        tables=[
            {
                "name": "gone.csv",
                "subject": {"column": "email", "identity": "email"},
                "columns": ["id", "email"],
            }
        ],
    )
    with pytest.raises(SourceError) as caught:
        FileSource(mapping, file_roots=[str(allowed)]).check()
    assert caught.value.kind == "schema_mismatch"


def test_the_root_is_checked_again_when_opened(roots, tmp_path):
    _allowed, root = roots
    mapping = mapping_for(root)
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(SourceError) as caught:
        FileSource(mapping, file_roots=[str(other)]).check()
    assert caught.value.kind == "not_configured"
    assert str(tmp_path) not in caught.value.message
    with pytest.raises(SourceError) as caught:
        FileSource(mapping, file_roots=[]).check()
    assert "DSAR_EXPORT_FILE_ROOTS" in caught.value.message


def test_a_root_swapped_for_a_symlink_out_is_refused(roots, tmp_path):
    allowed, root = roots
    mapping = mapping_for(root)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "people.csv").rename(elsewhere / "people.csv")
    (root / "events.ndjson").rename(elsewhere / "events.ndjson")
    root.rmdir()
    root.symlink_to(elsewhere)
    with pytest.raises(SourceError) as caught:
        FileSource(mapping, file_roots=[str(allowed)]).check()
    assert caught.value.kind == "not_configured"


def test_declared_columns_must_be_in_the_header(roots):
    allowed, root = roots
    mapping = mapping_for(
        root,
        tables=[
            {
                "name": "people.csv",
                "subject": {"column": "email", "identity": "email"},
                "columns": ["id", "email", "dob"],
            }
        ],
    )
    with pytest.raises(SourceError) as caught:
        FileSource(mapping, file_roots=[str(allowed)]).check()
    assert caught.value.kind == "schema_mismatch" and "dob" in caught.value.message


def test_a_csv_without_a_header_is_a_schema_mismatch(roots):
    allowed, root = roots
    (root / "empty.csv").write_text("", encoding="utf-8")
    mapping = mapping_for(
        root,
        tenantFilter=None,
        tables=[
            {"name": "empty.csv", "subject": {"column": "email", "identity": "email"}, "columns": ["email"]}
        ],
    )
    with pytest.raises(SourceError) as caught:
        FileSource(mapping, file_roots=[str(allowed)]).check()
    assert caught.value.kind == "schema_mismatch"


def test_ndjson_columns_come_from_the_first_record(roots):
    allowed, root = roots
    mapping = mapping_for(
        root,
        tenantFilter=None,
        tables=[
            {
                "name": "events.ndjson",
                "subject": {"column": "person", "identity": "subject_id"},
                "columns": ["person", "ip"],
            }
        ],
    )
    with pytest.raises(SourceError) as caught:
        FileSource(mapping, file_roots=[str(allowed)]).check()
    assert caught.value.kind == "schema_mismatch" and "ip" in caught.value.message


def test_a_line_that_is_not_a_json_object_is_a_read_error_naming_its_line(roots):
    allowed, root = roots
    (root / "bad.ndjson").write_text('{"person": "1", "account": "acme"}\n\n[1, 2]\n', encoding="utf-8")
    mapping = mapping_for(
        root,
        tables=[
            {
                "name": "bad.ndjson",
                "subject": {"column": "person", "identity": "subject_id"},
                "columns": ["person"],
            }
        ],
    )
    with FileSource(mapping, file_roots=[str(allowed)]) as source:
        source.check()
        plan = plan_section(mapping.tables[0], scope(data_subject_id="1"))
        with pytest.raises(SourceError) as caught:
            list(source.rows(plan, scope(data_subject_id="1")))
    assert caught.value.kind == "read_error"
    assert "line 3" in caught.value.message and "bad.ndjson" in caught.value.message
    assert "[1, 2]" not in caught.value.message


def test_a_directly_matched_file_without_the_tenant_column_is_a_schema_mismatch(roots):
    allowed, root = roots
    (root / "plain.csv").write_text("email\njane@example.org\n", encoding="utf-8")
    mapping = mapping_for(
        root,
        tables=[
            {"name": "plain.csv", "subject": {"column": "email", "identity": "email"}, "columns": ["email"]}
        ],
    )
    with pytest.raises(SourceError) as caught:
        FileSource(mapping, file_roots=[str(allowed)]).check()
    assert caught.value.kind == "schema_mismatch" and "account" in caught.value.message


def test_a_byte_order_mark_is_not_part_of_the_header(roots):
    allowed, root = roots
    (root / "excel.csv").write_bytes("\ufeffemail,account\njane@example.org,acme\n".encode())
    mapping = mapping_for(
        root,
        tables=[
            {"name": "excel.csv", "subject": {"column": "email", "identity": "email"}, "columns": ["email"]}
        ],
    )
    with FileSource(mapping, file_roots=[str(allowed)]) as source:
        assert read(source, mapping, "excel.csv", scope(email="jane@example.org")) == [("jane@example.org",)]


def test_files_that_are_not_utf8_are_a_read_error(roots):
    allowed, root = roots
    (root / "latin.csv").write_bytes(b"email,account\nj\xe9r\xf4me@example.org,acme\n")
    mapping = mapping_for(
        root,
        tables=[
            {"name": "latin.csv", "subject": {"column": "email", "identity": "email"}, "columns": ["email"]}
        ],
    )
    with FileSource(mapping, file_roots=[str(allowed)]) as source:
        plan = plan_section(mapping.tables[0], scope(email="x@example.org"))
        with pytest.raises(SourceError) as caught:
            list(source.rows(plan, scope(email="x@example.org")))
    assert caught.value.kind == "read_error"


def test_large_files_are_not_counted(crm_files, monkeypatch):
    mapping, source = crm_files
    monkeypatch.setattr(files_module, "COUNT_LIMIT", 100)
    asked = scope(email="jane@example.org")
    plan = plan_section(mapping.tables[0], asked)
    assert source.count(plan, asked) is None
    assert len(list(source.rows(plan, asked))) == 1


def test_unreadable_files_are_permission_denied(roots, monkeypatch):
    allowed, root = roots
    mapping = mapping_for(root)

    def refuse(path, flags, *args):
        raise PermissionError(13, "Permission denied", path)

    # chmod 0 does not stop root (which CI may be): refuse at the system call instead.
    monkeypatch.setattr(files_module.os, "open", refuse)
    with pytest.raises(SourceError) as caught:
        FileSource(mapping, file_roots=[str(allowed)]).check()
    assert caught.value.kind == "permission_denied"
    assert str(root) not in caught.value.message


def test_rows_stream_without_reading_the_whole_file(roots):
    allowed, root = roots
    with (root / "big.csv").open("w", encoding="utf-8") as handle:
        handle.write("email,account,n\n")
        for n in range(20000):
            handle.write(f"{'jane' if n % 2 else 'bob'}@example.org,acme,{n}\n")
    mapping = mapping_for(
        root,
        tables=[
            {
                "name": "big.csv",
                "subject": {"column": "email", "identity": "email"},
                "columns": ["n", "email"],
            }
        ],
    )
    with FileSource(mapping, file_roots=[str(allowed)]) as source:
        asked = scope(email="jane@example.org")
        rows = source.rows(plan_section(mapping.tables[0], asked), asked)
        assert next(rows) == ("1", "jane@example.org")
        rows.close()
        assert source.count(plan_section(mapping.tables[0], asked), asked) == 10000
