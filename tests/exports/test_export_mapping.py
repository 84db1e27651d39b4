"""The substrate mapping JSON (api-contract.md, "Substrates"): every rule, every problem reported at its
dotted path, and a round trip through mapping_to_json."""

from __future__ import annotations

import copy
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exports.mapping import MappingError, mapping_to_json, parse_mapping
from exports.types import Mapping, Redaction, SubjectMatch, TenantFilter, Via


def crm(**overrides):
    """The contract's example mapping, as JSON."""
    data = {
        "key": "crm",
        "kind": "sql",
        "dsnEnv": "CRM_DATABASE_URL",
        "description": "Customer database",
        "tenantFilter": {"column": "account_id", "value": "acme"},
        "tables": [
            {
                "name": "customers",
                "subject": {"column": "email", "identity": "email"},
                "timeColumn": "created_at",
                "columns": ["id", "email", "name", "phone", "created_at"],
                "types": {"id": "int64", "created_at": "timestamp"},
                "redact": [{"column": "phone", "action": "mask_last4"}],
            },
            {
                "name": "orders",
                "subject": {"via": {"parent": "customers", "parentColumn": "id", "column": "customer_id"}},
                "timeColumn": "ordered_at",
                "campaignColumn": "campaign_id",
                "columns": ["id", "customer_id", "ordered_at", "total", "campaign_id"],
            },
        ],
    }
    data.update(overrides)
    return data


def files_mapping(root, **overrides):
    data = {
        "key": "exports_dir",
        "kind": "files",
        "root": str(root),
        "tables": [
            {
                "name": "people.csv",
                "subject": {"column": "email", "identity": "email"},
                "columns": ["id", "email"],
            },
            {
                "name": "events.ndjson",
                "subject": {"via": {"parent": "people.csv", "parentColumn": "id", "column": "person"}},
                "columns": ["person", "at"],
            },
        ],
    }
    data.update(overrides)
    return data


def problems(data, **kwargs) -> dict[str, str]:
    with pytest.raises(MappingError) as caught:
        parse_mapping(data, **kwargs)
    return dict(caught.value.problems)


def test_it_parses_the_contract_example():
    mapping = parse_mapping(crm())
    assert mapping.key == "crm"
    assert mapping.kind == "sql"
    assert mapping.dsn_env == "CRM_DATABASE_URL"
    assert mapping.root is None
    assert mapping.tenant_filter == TenantFilter(column="account_id", value="acme")
    customers, orders = mapping.tables
    assert customers.subject == SubjectMatch(column="email", identity="email")
    assert customers.columns == ("id", "email", "name", "phone", "created_at")
    assert customers.types == {"id": "int64", "created_at": "timestamp"}
    assert customers.redact == (Redaction(column="phone", action="mask_last4"),)
    assert customers.time_column == "created_at"
    assert orders.subject == SubjectMatch(
        via=Via(parent="customers", parent_column="id", column="customer_id")
    )
    assert orders.campaign_column == "campaign_id"
    assert mapping.table("orders") is orders


def test_it_round_trips_through_json():
    mapping = parse_mapping(crm())
    data = mapping_to_json(mapping)
    assert data["dsnEnv"] == "CRM_DATABASE_URL"
    assert data["tables"][1]["subject"] == {
        "via": {"parent": "customers", "parentColumn": "id", "column": "customer_id"}
    }
    assert parse_mapping(data) == mapping
    assert mapping_to_json(parse_mapping(data)) == data


def test_it_round_trips_a_files_mapping(tmp_path):
    mapping = parse_mapping(files_mapping(tmp_path), file_roots=[str(tmp_path)])
    assert mapping.root == str(tmp_path)
    assert [t.section for t in mapping.tables] == ["people", "events"]
    assert parse_mapping(mapping_to_json(mapping), file_roots=[str(tmp_path)]) == mapping


