from __future__ import annotations

import pytest

from requests_app.models import DataSubjectRequest, TimelineEntry

pytestmark = pytest.mark.django_db


def test_a_retried_create_returns_the_first_response_byte_for_byte(officer, intake):
    first = officer.post("/v1/requests", intake(), **{"Idempotency-Key": "k-1"})
    again = officer.post("/v1/requests", intake(), **{"Idempotency-Key": "k-1"})

    assert first.status_code == again.status_code == 202
    assert first.content == again.content
    assert again["Idempotent-Replayed"] == "true"
    assert DataSubjectRequest.objects.count() == 1


def test_the_same_key_with_another_body_is_a_409_conflict(officer, intake):
    officer.post("/v1/requests", intake(), **{"Idempotency-Key": "k-2"})

    response = officer.post("/v1/requests", intake(jurisdiction="DE"), **{"Idempotency-Key": "k-2"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert DataSubjectRequest.objects.count() == 1


def test_a_retried_transition_changes_nothing(officer, make_request):
    request = make_request()
    path = f"/v1/requests/{request['id']}/acknowledgements"

    first = officer.post(path, {}, **{"Idempotency-Key": "ack-1"})
    again = officer.post(path, {}, **{"Idempotency-Key": "ack-1"})

    assert first.status_code == 202 and again.content == first.content
    assert TimelineEntry.objects.filter(request_id=request["id"]).count() == 2


def test_an_error_answer_is_replayed_too(officer, make_request):
    request = make_request()
    path = f"/v1/requests/{request['id']}/clarifications/receive"

    first = officer.post(path, {}, **{"Idempotency-Key": "e-1"})
    again = officer.post(path, {}, **{"Idempotency-Key": "e-1"})

    assert first.status_code == again.status_code == 409
    assert first.content == again.content


def test_keys_are_per_org(officer, other_org_client, intake):
    officer.post("/v1/requests", intake(), **{"Idempotency-Key": "shared"})

    response = other_org_client.post("/v1/requests", intake(), **{"Idempotency-Key": "shared"})

    assert response.status_code == 202
    assert DataSubjectRequest.objects.count() == 2


def test_a_key_on_another_endpoint_is_a_conflict(officer, make_request):
    request = make_request()
    officer.post(f"/v1/requests/{request['id']}/acknowledgements", {}, **{"Idempotency-Key": "k-3"})

    response = officer.post(
        f"/v1/requests/{request['id']}/closures", {"outcome": "FULFILLED"}, **{"Idempotency-Key": "k-3"}
    )

    assert response.status_code == 409


def test_an_overlong_key_is_refused(officer, intake):
    response = officer.post("/v1/requests", intake(), **{"Idempotency-Key": "x" * 300})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "Idempotency-Key"
