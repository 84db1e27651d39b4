"""An officer corrects a Californian request's types and reads every deadline off the clock; a Virginian
request is refused, appealed and the appeal decided — all through the workspace, as an officer clicks."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

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


def _request(org, *, jurisdiction: str, days_ago: int, name: str, text: str) -> DataSubjectRequest:
    return services.request_create(
        org=org,
        actor="test",
        jurisdiction=jurisdiction,
        channel="WEB_FORM",
        raw_text=text,
        intake_received_at=timezone.now() - timedelta(days=days_ago),
        contact=f"{name.split()[0].lower()}@example.org",
        requestor={"type": "DATA_SUBJECT", "name": name},
        request_types=["ACCESS"],
    ).request


@pytest.fixture
def acme(db):
    org = org_create(name="Acme Ltd")
    staff_user_create(org=org, username="olivia", password=PASSWORD)
    return org


def _deadline_labels(page) -> dict[str, str]:
    """The clock picture's deadline labels, by "KIND day" (SVG text: read as textContent)."""
    return page.evaluate(
        """() => Object.fromEntries(
            [...document.querySelectorAll('#dsar-clock-svg text.dsar-label[data-deadline]')]
                .map(t => [t.dataset.deadline + ' ' + t.dataset.day, t.textContent]))"""
    )


def test_an_officer_corrects_the_types_and_sees_every_deadline_on_the_clock(page, live_server, acme, shots):
    carla = _request(
        acme,
        jurisdiction="US-CA",
        days_ago=3,
        name="Carla Reyes",
        text="Send me what you hold about me, and do not sell or share my personal information.",
    )
    sign_in(page, live_server.url, "olivia", PASSWORD)
    page.goto(f"{live_server.url}/admin/requests_app/datasubjectrequest/{carla.pk}/change/")

    assert page.locator("h1").inner_text() == "Carla Reyes"
    assert page.locator(".field-types .readonly").inner_text() == "Access"
    shots.take(page.locator("#clock"), "clock-access-only")

    # The intake read only "access"; the officer adds the opt-out of sale.
    page.get_by_role("link", name="Correct request types").click()
    page.get_by_label("Opt out of sale/sharing").check()
    page.fill("#id_notes", "The request also opts out of sale.")
    page.get_by_role("button", name="Correct request types").click()
    page.locator("ul.messagelist li.success").wait_for()
    assert "Correct request types: recorded on the timeline." in page.locator("ul.messagelist").inner_text()
    assert page.locator(".field-types .readonly").inner_text() == "Access, Opt out of sale/sharing"
    row = page.locator('tr.dsar-timeline-entry[data-action="types.set"]').inner_text()
    assert "Request types corrected to Access, Opt out of sale/sharing (were Access)" in row
    assert "The request also opts out of sale." in row

    # The clock now draws both response deadlines and the acknowledgement, each labelled, none overlapping.
    carla.refresh_from_db()
    deadlines = {(d["kind"], d["due_date"]) for d in page_explanation(page)}
    labels = _deadline_labels(page)
    assert len(labels) == 3, labels
    texts = sorted(labels.values())
    assert texts[0].startswith("Access: due ")
    assert texts[1].startswith("Acknowledge by ")
    assert texts[2].startswith("Opt out of sale/sharing: due ")
    assert f"Opt out of sale/sharing: due {format_day(carla.clock_due_date)}" in texts[2]
    assert ("Response", format_day(carla.clock_due_date)) in deadlines
    assert_labels_readable(page)
    svg_box = page.locator("#dsar-clock-svg").bounding_box()
    for marker in page.locator("#dsar-clock-svg g[data-deadline] line").all():
        box = marker.bounding_box()
        assert svg_box["x"] <= box["x"] <= svg_box["x"] + svg_box["width"]
    shots.take(page.locator("#clock"), "clock-access-and-opt-out")
    shots.take(page, "request-types-corrected")


def page_explanation(page) -> list[dict[str, str]]:
    rows = page.locator("#clock-deadlines tbody tr")
    return [
        {
            "kind": rows.nth(i).locator("td").nth(0).inner_text(),
            "request_type": rows.nth(i).locator("td").nth(1).inner_text(),
            "due_date": rows.nth(i).locator("td").nth(2).inner_text(),
        }
        for i in range(rows.count())
    ]


