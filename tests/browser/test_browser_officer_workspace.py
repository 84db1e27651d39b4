"""An officer works the queue in a browser: log in, filter at risk, extend, fail to refuse, meet a 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.services import org_create
from core.staff import staff_user_create
from requests_app import services
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
        "on_time": _request(acme, days_ago=2, contact="calm@example.org"),
        "due_soon": _request(acme, days_ago=41, contact="soon@example.org"),
        "overdue": _request(acme, days_ago=50, contact="late@example.org"),
        "uk": _request(acme, days_ago=20, contact="uk@example.co.uk", jurisdiction="GB"),
        "theirs": _request(globex, days_ago=3, contact="secret@globex.example"),
    }


def _queue_ids(page) -> list[str]:
    return page.locator("#result_list tbody tr th a").all_inner_texts()


def test_an_officer_works_the_queue(page, live_server, cast, artifacts):
    base = live_server.url
    soon = cast["due_soon"]

    # Log in; the home page is the deadline dashboard.
    page.goto(f"{base}/admin/login/?next=/admin/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    dashboard = page.locator("#dsar-dashboard")
    dashboard.wait_for()
    assert "Open requests" in dashboard.inner_text()

    # The queue, sorted by due date.
    page.click("#dsar-dashboard h2 a")
    page.locator("#result_list").wait_for()
    assert _queue_ids(page)[:2] == [cast["overdue"].pk, soon.pk]
    assert cast["theirs"].pk not in _queue_ids(page)
    page.screenshot(path=str(artifacts / "admin-queue.png"), full_page=True)

    # Filter "at risk": due soon and overdue only.
    page.get_by_role("link", name="At risk (due soon or overdue)").click()
    page.wait_for_url("**at_risk=yes**")
    assert sorted(_queue_ids(page)) == sorted([cast["overdue"].pk, soon.pk])
    assert page.locator(".dsar-badge.dsar-overdue").first.inner_text().startswith("Overdue by")
    page.screenshot(path=str(artifacts / "admin-queue-at-risk.png"), full_page=True)

    # Open a request: the clock is drawn.
    page.get_by_role("link", name=soon.pk).click()
    page.locator("#dsar-clock-svg").wait_for()
    old_due = soon.clock_due_date
    page.screenshot(path=str(artifacts / "admin-request.png"), full_page=True)
    page.locator("#clock").screenshot(path=str(artifacts / "admin-clock.png"))

    # Extend with a reason: the new due date and the timeline entry appear.
    page.get_by_role("link", name="Extend deadline").click()
    page.fill("#id_reason", "Numerous linked requests across three systems.")
    page.get_by_role("button", name="Extend deadline").click()
    page.locator("ul.messagelist li.success").wait_for()
    new_due = (old_due + timedelta(days=45)).isoformat()
    assert f"New due date {new_due}" in page.locator("ul.messagelist").inner_text()
    assert new_due in page.locator(".field-deadline").inner_text()
    extend_row = page.locator('tr.dsar-timeline-entry[data-action="extend"]')
    assert "Numerous linked requests" in extend_row.inner_text()
    assert page.locator("#clock-extensions").count() == 1
    page.locator("#clock").screenshot(path=str(artifacts / "admin-clock-extended.png"))

    # Refuse without a reason: the form says so and nothing is written.
    page.get_by_role("link", name="Refuse request").click()
    page.fill("#id_message", "We will not do this.")
    page.get_by_role("button", name="Refuse request").click()
    assert "This field is required." in page.locator(".field-reason .errorlist").inner_text()
    page.screenshot(path=str(artifacts / "admin-refuse-error.png"), full_page=True)
    soon.refresh_from_db()
    assert soon.status == "RECEIVED"
    assert not TimelineEntry.objects.filter(request=soon, action="refuse").exists()

    # Another org's request: 404.
    response = page.goto(f"{base}/admin/requests_app/datasubjectrequest/{cast['theirs'].pk}/change/")
    assert response is not None and response.status == 404
