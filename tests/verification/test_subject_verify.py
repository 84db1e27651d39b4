"""The subject proves who they are from the e-mail alone: a code, or a link confirmed on its page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.verification.conftest import code_in, recent, timeline, token_in
from verification.models import VerificationChallenge

LONDON = "Europe/London"


def _today_in(tz: str) -> str:
    from zoneinfo import ZoneInfo

    return timezone.now().astimezone(ZoneInfo(tz)).date().isoformat()


def test_it_verifies_a_gb_request_by_code_and_the_clock_runs_again_from_that_day(
    officer, make_request, challenge, send_mail, subject
):
    before = make_request(receivedAt=recent(days=10))
    request_id = before["id"]
    challenge_id = challenge(request_id).json()["data"]["challenge"]["id"]
    (email,) = send_mail()

    answer = subject({"challengeId": challenge_id, "code": code_in(email)})

    assert answer.status_code == 200, answer.content
    assert answer.json()["data"] == {"verified": True, "requestRef": request_id, "orgName": "Acme Ltd"}
    request = officer.get(f"/v1/requests/{request_id}").json()["data"]["request"]
    assert request["verification"]["status"] == "RECEIVED"
    assert request["verification"]["method"] == "EMAIL_CODE"
    assert request["verification"]["challenge"]["status"] == "VERIFIED"
    # UK GDPR Art 12A: the month runs from receipt of the identity information, today.
    assert request["clock"]["startedAt"][:10] == _today_in(LONDON)
    assert request["clock"]["dueDate"] > before["clock"]["dueDate"]
    explained = officer.get(f"/v1/requests/{request_id}/clock/explain")
    assert explained.status_code == 200
    received = [e for e in timeline(officer, request_id) if e["action"] == "verification.receive"]
    assert [e["actor"] for e in received] == [f"subject:{challenge_id}"]
    assert received[0]["data"]["challenge"]["id"] == challenge_id


def test_a_ccpa_request_is_verified_without_moving_its_clock(officer, code_sent, subject):
    request_id, challenge_id, code = code_sent(jurisdiction="US-CA")
    before = officer.get(f"/v1/requests/{request_id}").json()["data"]["request"]["clock"]

    assert subject({"challengeId": challenge_id, "code": code}).status_code == 200

    after = officer.get(f"/v1/requests/{request_id}").json()["data"]["request"]
    assert after["verification"]["status"] == "RECEIVED"
    assert after["clock"]["startedAt"] == before["startedAt"]
    assert after["clock"]["dueDate"] == before["dueDate"]


def test_a_code_typed_with_spaces_is_accepted(code_sent, subject):
    _request_id, challenge_id, code = code_sent()

    answer = subject({"challengeId": challenge_id, "code": f" {code[:3]} {code[3:]} "})

    assert answer.status_code == 200, answer.content


@pytest.mark.parametrize("bad", ["١٢٣٤٥٦", "1234567", "12345", "12a456", "", 123456])
def test_a_code_that_is_not_six_ascii_digits_is_a_400(code_sent, subject, bad):
    _request_id, challenge_id, _code = code_sent()

    answer = subject({"challengeId": challenge_id, "code": bad})

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "validation_error"
    assert answer.json()["error"]["details"][0]["field"] == "code"
    assert VerificationChallenge.objects.get(pk=challenge_id).attempts == 0


@pytest.mark.parametrize(
    "body",
    [{}, {"challengeId": "vch_x"}, {"code": "123456"}, {"token": "abc", "code": "123456"}, {"token": "a b"}],
)
def test_missing_or_mixed_fields_are_a_400(subject, body):
    answer = subject(body)

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "validation_error"


def _refusal(answer):
    assert answer.status_code == 401, answer.content
    return answer.json()


def test_every_refusal_is_the_same_401(code_sent, link_sent, subject, other_org_client, send_mail):
    _request_id, challenge_id, code = code_sent()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    unknown = _refusal(subject({"challengeId": "vch_01JUNKJUNKJUNKJUNKJUNKJUNK", "code": code}))
    bodies = [
        _refusal(subject({"challengeId": challenge_id, "code": wrong})),
        _refusal(subject({"token": "A" * 32})),
    ]
    # Another organisation's challenge, answered with this one's code.
    other = other_org_client.post("/v1/requests", _gb_intake())
    other_id = other.json()["data"]["request"]["id"]
    other_challenge = other_org_client.post(
        f"/v1/requests/{other_id}/verification/challenges", {"method": "EMAIL_CODE"}
    ).json()["data"]["challenge"]["id"]
    send_mail()
    bodies.append(_refusal(subject({"challengeId": other_challenge, "code": code})))
    # Expired.
    VerificationChallenge.objects.filter(pk=challenge_id).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    bodies.append(_refusal(subject({"challengeId": challenge_id, "code": code})))
    # Used.
    _request_id, link_challenge, token = link_sent()
    assert subject({"token": token}).status_code == 200
    bodies.append(_refusal(subject({"token": token})))
    # A code for a link challenge.
    bodies.append(_refusal(subject({"challengeId": link_challenge, "code": code})))

    assert all(body == unknown for body in bodies)
    assert unknown["error"] == {
        "code": "unauthenticated",
        "message": "This code or link is not valid: it may be mistyped, expired, already used or withdrawn.",
        "details": [],
    }


def _gb_intake():
    from tests.conftest import intake_body

    return intake_body(receivedAt=recent())


def test_five_wrong_codes_lock_the_challenge_and_the_right_code_then_fails_alike(officer, code_sent, subject):
    request_id, challenge_id, code = code_sent()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    first = subject({"challengeId": challenge_id, "code": wrong})
    left = [
        officer.get(f"/v1/requests/{request_id}").json()["data"]["request"]["verification"]["challenge"][
            "attemptsLeft"
        ]
    ]
    for _ in range(4):
        assert subject({"challengeId": challenge_id, "code": wrong}).json() == first.json()

    right = subject({"challengeId": challenge_id, "code": code})

    assert right.status_code == 401 and right.json() == first.json()
    assert left == [4]
    request = officer.get(f"/v1/requests/{request_id}").json()["data"]["request"]
    assert request["verification"]["status"] == "REQUESTED"
    assert (
        request["verification"]["challenge"] | {"attemptsLeft": 0, "status": "LOCKED"}
        == request["verification"]["challenge"]
    )
    assert "verification.locked" in [e["action"] for e in timeline(officer, request_id)]
    assert "verification.receive" not in [e["action"] for e in timeline(officer, request_id)]


def test_an_expired_code_fails_and_is_shown_expired(officer, code_sent, subject):
    request_id, challenge_id, code = code_sent()
    past = timezone.now() - timedelta(seconds=1)
    VerificationChallenge.objects.filter(pk=challenge_id).update(expires_at=past)
    # What the request row shows is written with the challenge; it shows EXPIRED once past the expiry.
    from requests_app.models import DataSubjectRequest

    row = DataSubjectRequest.objects.get(pk=request_id)
    row.verification_challenge = {**row.verification_challenge, "expiresAt": past.isoformat()}
    row.save(update_fields=["verification_challenge"])

    assert subject({"challengeId": challenge_id, "code": code}).status_code == 401
    shown = officer.get(f"/v1/requests/{request_id}").json()["data"]["request"]["verification"]["challenge"]
    assert shown["status"] == "EXPIRED"


def test_a_second_right_answer_does_not_verify_twice(officer, code_sent, subject):
    request_id, challenge_id, code = code_sent()

    assert subject({"challengeId": challenge_id, "code": code}).status_code == 200
    assert subject({"challengeId": challenge_id, "code": code}).status_code == 401

    actions = [e["action"] for e in timeline(officer, request_id)]
    assert actions.count("verification.receive") == 1


def test_the_link_page_changes_nothing_until_the_subject_confirms(officer, link_sent):
    from django.test import Client

    request_id, challenge_id, token = link_sent()
    browser = Client(enforce_csrf_checks=True)

    for _ in range(2):
        page = browser.get(f"/s/verify/{token}")
        assert page.status_code == 200
        assert page["Cache-Control"] == "no-store"
        assert b"Acme Ltd" in page.content and request_id.encode() in page.content
    assert VerificationChallenge.objects.get(pk=challenge_id).status == "PENDING"
    verification = officer.get(f"/v1/requests/{request_id}").json()["data"]["request"]["verification"]
    assert verification["status"] == "REQUESTED"

    assert browser.post(f"/s/verify/{token}").status_code == 403  # no CSRF token: Django refuses
    csrf = page.cookies["csrftoken"].value
    done = browser.post(f"/s/verify/{token}", {"csrfmiddlewaretoken": csrf})

    assert done.status_code == 200, done.content
    assert b"confirmed" in done.content
    verification = officer.get(f"/v1/requests/{request_id}").json()["data"]["request"]["verification"]
    assert verification["status"] == "RECEIVED"
    assert verification["method"] == "EMAIL_LINK"

    again = browser.post(f"/s/verify/{token}", {"csrfmiddlewaretoken": csrf})
    assert again.status_code == 401
    assert browser.get(f"/s/verify/{token}").status_code == 401
    assert browser.get("/s/verify/not-a-token").content == browser.get(f"/s/verify/{token}").content


def test_the_link_page_speaks_french_when_asked(link_sent):
    from django.test import Client

    _request_id, _challenge_id, token = link_sent()

    page = Client().get(f"/s/verify/{token}?lang=fr")

    assert page.status_code == 200
    assert page["Content-Language"] == "fr"
    assert b'lang="fr"' in page.content
    assert "Confirmer ma demande" in page.content.decode()


def test_a_used_token_cannot_be_replayed(link_sent, subject):
    _request_id, _challenge_id, token = link_sent()

    assert subject({"token": token}).status_code == 200
    assert subject({"token": token}).status_code == 401


def test_the_public_endpoint_is_rate_limited_per_address(subject):
    answers = [subject({"challengeId": "vch_nope", "code": "123456"}) for _ in range(21)]

    assert [a.status_code for a in answers[:20]] == [401] * 20
    assert answers[20].status_code == 429
    assert int(answers[20]["Retry-After"]) >= 1
    assert answers[20].json()["error"]["code"] == "rate_limited"


def test_verifying_by_code_costs_a_fixed_number_of_queries(code_sent, subject, django_assert_max_num_queries):
    _request_id, challenge_id, code = code_sent()

    with django_assert_max_num_queries(14):
        assert subject({"challengeId": challenge_id, "code": code}).status_code == 200


def test_a_wrong_code_costs_a_fixed_number_of_queries(code_sent, subject, django_assert_max_num_queries):
    _request_id, challenge_id, code = code_sent()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    with django_assert_max_num_queries(8):
        assert subject({"challengeId": challenge_id, "code": wrong}).status_code == 401


def test_the_mail_carries_the_code_and_the_record_never_does(officer, make_request, challenge, send_mail):
    from core.subject_secrets import SECRET_MARK
    from correspondence.models import Message

    request = make_request(receivedAt=recent())
    challenge(request["id"])
    (email,) = send_mail()
    code = code_in(email)

    stored = Message.objects.get(request_id=request["id"], kind="VERIFICATION_CODE")
    assert SECRET_MARK in stored.body_text and code not in stored.body_text
    assert stored.secret_seed == ""  # erased once sent
    listed = officer.get(f"/v1/requests/{request['id']}/messages")
    if listed.status_code == 200:
        assert code not in listed.content.decode()
    assert code not in officer.get(f"/v1/requests/{request['id']}/timeline").content.decode()
    assert code not in officer.get(f"/v1/requests/{request['id']}").content.decode()


def test_the_link_mail_leads_to_the_confirm_page(make_request, challenge, send_mail, settings):
    request = make_request(receivedAt=recent())
    challenge(request["id"], method="EMAIL_LINK")
    (email,) = send_mail()

    assert f"{settings.DSAR_SUBJECT_BASE_URL}/s/verify/{token_in(email)}" in email.body