def test_an_officer_refuses_records_the_appeal_and_decides_it(page, live_server, acme, shots):
    victor = _request(
        acme, jurisdiction="US-VA", days_ago=12, name="Victor Lane", text="Please send me all my data."
    )
    zone = ZoneInfo(victor.clock_timezone)
    base = live_server.url
    sign_in(page, base, "olivia", PASSWORD)
    page.goto(f"{base}/admin/requests_app/datasubjectrequest/{victor.pk}/change/")

    # Refuse, recorded as done two hours ago.
    refused_at = (timezone.now() - timedelta(hours=2)).astimezone(zone)
    page.get_by_role("link", name="Refuse request").click()
    page.fill("#id_reason", "EXCESSIVE")
    page.fill("#id_message", "We cannot act on a third identical request this month.")
    page.fill("#id_occurred_at", refused_at.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Refuse request").click()
    page.locator("ul.messagelist li.success").wait_for()
    assert "Status Received → Refused" in page.locator("ul.messagelist").inner_text()
    outcome = page.locator(".field-outcome_display .readonly").inner_text()
    told = "told the requestor: “We cannot act on a third identical request this month.”"
    assert outcome.startswith(f"Refused — reason: EXCESSIVE; {told}")
    assert "answered on time" in page.locator("#dsar-subtitle").inner_text()
    assert page.locator('#dsar-act a[data-action="appeal"]').is_visible()
    shots.take(page, "refused")

    # The requestor appeals (an hour ago, by e-mail): the appeal's own deadline runs.
    appealed_at = (timezone.now() - timedelta(hours=1)).astimezone(zone)
    page.get_by_role("link", name="Record appeal").click()
    page.fill("#id_received_at", appealed_at.strftime("%Y-%m-%dT%H:%M"))
    page.select_option("#id_channel", "EMAIL")
    page.fill("#id_raw_text", "I appeal: this is my first request.")
    page.get_by_role("button", name="Record appeal").click()
    page.locator("ul.messagelist li.success").wait_for()
    victor.refresh_from_db()
    assert victor.status == "APPEALED"
    message = page.locator("ul.messagelist").inner_text()
    assert "Status Refused → Appealed" in message
    assert f"The appeal decision is due {format_day(victor.clock_due_date)}" in message
    subtitle = page.locator("#dsar-subtitle").inner_text()
    assert "Appealed" in subtitle and "Appeal decision on time:" in subtitle
    appeal = page.locator(".field-appeal_display .readonly").inner_text()
    assert "by e-mail: “I appeal: this is my first request.”; not yet decided" in appeal
    assert page.locator('#dsar-act a[data-action="appeal.decide"]').is_visible()
    appeal_labels = [t for t in _deadline_labels(page).values() if t.startswith("Appeal decision due")]
    assert appeal_labels == [f"Appeal decision due {format_day(victor.clock_due_date)}"]
    assert_labels_readable(page)
    shots.take(page, "appealed")
    shots.take(page.locator("#clock"), "clock-appealed")

    # The officer decides: reversed.
    page.get_by_role("link", name="Decide appeal").click()
    page.select_option("#id_outcome", "REVERSED")
    page.fill("#id_message", "You are right: we will send your data.")
    page.fill("#id_rationale", "The earlier requests were someone else's.")
    page.get_by_role("button", name="Decide appeal").click()
    page.locator("ul.messagelist li.success").wait_for()
    victor.refresh_from_db()
    assert victor.status == "APPEAL_DECIDED"
    row = page.locator('tr.dsar-timeline-entry[data-action="appeal.decide"]').inner_text()
    assert (
        "Appeal decided — outcome: reversed; told the requestor: “You are right: we will send your data.”"
        in row
    )
    assert "no further action is possible" in page.locator("#dsar-act").inner_text()
    assert [e.action for e in TimelineEntry.objects.filter(request=victor).order_by("seq")] == [
        "create",
        "refuse",
        "appeal",
        "appeal.decide",
    ]
    shots.take(page, "appeal-decided")
