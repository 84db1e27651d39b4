"""Fair claims: orgs in turn, each endpoint's and each org's share of the attempts in flight, one probe.

First `fair_pick` alone (pure: candidates in, picks out), then `deliveries_claim` against the database,
where the shares count what every worker process has in flight.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections
from django.utils import timezone

from notifications.models import Delivery, DeliveryStatus, OutboxEvent, WebhookEndpoint
from notifications.services import attempt_send, attempts_record, deliveries_claim, event_emit, outbox_relay
from notifications.services.delivery import _Candidate, fair_pick

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def backlog(org: str, endpoint: str, n: int, *, since: float = 0, probing: bool = False) -> list[_Candidate]:
    """`n` due rows of one endpoint, the first `since` seconds after T0, one second apart (oldest: rank 1)."""
    return [
        _Candidate(
            id=f"{endpoint}.{rank}",
            org_id=org,
            endpoint_id=endpoint,
            rank=rank,
            next_attempt_at=T0 + timedelta(seconds=since + rank - 1),
            status="PENDING",
            attempt=0,
            claimed_at=None,
            probing=probing,
        )
        for rank in range(1, n + 1)
    ]


def pick(candidates, *, limit=100, per_endpoint=2, per_org=8, busy_endpoints=(), busy_orgs=()) -> list[str]:
    return [
        c.id
        for c in fair_pick(
            candidates,
            limit=limit,
            per_endpoint=per_endpoint,
            per_org=per_org,
            busy_endpoints=Counter(dict(busy_endpoints)),
            busy_orgs=Counter(dict(busy_orgs)),
        )
    ]


# --- fair_pick ----------------------------------------------------------------------------------------------


def test_nothing_to_pick():
    assert pick([]) == []
    assert pick(backlog("A", "a1", 2), limit=0) == []


def test_orgs_take_turns_the_one_waiting_longest_first():
    candidates = backlog("B", "b1", 2, since=10) + backlog("C", "c1", 2, since=20) + backlog("A", "a1", 2)
    assert pick(candidates) == ["a1.1", "b1.1", "c1.1", "a1.2", "b1.2", "c1.2"]
    assert pick(candidates, limit=3) == ["a1.1", "b1.1", "c1.1"]
    assert pick(candidates, limit=1) == ["a1.1"]


def test_an_org_with_many_endpoints_does_not_crowd_out_one_with_few():
    many = [c for i in range(10) for c in backlog("A", f"a{i}", 1, since=i)]
    few = backlog("B", "b1", 2, since=100)  # and waiting for less time
    assert pick(many + few, limit=4) == ["a0.1", "b1.1", "a1.1", "b1.2"]


def test_within_an_org_its_endpoints_take_turns_the_one_waiting_longest_first():
    candidates = backlog("A", "a2", 2, since=5) + backlog("A", "a1", 2)
    assert pick(candidates) == ["a1.1", "a2.1", "a1.2", "a2.2"]


def test_each_endpoint_gets_its_share_minus_what_it_has_in_flight():
    candidates = backlog("A", "a1", 5)
    assert pick(candidates, per_endpoint=2) == ["a1.1", "a1.2"]  # its oldest
    assert pick(candidates, per_endpoint=3) == ["a1.1", "a1.2", "a1.3"]
    assert pick(candidates, busy_endpoints={"a1": 1}) == ["a1.1"]
    assert pick(candidates, busy_endpoints={"a1": 2}) == []
    assert pick(candidates, busy_endpoints={"a1": 7}) == []  # more than its share: none, not negative
    # A busy endpoint leaves its org's other endpoints alone.
    assert pick(candidates + backlog("A", "a2", 1, since=9), busy_endpoints={"a1": 2}) == ["a2.1"]


def test_each_org_gets_its_share_minus_what_it_has_in_flight():
    org_a = [c for i in range(5) for c in backlog("A", f"a{i}", 1, since=i)]
    org_b = backlog("B", "b1", 2, since=50)
    assert pick(org_a, per_org=3) == ["a0.1", "a1.1", "a2.1"]
    assert pick(org_a, per_org=3, busy_orgs={"A": 2}) == ["a0.1"]
    # A full org does not stop the others.
    assert pick(org_a + org_b, per_org=3, busy_orgs={"A": 3}) == ["b1.1", "b1.2"]
    assert pick(org_a + org_b, per_org=3) == ["a0.1", "b1.1", "a1.1", "b1.2", "a2.1"]


def test_an_endpoint_on_probation_gets_one_slot():
    probing = backlog("A", "a1", 2, probing=True)
    healthy = backlog("A", "a2", 2, since=10)
    assert pick(probing) == ["a1.1"]
    assert pick(probing, busy_endpoints={"a1": 1}) == []  # its probe is in flight
    assert pick(probing + healthy) == ["a1.1", "a2.1", "a2.2"]


# --- deliveries_claim ---------------------------------------------------------------------------------------


def _endpoint(org, n: int, **fields) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        org=org,
        url=f"https://receiver{n}.example/hook",
        event_types=["*"],
        secret="whsec_x",
        created_at=timezone.now(),
        **fields,
    )


def _due(org, endpoint: WebhookEndpoint, n: int, *, since: datetime) -> list[str]:
    """`n` deliveries to `endpoint` due from `since` on, one second apart."""
    event = event_emit(org_id=org.pk, type="request.created", data={}, at=since)
    OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=since)
    rows = [
        Delivery.objects.create(
            org=org,
            event=event,
            endpoint=endpoint,
            next_attempt_at=since + timedelta(seconds=i),
            created_at=since,
        )
        for i in range(n)
    ]
    return [d.pk for d in rows]


def at(moment: datetime):
    return lambda: moment


@pytest.mark.django_db
def test_claims_keep_to_each_endpoints_share_while_attempts_are_in_flight(org, settings):
    settings.DSAR_WEBHOOK_LEASE_SECONDS = 60
    now = timezone.now()
    endpoint = _endpoint(org, 1)
    ids = _due(org, endpoint, 5, since=now - timedelta(minutes=1))
    first = deliveries_claim(limit=10, clock=at(now))
    assert [d.pk for d in first] == ids[:2]  # its share, oldest first
    assert all(d.status == DeliveryStatus.DELIVERING and d.attempt == 1 for d in first)
    assert deliveries_claim(limit=10, clock=at(now)) == []  # both slots taken
    # One attempt is recorded (failed, retry later): its slot is free again.
    Delivery.objects.filter(pk=ids[0]).update(
        status=DeliveryStatus.FAILED, claimed_until=None, next_attempt_at=now + timedelta(hours=1)
    )
    assert [d.pk for d in deliveries_claim(limit=10, clock=at(now))] == [ids[2]]
    # A lease that ran out holds no slot: its row is due again, and the slot goes to the oldest.
    after_lease = now + timedelta(seconds=61)
    assert [d.pk for d in deliveries_claim(limit=10, clock=at(after_lease))] == [ids[1], ids[2]]


@pytest.mark.django_db
def test_a_row_whose_lease_ran_out_comes_first_in_its_endpoints_turn(org, settings):
    settings.DSAR_WEBHOOK_LEASE_SECONDS = 60
    now = timezone.now()
    endpoint = _endpoint(org, 1)
    (lost,) = _due(org, endpoint, 1, since=now - timedelta(seconds=1))
    assert [d.pk for d in deliveries_claim(limit=1, clock=at(now))] == [lost]  # ...and its worker dies
    older = _due(org, endpoint, 2, since=now - timedelta(hours=1))  # due for longer than it, even
    after_lease = now + timedelta(seconds=61)
    (first,) = deliveries_claim(limit=1, clock=at(after_lease))
    assert (first.pk, first.attempt) == (lost, 2)
    assert [d.pk for d in deliveries_claim(limit=5, clock=at(after_lease))] == older[:1]  # the share: 2


@pytest.mark.django_db
def test_claims_keep_to_each_orgs_share(org, other_org, settings):
    settings.DSAR_WEBHOOK_ORG_MAX_IN_FLIGHT = 3
    now = timezone.now()
    since = now - timedelta(minutes=1)
    for n in range(5):
        _due(org, _endpoint(org, n), 1, since=since)
    theirs = _due(other_org, _endpoint(other_org, 9), 1, since=now)
    claimed = deliveries_claim(limit=10, clock=at(now))
    assert Counter(d.org_id for d in claimed) == {org.pk: 3, other_org.pk: 1}
    assert theirs[0] in {d.pk for d in claimed}
    assert deliveries_claim(limit=10, clock=at(now)) == []  # the org is at its share


@pytest.mark.django_db
def test_claims_give_orgs_turns_the_one_waiting_longest_first(org, other_org):
    now = timezone.now()
    for n in range(4):
        _due(org, _endpoint(org, n), 2, since=now - timedelta(minutes=10))
    theirs = _due(other_org, _endpoint(other_org, 9), 2, since=now - timedelta(minutes=1))
    (first,) = deliveries_claim(limit=1, clock=at(now))
    assert first.org_id == org.pk  # waiting longest
    claimed = deliveries_claim(limit=2, clock=at(now))
    assert Counter(d.org_id for d in claimed) == {org.pk: 1, other_org.pk: 1}  # one each, not two of theirs
    assert theirs[0] in {d.pk for d in claimed}


@pytest.mark.django_db
def test_claims_skip_rows_not_due_and_endpoints_disabled_or_deleted(org):
    now = timezone.now()
    live = _endpoint(org, 1)
    disabled = _endpoint(org, 2, disabled_at=now)
    deleted = _endpoint(org, 3, deleted_at=now)
    (due,) = _due(org, live, 1, since=now - timedelta(seconds=1))
    _due(org, live, 1, since=now + timedelta(seconds=30))
    _due(org, disabled, 1, since=now - timedelta(seconds=1))
    _due(org, deleted, 1, since=now - timedelta(seconds=1))
    assert [d.pk for d in deliveries_claim(limit=10, clock=at(now))] == [due]
    assert deliveries_claim(limit=0, clock=at(now + timedelta(minutes=1))) == []


@pytest.mark.django_db(transaction=True)
def test_concurrent_claimers_never_take_a_row_twice_nor_more_than_an_endpoints_share(org, other_org):
    now = timezone.now()
    endpoints = [_endpoint(org, 1), _endpoint(org, 2), _endpoint(other_org, 3), _endpoint(other_org, 4)]
    for endpoint in endpoints:
        _due(endpoint.org, endpoint, 6, since=now - timedelta(minutes=1))
    barrier = threading.Barrier(4)
    claimed: list[Delivery] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def claimer():
        try:
            barrier.wait()
            for _ in range(3):
                got = deliveries_claim(limit=3)
                with lock:
                    claimed.extend(got)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    claimed += deliveries_claim(limit=100)
    ids = [d.pk for d in claimed]
    assert len(ids) == len(set(ids)) == 8  # each endpoint's share of 2, once
    assert set(Counter(d.endpoint.pk for d in claimed).values()) == {2}
    assert Delivery.objects.filter(status="DELIVERING").count() == 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatchers_send_each_attempt_once_and_keep_to_the_share(
    make_request, receiver, endpoint_for
):
    endpoint_for(receiver, path="/a")
    endpoint_for(receiver, path="/b")
    receiver.default = receiver.Reply(200, delay=0.05)
    for _ in range(8):
        make_request()
    assert len(outbox_relay().delivery_ids) == 16
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def dispatcher():
        try:
            barrier.wait()
            idle = 0
            while idle < 5:
                claimed = deliveries_claim(limit=2)
                idle = 0 if claimed else idle + 1
                attempts_record([attempt_send(d) for d in claimed])
                if not claimed:
                    threading.Event().wait(0.02)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=dispatcher) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert Counter(Delivery.objects.values_list("status", flat=True)) == {"DELIVERED": 16}
    sent = Counter((r.webhook_id, r.path) for r in receiver.received)
    assert len(sent) == 16 and set(sent.values()) == {1}
    assert receiver.max_in_flight["/a"] <= 2 and receiver.max_in_flight["/b"] <= 2
