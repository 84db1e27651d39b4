"""The queue: columns, filters, search, sorting by due date, and a query count that does not grow."""

from __future__ import annotations

import re

import pytest
from admin_paths import QUEUE
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db

# Session, user, membership, permissions, the filters' lookups, the count and the page: fixed, whatever
# the number of rows. A new per-row query would multiply by 50 and fail loudly.
QUEUE_QUERIES = 8


def _ids(response) -> list[str]:
    return [row.pk for row in response.context["cl"].result_list]


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_it_does_not_query_per_row(officer_client, new_request, django_assert_max_num_queries):
    new_request()
    one = _queries(officer_client, QUEUE)
    for i in range(49):
        new_request(days_ago=i % 45, jurisdiction=["US-CA", "GB", "DE", "BR"][i % 4])

    with django_assert_max_num_queries(QUEUE_QUERIES):
        response = officer_client.get(QUEUE)
    fifty = _queries(officer_client, QUEUE)

    assert len(response.context["cl"].result_list) == 50
    assert one == fifty <= QUEUE_QUERIES


def test_it_sorts_by_due_date_and_labels_the_days_remaining(officer_client, on_time, due_soon, overdue):
    response = officer_client.get(QUEUE)

    assert _ids(response) == [overdue.pk, due_soon.pk, on_time.pk]
    page = response.content.decode()
    # Colour is never the only signal: each badge says what it means. (±1 day: DST may shift a local date.)
    assert re.search(r'class="dsar-badge dsar-overdue">Overdue by [4-6] days<', page)
    assert re.search(r'class="dsar-badge dsar-at-risk">Due soon: [3-5] days left<', page)
    assert re.search(r'class="dsar-badge dsar-on-time">On time: 4[3-5] days left<', page)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"at_risk": "yes"}, ["overdue", "due_soon"]),
        ({"at_risk": "no"}, ["on_time"]),
        ({"overdue": "yes"}, ["overdue"]),
        ({"at_risk": "yes", "overdue": "no"}, ["due_soon"]),
        ({"status": "open"}, ["overdue", "due_soon", "on_time"]),
    ],
)
def test_it_filters_by_deadline(officer_client, on_time, due_soon, overdue, query, expected):
    names = {on_time.pk: "on_time", due_soon.pk: "due_soon", overdue.pk: "overdue"}

    response = officer_client.get(QUEUE, query)

    assert [names[pk] for pk in _ids(response)] == expected


def test_it_leaves_closed_requests_out_of_the_at_risk_filter(officer_client, overdue):
    from requests_app import services

    services.request_close(org=overdue.org, request_id=overdue.pk, actor="test")

    assert _ids(officer_client.get(QUEUE, {"at_risk": "yes"})) == []
    assert _ids(officer_client.get(QUEUE, {"status": "CLOSED"})) == [overdue.pk]


def test_it_filters_by_request_type_jurisdiction_and_channel(officer_client, new_request):
    access = new_request(request_types=["ACCESS"], channel="WEB_FORM")
    erasure = new_request(request_types=["ERASURE", "PORTABILITY"], jurisdiction="GB")

    assert _ids(officer_client.get(QUEUE, {"type": "PORTABILITY"})) == [erasure.pk]
    assert _ids(officer_client.get(QUEUE, {"type": "ACCESS"})) == [access.pk]
    assert _ids(officer_client.get(QUEUE, {"jurisdiction": "GB"})) == [erasure.pk]
    assert _ids(officer_client.get(QUEUE, {"channel__exact": "WEB_FORM"})) == [access.pk]


@pytest.mark.parametrize("term", ["jane.search@", "Janet Searchable", "janet@requestor", "zebra-crossing"])
def test_it_searches_contact_requestor_and_raw_text(officer_client, new_request, term):
    match = new_request(
        contact="jane.search@example.org",
        requestor={"type": "DATA_SUBJECT", "name": "Janet Searchable", "email": "janet@requestor.example"},
        raw_text="My data near the zebra-crossing camera, please.",
    )
    new_request()

    assert _ids(officer_client.get(QUEUE, {"q": term})) == [match.pk]
