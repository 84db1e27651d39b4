"""The verification sweep: expiry, the one link reminder, and the CCPA "may refuse as unverifiable" flag."""

from __future__ import annotations

import json
from datetime import timedelta

from django.utils import timezone

from notifications.models import OutboxEvent
from tests.verification.conftest import recent, timeline, token_in
from verification.models import VerificationChallenge
from verification.sweeps import sweep_verification


def test_it_expires_a_pending_challenge_once_and_tells_integrations(officer, code_sent):
    request_id, challenge_id, _code = code_sent()
    later = timezone.now() + timedelta(minutes=16)

    first = sweep_verification(now=later)
    second = sweep_verification(now=later)

    assert (first.expired, second.expired) == (1, 0)
    assert VerificationChallenge.objects.get(pk=challenge_id).status == "EXPIRED"
    (event,) = OutboxEvent.objects.filter(request_id=request_id, type="request.verification_expired")
    data = json.loads(event.body)["data"]
    assert data["requestId"] == request_id
    assert data["challenge"]["id"] == challenge_id and data["challenge"]["status"] == "EXPIRED"
    assert data["request"]["verification"]["challenge"]["status"] == "EXPIRED"
    assert [e["action"] for e in timeline(officer, request_id)].count("verification.expired") == 1


def test_a_challenge_not_yet_expired_is_left_alone(code_sent):
    _request_id, challenge_id, _code = code_sent()

    assert sweep_verification(now=timezone.now() + timedelta(minutes=14)).expired == 0
    assert VerificationChallenge.objects.get(pk=challenge_id).status == "PENDING"


def test_a_link_gets_one_reminder_a_day_after_it_was_sent(officer, link_sent, send_mail, subject):
    request_id, challenge_id, token = link_sent()
    day_later = timezone.now() + timedelta(hours=24, minutes=1)

    assert sweep_verification(now=timezone.now() + timedelta(hours=23)).reminded == 0
    assert sweep_verification(now=day_later).reminded == 1
    assert sweep_verification(now=day_later + timedelta(hours=25)).reminded == 0

    (reminder,) = send_mail(now=day_later)
    challenge = VerificationChallenge.objects.get(pk=challenge_id)
    assert challenge.sends == 1  # not counted against the cap
    assert challenge.reminded_at is not None
    assert challenge.expires_at > day_later + timedelta(hours=71)
    assert subject({"token": token}).status_code == 401  # the first link no longer works
    assert subject({"token": token_in(reminder)}).status_code == 200
    assert "verification.reminder" in [e["action"] for e in timeline(officer, request_id)]


def test_a_code_gets_no_reminder(code_sent):
    code_sent()

    assert sweep_verification(now=timezone.now() + timedelta(hours=25)).reminded == 0


def test_an_unverified_ccpa_request_is_flagged_once_after_45_days(officer, make_request, challenge):
    request = make_request(jurisdiction="US-CA", receivedAt=recent(days=46))
    assert challenge(request["id"]).status_code == 202

    first = sweep_verification(now=timezone.now())
    second = sweep_verification(now=timezone.now())

    assert (first.flagged, second.flagged) == (1, 0)
    shown = officer.get(f"/v1/requests/{request['id']}").json()["data"]["request"]["verification"]
    received = request["intakeSource"]["receivedAt"]
    assert shown["mayRefuseUnverifiedFrom"] is not None
    assert shown["mayRefuseUnverifiedFrom"] > received[:10]
    entries = [e for e in timeline(officer, request["id"]) if e["action"] == "verification.overdue"]
    assert len(entries) == 1
    assert entries[0]["data"]["denyAfterDays"] == 45
    assert "7021" in entries[0]["data"]["citation"]


def test_a_ccpa_request_is_not_flagged_before_day_45_nor_a_gb_one_ever(make_request, challenge):
    ccpa = make_request(jurisdiction="US-CA", receivedAt=recent(days=40))
    gb = make_request(receivedAt=recent(days=60))
    for request in (ccpa, gb):
        assert challenge(request["id"]).status_code == 202

    assert sweep_verification(now=timezone.now()).flagged == 0


def test_a_verified_request_is_not_flagged(make_request, code_sent, subject):
    _request_id, challenge_id, code = code_sent(jurisdiction="US-CA", receivedAt=recent(days=46))
    assert subject({"challengeId": challenge_id, "code": code}).status_code == 200

    assert sweep_verification(now=timezone.now()).flagged == 0
