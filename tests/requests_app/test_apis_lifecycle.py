"""The lifecycle endpoints: transitions, the clock through the API, 409s, occurredAt, and the three writes."""

from __future__ import annotations

import json

import pytest

from notifications.models import OutboxEvent
from requests_app.models import DataSubjectRequest, TimelineEntry

pytestmark = pytest.mark.django_db


def act(client, request_id, action, body=None, method="post"):
    return getattr(client, method)(f"/v1/requests/{request_id}/{action}", body or {})


def test_acknowledging_writes_status_timeline_and_outbox_together(officer, make_request):
    request = make_request()

    response = act(officer, request["id"], "acknowledgements", {"notes": "sent the standard letter"})

    assert response.status_code == 202
    data = response.json()["data"]
    assert data["request"]["status"] == "ACKNOWLEDGED"
    assert data["transition"]["action"] == "acknowledge"
    assert (data["transition"]["from"], data["transition"]["to"]) == ("RECEIVED", "ACKNOWLEDGED")
    assert data["transition"]["actor"] == f"apikey:{officer.key.prefix}"
    assert data["clock"]["dueDate"] == "2026-04-30"
    entry = TimelineEntry.objects.get(request_id=request["id"], action="acknowledge")
    assert entry.notes == "sent the standard letter" and entry.seq == 2
    event = OutboxEvent.objects.get(pk=data["events"][0])
    assert event.type == "request.acknowledged"
    assert json.loads(event.body)["data"]["request"]["status"] == "ACKNOWLEDGED"


def test_an_action_not_allowed_now_is_a_409_listing_the_allowed_actions(officer, make_request):
    request = make_request()
    act(officer, request["id"], "acknowledgements")

    response = act(officer, request["id"], "acknowledgements")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_transition"
    allowed = {d["allowedAction"] for d in error["details"]}
    assert "clarification.request" in allowed and "acknowledge" not in allowed
    assert TimelineEntry.objects.filter(request_id=request["id"]).count() == 2
    assert OutboxEvent.objects.filter(request_id=request["id"]).count() == 2


@pytest.mark.parametrize(
    ("action", "body"),
    [
        ("acknowledgements", {}),
        ("extensions", {"reason": "complex"}),
        ("refusals", {"reason": "again"}),
        ("closures", {"outcome": "FULFILLED"}),
        ("clarifications/request", {"message": "which account?"}),
    ],
)
def test_a_terminal_request_refuses_every_action(officer, make_request, action, body):
    request = make_request(receivedAt="2026-11-20T09:00:00Z")
    assert act(officer, request["id"], "closures", {"outcome": "FULFILLED"}).status_code == 202

    response = act(officer, request["id"], action, body)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
    assert response.json()["error"]["details"] == []


def test_clarification_returns_to_the_status_it_came_from_and_uk_excludes_the_span(officer, make_request):
    # UK-17: received 14 Nov 2020, clarification asked 16 Nov, answered 16 Dec → due 14 Jan 2021.
    request = make_request(receivedAt="2020-11-14T10:00:00Z")
    rid = request["id"]
    assert act(officer, rid, "acknowledgements", {"occurredAt": "2020-11-14T11:00:00Z"}).status_code == 202

    paused = act(
        officer,
        rid,
        "clarifications/request",
        {"message": "Which account?", "occurredAt": "2020-11-16T09:00:00Z"},
    )
    assert paused.status_code == 202
    assert paused.json()["data"]["request"]["status"] == "AWAITING_CLARIFICATION"
    assert paused.json()["data"]["clock"]["state"] == "PAUSED"

    resumed = act(officer, rid, "clarifications/receive", {"occurredAt": "2020-12-16T15:00:00Z"})
    assert resumed.status_code == 202
    data = resumed.json()["data"]
    assert data["request"]["status"] == "ACKNOWLEDGED"
    assert data["clock"]["state"] == "RUNNING"
    assert data["clock"]["baseDueDate"] == "2020-12-14"
    assert data["clock"]["dueDate"] == "2021-01-14"


