"""The officer's side: sending a challenge, resending it, and verifying the identity by other means."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from tests.verification.conftest import code_in, recent, timeline, token_in
from verification.models import VerificationChallenge


def _back_in_time(challenge_id, seconds):
    """As if the challenge had last been sent `seconds` ago."""
    VerificationChallenge.objects.filter(pk=challenge_id).update(
        last_sent_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_a_challenge_answers_the_lifecycle_envelope_with_the_challenge(officer, make_request, challenge):
    request = make_request(receivedAt=recent())

    answer = challenge(request["id"], method="EMAIL_LINK", locale="fr_ca")

    assert answer.status_code == 202, answer.content
    data = answer.json()["data"]
    assert data["transition"]["action"] == "verification.request"
    assert data["request"]["verification"]["status"] == "REQUESTED"
    assert data["request"]["verification"]["method"] == "EMAIL_LINK"
    shown = data["challenge"]
    assert set(shown) == {"id", "method", "destinationMasked", "expiresAt", "attemptsLeft", "status"}
    assert shown["id"].startswith("vch_")
    assert (shown["method"], shown["status"], shown["attemptsLeft"]) == ("EMAIL_LINK", "PENDING", 5)
    assert shown["destinationMasked"] == "j\u2022\u2022\u2022e@example.org"
    assert data["request"]["verification"]["challenge"] == shown
    assert len(data["events"]) == 1
    stored = VerificationChallenge.objects.get(pk=shown["id"])
    assert stored.locale == "fr-CA"
    assert timedelta(hours=71) < stored.expires_at - timezone.now() <= timedelta(hours=72)
    entry = timeline(officer, request["id"])[-1]
    assert entry["action"] == "verification.request"
    assert entry["data"]["challenge"]["id"] == shown["id"]
    (letter,) = [
        v for v in entry["data"].values() if isinstance(v, dict) and v.get("kind") == "VERIFICATION_LINK"
    ]
    assert letter["toMasked"] == shown["destinationMasked"]


def test_a_code_lives_fifteen_minutes(make_request, challenge):
    request = make_request(receivedAt=recent())

    shown = challenge(request["id"]).json()["data"]["challenge"]

    stored = VerificationChallenge.objects.get(pk=shown["id"])
    assert timedelta(minutes=14) < stored.expires_at - timezone.now() <= timedelta(minutes=15)


def test_only_keyed_hashes_of_the_secret_are_stored(make_request, challenge, send_mail):
    request = make_request(receivedAt=recent())
    challenge(request["id"], method="EMAIL_LINK")
    (email,) = send_mail()
    token = token_in(email)

    stored = VerificationChallenge.objects.get(request_id=request["id"])
    assert token not in (stored.secret_hash, stored.token_lookup)
    assert len(stored.secret_hash) == 64 and len(stored.token_lookup) == 64


def test_a_pending_challenge_is_a_conflict(make_request, challenge):
    request = make_request(receivedAt=recent())
    first = challenge(request["id"]).json()["data"]["challenge"]["id"]

    again = challenge(request["id"], method="EMAIL_LINK")

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert first in again.json()["error"]["message"]


def test_a_terminal_request_cannot_be_verified(officer, make_request, challenge):
    request = make_request(receivedAt=recent())
    assert officer.post(f"/v1/requests/{request['id']}/closures", {"outcome": "WITHDRAWN"}).status_code == 202

    answer = challenge(request["id"])

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "invalid_transition"
    assert not VerificationChallenge.objects.filter(request_id=request["id"]).exists()


def test_an_opt_out_only_ccpa_request_needs_no_verification(make_request, challenge):
    request = make_request(jurisdiction="US-CA", requestTypes=["OPT_OUT_SALE"], receivedAt=recent())

    answer = challenge(request["id"])

    assert answer.status_code == 409
    error = answer.json()["error"]
    assert error["code"] == "invalid_transition"
    assert "needs no identity verification" in error["message"] and "7026" in error["message"]


def test_another_address_needs_a_reason_and_the_refusal_does_not_name_the_request_s(make_request, challenge):
    request = make_request(receivedAt=recent())

    refused = challenge(request["id"], destination="someone.else@example.net")

    assert refused.status_code == 400
    assert refused.json()["error"]["details"][0]["field"] == "destinationReason"
    assert "jane@example.org" not in refused.content.decode()
    accepted = challenge(
        request["id"], destination="someone.else@example.net", destinationReason="The subject asked by phone."
    )
    assert accepted.status_code == 202, accepted.content
    assert accepted.json()["data"]["challenge"]["destinationMasked"] == "s\u2022\u2022\u2022e@example.net"


def test_the_request_s_own_address_needs_no_reason(make_request, challenge, send_mail):
    request = make_request(receivedAt=recent())

    assert challenge(request["id"], destination="JANE@example.org").status_code == 202
    (email,) = send_mail()
    assert email.to == ["jane@example.org"]


def test_a_request_without_an_address_needs_a_destination(make_request, challenge):
    request = make_request(receivedAt=recent(), contact="", requestor=None)

    answer = challenge(request["id"])

    assert answer.status_code == 400
    assert answer.json()["error"]["details"][0]["field"] == "destination"


def test_a_locale_that_is_no_language_is_a_400(make_request, challenge):
    request = make_request(receivedAt=recent())

    answer = challenge(request["id"], locale="xx-YY")

    assert answer.status_code == 400
    assert answer.json()["error"]["details"][0]["field"] == "locale"


def test_another_org_cannot_see_or_resend_the_challenge(make_request, challenge, other_org_client):
    request = make_request(receivedAt=recent())
    challenge_id = challenge(request["id"]).json()["data"]["challenge"]["id"]

    assert (
        other_org_client.post(
            f"/v1/requests/{request['id']}/verification/challenges", {"method": "EMAIL_CODE"}
        ).status_code
        == 404
    )
    assert (
        other_org_client.post(
            f"/v1/requests/{request['id']}/verification/challenges/{challenge_id}/resend"
        ).status_code
        == 404
    )


def test_an_intake_key_cannot_send_challenges(make_request, intake_clerk):
    request = make_request(receivedAt=recent())

    answer = intake_clerk.post(
        f"/v1/requests/{request['id']}/verification/challenges", {"method": "EMAIL_CODE"}
    )

    assert answer.status_code == 403


def test_a_resend_replaces_the_secret(officer, make_request, challenge, send_mail, subject):
    request = make_request(receivedAt=recent())
    challenge_id = challenge(request["id"]).json()["data"]["challenge"]["id"]
    (first,) = send_mail()
    _back_in_time(challenge_id, 61)

    resent = officer.post(f"/v1/requests/{request['id']}/verification/challenges/{challenge_id}/resend")

    assert resent.status_code == 202, resent.content
    assert resent.json()["data"]["challenge"]["id"] == challenge_id
    (second,) = send_mail()
    old, new = code_in(first), code_in(second)
    if old != new:  # one chance in a million that the new code is the old one
        assert subject({"challengeId": challenge_id, "code": old}).status_code == 401
    assert subject({"challengeId": challenge_id, "code": new}).status_code == 200
    actions = [e["action"] for e in timeline(officer, request["id"])]
    assert actions.count("verification.request") == 1 and "verification.resend" in actions


def test_resending_is_limited_to_once_a_minute_and_three_sends(officer, make_request, challenge):
    request = make_request(receivedAt=recent())
    challenge_id = challenge(request["id"]).json()["data"]["challenge"]["id"]
    resend = f"/v1/requests/{request['id']}/verification/challenges/{challenge_id}/resend"

    too_soon = officer.post(resend)
    assert too_soon.status_code == 429
    assert too_soon.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(too_soon["Retry-After"]) <= 60
    for _ in range(2):
        _back_in_time(challenge_id, 61)
        assert officer.post(resend).status_code == 202
    _back_in_time(challenge_id, 61)
    capped = officer.post(resend)

    assert capped.status_code == 429
    assert int(capped["Retry-After"]) >= 1
    assert VerificationChallenge.objects.get(pk=challenge_id).sends == 3


def test_a_challenge_that_ended_cannot_be_resent(officer, code_sent, subject):
    request_id, challenge_id, code = code_sent()
    assert subject({"challengeId": challenge_id, "code": code}).status_code == 200

    answer = officer.post(f"/v1/requests/{request_id}/verification/challenges/{challenge_id}/resend")

    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "invalid_transition"


def test_a_new_challenge_after_one_expired_does_not_restart_the_clock_again(
    officer, code_sent, challenge, subject
):
    request_id, challenge_id, _code = code_sent()
    VerificationChallenge.objects.filter(pk=challenge_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    again = challenge(request_id, method="EMAIL_LINK")

    assert again.status_code == 202, again.content
    data = again.json()["data"]
    assert data["transition"]["action"] == "verification.challenge"
    assert data["events"] == []
    assert VerificationChallenge.objects.get(pk=challenge_id).status == "EXPIRED"
    actions = [e["action"] for e in timeline(officer, request_id)]
    assert actions.count("verification.request") == 1
    assert "verification.expired" in actions and actions[-1] == "verification.challenge"


def test_the_officer_may_record_what_was_checked_and_the_pending_challenge_ends(officer, code_sent, subject):
    request_id, challenge_id, code = code_sent()
    checked = [{"kind": "POSTCODE", "matched": True}, {"kind": "LAST_ORDER_DATE", "matched": False}]

    answer = officer.post(
        f"/v1/requests/{request_id}/verification/receive", {"method": "KNOWN_FACTS", "checked": checked}
    )

    assert answer.status_code == 202, answer.content
    verification = answer.json()["data"]["request"]["verification"]
    assert verification["status"] == "RECEIVED" and verification["method"] == "KNOWN_FACTS"
    assert verification["challenge"]["status"] == "CANCELLED"
    entry = timeline(officer, request_id)[-1]
    assert entry["action"] == "verification.receive"
    assert entry["data"]["method"] == "KNOWN_FACTS"
    assert entry["data"]["checked"] == checked
    assert entry["data"]["challengeCancelled"] == challenge_id
    assert subject({"challengeId": challenge_id, "code": code}).status_code == 401


def test_the_manual_receive_body_is_strict(officer, code_sent):
    request_id, _challenge_id, _code = code_sent()

    for body in (
        {"method": "PASSPORT_SCAN"},
        {"checked": [{"kind": "POSTCODE"}]},
        {"checked": [{"kind": "POSTCODE", "matched": True, "value": "SW1A 1AA"}]},
    ):
        answer = officer.post(f"/v1/requests/{request_id}/verification/receive", body)
        assert answer.status_code == 400, body


def test_a_request_closed_while_a_challenge_is_pending_refuses_the_answer(officer, code_sent, subject):
    request_id, challenge_id, code = code_sent()
    assert officer.post(f"/v1/requests/{request_id}/closures", {"outcome": "WITHDRAWN"}).status_code == 202

    assert subject({"challengeId": challenge_id, "code": code}).status_code == 401
    assert VerificationChallenge.objects.get(pk=challenge_id).status == "CANCELLED"


def test_the_request_list_shows_the_challenge(officer, code_sent):
    request_id, challenge_id, _code = code_sent()

    listed = officer.get("/v1/requests").json()["data"]["requests"]

    (row,) = [r for r in listed if r["id"] == request_id]
    assert row["verification"]["challenge"]["id"] == challenge_id
    assert row["verification"]["mayRefuseUnverifiedFrom"] is None