def test_it_reports_every_problem_at_once():
    data = crm(key="CRM!", kind="mongo", description="x" * 501, surprise=1)
    data["tables"][0]["columns"][2] = "na;me"
    data["tables"][1]["timeColumn"] = "nowhere"
    data["tables"][1]["redact"] = [{"column": "total", "action": "withhold"}]
    found = problems(data)
    assert set(found) >= {
        "key",
        "kind",
        "description",
        "surprise",
        "tables.0.columns.2",
        "tables.1.timeColumn",
        "tables.1.redact.0.reason",
    }


@pytest.mark.parametrize("key", ["", "Crm", "1crm", "crm-db", "c" * 41, "crm\n", " crm"])
def test_it_refuses_bad_keys(key):
    assert "key" in problems(crm(key=key))


def test_it_reserves_the_built_in_key():
    assert "reserved" in problems(crm(key="dsar_core"))["key"]


def test_it_accepts_a_40_character_key():
    assert parse_mapping(crm(key="c" * 40)).key == "c" * 40


def test_it_refuses_the_built_in_kind_and_unknown_kinds():
    assert "built in" in problems(crm(kind="dsar_core"))["kind"]
    assert "kind" in problems(crm(kind="mysql"))
    assert "kind" in problems(crm(kind=None))


def test_it_requires_dsn_env_for_sql_and_refuses_a_root():
    data = crm(root="/tmp")
    del data["dsnEnv"]
    found = problems(data)
    assert found["dsnEnv"] == "is required"
    assert "root" in found


def test_it_refuses_a_dsn_in_dsn_env_without_repeating_it():
    secret = "postgres://admin:hunter2@db.internal:5432/crm"
    with pytest.raises(MappingError) as caught:
        parse_mapping(crm(dsnEnv=secret))
    assert dict(caught.value.problems)["dsnEnv"].startswith("must name an environment variable")
    assert "hunter2" not in str(caught.value)
    assert "db.internal" not in str(caught.value)


@pytest.mark.parametrize("name", ["crm_url", "1CRM", "CRM-URL", "CRM URL", "", "CRM\n"])
def test_it_refuses_dsn_env_that_is_not_a_variable_name(name):
    assert "dsnEnv" in problems(crm(dsnEnv=name))


def test_files_need_a_root_and_no_dsn_env(tmp_path):
    data = files_mapping(tmp_path, dsnEnv="X")
    del data["root"]
    found = problems(data, file_roots=[str(tmp_path)])
    assert found["root"] == "is required"
    assert "dsnEnv" in found


def test_files_are_disabled_without_file_roots(tmp_path):
    found = problems(files_mapping(tmp_path))
    assert "DSAR_EXPORT_FILE_ROOTS" in found["root"]
    assert "disabled" in found["root"]


def test_a_root_must_resolve_inside_a_file_root(tmp_path):
    allowed = tmp_path / "allowed"
    inside = allowed / "crm"
    inside.mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (allowed / "escape").symlink_to(outside)
    roots = [str(allowed)]
    assert parse_mapping(files_mapping(inside), file_roots=roots).root == str(inside)
    assert parse_mapping(files_mapping(allowed), file_roots=roots).root == str(allowed)
    assert "root" in problems(files_mapping(outside), file_roots=roots)
    assert "root" in problems(files_mapping(allowed / "escape"), file_roots=roots)
    assert "root" in problems(files_mapping(f"{inside}/../../elsewhere"), file_roots=roots)
    assert "root" in problems(files_mapping("relative/dir"), file_roots=roots)
    # A sibling whose name merely starts like the allowed root is not inside it.
    sibling = tmp_path / "allowed-not"
    sibling.mkdir()
    assert "root" in problems(files_mapping(sibling), file_roots=roots)


def test_description_is_optional_and_bounded():
    data = crm()
    del data["description"]
    assert parse_mapping(data).description == ""
    assert parse_mapping(crm(description="x" * 500)).description == "x" * 500
    assert "description" in problems(crm(description=5))