def test_uk_extension_runs_three_months_from_the_start(officer, make_request):
    # UK-14: received 3 Sep 2025, extended 20 Sep → 3 Dec 2025.
    request = make_request(receivedAt="2025-09-03T08:00:00Z")

    response = act(
        officer,
        request["id"],
        "extensions",
        {"reason": "Complex: five systems", "occurredAt": "2025-09-20T10:00:00Z"},
    )

    assert response.status_code == 202
    assert response.json()["data"]["clock"]["dueDate"] == "2025-12-03"
    assert response.json()["data"]["request"]["status"] == "RECEIVED"
    explain = officer.get(f"/v1/requests/{request['id']}/clock/explain").json()["data"]
    assert explain["extensions"][0]["reason"] == "Complex: five systems"
    assert explain["extensions"][0]["dueDateAfter"] == "2025-12-03"


def test_an_extension_after_the_due_date_is_refused_with_the_rule(officer, make_request):
    request = make_request(receivedAt="2025-09-03T08:00:00Z")

    response = act(
        officer, request["id"], "extensions", {"reason": "late", "occurredAt": "2025-10-10T10:00:00Z"}
    )

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "invalid_transition"
    assert "2025-10-03" in error["message"]


def test_a_us_extension_is_allowed_once_and_has_no_roll(officer, make_request):
    # CAN-01 shape for US: received 6 Jan 2025 → 45 + 45 days = 6 Apr 2025 (a Sunday: kept, not rolled).
    request = make_request(jurisdiction="US-CA", receivedAt="2025-01-06T17:00:00Z")
    first = act(
        officer, request["id"], "extensions", {"reason": "volume", "occurredAt": "2025-02-01T17:00:00Z"}
    )
    assert first.status_code == 202
    assert first.json()["data"]["clock"]["dueDate"] == "2025-04-06"

    second = act(
        officer, request["id"], "extensions", {"reason": "more", "occurredAt": "2025-02-02T17:00:00Z"}
    )

    assert second.status_code == 409


def test_an_extension_partial_amount_in_days(officer, make_request):
    request = make_request(jurisdiction="CA", receivedAt="2025-06-02T14:00:00Z")

    response = act(
        officer,
        request["id"],
        "extensions",
        {
            "reason": "translation",
            "extendBy": {"unit": "DAYS", "amount": 10},
            "occurredAt": "2025-06-30T14:00:00Z",
        },
    )

    assert response.status_code == 202
    assert response.json()["data"]["clock"]["dueDate"] == "2025-07-12"


def test_extension_body_is_validated(officer, make_request):
    request = make_request()

    missing = act(officer, request["id"], "extensions", {})
    bad_unit = act(
        officer, request["id"], "extensions", {"reason": "x", "extendBy": {"unit": "WEEKS", "amount": 1}}
    )
    bad_amount = act(
        officer, request["id"], "extensions", {"reason": "x", "extendBy": {"unit": "DAYS", "amount": "3"}}
    )

    assert [r.status_code for r in (missing, bad_unit, bad_amount)] == [400, 400, 400]
    assert missing.json()["error"]["details"][0]["field"] == "reason"
    assert bad_unit.json()["error"]["details"][0]["field"] == "extendBy.unit"
    assert bad_amount.json()["error"]["details"][0]["field"] == "extendBy.amount"


def test_a_refusal_needs_a_reason_message_or_rationale(officer, make_request):
    request = make_request()

    empty = act(officer, request["id"], "refusals", {})
    refused = act(
        officer, request["id"], "refusals", {"reason": "MANIFESTLY_UNFOUNDED", "rationale": "repeat"}
    )

    assert empty.status_code == 400
    assert refused.status_code == 202
    data = refused.json()["data"]
    assert data["request"]["status"] == "REFUSED"
    assert data["request"]["outcome"]["kind"] == "REFUSED"
    assert data["request"]["outcome"]["reason"] == "MANIFESTLY_UNFOUNDED"
    assert data["clock"]["state"] == "STOPPED" and data["clock"]["atRisk"] is False


