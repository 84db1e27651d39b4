"""The action forms call the lifecycle services; their refusals come back as form errors or messages."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from admin_paths import act_url, change_url
from django.contrib.messages import get_messages
from django.utils import timezone

from notifications.models import OutboxEvent
from requests_app import services
from requests_app.admin.presenters import format_day, format_when
from requests_app.models import DataSubjectRequest, TimelineEntry

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_it_refuses_a_refusal_that_gives_no_reason_message_or_rationale_and_writes_nothing(
    officer_client, on_time
):
    response = officer_client.post(act_url(on_time, "refuse"), {"notes": "internal only"})

    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["reason, message or rationale is required"]
    assert 'name="notes"' in response.content.decode() and "internal only" in response.content.decode()
    on_time.refresh_from_db()
    assert on_time.status == "RECEIVED"
    assert TimelineEntry.objects.filter(request=on_time).count() == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reason": "EXCESSIVE"},
        {"message": "We cannot act on this request."},
        {"rationale": "Third identical request this month."},
        {"reason": "   ", "message": "  ", "rationale": " "},
        {"message": "No.", "rationale": "Repeated."},
    ],
)
def test_the_refusal_rule_is_the_apis(officer_client, officer, new_request, body):
    """The admin accepts a refusal exactly when POST /v1/requests/{id}/refusals does (one rule: guards)."""
    through_admin, through_api = new_request(), new_request()

    # "Tell the subject" as the form offers it (checked: the org's notify_subject), as the API's default.
    admin_response = officer_client.post(act_url(through_admin, "refuse"), {**body, "notify": "on"})
    api_response = officer.post(f"/v1/requests/{through_api.pk}/refusals", body)

    admin_accepted = admin_response.status_code == 302
    api_accepted = api_response.status_code == 202
    assert admin_accepted == api_accepted, (admin_response.status_code, api_response.status_code)
    through_admin.refresh_from_db()
    assert (through_admin.status == "REFUSED") == admin_accepted


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
    assert any(f"New due date {format_day(due_soon.clock_due_date)}" in m for m in _messages(response))

    page = officer_client.get(change_url(due_soon)).content.decode()
    assert format_day(due_soon.clock_due_date) in page
    assert "Numerous requests at once." in page


def test_it_shows_a_service_refusal_on_the_form_with_what_was_typed(officer_client, new_request):
    brazil = new_request(jurisdiction="BR")  # LGPD allows no extension: the service answers 409.

    response = officer_client.post(
        act_url(brazil, "extend"), {"reason": "Complex: three systems to search.", "notes": "asked IT"}
    )

    assert response.status_code == 200
    (error,) = response.context["form"].non_field_errors()
    assert error.startswith("Extend deadline refused:") and "allows no extension" in error
    page = response.content.decode()
    assert "Complex: three systems to search.</textarea>" in page
    assert "asked IT</textarea>" in page
    assert TimelineEntry.objects.filter(request=brazil, action="extend").count() == 0


def test_it_stops_offering_the_extension_once_the_full_extension_is_used(officer_client, due_soon):
    assert act_url(due_soon, "extend") in officer_client.get(change_url(due_soon)).content.decode()
    services.request_extend(org=due_soon.org, request_id=due_soon.pk, actor="test", reason="complex")

    page = officer_client.get(change_url(due_soon)).content.decode()
    direct = officer_client.get(act_url(due_soon, "extend"))

    assert act_url(due_soon, "extend") not in page
    assert direct.status_code == 302
    assert any(m.startswith("“Extend deadline” is not possible now:") for m in _messages(direct))


def test_it_keeps_the_typed_reason_when_the_service_refuses_a_second_extension(officer_client, due_soon):
    form = officer_client.get(act_url(due_soon, "extend"))  # opened while still possible
    assert form.status_code == 200
    services.request_extend(org=due_soon.org, request_id=due_soon.pk, actor="test", reason="complex")

    response = officer_client.post(act_url(due_soon, "extend"), {"reason": "Waiting on the archive."})

    assert response.status_code == 200
    assert "refused" in response.context["form"].non_field_errors()[0]
    assert "Waiting on the archive.</textarea>" in response.content.decode()
    assert TimelineEntry.objects.filter(request=due_soon, action="extend").count() == 1


def test_it_refuses_a_closure_without_an_outcome_in_the_form(officer_client, on_time):
    response = officer_client.post(act_url(on_time, "close"), {"message": "Done.", "notes": "n"})

    assert response.status_code == 200
    assert response.context["form"].errors["outcome"] == ["This field is required."]
    on_time.refresh_from_db()
    assert on_time.status == "RECEIVED" and on_time.outcome is None


def test_it_keeps_the_message_to_the_requestor_and_the_internal_notes_apart_on_closure(
    officer_client, on_time
):
    response = officer_client.post(
        act_url(on_time, "close"),
        {"outcome": "PARTIALLY_FULFILLED", "message": "Here is what we hold.", "notes": "Two systems only."},
    )

    assert response.status_code == 302
    on_time.refresh_from_db()
    assert on_time.outcome["kind"] == "PARTIALLY_FULFILLED"
    assert on_time.outcome["message"] == "Here is what we hold."
    entry = TimelineEntry.objects.get(request=on_time, action="close")
    assert entry.notes == "Two systems only."
    assert "Two systems only." not in str(on_time.outcome)


def test_it_corrects_the_request_types(officer_client, on_time):
    form = officer_client.get(act_url(on_time, "types.set")).context["form"]
    assert form.initial["request_types"] == ["ACCESS"]

    response = officer_client.post(
        act_url(on_time, "types.set"), {"request_types": ["ACCESS", "OPT_OUT_SALE"], "notes": "misread"}
    )

    assert response.status_code == 302
    on_time.refresh_from_db()
    assert on_time.request_types == ["ACCESS", "OPT_OUT_SALE"]
    assert on_time.request_types_inferred is False
    entry = TimelineEntry.objects.get(request=on_time, action="types.set")
    assert (entry.actor, entry.notes) == ("user:olivia", "misread")


def test_it_asks_for_at_least_one_request_type(officer_client, on_time):
    response = officer_client.post(act_url(on_time, "types.set"), {"notes": "none"})

    assert response.status_code == 200
    assert response.context["form"].errors["request_types"] == ["Choose at least one request type."]
    assert not TimelineEntry.objects.filter(request=on_time, action="types.set").exists()


def test_it_records_an_appeal_and_its_decision(officer_client, new_request):
    dsr = new_request(jurisdiction="US-VA", days_ago=10)
    refused_at = timezone.now() - timedelta(days=1)
    services.request_refuse(
        org=dsr.org, request_id=dsr.pk, actor="test", reason="EXCESSIVE", occurred_at=refused_at
    )
    received = (timezone.now() - timedelta(hours=2)).astimezone(ZoneInfo(dsr.clock_timezone))

    appealed = officer_client.post(
        act_url(dsr, "appeal"),
        {
            "received_at": received.strftime("%Y-%m-%dT%H:%M"),
            "channel": "EMAIL",
            "raw_text": "I appeal: you hold my data.",
        },
    )
    assert appealed.status_code == 302, appealed.content[:800]
    dsr.refresh_from_db()
    assert dsr.status == "APPEALED"
    assert dsr.clock_deadline_kind == "APPEAL"
    assert act_url(dsr, "appeal.decide") in officer_client.get(change_url(dsr)).content.decode()

    decided = officer_client.post(
        act_url(dsr, "appeal.decide"),
        {
            "outcome": "REVERSED",
            "message": "We will send your data.",
            "rationale": "Not excessive after all.",
        },
    )

    assert decided.status_code == 302, decided.content[:800]
    dsr.refresh_from_db()
    assert dsr.status == "APPEAL_DECIDED"
    assert dsr.appeal["decision"]["outcome"] == "REVERSED"
    assert [e.action for e in TimelineEntry.objects.filter(request=dsr).order_by("seq")][-2:] == [
        "appeal",
        "appeal.decide",
    ]
    page = officer_client.get(change_url(dsr)).content.decode()
    assert "Appeal decided — outcome: reversed; told the requestor: “We will send your data.”" in page
    assert "no further action is possible" in page


def test_it_asks_for_the_appeal_decision(officer_client, new_request):
    dsr = new_request(jurisdiction="US-VA", days_ago=10)
    services.request_refuse(org=dsr.org, request_id=dsr.pk, actor="test", reason="EXCESSIVE")
    services.request_appeal(org=dsr.org, request_id=dsr.pk, actor="test", received_at=timezone.now())

    response = officer_client.post(act_url(dsr, "appeal.decide"), {"message": "?"})

    assert response.status_code == 200
    assert response.context["form"].errors["outcome"] == ["This field is required."]


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


def test_it_writes_the_times_in_a_service_error_as_local_times(officer_client, new_request):
    dsr = new_request(jurisdiction="GB", days_ago=3)
    zone = ZoneInfo(dsr.clock_timezone)
    too_early = (dsr.intake_received_at - timedelta(days=1)).astimezone(zone)

    response = officer_client.post(
        act_url(dsr, "acknowledge"), {"occurred_at": too_early.strftime("%Y-%m-%dT%H:%M")}
    )

    (error,) = response.context["form"].errors["occurred_at"]
    assert error.startswith("May not be before the latest timeline entry")
    assert format_when(dsr.intake_received_at, zone) in error
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", error)


def test_a_suspected_fraud_recorded_in_the_admin_suspends_utahs_clock_as_the_api_does(
    officer_client, new_request
):
    """Utah Code §13-61-203(2)(d): the days from asking to now (both included) stop counting while the
    identity is awaited; the same form without the box changes nothing."""
    suspected, plain = (
        new_request(jurisdiction="US-UT", days_ago=3),
        new_request(jurisdiction="US-UT", days_ago=3),
    )
    before = suspected.clock_due_date

    for request, box in ((suspected, {"fraud_suspected": "on"}), (plain, {})):
        response = officer_client.post(act_url(request, "verification.request"), {"method": "ID", **box})
        assert response.status_code == 302, response.content

    suspected.refresh_from_db()
    plain.refresh_from_db()
    assert plain.clock_due_date == before
    assert suspected.clock_due_date == before + timedelta(days=1)  # today, excluded so far
    entry = TimelineEntry.objects.get(request=suspected, action="verification.request")
    assert entry.data["clock"] == {"fraudSuspected": True}


def test_an_open_colorado_appeal_is_extended_from_the_admin(officer_client, officer, new_request):
    request = new_request(jurisdiction="US-CO", days_ago=20)
    rid = request.pk
    assert officer.post(f"/v1/requests/{rid}/refusals", {"reason": "unverified"}).status_code == 202
    assert (
        officer.post(f"/v1/requests/{rid}/appeals", {"receivedAt": timezone.now().isoformat()}).status_code
        == 202
    )
    request.refresh_from_db()
    before = request.clock_due_date

    response = officer_client.post(
        act_url(request, "extend"), {"reason": "The appeal needs a second review."}
    )

    assert response.status_code == 302, response.content
    request.refresh_from_db()
    assert request.status == "APPEALED"
    assert request.clock_due_date == before + timedelta(days=60)
