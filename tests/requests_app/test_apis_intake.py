"""POST /v1/requests and /v1/requests/capture: the intake body, its validation, and what gets written."""

from __future__ import annotations

import json

import pytest

from notifications.models import OutboxEvent
from requests_app.models import DataSubjectRequest, TimelineEntry

pytestmark = pytest.mark.django_db


def test_it_creates_a_request_with_the_uk_clock(officer, intake):
    response = officer.post("/v1/requests", intake(receivedAt="2026-03-31T09:12:00Z"))

    assert response.status_code == 202
    body = response.json()
    assert body["ok"] is True and body["contractVersion"] == "v1.0"
    request = body["data"]["request"]
    assert request["id"].startswith("req_")
    assert request["orgId"] == officer.org.id
    assert request["status"] == "RECEIVED"
    assert request["requestTypes"] == ["ACCESS"] and request["requestTypesInferred"] is False
    assert request["intakeSource"]["receivedAt"] == "2026-03-31T09:12:00+00:00"
    clock = request["clock"]
    assert clock["policyPack"] == "uk-gdpr" and clock["policyVersion"] == "2026.1"
    assert clock["timezone"] == "Europe/London"
    # 31 March → 30 April (no 31 April): the month-end rule; a Thursday, no roll.
    assert clock["baseDueDate"] == "2026-04-30" and clock["dueDate"] == "2026-04-30"
    assert clock["dueAt"] == "2026-04-30T23:59:59+01:00"
    assert clock["state"] == "RUNNING"
    assert request["verification"] == {
        "status": "NOT_REQUESTED",
        "requestedAt": None,
        "receivedAt": None,
        "method": None,
        "challenge": None,
        "mayRefuseUnverifiedFrom": None,
    }
    assert request["outcome"] is None


def test_it_writes_the_request_its_timeline_entry_and_its_outbox_event_together(officer, intake):
    request = officer.post("/v1/requests", intake()).json()["data"]["request"]

    entry = TimelineEntry.objects.get(request_id=request["id"])
    assert (entry.action, entry.to_status, entry.seq) == ("create", "RECEIVED", 1)
    assert entry.at.isoformat() == "2026-03-31T09:12:00+00:00"  # the intake entry happens at receipt
    event = OutboxEvent.objects.get(request_id=request["id"])
    payload = json.loads(event.body)
    assert payload["type"] == "request.created" and payload["id"] == event.id
    assert payload["data"]["requestId"] == request["id"]
    assert payload["data"]["request"]["clock"]["dueDate"] == "2026-04-30"


def test_capture_answers_with_the_clock_explanation(officer, intake):
    response = officer.post(
        "/v1/requests/capture", intake(jurisdiction="US-CA", receivedAt="2025-01-06T18:00:00Z")
    )

    assert response.status_code == 202
    data = response.json()["data"]
    context = data["dueContext"]
    assert context["requestId"] == data["request"]["id"]
    assert context["policyPack"]["id"] == "ccpa"
    assert context["dueDate"] == "2025-02-20"
    assert context["acknowledgement"]["dueDate"] == "2025-01-21"  # 10 business days, MLK Day skipped
    assert {"segments", "deadlines", "adjustments", "pauses", "extensions", "computedAt"} <= set(context)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Please delete all my data", ["ERASURE"]),
        ("Do not sell my personal information", ["OPT_OUT_SALE"]),
        ("Bitte löschen Sie meine Daten", ["ERASURE"]),
        ("Je demande une copie de mes données", ["ACCESS"]),
        ("Quiero que borren mis datos", ["ERASURE"]),
        ("Quero acesso aos meus dados", ["ACCESS"]),
        ("Hello", ["ACCESS"]),
    ],
)
def test_it_infers_request_types_when_absent(officer, intake, text, expected):
    body = intake(rawText=text, requestTypes=None)
    request = officer.post("/v1/requests", body).json()["data"]["request"]

    assert request["requestTypes"] == expected
    assert request["requestTypesInferred"] is True


def test_the_clock_starts_on_the_local_date_of_receipt(officer, intake):
    # 23:30 UTC on 31 March 2025 is 00:30 on 1 April in London (BST).
    request = officer.post("/v1/requests", intake(receivedAt="2025-03-31T23:30:00Z")).json()["data"][
        "request"
    ]

    assert request["clock"]["dueDate"] == "2025-05-01"


