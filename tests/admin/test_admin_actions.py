"""The action forms call the lifecycle services; their refusals come back as form errors or messages."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from admin_paths import act_url, change_url
from django.contrib.messages import get_messages
from django.utils import timezone

from notifications.models import OutboxEvent
from requests_app.models import DataSubjectRequest, TimelineEntry

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_it_refuses_a_refusal_without_a_reason_and_writes_nothing(officer_client, on_time):
    response = officer_client.post(act_url(on_time, "refuse"), {"message": "We will not do this."})

    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert "This field is required." in response.content.decode()
    on_time.refresh_from_db()
    assert on_time.status == "RECEIVED"
    assert TimelineEntry.objects.filter(request=on_time).count() == 1


def test_it_refuses_an_extension_without_a_reason(officer_client, on_time):
    response = officer_client.post(act_url(on_time, "extend"), {})

    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert TimelineEntry.objects.filter(request=on_time, action="extend").count() == 0


def test_it_extends_with_a_reason_moving_the_due_date_and_appending_the_timeline(officer_client, due_soon):
    before = due_soon.clock_due_date

    response = officer_client.post(act_url(due_soon, "extend"), {"reason": "Numerous requests at once."})

    assert response.status_code == 302
    assert response["Location"] == change_url(due_soon)
    due_soon.refresh_from_db()
    # US-CA: +45 days, counted from receipt.
    assert due_soon.clock_due_date == before + timedelta(days=45)
    entry = TimelineEntry.objects.get(request=due_soon, action="extend")
    assert entry.actor == "user:olivia"
    assert entry.data["reason"] == "Numerous requests at once."
    assert OutboxEvent.objects.filter(request=due_soon, type="request.extended").count() == 1
    assert any(f"New due date {due_soon.clock_due_date.isoformat()}" in m for m in _messages(response))

    page = officer_client.get(change_url(due_soon)).content.decode()
    assert due_soon.clock_due_date.isoformat() in page
    assert "Numerous requests at once." in page


def test_it_shows_a_service_refusal_as_an_admin_message_not_a_traceback(officer_client, new_request):
    brazil = new_request(jurisdiction="BR")  # LGPD allows no extension: the service answers 409.

    response = officer_client.post(act_url(brazil, "extend"), {"reason": "complex"}, follow=True)

    assert response.status_code == 200
    assert any("Extend deadline refused" in m and "allows no extension" in m for m in _messages(response))
    assert TimelineEntry.objects.filter(request=brazil, action="extend").count() == 0


def test_it_puts_a_service_validation_error_on_the_field(officer_client, on_time):
    future = (timezone.now() + timedelta(days=2)).astimezone(ZoneInfo(on_time.clock_timezone))

    response = officer_client.post(
        act_url(on_time, "acknowledge"), {"occurred_at": future.strftime("%Y-%m-%dT%H:%M")}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["occurred_at"] == ["May not lie in the future."]
    assert TimelineEntry.objects.filter(request=on_time).count() == 1


def test_it_reads_occurred_at_as_a_local_time_in_the_clocks_zone(officer_client, new_request):
    dsr = new_request(jurisdiction="GB", days_ago=3)
    zone = ZoneInfo(dsr.clock_timezone)
    # Noon yesterday, London time: never a DST gap or overlap.
    local = (
        (timezone.now() - timedelta(days=1))
        .astimezone(zone)
        .replace(hour=12, minute=0, second=0, microsecond=0)
    )

    officer_client.post(act_url(dsr, "acknowledge"), {"occurred_at": local.strftime("%Y-%m-%dT%H:%M")})

    entry = TimelineEntry.objects.get(request=dsr, action="acknowledge")
    assert entry.at == local


def test_it_walks_a_request_from_intake_to_closure(officer_client, new_request):
    dsr = new_request(jurisdiction="GB", days_ago=5)

    steps = [
        ("acknowledge", {}),
        ("clarification.request", {"message": "Which account?"}),
        ("clarification.receive", {"notes": "The shop account."}),
        ("close", {"outcome": "FULFILLED", "notes": "Sent the export."}),
    ]
    for action, body in steps:
        response = officer_client.post(act_url(dsr, action), body)
        assert response.status_code == 302, (action, response.content[:500])

    dsr.refresh_from_db()
    assert dsr.status == "CLOSED"
    assert list(TimelineEntry.objects.filter(request=dsr).values_list("action", flat=True)) == [
        "create",
        "acknowledge",
        "clarification.request",
        "clarification.receive",
        "close",
    ]
    page = officer_client.get(change_url(dsr)).content.decode()
    assert "no further action is possible" in page


def test_it_redirects_with_a_message_when_the_action_is_not_allowed_now(officer_client, on_time):
    response = officer_client.get(act_url(on_time, "clarification.receive"))

    assert response.status_code == 302
    assert any("not possible now" in m for m in _messages(response))


def test_it_answers_404_for_an_unknown_action(officer_client, on_time):
    assert officer_client.get(act_url(on_time, "delete")).status_code == 404


def test_it_records_authority_evidence_and_its_approval(officer_client, on_time):
    response = officer_client.post(
        act_url(on_time, "authority.submit"),
        {"artifacts": "POWER_OF_ATTORNEY s3://evidence/poa.pdf", "status": "PENDING"},
    )
    assert response.status_code == 302
    assert officer_client.post(act_url(on_time, "authority.approve"), {}).status_code == 302

    on_time.refresh_from_db()
    assert on_time.authority_current.status == "VERIFIED"
    page = officer_client.get(change_url(on_time)).content.decode()
    assert "POWER_OF_ATTORNEY: s3://evidence/poa.pdf" in page


def test_it_changes_the_requestor_through_the_service(officer_client, on_time):
    form = officer_client.get(act_url(on_time, "requestor.set")).context["form"]
    assert form.initial["name"] == "Jane Doe"

    officer_client.post(
        act_url(on_time, "requestor.set"),
        {"type": "AUTHORIZED_AGENT", "name": "Agent Smith", "email": "agent@example.org"},
    )

    on_time.refresh_from_db()
    assert on_time.requestor_name == "Agent Smith"
    assert DataSubjectRequest.objects.filter(requestor_email="agent@example.org").count() == 1
