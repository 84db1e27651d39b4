"""Concurrent right answers to one challenge verify once: one `verification.receive` entry, one event.

Real threads with their own connections (`transaction=True`): the test's wrapping transaction would hide the
locking. On PostgreSQL the conditional UPDATE decides among rows locked FOR UPDATE; on SQLite, IMMEDIATE
transactions serialise the writers.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from notifications.models import OutboxEvent
from requests_app.models import TimelineEntry
from verification import services
from verification.models import VerificationChallenge

pytestmark = pytest.mark.django_db(transaction=True)


def _race(n, action):
    barrier = threading.Barrier(n)
    outcomes: list[object] = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait()
            result = action()
        except Exception as exc:
            result = exc
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


@pytest.mark.parametrize("n", [2, 5])
def test_concurrent_right_codes_verify_once(code_sent, n):
    request_id, challenge_id, code = code_sent()

    outcomes = _race(n, lambda: services.subject_verify(challenge_id=challenge_id, code=code))

    assert len(outcomes) == n
    assert sum(isinstance(o, services.Verified) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, services.VerificationFailed) for o in outcomes) == n - 1, outcomes
    assert TimelineEntry.objects.filter(request_id=request_id, action="verification.receive").count() == 1
    assert (
        OutboxEvent.objects.filter(request_id=request_id, type="request.verification_received").count() == 1
    )
    assert VerificationChallenge.objects.get(pk=challenge_id).status == "VERIFIED"


@pytest.mark.postgres
def test_concurrent_wrong_codes_count_every_attempt_and_lock_once(code_sent):
    request_id, challenge_id, code = code_sent()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    outcomes = _race(7, lambda: services.subject_verify(challenge_id=challenge_id, code=wrong))

    assert all(isinstance(o, services.VerificationFailed) for o in outcomes), outcomes
    challenge = VerificationChallenge.objects.get(pk=challenge_id)
    assert (challenge.attempts, challenge.status) == (5, "LOCKED")
    assert TimelineEntry.objects.filter(request_id=request_id, action="verification.locked").count() == 1


@pytest.mark.postgres
def test_a_right_code_racing_a_manual_receive_verifies_once(code_sent, officer):
    from requests_app.services import request_verification_receive

    request_id, challenge_id, code = code_sent()

    def manual():
        return request_verification_receive(
            org=officer.org,
            request_id=request_id,
            actor="apikey:test",
            method="MANUAL",
            notice=services.challenge_cancel_notice(),
        )

    actions = [lambda: services.subject_verify(challenge_id=challenge_id, code=code), manual]
    outcomes = _race(2, lambda: actions.pop()())

    assert TimelineEntry.objects.filter(request_id=request_id, action="verification.receive").count() == 1
    assert VerificationChallenge.objects.get(pk=challenge_id).status in ("VERIFIED", "CANCELLED")
    assert not any(
        type(o).__name__ not in ("Verified", "VerificationFailed", "ActionResult", "InvalidTransition")
        for o in outcomes
    ), outcomes