def _error(response):
    body = response.json()
    assert body["ok"] is False and body["contractVersion"] == "v1.0"
    return body["error"]


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.pop("jurisdiction"), "jurisdiction"),
        (lambda b: b.update(jurisdiction="XX"), "jurisdiction"),
        (lambda b: b.update(jurisdiction="gb"), "jurisdiction"),
        (lambda b: b["intakeSource"].pop("receivedAt"), "intakeSource.receivedAt"),
        (lambda b: b["intakeSource"].update(receivedAt="2099-01-01T00:00:00Z"), "intakeSource.receivedAt"),
        (lambda b: b["intakeSource"].update(receivedAt="yesterday"), "intakeSource.receivedAt"),
        (lambda b: b["intakeSource"].update(receivedAt="2026-03-31T09:12:00"), "intakeSource.receivedAt"),
        (lambda b: b["intakeSource"].update(channel="PIGEON"), "intakeSource.channel"),
        (lambda b: b["intakeSource"].update(rawText=42), "intakeSource.rawText"),
        (lambda b: b.update(receivedAt="2026-03-30T00:00:00Z"), "receivedAt"),
        (lambda b: b.update(requestTypes=["ACCESS", "TELEPORT"]), "requestTypes.1"),
        (lambda b: b.update(requestor={"name": "x"}), "requestor.type"),
        (lambda b: b.update(authority={"status": "PENDING"}), "authority.evidenceArtifacts"),
        (
            lambda b: b.update(
                authority={"evidenceArtifacts": [{"kind": "POA", "uri": "s3://x"}], "status": "MAYBE"}
            ),
            "authority.status",
        ),
        (lambda b: b.update(surprise=1), "surprise"),
        (lambda b: b.update(intakeSource="EMAIL"), "intakeSource"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(officer, intake, mutate, field):
    body = intake()
    mutate(body)

    response = officer.post("/v1/requests", body)

    assert response.status_code == 400, response.content
    error = _error(response)
    assert error["code"] == "validation_error"
    assert field in [d["field"] for d in error["details"]], error
    assert not DataSubjectRequest.objects.exists()
    assert not OutboxEvent.objects.exists()


def test_malformed_json_is_a_400(officer):
    response = officer.api.post(
        "/v1/requests",
        data=b'{"jurisdiction": ',
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {officer.raw}",
    )

    assert response.status_code == 400
    assert _error(response)["code"] == "malformed_json"


@pytest.mark.parametrize("body", [b"[]", b'"GB"', b"null", b"3"])
def test_a_body_that_is_not_an_object_is_a_validation_error(officer, body):
    response = officer.api.post(
        "/v1/requests", data=body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {officer.raw}"
    )

    assert response.status_code == 400
    assert _error(response)["code"] == "validation_error"


def test_a_body_that_is_not_json_is_a_415(officer):
    response = officer.api.post(
        "/v1/requests",
        data="jurisdiction=GB",
        content_type="application/x-www-form-urlencoded",
        HTTP_AUTHORIZATION=f"Bearer {officer.raw}",
    )

    assert response.status_code == 415
    assert _error(response)["code"] == "unsupported_media_type"


def test_an_oversized_body_is_a_413(officer, intake, settings):
    settings.DSAR_MAX_BODY_BYTES = 2048
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048

    response = officer.post("/v1/requests", intake(rawText="x" * 5000))

    assert response.status_code == 413
    assert _error(response)["code"] == "payload_too_large"
    assert not DataSubjectRequest.objects.exists()


def test_intake_may_not_be_recorded_before_it_was_received(officer, intake):
    body = intake(receivedAt="2026-03-31T09:12:00Z")
    body["receivedAt"] = "2026-03-31T09:11:59Z"

    response = officer.post("/v1/requests", body)

    assert response.status_code == 400
    assert _error(response)["details"][0]["field"] == "receivedAt"


def test_create_query_budget(officer, intake, django_assert_max_num_queries):
    officer.post("/v1/requests", intake())  # the key's last-used time is written at most once a minute
    # 8 statements of work (key and org in one lookup, the shared rate counter, idempotency
    # lookup/insert/update, request, timeline, outbox) and 6 savepoint statements (idempotency record, the
    # view, the service).
    with django_assert_max_num_queries(14):
        assert officer.post("/v1/requests", intake(), **{"Idempotency-Key": "budget"}).status_code == 202
    # Without a key: lookup, rate counter, and the one transaction's three inserts (in production BEGIN and
    # COMMIT around them; here a savepoint, inside the test's transaction).
    with django_assert_max_num_queries(7):
        assert officer.post("/v1/requests", intake()).status_code == 202