def test_closure_records_the_outcome_and_stops_the_clock(officer, make_request):
    request = make_request()

    response = act(
        officer, request["id"], "closures", {"outcome": "PARTIALLY_FULFILLED", "notes": "some held back"}
    )

    data = response.json()["data"]
    assert data["request"]["status"] == "CLOSED"
    assert data["request"]["outcome"]["kind"] == "PARTIALLY_FULFILLED"
    assert data["clock"]["state"] == "STOPPED"
    assert act(officer, request["id"], "closures", {"outcome": "DONE"}).status_code == 400


def test_requestor_is_replaced_by_put(officer, make_request):
    request = make_request()

    response = act(
        officer,
        request["id"],
        "requestor",
        {"type": "AUTHORIZED_AGENT", "name": "Agent Smith", "email": "agent@example.com"},
        method="put",
    )

    assert response.status_code == 202
    requestor = response.json()["data"]["request"]["requestor"]
    assert requestor == {
        "type": "AUTHORIZED_AGENT",
        "name": "Agent Smith",
        "email": "agent@example.com",
        "relation": None,
    }
    assert OutboxEvent.objects.filter(request_id=request["id"], type="request.requestor_changed").exists()
    assert act(officer, request["id"], "requestor", {"type": "AUTHORIZED_AGENT"}).status_code == 405


def test_uk_verification_restarts_the_clock_at_receipt(officer, make_request):
    request = make_request(receivedAt="2025-09-03T08:00:00Z")
    rid = request["id"]

    asked = act(
        officer, rid, "verification/request", {"method": "passport", "occurredAt": "2025-09-04T08:00:00Z"}
    )
    assert asked.json()["data"]["clock"]["state"] == "AWAITING_START"
    assert asked.json()["data"]["request"]["verification"]["status"] == "REQUESTED"
    got = act(officer, rid, "verification/receive", {"occurredAt": "2025-09-10T08:00:00Z"})

    data = got.json()["data"]
    assert data["request"]["verification"]["status"] == "RECEIVED"
    assert data["clock"]["state"] == "RUNNING"
    assert data["clock"]["dueDate"] == "2025-10-10"


def test_ccpa_verification_does_not_toll_the_clock(officer, make_request):
    # CA-03: received 3 Mar 2025, verification 4 Mar → 25 Mar: still due 17 Apr 2025.
    request = make_request(jurisdiction="US-CA", receivedAt="2025-03-03T17:00:00Z")
    rid = request["id"]
    act(officer, rid, "verification/request", {"occurredAt": "2025-03-04T17:00:00Z"})

    data = act(officer, rid, "verification/receive", {"occurredAt": "2025-03-25T17:00:00Z"}).json()["data"]

    assert data["clock"]["dueDate"] == "2025-04-17"


def test_authority_flow_and_uk_restart(officer, intake_clerk, make_request):
    request = make_request(receivedAt="2025-09-03T08:00:00Z")
    rid = request["id"]
    asked = act(officer, rid, "authority/request", {"occurredAt": "2025-09-03T09:00:00Z"})
    assert asked.status_code == 202 and asked.json()["data"]["clock"]["state"] == "AWAITING_START"

    submitted = act(
        intake_clerk,
        rid,
        "authority/submit",
        {
            "evidenceArtifacts": [{"kind": "POWER_OF_ATTORNEY", "uri": "s3://bucket/poa.pdf"}],
            "status": "PENDING",
            "occurredAt": "2025-09-12T09:00:00Z",
        },
    )
    assert submitted.status_code == 202, submitted.content
    assert submitted.json()["data"]["clock"]["dueDate"] == "2025-10-13"  # 12 Oct 2025 is a Sunday
    assert submitted.json()["data"]["request"]["authority"]["status"] == "PENDING"

    assert act(intake_clerk, rid, "authority/approve").status_code == 403
    approved = act(officer, rid, "authority/approve", {"notes": "checked"})
    assert approved.json()["data"]["request"]["authority"]["status"] == "VERIFIED"
    assert act(officer, rid, "authority/reject", {"reason": "x"}).status_code == 409
    types = list(
        OutboxEvent.objects.filter(request_id=rid).order_by("created_at", "id").values_list("type", flat=True)
    )
    assert types == ["request.created", "authority.requested", "authority.submitted", "authority.approved"]


