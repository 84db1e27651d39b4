"""GET /v1/requests (offset pages, sorting, at-risk filter) and GET /v1/dsr (cursor pages, snake_case)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from requests_app import services

pytestmark = pytest.mark.django_db


def _create(org, days_ago: float, jurisdiction: str = "GB", **kw):
    received = timezone.now() - timedelta(days=days_ago)
    return services.request_create(
        org=org,
        actor="test",
        jurisdiction=jurisdiction,
        channel="EMAIL",
        raw_text="copy of my data",
        intake_received_at=received,
        **kw,
    ).request


def test_list_shape_and_defaults(officer):
    for days in (1, 2, 3):
        _create(officer.org, days)

    data = officer.get("/v1/requests").json()["data"]

    assert data["total"] == 3 and data["limit"] == 50 and data["offset"] == 0
    assert len(data["requests"]) == 3
    created = [r["createdAt"] for r in data["requests"]]
    assert created == sorted(created, reverse=True)


def test_sort_by_due_date_and_paging(officer):
    rows = [_create(officer.org, d) for d in (5, 25, 15)]

    page1 = officer.get("/v1/requests?sortBy=dueDate&sortOrder=asc&limit=2").json()["data"]
    page2 = officer.get("/v1/requests?sortBy=dueDate&sortOrder=asc&limit=2&offset=2").json()["data"]

    ids = [r["id"] for r in page1["requests"] + page2["requests"]]
    assert ids == [rows[1].id, rows[2].id, rows[0].id]
    assert page1["total"] == 3


def test_at_risk_days_lists_open_requests_due_within_n_days_including_overdue(officer):
    soon = _create(officer.org, 27)  # due in ~3-4 days
    overdue = _create(officer.org, 40)
    _create(officer.org, 1)  # due in a month
    closed = _create(officer.org, 28)
    services.request_close(org=officer.org, request_id=closed.id, actor="t", outcome="FULFILLED")

    data = officer.get("/v1/requests?atRiskDays=7&sortBy=dueDate&sortOrder=asc").json()["data"]

    assert [r["id"] for r in data["requests"]] == [overdue.id, soon.id]
    assert data["requests"][0]["clock"]["overdue"] is True
    assert data["requests"][1]["clock"]["atRisk"] is True


def test_filter_by_status(officer):
    a = _create(officer.org, 2)
    _create(officer.org, 3)
    services.request_acknowledge(org=officer.org, request_id=a.id, actor="t")

    data = officer.get("/v1/requests?status=ACKNOWLEDGED").json()["data"]

    assert [r["id"] for r in data["requests"]] == [a.id]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("sortBy=colour", "sortBy"),
        ("sortOrder=up", "sortOrder"),
        ("atRiskDays=-3", "atRiskDays"),
        ("status=DONE", "status"),
    ],
)
def test_bad_list_parameters_are_400(officer, query, field):
    response = officer.get(f"/v1/requests?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == field


@pytest.mark.parametrize("count", [1, 60])
def test_the_list_uses_the_same_queries_for_1_and_many_rows(officer, count, django_assert_max_num_queries):
    for i in range(count):
        _create(officer.org, 1 + i % 20, requestor={"type": "DATA_SUBJECT", "name": "x"})

    officer.get("/v1/requests?limit=1")  # the key's last-used time is written at most once a minute
    # key and org lookup, the shared rate counter, count, page (its ids and its rows in one statement)
    with django_assert_max_num_queries(4):
        response = officer.get("/v1/requests?limit=200")
    assert len(response.json()["data"]["requests"]) == count
    with django_assert_max_num_queries(4):
        response = officer.get("/v1/requests?limit=50&status=RECEIVED&atRiskDays=30&sortBy=dueDate&offset=0")
    assert response.status_code == 200


def test_dsr_is_snake_case_with_a_deprecated_alias_and_cursor_pages(officer):
    made = [_create(officer.org, d) for d in (3, 2, 1)]
    services.request_close(org=officer.org, request_id=made[0].id, actor="t", outcome="FULFILLED")

    first = officer.get("/v1/dsr?limit=2").json()
    second = officer.get(f"/v1/dsr?limit=2&cursor={first['next_cursor']}").json()

    assert first["items"] == first["requests"]
    assert [r["id"] for r in first["requests"]] == [made[2].id, made[1].id]
    assert [r["id"] for r in second["requests"]] == [made[0].id]
    assert "next_cursor" not in second
    row = second["requests"][0]
    assert set(row) == {
        "id",
        "created_at",
        "updated_at",
        "tenant_id",
        "requested_by",
        "subject_id",
        "type",
        "status",
        "completed_at",
        "export_url",
        "error_msg",
    }
    assert (row["type"], row["status"], row["tenant_id"]) == ("access", "closed", officer.org.id)
    assert row["completed_at"] is not None


@pytest.mark.parametrize("cursor", ["garbage", "eyJhIjoxfQ", "W10", "WyIyMDI2LTAxLTAxVDAwOjAwOjAwIiwieCJd"])
def test_a_bad_cursor_is_a_400(officer, cursor):
    response = officer.get(f"/v1/dsr?cursor={cursor}")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "cursor"


def test_dsr_limit_bounds(officer):
    assert officer.get("/v1/dsr?limit=0").status_code == 400
    assert officer.get("/v1/dsr?limit=201").status_code == 400


def test_erasure_is_listed_as_delete(officer):
    _create(officer.org, 1, request_types=["ERASURE"])
    assert officer.get("/v1/dsr").json()["requests"][0]["type"] == "delete"


def test_policy_packs_cover_every_code(officer):
    packs = officer.get("/v1/policy-packs").json()["data"]["policyPacks"]
    codes = {p["jurisdiction"] for p in packs}
    assert {
        "GB",
        "GB-WLS",
        "GB-SCT",
        "GB-NIR",
        "EU",
        "DE",
        "FR",
        "GR",
        "US-CA",
        "US-VA",
        "US-CO",
        "US-CT",
        "US-TX",
        "US-OR",
        "US-UT",
        "BR",
        "CA",
        "CA-QC",
        "CH",
        "AU",
    } <= codes
    # The 27 member states and the three EEA-EFTA states apply the GDPR through one pack.
    assert len([p for p in packs if p["id"] == "eu-gdpr" and p["jurisdiction"] != "EU"]) == 30
    assert all({"id", "version", "law", "citation"} <= set(p) for p in packs)


def test_due_date_sorts_most_urgent_first_by_default(officer):
    later = _create(officer.org, 1)
    sooner = _create(officer.org, 20)

    data = officer.get("/v1/requests?sortBy=dueDate").json()["data"]

    assert [r["id"] for r in data["requests"]] == [sooner.id, later.id]


def test_one_request_costs_three_queries(officer, django_assert_max_num_queries):
    made = _create(officer.org, 3, requestor={"type": "DATA_SUBJECT", "name": "x"})
    officer.get(f"/v1/requests/{made.id}")  # the key's last-used time is written at most once a minute
    # key and org lookup, the shared rate counter, the row (with its authority evidence, joined)
    with django_assert_max_num_queries(3):
        response = officer.get(f"/v1/requests/{made.id}")
    assert response.json()["data"]["request"]["id"] == made.id


@pytest.mark.parametrize(
    ("limit", "offset", "ids", "total"),
    [(2, 0, 2, 3), (5, 0, 3, 3), (2, 2, 1, 3), (2, 3, 0, 3), (2, 10, 0, 3), (3, 0, 3, 3)],
)
def test_total_is_exact_whether_or_not_the_page_is_full(officer, limit, offset, ids, total):
    for days in (1, 2, 3):
        _create(officer.org, days)
    data = officer.get(f"/v1/requests?limit={limit}&offset={offset}").json()["data"]
    assert (len(data["requests"]), data["total"]) == (ids, total)
    searched = officer.get(f"/v1/requests?limit={limit}&offset={offset}&q=req_").json()["data"]
    assert (len(searched["requests"]), searched["total"]) == (ids, total)


def test_pages_past_the_deferred_join_are_slices_of_the_whole_order(officer):
    """From offset 200 a page is read as ids first, then their rows (on PostgreSQL as an array, so that
    one server plan fits every offset): the same requests, in the same order, as the whole ordered set."""
    from requests_app.models import DataSubjectRequest
    from requests_app.selectors import DEFERRED_FROM

    for i in range(DEFERRED_FROM + 40):
        _create(officer.org, 1 + (i % 17) * 0.5, ["GB", "US-CA"][i % 2])
    mine = DataSubjectRequest.objects.filter(org=officer.org)
    cases = [
        ("", mine.order_by("-created_at", "-id")),
        ("&status=RECEIVED", mine.filter(status="RECEIVED").order_by("-created_at", "-id")),
        ("&jurisdiction=US-CA", mine.filter(jurisdiction="US-CA").order_by("-created_at", "-id")),
        ("&sortBy=dueDate&sortOrder=asc", mine.order_by("clock_due_date", "id")),
    ]
    for query, ordered in cases:
        ids = list(ordered.values_list("id", flat=True))
        for offset in (DEFERRED_FROM - 10, DEFERRED_FROM, DEFERRED_FROM + 25, len(ids) - 5):
            page = officer.get(f"/v1/requests?limit=20&offset={offset}{query}").json()["data"]
            assert [r["id"] for r in page["requests"]] == ids[offset : offset + 20], (query, offset)
            assert page["total"] == len(ids)


@pytest.mark.parametrize("hour", [0, 5, 11, 13, 19, 23])
def test_the_at_risk_page_is_the_filter_at_any_hour(officer, hour):
    """The queue's at-risk list (compiled once per window shape on PostgreSQL) selects exactly what
    `due_within` selects, at hours when the zones in use fall on one, two or three local dates."""
    from requests_app.filters import due_within
    from requests_app.models import DataSubjectRequest
    from requests_app.selectors import request_list

    for i, jurisdiction in enumerate(["GB", "US-CA", "AU", "BR", "DE", "US-CA", "GB", "AU"] * 3):
        _create(officer.org, 20 + i * 0.9, jurisdiction)
    now = timezone.now().replace(hour=hour, minute=30)
    for days in (0, 3, 12):
        rows, total = request_list(
            org=officer.org,
            now=now,
            filters={"atRiskDays": days},
            sort_field="clock_due_date",
            descending=False,
            offset=0,
            limit=200,
        )
        expected = DataSubjectRequest.objects.filter(org=officer.org).filter(due_within(days, now=now))
        assert sorted(r[0] for r in rows) == sorted(expected.values_list("id", flat=True))
        assert total == len(rows)
