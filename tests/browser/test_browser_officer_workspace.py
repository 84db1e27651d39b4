"""An officer works the queue in a browser: sign in, filter at risk, extend, fail to refuse, meet a 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from workspace import assert_labels_readable, sign_in

from core.services import org_create
from core.staff import staff_user_create
from requests_app import services
from requests_app.admin.presenters import format_day
from requests_app.models import DataSubjectRequest, TimelineEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-test-passphrase"


def _request(org, *, days_ago: int, contact: str, jurisdiction: str = "US-CA") -> DataSubjectRequest:
    return services.request_create(
        org=org,
        actor="test",
        jurisdiction=jurisdiction,
        channel="EMAIL",
        raw_text=f"Please send me a copy of all personal data you hold about me.\n\n— {contact}",
        intake_received_at=timezone.now() - timedelta(days=days_ago),
        contact=contact,
        requestor={"type": "DATA_SUBJECT", "name": contact.split("@")[0].title(), "email": contact},
        request_types=["ACCESS"],
    ).request


@pytest.fixture
def cast(db):
    acme = org_create(name="Acme Ltd")
    globex = org_create(name="Globex Corp")
    staff_user_create(org=acme, username="olivia", password=PASSWORD)
    return {
        # US-CA access requests: 45 days from receipt.
        "on_time": _request(acme, days_ago=2, contact="calm.and.collected.requestor@example.org"),
        "due_soon": _request(acme, days_ago=41, contact="soon@example.org"),
        "overdue": _request(acme, days_ago=50, contact="late@example.org"),
        "uk": _request(acme, days_ago=20, contact="uk@example.co.uk", jurisdiction="GB"),
        "theirs": _request(globex, days_ago=3, contact="secret@globex.example"),
    }


def _queue_ids(page) -> list[str]:
    return page.locator("#result_list tbody tr th a").all_inner_texts()


def test_an_officer_works_the_queue(page, live_server, cast, shots):
    base = live_server.url
    soon = cast["due_soon"]

    # Sign in; the home page is the deadline dashboard, in the product's name.
    sign_in(page, base, "olivia", PASSWORD)
    assert page.locator("#site-name").inner_text().strip().endswith("DSAR Core")
    assert "Django" not in page.locator("#header").inner_text()
    assert "Open requests" in page.locator("#dsar-dashboard").inner_text()
    shots.take(page, "admin-home")

    # The queue, sorted by due date; at 1400 px no column hides under the filters.
    page.click("#dsar-dashboard h2 a")
    page.locator("#result_list").wait_for()
    assert _queue_ids(page)[:2] == [cast["overdue"].pk, soon.pk]
    assert cast["theirs"].pk not in _queue_ids(page)
    filters_left = page.locator("#changelist-filter").bounding_box()["x"]
    headers = page.locator("#result_list thead th")
    assert headers.count() == 6
    for i in range(headers.count()):
        box = headers.nth(i).bounding_box()
        assert box["x"] + box["width"] <= filters_left, headers.nth(i).inner_text()
    assert (
        page.locator("#result_list").bounding_box()["x"]
        + page.locator("#result_list").bounding_box()["width"]
        <= filters_left
    )
    row = page.locator("#result_list tbody tr", has_text="calm.and.collected.requestor@example.org")
    assert row.locator(".dsar-contact").is_visible()
    shots.take(page, "admin-queue", full_page=False)

    # Filter "at risk": due soon and overdue only.
    page.get_by_role("link", name="At risk (due soon or overdue)").click()
    page.wait_for_url("**at_risk=yes**")
    assert sorted(_queue_ids(page)) == sorted([cast["overdue"].pk, soon.pk])
    assert page.locator(".dsar-badge.dsar-overdue").first.inner_text().startswith("Overdue by")
    shots.take(page, "admin-queue-at-risk")

    # Open a request: headed by the requestor's name, the id below; the clock is drawn.
    page.get_by_role("link", name=soon.pk).click()
    page.locator("#dsar-clock-svg").wait_for()
    assert page.locator("h1").inner_text() == "Soon"
    assert soon.pk in page.locator("#dsar-subtitle").inner_text()
    old_due = soon.clock_due_date
    assert_labels_readable(page)
    shots.take(page, "admin-request")
    shots.take(page.locator("#clock"), "admin-clock")

    # Extend with a reason: the new due date and the timeline entry appear, in words.
    page.get_by_role("link", name="Extend deadline").click()
    page.fill("#id_reason", "Numerous linked requests across three systems.")
    page.get_by_role("button", name="Extend deadline").click()
    page.locator("ul.messagelist li.success").wait_for()
    new_due = format_day(old_due + timedelta(days=45))
    assert f"New due date {new_due}" in page.locator("ul.messagelist").inner_text()
    assert new_due in page.locator(".field-deadline").inner_text()
    extend_row = page.locator('tr.dsar-timeline-entry[data-action="extend"]').inner_text()
    assert (
        "Extended by 45 calendar days — reason: Numerous linked requests across three systems." in extend_row
    )
    assert f"due {new_due} (was {format_day(old_due)})" in extend_row
    assert page.locator("#clock-extensions").count() == 1
    assert_labels_readable(page)
    shots.take(page.locator("#clock"), "admin-clock-extended")

    # No further extension is offered: the law's full extension is used.
    assert page.locator('#dsar-act a[data-action="extend"]').count() == 0

    # Refuse saying nothing: the form says what is missing, keeps what was typed, and nothing is written.
    page.get_by_role("link", name="Refuse request").click()
    page.fill("#id_notes", "Discussed with legal.")
    page.get_by_role("button", name="Refuse request").click()
    assert "reason, message or rationale is required" in page.locator(".field-reason .errorlist").inner_text()
    assert page.locator("#id_notes").input_value() == "Discussed with legal."
    shots.take(page, "admin-refuse-error")
    soon.refresh_from_db()
    assert soon.status == "RECEIVED"
    assert not TimelineEntry.objects.filter(request=soon, action="refuse").exists()

    # Another org's request: the workspace's own 404 page.
    response = page.goto(f"{base}/admin/requests_app/datasubjectrequest/{cast['theirs'].pk}/change/")
    assert response is not None and response.status == 404
    assert "There is nothing here" in page.locator("#dsar-error").inner_text()
    assert "secret@globex.example" not in page.content()
    shots.take(page, "admin-404")

    # `/` is the workspace.
    page.goto(f"{base}/")
    assert page.url.endswith("/admin/")
    assert page.locator("#dsar-dashboard").is_visible()