def test_tenant_filter_needs_string_column_and_value():
    assert "tenantFilter.value" in problems(crm(tenantFilter={"column": "account_id", "value": 3}))
    assert "tenantFilter.column" in problems(crm(tenantFilter={"value": "acme"}))
    assert "tenantFilter.extra" in problems(crm(tenantFilter={"column": "a", "value": "b", "extra": 1}))
    assert "tenantFilter" in problems(crm(tenantFilter="acme"))
    data = crm()
    del data["tenantFilter"]
    assert parse_mapping(data).tenant_filter is None


def test_tables_are_one_to_a_hundred_with_unique_names():
    assert "tables" in problems(crm(tables=[]))
    assert "tables" in problems(crm(tables={"name": "x"}))
    table = {"name": "t", "subject": {"column": "id", "identity": "subject_id"}, "columns": ["id"]}
    many = [dict(table, name=f"t{i}") for i in range(101)]
    assert "tables" in problems(crm(tables=many))
    assert len(parse_mapping(crm(tables=many[:100])).tables) == 100
    assert "tables.1.name" in problems(crm(tables=[table, dict(table)]))


@pytest.mark.parametrize(
    "name",
    [
        "customers; DROP TABLE customers",
        'customers"--',
        "a.b.c",
        "1table",
        "crm.",
        ".customers",
        "cust omers",
        "customers`",
        "",
    ],
)
def test_sql_table_names_are_plain_identifiers(name):
    data = crm()
    data["tables"][0]["name"] = name
    assert "tables.0.name" in problems(data)


def test_sql_table_names_may_have_a_schema():
    data = crm()
    data["tables"][0]["name"] = "sales.customers"
    data["tables"][1]["subject"]["via"]["parent"] = "sales.customers"
    mapping = parse_mapping(data)
    assert mapping.tables[0].name == "sales.customers"
    assert mapping.tables[0].section == "sales.customers"


@pytest.mark.parametrize(
    "name",
    [
        "people",
        "people.txt",
        "../people.csv",
        "sub/people.csv",
        "sub\\people.csv",
        ".csv",
        "..csv",
        ".hidden.csv",
    ],
)
def test_file_table_names_are_csv_or_ndjson_names_in_the_root(tmp_path, name):
    data = files_mapping(tmp_path)
    data["tables"][0]["name"] = name
    data["tables"][1]["subject"]["via"]["parent"] = name
    assert "tables.0.name" in problems(data, file_roots=[str(tmp_path)])


def test_file_sections_are_unique(tmp_path):
    data = files_mapping(tmp_path)
    data["tables"][1]["name"] = "people.ndjson"
    found = problems(data, file_roots=[str(tmp_path)])
    assert "section" in found["tables.1.name"]


def test_columns_are_one_to_five_hundred_unique_valid_names():
    data = crm()
    data["tables"][1]["columns"] = []
    assert "tables.1.columns" in problems(data)
    data["tables"][1]["columns"] = [f"c{i}" for i in range(501)]
    assert "tables.1.columns" in problems(data)
    data["tables"][1]["columns"] = ["id", "customer_id", "ordered_at", "total", "campaign_id", "id"]
    assert "tables.1.columns.5" in problems(data)
    data["tables"][1]["columns"] = ["id", "customer_id", "ordered_at", "total", "campaign_id", 7]
    assert "tables.1.columns.5" in problems(data)
    data["tables"][1]["columns"] = "id"
    assert "tables.1.columns" in problems(data)


@pytest.mark.parametrize(
    "column",
    [
        'email" FROM customers --',
        "email,password",
        "e`mail",
        "e'mail",
        "e(mail)",
        "e;mail",
        "x" * 129,
        "",
        " id",
    ],
)
def test_column_names_are_refused_when_they_could_escape_quoting(column):
    data = crm()
    data["tables"][0]["columns"].append(column)
    assert "tables.0.columns.5" in problems(data)


def test_column_names_allow_spaces_dollars_and_dashes():
    data = crm()
    data["tables"][0]["columns"] += ["First name", "amount$", "post-code"]
    assert parse_mapping(data).tables[0].columns[-3:] == ("First name", "amount$", "post-code")


