"""The circuit breaker, per endpoint: after DSAR_WEBHOOK_BREAKER_THRESHOLD failed attempts in a row the
endpoint is left alone until `backoff_until` (doubling each time it opens again, capped), then one probe
at a time; a success closes it and resets the counters. Time is injected (`clock=`), never slept."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from notifications.models import Delivery, WebhookEndpoint
from notifications.services import attempt_send, attempts_record, deliveries_claim, outbox_relay
from notifications.services.delivery import breaker_wait

pytestmark = pytest.mark.django_db


def at(moment: datetime):
    return lambda: moment


def dispatch(moment: datetime, *, limit: int = 10) -> list[str]:
    """Claim (fairly), send and record at `moment`; the statuses after each attempt."""
    claimed = deliveries_claim(limit=limit, clock=at(moment))
    return [
        o.status
        for o in attempts_record([attempt_send(d, clock=at(moment)) for d in claimed], clock=at(moment))
    ]


def breaker(endpoint: WebhookEndpoint) -> tuple[int, datetime | None, int]:
    endpoint.refresh_from_db()
    return endpoint.consecutive_failures, endpoint.backoff_until, endpoint.backoff_trips


@pytest.fixture
def failing(settings, receiver, endpoint_for, make_request):
    """An endpoint answering 500, three deliveries waiting, retried without delay. (endpoint, t0)."""
    settings.DSAR_WEBHOOK_RETRY_SCHEDULE = [0] * 30  # a failed delivery is due again at once
    endpoint = endpoint_for(receiver)
    receiver.default = receiver.Reply(500)
    for _ in range(3):
        make_request()
    outbox_relay()
    return endpoint, timezone.now()


def test_the_wait_doubles_each_time_it_opens_again_up_to_the_cap(settings):
    assert [breaker_wait(n).total_seconds() for n in (1, 2, 3, 6, 7, 20)] == [60, 120, 240, 1920, 3600, 3600]
    settings.DSAR_WEBHOOK_BREAKER_BACKOFF = 10
    settings.DSAR_WEBHOOK_BREAKER_BACKOFF_MAX = 25
    assert [breaker_wait(n).total_seconds() for n in (1, 2, 3)] == [10, 20, 25]


def test_five_failures_in_a_row_open_it_then_one_probe_and_a_success_closes_it(
    failing, receiver, endpoint_for, caplog
):
    endpoint, t0 = failing
    for n in range(1, 5):
        assert dispatch(t0, limit=1) == ["FAILED"]
        assert breaker(endpoint) == (n, None, 0)
    with caplog.at_level(logging.WARNING, logger="notifications.delivery"):
        assert dispatch(t0, limit=1) == ["FAILED"]
    assert breaker(endpoint) == (5, t0 + timedelta(seconds=60), 1)
    assert any("failed 5 times in a row" in r.getMessage() for r in caplog.records)

    # Open: three deliveries are due, none is claimed; another endpoint of the org is not affected.
    assert Delivery.objects.filter(endpoint=endpoint, next_attempt_at__lte=t0).count() == 3
    assert deliveries_claim(limit=10, clock=at(t0 + timedelta(seconds=59))) == []
    healthy = endpoint_for(receiver, path="/healthy")
    Delivery.objects.create(
        org=endpoint.org,
        event=Delivery.objects.first().event,
        endpoint=healthy,
        next_attempt_at=t0,
        created_at=t0,
    )
    assert [d.endpoint.pk for d in deliveries_claim(limit=10, clock=at(t0 + timedelta(seconds=59)))] == [
        healthy.pk
    ]
    sent_before = len(receiver.received)

    # The wait is over: one probe, though three are due and the endpoint's share is two.
    after = t0 + timedelta(seconds=60)
    (probe,) = deliveries_claim(limit=10, clock=at(after))
    assert probe.endpoint.pk == endpoint.pk
    assert deliveries_claim(limit=10, clock=at(after)) == []  # one probe at a time
    receiver.default = receiver.Reply(200)
    (outcome,) = attempts_record([attempt_send(probe, clock=at(after))], clock=at(after))
    assert outcome.status == "DELIVERED"
    assert len(receiver.received) == sent_before + 1
    assert breaker(endpoint) == (0, None, 0)  # closed, counters reset

    # Closed: the endpoint gets its full share again.
    assert dispatch(after) == ["DELIVERED", "DELIVERED"]


def test_a_failed_probe_opens_it_again_for_twice_as_long_up_to_the_cap(failing, settings):
    settings.DSAR_WEBHOOK_BREAKER_THRESHOLD = 2
    settings.DSAR_WEBHOOK_BREAKER_BACKOFF = 10
    settings.DSAR_WEBHOOK_BREAKER_BACKOFF_MAX = 25
    endpoint, t0 = failing
    assert dispatch(t0) == ["FAILED", "FAILED"]
    assert breaker(endpoint) == (2, t0 + timedelta(seconds=10), 1)
    probe = t0 + timedelta(seconds=10)
    assert dispatch(probe) == ["FAILED"]  # one probe
    assert breaker(endpoint) == (3, probe + timedelta(seconds=20), 2)
    assert dispatch(probe + timedelta(seconds=19)) == []
    probe += timedelta(seconds=20)
    assert dispatch(probe) == ["FAILED"]
    assert breaker(endpoint) == (4, probe + timedelta(seconds=25), 3)  # 40 s, capped at 25


def test_a_success_resets_the_count(failing, receiver):
    endpoint, t0 = failing
    receiver.script = [receiver.Reply(500)] * 4 + [receiver.Reply(200)] + [receiver.Reply(500)] * 4
    receiver.default = receiver.Reply(200)
    statuses = [s for _ in range(9) for s in dispatch(t0, limit=1)]
    assert statuses == ["FAILED"] * 4 + ["DELIVERED"] + ["FAILED"] * 4
    assert breaker(endpoint) == (4, None, 0)  # nine attempts, never five failures in a row


def test_failures_of_different_deliveries_count_together(failing):
    # The breaker is the endpoint's, not a delivery's: three deliveries failing in turn open it.
    endpoint, t0 = failing
    for _ in range(3):
        assert dispatch(t0, limit=1) == ["FAILED"]
    assert dispatch(t0, limit=2) == ["FAILED", "FAILED"]
    assert set(Delivery.objects.values_list("attempt", flat=True)) <= {1, 2}
    failures, until, trips = breaker(endpoint)
    assert (failures, trips) == (5, 1) and until == t0 + timedelta(seconds=60)


def _claim_two_then_send(t0: datetime):
    claimed = deliveries_claim(limit=2, clock=at(t0))
    assert len(claimed) == 2  # both in flight before either is recorded
    return [attempt_send(d, clock=at(t0)) for d in claimed]


def test_a_failure_recorded_while_it_is_open_does_not_extend_it(failing, settings):
    settings.DSAR_WEBHOOK_BREAKER_THRESHOLD = 2
    endpoint, t0 = failing
    assert dispatch(t0, limit=1) == ["FAILED"]
    first, second = _claim_two_then_send(t0)
    attempts_record([first], clock=at(t0))
    assert breaker(endpoint) == (2, t0 + timedelta(seconds=60), 1)
    later = t0 + timedelta(seconds=5)
    attempts_record([second], clock=at(later))  # it was in flight when the breaker opened
    assert breaker(endpoint) == (3, t0 + timedelta(seconds=60), 1)  # counted, but no second trip


def test_a_failure_after_it_opened_in_the_same_batch_does_not_extend_it(failing, settings):
    settings.DSAR_WEBHOOK_BREAKER_THRESHOLD = 2
    endpoint, t0 = failing
    assert dispatch(t0, limit=1) == ["FAILED"]
    attempts_record(_claim_two_then_send(t0), clock=at(t0))
    assert breaker(endpoint) == (3, t0 + timedelta(seconds=60), 1)


def test_an_attempt_in_flight_when_it_opened_that_then_succeeds_closes_it(failing, settings, receiver):
    settings.DSAR_WEBHOOK_BREAKER_THRESHOLD = 2
    endpoint, t0 = failing
    assert dispatch(t0, limit=1) == ["FAILED"]
    receiver.script = [receiver.Reply(500), receiver.Reply(200)]
    first, second = _claim_two_then_send(t0)
    attempts_record([first], clock=at(t0))
    assert breaker(endpoint)[1] is not None
    attempts_record([second], clock=at(t0))
    assert breaker(endpoint) == (0, None, 0)  # the receiver answers: no reason to wait
    assert len(deliveries_claim(limit=10, clock=at(t0))) == 2
