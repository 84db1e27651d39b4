"""What officers rely on: one guard table behind every 409, stopped clocks that are over, acknowledgement
tracking, type corrections, closures that keep internal notes internal, and appeals."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

import clocks
from notifications.models import OutboxEvent
from requests_app.models import DataSubjectRequest, TimelineEntry
from requests_app.sweeps import sweep_deadlines

pytestmark = pytest.mark.django_db


def act(client, request_id, action, body=None, method="post"):
    return getattr(client, method)(f"/v1/requests/{request_id}/{action}", body or {})


def days_ago(days: float) -> str:
    return (timezone.now() - timedelta(days=days)).isoformat()


def allowed(response) -> set[str]:
    return {d["allowedAction"] for d in response.json()["error"]["details"]}


def events(request_id: str, type_: str) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(request_id=request_id, type=type_))


# --- one clock block ----------------------------------------------------------------------------------------


def test_the_lifecycle_answers_clock_is_the_requests_clock(officer, make_request):
    request = make_request(jurisdiction="US-CA", receivedAt=days_ago(3))

    data = act(officer, request["id"], "acknowledgements").json()["data"]

    assert data["clock"] == data["request"]["clock"]
    assert data["clock"]["acknowledgeOverdue"] is False
    assert data["clock"]["deadlineKind"] == "RESPONSE"


# --- the guard table: 409 details, never the refused action -------------------------------------------------


def test_an_extension_after_the_full_uk_extension_is_refused_and_not_listed(officer, make_request):
    request = make_request(receivedAt=days_ago(2))
    first = act(officer, request["id"], "extensions", {"reason": "complex"})
    assert first.status_code == 202, first.content

    second = act(officer, request["id"], "extensions", {"reason": "still complex"})

    assert second.status_code == 409
    assert "already been granted" in second.json()["error"]["message"]
    assert "extend" not in allowed(second)
    assert {"close", "refuse", "acknowledge"} <= allowed(second)


def test_a_pack_without_extensions_never_lists_extend(officer, make_request):
    request = make_request(jurisdiction="BR", receivedAt=days_ago(1))

    response = act(officer, request["id"], "extensions", {"reason": "complex"})

    assert response.status_code == 409
    assert "no extension" in response.json()["error"]["message"]
    assert "extend" not in allowed(response)


def test_a_second_ccpa_extension_is_refused_and_not_listed(officer, make_request):
    request = make_request(jurisdiction="US-CA", receivedAt=days_ago(2))
    assert act(officer, request["id"], "extensions", {"reason": "complex"}).status_code == 202

    response = act(officer, request["id"], "extensions", {"reason": "again"})

    assert response.status_code == 409
    assert "extend" not in allowed(response)


def test_a_request_past_its_extension_window_does_not_offer_extend(officer, make_request):
    request = make_request()  # GB, received 2026-03-31: the first month ended long ago

    response = act(officer, request["id"], "acknowledgements")
    response = act(officer, request["id"], "acknowledgements")

    assert response.status_code == 409
    assert "extend" not in allowed(response)


def test_after_an_appeal_is_decided_nothing_is_allowed(officer, make_request):
    request = make_request(jurisdiction="US-VA", receivedAt=days_ago(10))
    act(officer, request["id"], "refusals", {"reason": "unverifiable", "occurredAt": days_ago(2)})
    act(officer, request["id"], "appeals", {"receivedAt": days_ago(1)})
    act(
        officer,
        request["id"],
        "appeals/decision",
        {"outcome": "UPHELD", "message": "We searched again: our answer stands."},
    )

    response = act(officer, request["id"], "closures", {"outcome": "FULFILLED"})

    assert response.status_code == 409
    assert response.json()["error"]["details"] == []


# --- stopped clocks are over ---------------------------------------------------------------------------


def test_a_refused_request_has_no_days_remaining_and_says_it_was_late(officer, make_request):
    request = make_request()  # due 2026-04-30, refused today: late

    data = act(officer, request["id"], "refusals", {"reason": "manifestly unfounded"}).json()["data"]

    clock = data["request"]["clock"]
    assert clock["state"] == "STOPPED"
    assert clock["daysRemaining"] is None
    assert (clock["atRisk"], clock["overdue"], clock["answeredLate"]) == (False, False, True)
    fetched = officer.get(f"/v1/requests/{request['id']}").json()["data"]["request"]["clock"]
    assert fetched == clock


def test_a_request_closed_in_time_was_not_answered_late(officer, make_request):
    request = make_request(receivedAt=days_ago(3))

    clock = act(officer, request["id"], "closures", {"outcome": "FULFILLED"}).json()["data"]["clock"]

    assert clock["answeredLate"] is False and clock["daysRemaining"] is None


def test_a_stopped_clocks_explanation_speaks_in_the_past_tense(officer, make_request):
    request = make_request(receivedAt=days_ago(6))
    act(officer, request["id"], "clarifications/request", {"message": "Which account?"})
    act(officer, request["id"], "refusals", {"reason": "no answer"})

    explanation = officer.get(f"/v1/requests/{request['id']}/clock/explain").json()["data"]

    assert explanation["state"] == "STOPPED" and explanation["daysRemaining"] is None
    assert explanation["provisional"] is False
    words = json.dumps(explanation["segments"]).lower()
    for phrase in ("provisional", "still open", "not yet received", "frozen"):
        assert phrase not in words


# --- acknowledgements ---------------------------------------------------------------------------------


def test_an_unacknowledged_ccpa_request_past_its_acknowledgement_date_is_flagged(
    officer, intake_clerk, make_request
):
    late = make_request(jurisdiction="US-CA", receivedAt=days_ago(20))
    acknowledged = make_request(jurisdiction="US-CA", receivedAt=days_ago(20))
    act(officer, acknowledged["id"], "acknowledgements")
    fresh = make_request(jurisdiction="US-CA", receivedAt=days_ago(1))

    clock = officer.get(f"/v1/requests/{late['id']}").json()["data"]["request"]["clock"]
    assert clock["acknowledgeOverdue"] is True
    assert clock["acknowledgedAt"] is None

    listed = intake_clerk.get("/v1/requests?ackOverdue=true").json()["data"]
    assert [r["id"] for r in listed["requests"]] == [late["id"]]
    others = {r["id"] for r in intake_clerk.get("/v1/requests?ackOverdue=false").json()["data"]["requests"]}
    assert {acknowledged["id"], fresh["id"]} <= others and late["id"] not in others
    assert intake_clerk.get("/v1/requests?ackOverdue=maybe").status_code == 400


def test_the_acknowledgement_sweeps_emit_each_event_once(make_request):
    overdue = make_request(jurisdiction="US-CA", receivedAt=days_ago(20))
    soon = make_request(jurisdiction="US-CA", receivedAt=days_ago(1))
    # Due tomorrow (local): at risk, not overdue.
    tomorrow = timezone.now().astimezone(ZoneInfo("America/Los_Angeles")).date() + timedelta(days=1)
    DataSubjectRequest.objects.filter(pk=soon["id"]).update(
        clock_acknowledge_by=tomorrow,
        clock_acknowledge_due_at=datetime.combine(tomorrow, datetime.max.time()).replace(
            tzinfo=ZoneInfo("America/Los_Angeles")
        ),
    )

    first = sweep_deadlines()
    again = sweep_deadlines()

    assert len(first.acknowledgement_overdue) == 1 and len(first.acknowledgement_at_risk) == 1
    assert again.acknowledgement_overdue == [] and again.acknowledgement_at_risk == []
    assert len(events(overdue["id"], "clock.acknowledgement_overdue")) == 1
    assert events(overdue["id"], "clock.acknowledgement_at_risk") == []  # past at-risk: never sent late
    (notice,) = events(soon["id"], "clock.acknowledgement_at_risk")
    assert json.loads(notice.body)["data"]["request"]["id"] == soon["id"]


def test_an_acknowledged_request_gets_no_acknowledgement_notice(officer, make_request):
    request = make_request(jurisdiction="US-CA", receivedAt=days_ago(20))
    act(officer, request["id"], "acknowledgements")

    result = sweep_deadlines()

    assert result.acknowledgement_overdue == []


# --- request types ----------------------------------------------------------------------------------------


def test_correcting_the_types_recomputes_every_deadline(officer, make_request):
    request = make_request(
        jurisdiction="US-CA",
        receivedAt="2026-10-05T17:00:00Z",
        rawText="Do not sell or share my personal information.",
        requestTypes=["OPT_OUT_SALE"],
    )
    assert request["clock"]["acknowledgeBy"] is None

    response = act(
        officer,
        request["id"],
        "request-types",
        {"requestTypes": ["ACCESS", "OPT_OUT_SALE"], "notes": "also asked what we know"},
        method="put",
    )

    assert response.status_code == 202, response.content
    data = response.json()["data"]
    assert data["request"]["requestTypes"] == ["ACCESS", "OPT_OUT_SALE"]
    assert data["request"]["requestTypesInferred"] is False
    assert data["transition"]["action"] == "types.set"
    assert data["request"]["clock"]["acknowledgeBy"] is not None  # access is owed an acknowledgement
    explanation = officer.get(f"/v1/requests/{request['id']}/clock/explain").json()["data"]
    kinds = {(d["kind"], d["requestType"]): d["dueDate"] for d in explanation["deadlines"]}
    assert kinds[("RESPONSE", "ACCESS")] == "2026-11-19"  # 45 calendar days
    assert ("RESPONSE", "OPT_OUT_SALE") in kinds and ("ACKNOWLEDGEMENT", "ACCESS") in kinds
    (event,) = events(request["id"], "request.types_changed")
    assert json.loads(event.body)["data"]["request"]["requestTypes"] == ["ACCESS", "OPT_OUT_SALE"]
    entry = TimelineEntry.objects.get(request_id=request["id"], action="types.set")
    assert entry.data["previous"] == ["OPT_OUT_SALE"] and entry.notes == "also asked what we know"


@pytest.mark.parametrize(
    "body",
    [{}, {"requestTypes": []}, {"requestTypes": ["SELL"]}, {"requestTypes": "ACCESS"}],
)
def test_bad_request_types_are_a_400(officer, make_request, body):
    request = make_request()

    response = act(officer, request["id"], "request-types", body, method="put")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert TimelineEntry.objects.filter(request_id=request["id"]).count() == 1


def test_only_officers_correct_types_and_only_on_open_requests(officer, intake_clerk, make_request):
    request = make_request()
    body = {"requestTypes": ["ERASURE"]}
    assert act(intake_clerk, request["id"], "request-types", body, method="put").status_code == 403
    act(officer, request["id"], "closures", {"outcome": "FULFILLED"})

    response = act(officer, request["id"], "request-types", body, method="put")

    assert response.status_code == 409
    assert "types.set" not in allowed(response)


# --- closures and refusals --------------------------------------------------------------------------------


def test_a_closure_needs_its_outcome(officer, make_request):
    request = make_request()

    response = act(officer, request["id"], "closures", {"notes": "done"})

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "outcome"
    assert DataSubjectRequest.objects.get(pk=request["id"]).status == "RECEIVED"


def test_closure_notes_stay_internal_and_the_message_is_what_the_requestor_is_told(officer, make_request):
    request = make_request()

    data = act(
        officer,
        request["id"],
        "closures",
        {"outcome": "PARTIALLY_FULFILLED", "message": "Here is your data.", "notes": "HR files withheld"},
    ).json()["data"]

    outcome = data["request"]["outcome"]
    assert outcome["kind"] == "PARTIALLY_FULFILLED"
    assert outcome["message"] == "Here is your data."
    assert "HR files withheld" not in json.dumps(data["request"])
    entry = TimelineEntry.objects.get(request_id=request["id"], action="close")
    assert entry.notes == "HR files withheld"


@pytest.mark.parametrize("body", [{}, {"reason": "  "}, {"notes": "internal only"}])
def test_a_refusal_says_why(officer, make_request, body):
    request = make_request()

    response = act(officer, request["id"], "refusals", body)

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "reason"


def test_a_refusal_with_only_a_message_is_enough_outside_the_gdpr(officer, make_request):
    request = make_request(jurisdiction="US-CA")

    response = act(officer, request["id"], "refusals", {"message": "We cannot verify who you are."})

    assert response.status_code == 202
    assert response.json()["data"]["request"]["outcome"]["message"] == "We cannot verify who you are."


@pytest.mark.parametrize("jurisdiction", ["GB", "DE"])
def test_a_gdpr_refusal_needs_its_reason(officer, make_request, jurisdiction):
    """GDPR and UK GDPR Art 12(4): the subject is told the reasons; a message or rationale alone is not a
    reason, and nothing is recorded."""
    request = make_request(jurisdiction=jurisdiction)

    response = act(officer, request["id"], "refusals", {"message": "We cannot verify who you are."})

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "reason"
    assert officer.get(f"/v1/requests/{request['id']}").json()["data"]["request"]["status"] == "RECEIVED"


# --- appeals ------------------------------------------------------------------------------------------------


APPEAL_PACKS = [code for code in clocks.jurisdiction_codes() if clocks.get_pack(code).appeal_period]


def test_the_us_laws_with_an_appeal_are_the_ones_the_packs_say():
    assert {"US-VA", "US-CO", "US-CT", "US-OR", "US-TX"} <= set(APPEAL_PACKS)
    assert not {"GB", "DE", "US-CA", "US-UT", "BR", "CA"} & set(APPEAL_PACKS)


# Laws already in force: the end-to-end run receives its request ten days ago. (Those in force later have
# their appeals walked through with the clock set after their start: test_worked_examples_us_states_api.)
APPEAL_PACKS_IN_FORCE = [
    code for code in APPEAL_PACKS if clocks.get_pack(code).in_force_on(date.today() - timedelta(days=11))
]


@pytest.mark.parametrize("jurisdiction", APPEAL_PACKS_IN_FORCE)
def test_an_appeal_runs_its_own_clock_end_to_end(officer, intake_clerk, make_request, jurisdiction):
    pack = clocks.get_pack(jurisdiction)
    request = make_request(jurisdiction=jurisdiction, receivedAt=days_ago(10))
    refusal = {"reason": "unverifiable", "message": "We could not verify you.", "occurredAt": days_ago(1)}
    act(officer, request["id"], "refusals", refusal)
    received = timezone.now() - timedelta(hours=2)
    local_day = received.astimezone(ZoneInfo(pack.timezone)).date()

    response = act(
        intake_clerk,
        request["id"],
        "appeals",
        {"receivedAt": received.isoformat(), "channel": "EMAIL", "rawText": "I appeal this refusal."},
    )

    assert response.status_code == 202, response.content
    data = response.json()["data"]
    assert data["request"]["status"] == "APPEALED"
    assert data["transition"]["action"] == "appeal"
    clock = data["clock"]
    assert clock["deadlineKind"] == "APPEAL" and clock["state"] == "RUNNING"
    period = pack.appeal_period
    assert period.unit == "CALENDAR_DAYS" and pack.roll.rule == "NONE"  # US packs: counted, never rolled
    assert date.fromisoformat(clock["dueDate"]) == local_day + timedelta(days=period.amount)
    assert clock["daysRemaining"] >= period.amount - 1
    assert data["request"]["appeal"]["rawText"] == "I appeal this refusal."
    explanation = officer.get(f"/v1/requests/{request['id']}/clock/explain").json()["data"]
    assert {"kind": "APPEAL", "requestType": None, "dueDate": clock["dueDate"]} in explanation["deadlines"]
    assert len(events(request["id"], "request.appeal_received")) == 1
    listed = officer.get("/v1/requests?atRiskDays=100").json()["data"]["requests"]
    assert request["id"] in {r["id"] for r in listed}  # an open appeal is a running deadline

    decided = act(officer, request["id"], "appeals/decision", {"outcome": "REVERSED", "message": "You win."})

    assert decided.status_code == 202, decided.content
    data = decided.json()["data"]
    assert data["request"]["status"] == "APPEAL_DECIDED"
    assert data["clock"]["state"] == "STOPPED" and data["clock"]["answeredLate"] is False
    assert data["request"]["appeal"]["decision"]["outcome"] == "REVERSED"
    assert len(events(request["id"], "request.appeal_decided")) == 1


def test_a_law_without_appeals_names_the_regulator(officer, make_request):
    request = make_request()
    act(officer, request["id"], "refusals", {"reason": "manifestly excessive"})

    response = act(officer, request["id"], "appeals", {"receivedAt": days_ago(0.01)})

    assert response.status_code == 409
    assert "Information Commissioner" in response.json()["error"]["message"]
    assert allowed(response) == set()


def test_only_an_answered_request_can_be_appealed_and_only_an_appeal_decided(officer, make_request):
    request = make_request(jurisdiction="US-VA", receivedAt=days_ago(10))

    early = act(officer, request["id"], "appeals", {"receivedAt": days_ago(0.01)})
    undecidable = act(officer, request["id"], "appeals/decision", {"outcome": "UPHELD"})

    assert early.status_code == 409 and "appeal" not in allowed(early)
    assert undecidable.status_code == 409
    act(officer, request["id"], "closures", {"outcome": "FULFILLED"})
    refused = act(officer, request["id"], "acknowledgements")
    assert allowed(refused) == {"appeal"}


def test_an_appeal_received_in_the_future_or_before_the_answer_is_a_400(officer, make_request):
    request = make_request(jurisdiction="US-CO", receivedAt=days_ago(10))
    act(officer, request["id"], "refusals", {"reason": "x"})

    future = act(officer, request["id"], "appeals", {"receivedAt": "2030-01-01T00:00:00Z"})
    before = act(officer, request["id"], "appeals", {"receivedAt": days_ago(11)})
    missing = act(officer, request["id"], "appeals", {})

    for response in (future, before, missing):
        assert response.status_code == 400
        assert response.json()["error"]["details"][0]["field"] == "receivedAt"
    assert DataSubjectRequest.objects.get(pk=request["id"]).status == "REFUSED"