def test_subject_is_either_identity_or_via():
    data = crm()
    data["tables"][0]["subject"] = {"column": "email", "identity": "email", "via": {}}
    assert "tables.0.subject" in problems(data)
    data["tables"][0]["subject"] = {"column": "email", "identity": "fingerprint"}
    assert "tables.0.subject.identity" in problems(data)
    data["tables"][0]["subject"] = {"column": "nowhere", "identity": "email"}
    assert "tables.0.subject.column" in problems(data)
    data["tables"][0]["subject"] = {"identity": "email"}
    assert "tables.0.subject.column" in problems(data)
    data["tables"][0]["subject"] = "email"
    assert "tables.0.subject" in problems(data)
    del data["tables"][0]["subject"]
    assert "tables.0.subject" in problems(data)


def test_via_follows_one_hop_to_another_table_matched_by_identity():
    data = crm()
    via = data["tables"][1]["subject"]["via"]
    via["parent"] = "orders"
    assert "another table" in problems(data)["tables.1.subject.via.parent"]
    via["parent"] = "nowhere"
    assert "tables.1.subject.via.parent" in problems(data)
    via["parent"] = "customers"
    via["parentColumn"] = "customer_id"
    assert "tables.1.subject.via.parentColumn" in problems(data)
    via["parentColumn"] = "id"
    via["column"] = "nowhere"
    assert "tables.1.subject.via.column" in problems(data)
    via["column"] = "customer_id"
    via["extra"] = 1
    assert "tables.1.subject.via.extra" in problems(data)


def test_via_of_via_is_refused():
    data = crm()
    data["tables"].append(
        {
            "name": "order_lines",
            "subject": {"via": {"parent": "orders", "parentColumn": "id", "column": "order_id"}},
            "columns": ["order_id", "sku"],
        }
    )
    assert "one hop" in problems(data)["tables.2.subject.via.parent"]


def test_via_may_name_a_later_table():
    data = crm()
    data["tables"].reverse()
    assert parse_mapping(data).tables[0].name == "orders"


def test_time_and_campaign_columns_must_be_declared():
    data = crm()
    data["tables"][0]["campaignColumn"] = "campaign_id"
    data["tables"][1]["timeColumn"] = 3
    found = problems(data)
    assert "tables.0.campaignColumn" in found
    assert "tables.1.timeColumn" in found


def test_types_map_declared_columns_to_known_types():
    data = crm()
    data["tables"][0]["types"] = {"id": "uint8", "nowhere": "int64", "email": None}
    found = problems(data)
    assert {"tables.0.types.id", "tables.0.types.nowhere", "tables.0.types.email"} <= set(found)
    data["tables"][0]["types"] = ["id"]
    assert "tables.0.types" in problems(data)


def test_redaction_rules():
    data = crm()
    data["tables"][0]["redact"] = [
        {"column": "nowhere", "action": "drop"},
        {"column": "name", "action": "shred"},
        {"column": "email", "action": "withhold", "reason": "  "},
        {"column": "phone", "action": "drop", "why": "x"},
        "drop",
    ]
    found = problems(data)
    assert {
        "tables.0.redact.0.column",
        "tables.0.redact.1.action",
        "tables.0.redact.2.reason",
        "tables.0.redact.3.why",
        "tables.0.redact.4",
    } <= set(found)
    data["tables"][0]["redact"] = [
        {"column": "email", "action": "withhold", "reason": "Legal hold (case 12)"},
        {"column": "phone", "action": "mask_last4"},
    ]
    rules = parse_mapping(data).tables[0].redact
    assert rules[0] == Redaction(column="email", action="withhold", reason="Legal hold (case 12)")


def test_unknown_keys_anywhere_are_named_by_path():
    data = crm()
    data["tables"][0]["colums"] = ["typo"]
    data["tables"][1]["subject"]["extra"] = True
    found = problems(data)
    assert "tables.0.colums" in found
    assert "tables.1.subject.extra" in found


