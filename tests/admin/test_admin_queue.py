"""The queue: columns, filters, search, sorting by due date, and a query count that does not grow."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from admin_paths import QUEUE
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from requests_app import services
from requests_app.admin.presenters import format_day

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

    services.request_close(org=overdue.org, request_id=overdue.pk, actor="test", outcome="FULFILLED")

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


# --- acknowledgements, stopped clocks and appeals ---


def _row(page: str, dsr) -> str:
    """The queue row of one request, as HTML."""
    return page.split(f">{dsr.pk}</a>")[1].split("</tr>")[0]


def test_it_badges_an_overdue_acknowledgement_and_never_calls_the_request_on_time(officer_client, ack_cast):
    page = officer_client.get(QUEUE).content.decode()

    late = _row(page, ack_cast["late"])
    assert "Acknowledgement overdue" in late
    assert "On time" not in late
    assert re.search(r"Response due in 2[4-6] days", late)
    for name in ("soon", "later", "done", "britain"):
        assert "Acknowledgement overdue" not in _row(page, ack_cast[name]), name
    assert re.search(r"On time: 4[1-3] days left", _row(page, ack_cast["done"]))


@pytest.mark.parametrize(
    ("ack", "expected"),
    [
        ("overdue", {"late"}),
        ("due_soon", {"soon"}),
        ("due", {"soon", "later"}),
        ("done", {"done"}),
        ("not_required", {"britain"}),
    ],
)
def test_it_filters_by_acknowledgement(officer_client, ack_cast, ack, expected):
    names = {dsr.pk: name for name, dsr in ack_cast.items()}

    response = officer_client.get(QUEUE, {"ack": ack})

    assert {names[pk] for pk in _ids(response)} == expected


def test_it_says_when_a_stopped_request_was_answered_not_how_many_days_remain(
    officer_client, on_time, overdue
):
    for dsr in (on_time, overdue):
        services.request_close(org=dsr.org, request_id=dsr.pk, actor="test", outcome="FULFILLED")
    today = format_day(timezone.now().astimezone(ZoneInfo("America/Los_Angeles")))

    page = officer_client.get(QUEUE).content.decode()

    assert f"Closed on {today} — answered on time" in _row(page, on_time)
    assert re.search(rf"Closed on {today} — answered [4-6] days late", _row(page, overdue))
    for dsr in (on_time, overdue):
        assert "left" not in _row(page, dsr) and "Overdue" not in _row(page, dsr)


def test_it_counts_an_appealed_request_to_the_appeals_due_date(officer_client, new_request):
    dsr = new_request(jurisdiction="US-VA", days_ago=20)
    services.request_refuse(
        org=dsr.org,
        request_id=dsr.pk,
        actor="test",
        reason="EXCESSIVE",
        occurred_at=timezone.now() - timedelta(days=5),
    )
    services.request_appeal(org=dsr.org, request_id=dsr.pk, actor="test", received_at=timezone.now())
    dsr.refresh_from_db()

    row = _row(officer_client.get(QUEUE).content.decode(), dsr)

    assert dsr.clock_deadline_kind == "APPEAL"
    assert format_day(dsr.clock_due_date) in row
    assert re.search(r"Appeal decision on time: \d+ days left", row)
    assert _ids(officer_client.get(QUEUE, {"status": "open"})) == [dsr.pk]
