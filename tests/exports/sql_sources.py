"""What the SQL source tests share: the `crm` mapping they read, and reading a section through a plan the
way the pipeline does (checking that `count` agrees with the rows)."""

from __future__ import annotations

from exports.mapping import parse_mapping
from exports.sources import open_source, plan_section
from exports.types import Mapping, SubjectScope


def crm_mapping(**overrides) -> Mapping:
    data = {
        "key": "crm",
        "kind": "sql",
        "dsnEnv": "CRM_URL",
        "tenantFilter": {"column": "account_id", "value": "acme"},
        "tables": [
            {
                "name": "customers",
                "subject": {"column": "email", "identity": "email"},
                "timeColumn": "created_at",
                "columns": ["id", "email", "name", "phone", "created_at"],
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
    return parse_mapping(data)


def one_table(name, column, identity, columns, **extra) -> Mapping:
    table = {"name": name, "subject": {"column": column, "identity": identity}, "columns": columns, **extra}
    return crm_mapping(tables=[table])


def source_for(url, mapping=None, **kwargs):
    return open_source(mapping or crm_mapping(), env={"CRM_URL": url}, **kwargs)


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