@pytest.mark.parametrize("data", [None, [], "crm", 3, 1.5, True, {"key": []}, {"tables": [None, 3, "x"]}])
def test_wrong_json_types_are_problems_not_crashes(data):
    with pytest.raises(MappingError) as caught:
        parse_mapping(data)
    assert caught.value.problems


def test_a_mapping_error_lists_its_problems_in_its_message():
    with pytest.raises(MappingError) as caught:
        parse_mapping(crm(key="X"))
    assert "key:" in str(caught.value)


# -- properties ---------------------------------------------------------------------------------------

_names = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
_columns = st.lists(_names, min_size=1, max_size=6, unique=True)


@st.composite
def _mappings(draw):
    tables = []
    names = draw(st.lists(_names, min_size=1, max_size=5, unique=True))
    for index, name in enumerate(names):
        columns = draw(_columns)
        parents = [t for t in tables if "via" not in t["subject"]]
        if index and parents and draw(st.booleans()):
            parent = draw(st.sampled_from(parents))
            subject = {
                "via": {
                    "parent": parent["name"],
                    "parentColumn": draw(st.sampled_from(parent["columns"])),
                    "column": draw(st.sampled_from(columns)),
                }
            }
        else:
            subject = {
                "column": draw(st.sampled_from(columns)),
                "identity": draw(st.sampled_from(["subject_id", "email", "phone"])),
            }
        table = {"name": name, "subject": subject, "columns": columns}
        if draw(st.booleans()):
            table["timeColumn"] = draw(st.sampled_from(columns))
        if draw(st.booleans()):
            table["campaignColumn"] = draw(st.sampled_from(columns))
        if draw(st.booleans()):
            table["types"] = {
                draw(st.sampled_from(columns)): draw(st.sampled_from(["int64", "json", "date"]))
            }
        if draw(st.booleans()):
            action = draw(st.sampled_from(["drop", "hash_sha256", "withhold"]))
            rule = {"column": draw(st.sampled_from(columns)), "action": action}
            if action == "withhold" or draw(st.booleans()):
                rule["reason"] = draw(st.text(min_size=1, max_size=20).filter(str.strip))
            table["redact"] = [rule]
        tables.append(table)
    data = {"key": draw(_names), "kind": "sql", "dsnEnv": "SOME_DSN", "tables": tables}
    if draw(st.booleans()):
        data["description"] = draw(st.text(max_size=30))
    if draw(st.booleans()):
        data["tenantFilter"] = {"column": draw(_names), "value": draw(st.text(min_size=1, max_size=10))}
    return data


@given(_mappings())
def test_property_every_valid_mapping_round_trips(data):
    if data["key"] == "dsar_core":
        return
    mapping = parse_mapping(data)
    assert isinstance(mapping, Mapping)
    again = parse_mapping(mapping_to_json(mapping))
    assert again == mapping
    assert mapping_to_json(again) == mapping_to_json(mapping)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(_mappings(), st.lists(st.tuples(st.integers(0, 50), _json), max_size=3))
def test_property_mutated_mappings_fail_only_with_mapping_error(data, mutations):
    """Random JSON dropped into random places: either a valid mapping or a MappingError, nothing else."""
    data = copy.deepcopy(data)
    for where, value in mutations:
        containers = _containers(data)
        target = containers[where % len(containers)]
        if isinstance(target, dict):
            keys = sorted(target)
            target[keys[where % len(keys)] if keys and where % 3 else "x"] = value
        elif target:
            target[where % len(target)] = value
    try:
        parse_mapping(data)
    except MappingError as error:
        assert error.problems
        assert all(isinstance(path, str) and isinstance(message, str) for path, message in error.problems)


def _containers(value):
    found = [value] if isinstance(value, dict | list) else []
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    for child in children:
        found += _containers(child)
    return found


def test_file_roots_accept_the_environment_format(tmp_path):
    """DSAR_EXPORT_FILE_ROOTS is split on os.pathsep by settings; each entry is a root."""
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    roots = f"{first}{os.pathsep}{second}".split(os.pathsep)
    assert parse_mapping(files_mapping(second), file_roots=roots).root == str(second)