def test_occurred_at_may_not_be_in_the_future_or_before_the_latest_entry(officer, make_request):
    request = make_request(receivedAt="2026-03-31T09:12:00Z")
    rid = request["id"]

    future = act(officer, rid, "acknowledgements", {"occurredAt": "2099-01-01T00:00:00Z"})
    before_intake = act(officer, rid, "acknowledgements", {"occurredAt": "2026-03-31T09:11:00Z"})
    naive = act(officer, rid, "acknowledgements", {"occurredAt": "2026-04-01T09:00:00"})

    for response in (future, before_intake, naive):
        assert response.status_code == 400
        assert response.json()["error"]["details"][0]["field"] == "occurredAt"
    assert DataSubjectRequest.objects.get(pk=rid).status == "RECEIVED"


def test_the_timeline_lists_entries_oldest_first_with_both_times(officer, make_request):
    request = make_request(receivedAt="2026-03-31T09:12:00Z")
    act(officer, request["id"], "acknowledgements", {"occurredAt": "2026-04-01T08:00:00Z"})

    data = officer.get(f"/v1/requests/{request['id']}/timeline").json()["data"]

    assert data["requestId"] == request["id"]
    assert [e["action"] for e in data["entries"]] == ["create", "acknowledge"]
    entry = data["entries"][1]
    assert entry["at"] == "2026-04-01T08:00:00+00:00"
    assert entry["recordedAt"] > entry["at"]
    assert (entry["fromStatus"], entry["toStatus"]) == ("RECEIVED", "ACKNOWLEDGED")
    assert set(entry) >= {"id", "at", "actor", "action", "fromStatus", "toStatus", "notes", "data"}


def test_a_failing_action_writes_nothing(officer, make_request, monkeypatch):
    request = make_request()
    import requests_app.services as services
    from requests_app.services import machinery

    def boom(**kwargs):
        raise RuntimeError("outbox down")

    monkeypatch.setattr(machinery, "event_emit", boom)
    with pytest.raises(RuntimeError):
        services.request_acknowledge(org=officer.org, request_id=request["id"], actor="test")

    assert DataSubjectRequest.objects.get(pk=request["id"]).status == "RECEIVED"
    assert TimelineEntry.objects.filter(request_id=request["id"]).count() == 1


def test_lifecycle_query_budget(officer, make_request, django_assert_max_num_queries):
    request = make_request()

    with django_assert_max_num_queries(12):
        assert act(officer, request["id"], "acknowledgements").status_code == 202


def test_a_second_uk_extension_without_an_amount_takes_what_is_left(officer, make_request):
    request = make_request(receivedAt="2025-09-03T08:00:00Z")
    rid = request["id"]
    one = act(
        officer,
        rid,
        "extensions",
        {"reason": "a", "extendBy": {"unit": "MONTHS", "amount": 1}, "occurredAt": "2025-09-10T10:00:00Z"},
    )
    assert one.json()["data"]["clock"]["dueDate"] == "2025-11-03"

    rest = act(officer, rid, "extensions", {"reason": "b", "occurredAt": "2025-09-20T10:00:00Z"})

    assert rest.status_code == 202, rest.content
    assert rest.json()["data"]["clock"]["dueDate"] == "2025-12-03"
    more = act(officer, rid, "extensions", {"reason": "c", "occurredAt": "2025-09-21T10:00:00Z"})
    assert more.status_code == 409


@pytest.mark.parametrize(
    "path",
    ["clarifications/receive", "verification/receive", "authority/approve", "authority/reject"],
)
def test_an_action_the_state_forbids_is_a_409_before_its_timing_is_judged(officer, make_request, path):
    dsr = make_request()
    response = officer.post(f"/v1/requests/{dsr['id']}/{path}", {"occurredAt": "2199-01-01T00:00:00Z"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
