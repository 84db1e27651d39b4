"""Delivery: fair claims, one signed attempt, and its record. The retry schedule lives in the database.

Three steps per attempt, the HTTP request between two short transactions and never inside one:

1. **claim** (`deliveries_claim`): pick due deliveries fairly and move them to DELIVERING under a claim
   token and a lease, in one conditional UPDATE. Fair means:
   - each endpoint has at most DSAR_WEBHOOK_MAX_IN_FLIGHT attempts in flight (default 2), counted across
     every worker process (rows in DELIVERING with a live lease), so a hanging receiver holds at most its
     own slots;
   - each org has at most DSAR_WEBHOOK_ORG_MAX_IN_FLIGHT in flight (default 8), so one org's many slow
     endpoints cannot take every worker's threads;
   - the free slots go to orgs in turn (the org waiting longest first), and within an org to its
     endpoints in turn;
   - an endpoint whose circuit breaker is open is skipped; once its wait is over, one probe at a time.
   The caller claims only as many as it has threads free, so every claimed attempt starts at once: a
   lease is never granted to an attempt that then waits.
2. **send** (`attempt_send`): at the moment it starts, the attempt takes its own time for the
   `webhook-timestamp`, the signature and the record. No database access.
3. **record** (`attempts_record`): the attempts and the new states in one transaction, each row only if
   our claim token still holds it (if our lease ran out and another worker took over, its outcome is the
   one that counts; ours stays in the attempt log), and the endpoints' breakers.

Delivery is at-least-once: receivers dedupe on `webhook-id`, the event id on every retry and replay.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, F, Field, Q
from django.utils import timezone

from .. import conf, netguard, signing, transport
from ..models import RETRYABLE, Delivery, DeliveryAttempt, DeliveryStatus, WebhookEndpoint

log = logging.getLogger("notifications.delivery")

LOST_ATTEMPT_ERROR = (
    "No result recorded: the worker stopped during this attempt and its lease expired; "
    "the receiver may or may not have got it."
)

Clock = Callable[[], datetime]


def _due(now: datetime) -> Q:
    # Retryable rows whose time has come, and claimed rows whose worker's lease ran out (it died mid-attempt).
    return Q(status__in=RETRYABLE, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.DELIVERING, claimed_until__lte=now
    )


def retry_delay(
    *, failed_attempt: int, retry_after: float | None = None, rng: random.Random | None = None
) -> timedelta | None:
    """Delay before the attempt after `failed_attempt` (1-based), or None when the schedule is spent.

    Full jitter: uniformly between 0 and the schedule's step, so receivers coming back from an outage
    are not hit by every delivery at the same instant. A receiver's Retry-After is a floor.
    """
    schedule = conf.retry_schedule()
    if failed_attempt >= len(schedule):
        return None
    seconds = (rng or random).uniform(0, schedule[failed_attempt])
    if retry_after is not None:
        seconds = max(seconds, min(retry_after, conf.MAX_RETRY_AFTER.total_seconds()))
    return timedelta(seconds=seconds)


def breaker_wait(trips: int) -> timedelta:
    """How long an endpoint's breaker stays open the `trips`-th time in a row: doubling, capped."""
    base, cap = conf.breaker_backoff(), conf.breaker_backoff_max()
    return min(base * (2 ** max(0, trips - 1)), cap)


# --- 1. claim -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Candidate:
    id: str
    org_id: str
    endpoint_id: str
    rank: int
    next_attempt_at: datetime | None
    status: str
    attempt: int
    claimed_at: datetime | None
    probing: bool  # the endpoint's breaker wait is over: one probe at a time


def _candidates(now: datetime, per_endpoint: int) -> list[_Candidate]:
    """Each live endpoint's oldest due deliveries, at most `per_endpoint` each.

    The cost follows the number of endpoints, not the backlog: one index probe per endpoint
    (`delivery_due_by_endpoint`) for its first rows, plus the rows whose worker's lease ran out (the
    `delivery_leased` index), which come first in their endpoint's turn.
    """
    rows = _due_per_endpoint(now, per_endpoint) + _lapsed(now, per_endpoint)
    rows.sort(key=lambda r: (r[2], r[4] != DeliveryStatus.DELIVERING, r[3] or now, r[0]))
    candidates: list[_Candidate] = []
    rank: Counter[str] = Counter()
    for delivery_id, org_id, endpoint_id, next_at, status, attempt, claimed_at, backoff_until in rows:
        rank[endpoint_id] += 1
        if rank[endpoint_id] <= per_endpoint:
            candidates.append(
                _Candidate(
                    delivery_id,
                    org_id,
                    endpoint_id,
                    rank[endpoint_id],
                    next_at,
                    status,
                    attempt,
                    claimed_at,
                    probing=backoff_until is not None,
                )
            )
    return candidates


_COLUMNS = (
    "d.id, d.org_id, d.endpoint_id, d.next_attempt_at, d.status, d.attempt, d.claimed_at, e.backoff_until"
)


def _due_per_endpoint(now: datetime, per_endpoint: int) -> list[tuple]:
    """(one SQL statement) the first `per_endpoint` retryable rows due now of every live endpoint."""
    delivery = connection.ops.quote_name(Delivery._meta.db_table)
    endpoint = connection.ops.quote_name(WebhookEndpoint._meta.db_table)
    breaker_closed = "(e.backoff_until IS NULL OR e.backoff_until <= %s)"
    live = f"e.deleted_at IS NULL AND e.disabled_at IS NULL AND {breaker_closed}"
    first_rows = (
        f"SELECT i.id FROM {delivery} i WHERE i.endpoint_id = e.id AND i.status IN (%s, %s) "  # noqa: S608
        "AND i.next_attempt_at <= %s ORDER BY i.next_attempt_at, i.id LIMIT %s"
    )
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT {_COLUMNS} FROM {endpoint} e CROSS JOIN LATERAL ({first_rows}) f "  # noqa: S608
            f"JOIN {delivery} d ON d.id = f.id WHERE {live}"
        )
    else:  # SQLite: the correlated subquery is evaluated per endpoint, then each row is found by its key
        sql = f"SELECT {_COLUMNS} FROM {endpoint} e JOIN {delivery} d ON d.id IN ({first_rows}) WHERE {live}"  # noqa: S608
    params = [*RETRYABLE, now, per_endpoint, now]
    with connection.cursor() as cursor:
        cursor.execute(sql, [_param(p) for p in params])
        return [_row(r) for r in cursor.fetchall()]


def _lapsed(now: datetime, per_endpoint: int) -> list[tuple]:
    """Claimed rows whose lease ran out (their worker died mid-attempt), on live endpoints."""
    return [
        tuple(r)
        for r in Delivery.objects.filter(status=DeliveryStatus.DELIVERING, claimed_until__lte=now)
        .filter(endpoint__deleted_at__isnull=True, endpoint__disabled_at__isnull=True)
        .filter(Q(endpoint__backoff_until__isnull=True) | Q(endpoint__backoff_until__lte=now))
        .order_by("claimed_until")
        .values_list(
            "id",
            "org_id",
            "endpoint_id",
            "next_attempt_at",
            "status",
            "attempt",
            "claimed_at",
            "endpoint__backoff_until",
        )[: per_endpoint * 500]
    ]


def _param(value: Any) -> Any:
    field = Delivery._meta.get_field("next_attempt_at")
    if isinstance(value, datetime):
        assert isinstance(field, Field)
        return field.get_db_prep_value(value, connection)
    return value


def _row(row: tuple) -> tuple:
    """Datetimes from a raw cursor as the ORM would give them (SQLite returns text)."""
    converted = list(row)
    for i in (3, 6, 7):
        value = converted[i]
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if isinstance(value, datetime) and timezone.is_naive(value):
            value = timezone.make_aware(value, UTC)
        converted[i] = value
    return tuple(converted)


def _in_flight(now: datetime, org_ids: set[str]) -> tuple[Counter[str], Counter[str]]:
    """Attempts in flight now (claimed, lease live) in these orgs, by endpoint and by org, across every
    worker process."""
    by_endpoint: Counter[str] = Counter()
    by_org: Counter[str] = Counter()
    rows = (
        Delivery.objects.filter(status=DeliveryStatus.DELIVERING, claimed_until__gt=now, org_id__in=org_ids)
        .values_list("org_id", "endpoint_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for org_id, endpoint_id, n in rows:
        by_endpoint[endpoint_id] += n
        by_org[org_id] += n
    return by_endpoint, by_org


def fair_pick(
    candidates: Sequence[_Candidate],
    *,
    limit: int,
    per_endpoint: int,
    per_org: int,
    busy_endpoints: Counter[str],
    busy_orgs: Counter[str],
) -> list[_Candidate]:
    """Up to `limit` candidates: orgs in turn (longest waiting first), each org's endpoints in turn.

    An endpoint gets at most `per_endpoint` minus what it has in flight (1 minus that while probing), an
    org at most `per_org` minus its own.
    """
    room: dict[str, int] = {}
    for c in candidates:
        cap = 1 if c.probing else per_endpoint
        room[c.endpoint_id] = max(0, cap - busy_endpoints[c.endpoint_id])
    org_room = {c.org_id: max(0, per_org - busy_orgs[c.org_id]) for c in candidates}

    # Each endpoint's rows that fit its room, oldest first.
    by_endpoint: dict[str, deque[_Candidate]] = {}
    for c in sorted(candidates, key=lambda c: c.rank):
        queue = by_endpoint.setdefault(c.endpoint_id, deque())
        if len(queue) < room[c.endpoint_id]:
            queue.append(c)
    # Per org, its endpoints in turn, the one waiting longest first; orgs likewise.
    orgs: dict[str, deque[deque[_Candidate]]] = defaultdict(deque)
    for queue in sorted((q for q in by_endpoint.values() if q), key=lambda q: _waited(q[0])):
        orgs[queue[0].org_id].append(queue)
    turn = deque(sorted(orgs, key=lambda org_id: _waited(orgs[org_id][0][0])))
    picked: list[_Candidate] = []
    while turn and len(picked) < limit:
        org_id = turn.popleft()
        endpoints = orgs[org_id]
        if org_room[org_id] <= 0 or not endpoints:
            continue
        queue = endpoints.popleft()
        picked.append(queue.popleft())
        org_room[org_id] -= 1
        if queue:
            endpoints.append(queue)
        if endpoints and org_room[org_id] > 0:
            turn.append(org_id)
    return picked


def _waited(c: _Candidate) -> datetime:
    # Due since `next_attempt_at`; a row without one (never the case for retryable rows) sorts first.
    return c.next_attempt_at or c.claimed_at or datetime.min.replace(tzinfo=UTC)


def deliveries_claim(*, limit: int, clock: Clock = timezone.now) -> list[Delivery]:
    """Claim up to `limit` due deliveries, fairly (see the module docstring), for immediate sending.

    On PostgreSQL the candidates' endpoints are locked while their in-flight counts are read and the
    claim is made, so two workers never both fill the same endpoint's slots; SQLite takes the write lock
    at BEGIN (IMMEDIATE), which serialises claims altogether.
    """
    if limit <= 0:
        return []
    per_endpoint, per_org = conf.max_in_flight(), conf.org_max_in_flight()
    with transaction.atomic():
        _fast_commit()
        now = clock()
        candidates = _candidates(now, per_endpoint)
        if not candidates:
            return []
        if connection.features.has_select_for_update:
            # Wait (briefly) rather than skip: a claimer that skipped a locked endpoint would leave its
            # new deliveries to the next tick. Every locker takes endpoints in id order: no deadlock.
            list(
                WebhookEndpoint.objects.filter(pk__in={c.endpoint_id for c in candidates})
                .order_by("id")
                .select_for_update()
                .values_list("id", flat=True)
            )
        busy_endpoints, busy_orgs = _in_flight(now, {c.org_id for c in candidates})
        picked = fair_pick(
            candidates,
            limit=limit,
            per_endpoint=per_endpoint,
            per_org=per_org,
            busy_endpoints=busy_endpoints,
            busy_orgs=busy_orgs,
        )
        return _claim(picked, now=now)


def deliveries_claim_ids(*, delivery_ids: Sequence[str], clock: Clock = timezone.now) -> list[Delivery]:
    """Claim exactly these deliveries if they are due and no worker has them (tools and tests).

    No fairness bound: the caller chose them. The claim itself is the same conditional UPDATE.
    """
    with transaction.atomic():
        _fast_commit()
        now = clock()
        rows = (
            Delivery.objects.filter(pk__in=list(delivery_ids))
            .filter(_due(now))
            .filter(endpoint__deleted_at__isnull=True, endpoint__disabled_at__isnull=True)
            .values_list("id", "org_id", "endpoint_id", "next_attempt_at", "status", "attempt", "claimed_at")
        )
        picked = [_Candidate(r[0], r[1], r[2], 1, r[3], r[4], r[5], r[6], probing=False) for r in rows]
        return _claim(picked, now=now)


def _claim(picked: Sequence[_Candidate], *, now: datetime) -> list[Delivery]:
    """The claim proper (inside the caller's transaction)."""
    if not picked:
        return []
    token = uuid.uuid4().hex
    by_id = {c.id: c for c in picked}
    # `_due` is evaluated again by the UPDATE itself: a row another worker claimed since the read no longer
    # matches, and PostgreSQL re-checks it after waiting for that worker's lock.
    Delivery.objects.filter(pk__in=list(by_id)).filter(_due(now)).update(
        status=DeliveryStatus.DELIVERING,
        attempt=F("attempt") + 1,
        claimed_at=now,
        claimed_until=now + conf.lease(),
        claim_token=token,
    )
    claimed = list(
        Delivery.objects.filter(claim_token=token, status=DeliveryStatus.DELIVERING)
        .select_related("event", "endpoint")
        .only(
            "id",
            "org_id",
            "attempt",
            "claim_token",
            "claimed_until",
            "event__id",
            "event__body",
            "endpoint__id",
            "endpoint__url",
            "endpoint__secret",
            "endpoint__previous_secret",
            "endpoint__previous_secret_expires_at",
        )
        .order_by("next_attempt_at", "id")
    )
    # A row that was DELIVERING with an expired lease: its worker died during that attempt.
    lost = [
        DeliveryAttempt(
            delivery_id=d.pk,
            number=by_id[d.pk].attempt,
            attempted_at=by_id[d.pk].claimed_at or now,
            error=LOST_ATTEMPT_ERROR,
        )
        for d in claimed
        if by_id[d.pk].status == DeliveryStatus.DELIVERING
    ]
    if lost:
        DeliveryAttempt.objects.bulk_create(lost)
    return claimed


# --- 2. send ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    """What one attempt did. `started` and `finished` are taken when they happen."""

    delivery: Delivery
    result: transport.HttpResult
    sent: bool  # False when nothing went on the wire (refused address, unresolvable host)
    timestamp: int  # the webhook-timestamp it carried (or would have)
    started: datetime
    finished: datetime


def attempt_send(delivery: Delivery, *, clock: Clock = timezone.now) -> Sent:
    """One signed POST, or the reason none was made. Touches no database."""
    endpoint, event = delivery.endpoint, delivery.event
    body = event.body.encode("utf-8")
    started = clock()
    timestamp = int(started.timestamp())
    try:
        target = netguard.url_parse(endpoint.url)
        # Resolved and vetted again now (DNS can change); the connection goes to the vetted address.
        addresses = netguard.resolve(target, allow_private=conf.allow_private_networks())
    except netguard.UnsafeUrl as exc:
        result = transport.HttpResult(status=None, latency_ms=0, error=f"Not sent. {exc}"[:500])
        return Sent(delivery, result, False, timestamp, started, clock())
    result = transport.post(
        target=target,
        address=addresses[0],
        body=body,
        headers=signing.headers(
            secrets=endpoint.signing_secrets(started), msg_id=event.pk, timestamp=timestamp, body=body
        ),
        connect_timeout=conf.connect_timeout(),
        read_timeout=conf.read_timeout(),
    )
    return Sent(delivery, result, True, timestamp, started, clock())


# --- 3. record ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptOutcome:
    delivery_id: str
    number: int
    status: str  # the delivery's status after this attempt
    response_code: int | None
    error: str
    sent: bool


def _next_state(sent: Sent) -> None:
    """Set the delivery's fields (in memory) for the outcome of its attempt number `delivery.attempt`."""
    delivery, result = sent.delivery, sent.result
    delivery.last_attempted_at = sent.started
    delivery.last_response_code = result.status
    delivery.last_latency_ms = result.latency_ms if sent.sent else None
    delivery.last_error = result.error
    delivery.claimed_until = None
    delivery.delivered_at = None
    delivery.next_attempt_at = None
    if result.ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = sent.finished
    elif result.status == 410:
        # Standard Webhooks: 410 Gone means "stop sending"; the endpoint is disabled, not retried.
        delivery.status = DeliveryStatus.DEAD
    else:
        delay = retry_delay(failed_attempt=delivery.attempt, retry_after=result.retry_after)
        if delay is None:
            delivery.status = DeliveryStatus.DEAD
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = sent.finished + delay


_RECORDED_FIELDS = [
    "status",
    "last_attempted_at",
    "last_response_code",
    "last_latency_ms",
    "last_error",
    "claimed_until",
    "delivered_at",
    "next_attempt_at",
]


def attempts_record(sents: Sequence[Sent], *, clock: Clock = timezone.now) -> list[AttemptOutcome]:
    """Record finished attempts (in the order they finished) in one transaction; log each failure."""
    if not sents:
        return []
    for sent in sents:
        _next_state(sent)
    attempts = [
        DeliveryAttempt(
            delivery_id=s.delivery.pk,
            number=s.delivery.attempt,
            attempted_at=s.started,
            webhook_timestamp=s.timestamp if s.sent else None,
            response_code=s.result.status,
            latency_ms=s.result.latency_ms if s.sent else None,
            error=s.result.error,
        )
        for s in sents
    ]
    with transaction.atomic():
        _fast_commit()
        # Endpoints first, in id order, as the claim takes them: neither side waits on the other in a
        # cycle.
        burials = _breakers_update(sents, now=clock())
        DeliveryAttempt.objects.bulk_create(attempts)
        _update_claimed([s.delivery for s in sents])
        # After the update, so that a failure just recorded (FAILED, due again later) is buried too.
        for endpoint_id, reason in burials.items():
            deliveries_bury(endpoint_id=endpoint_id, reason=reason)
    for s in sents:
        if not s.result.ok:
            d = s.delivery
            then = (
                f"next attempt {d.next_attempt_at.isoformat(timespec='seconds')}"
                if d.next_attempt_at
                else "no more attempts (DEAD)"
            )
            log.warning(
                "Webhook delivery %s (event %s, endpoint %s) attempt %d failed: %s; %s.",
                d.pk,
                d.event.pk,
                d.endpoint.pk,
                d.attempt,
                s.result.error[:200],
                then,
            )
    return [
        AttemptOutcome(
            delivery_id=s.delivery.pk,
            number=s.delivery.attempt,
            status=str(s.delivery.status),
            response_code=s.result.status,
            error=s.result.error,
            sent=s.sent,
        )
        for s in sents
    ]


def _breakers_update(sents: Sequence[Sent], *, now: datetime) -> dict[str, str]:
    """Each endpoint's run of failures, its breaker, and a 410's disabling, from these outcomes.

    Returns the endpoints whose waiting deliveries must end as DEAD, with the reason: disabled by a 410
    now, or deleted or disabled while these attempts were in flight (claims skip such endpoints, so a
    failure left FAILED would wait for ever).
    """
    burials: dict[str, str] = {}
    by_endpoint: dict[str, list[Sent]] = defaultdict(list)
    for s in sents:
        by_endpoint[s.delivery.endpoint.pk].append(s)
    # Endpoints that only succeeded: close their breaker if it was not closed, without taking a row lock
    # when there is nothing to change (the common case, which must not queue behind the claims).
    healthy = [e for e, outcomes in by_endpoint.items() if all(o.result.ok for o in outcomes)]
    if healthy:
        WebhookEndpoint.objects.filter(pk__in=healthy).filter(
            Q(consecutive_failures__gt=0) | Q(backoff_until__isnull=False) | Q(backoff_trips__gt=0)
        ).update(consecutive_failures=0, backoff_until=None, backoff_trips=0)
    failing = sorted(set(by_endpoint) - set(healthy))
    if not failing:
        return burials
    rows = (
        WebhookEndpoint.objects.filter(pk__in=failing)
        .order_by("id")
        .select_for_update()
        .only(
            "id",
            "org_id",
            "consecutive_failures",
            "backoff_until",
            "backoff_trips",
            "disabled_at",
            "deleted_at",
        )
    )
    threshold = conf.breaker_threshold()
    for endpoint in rows:
        failures, until, trips = endpoint.consecutive_failures, endpoint.backoff_until, endpoint.backoff_trips
        gone: Sent | None = None
        for s in by_endpoint[endpoint.pk]:
            if s.result.ok:
                failures, until, trips = 0, None, 0
                continue
            if s.result.status == 410:
                gone = gone or s
            failures += 1
            open_now = until is not None and until > s.finished
            if failures >= threshold and not open_now:
                trips += 1
                until = s.finished + breaker_wait(trips)
                log.warning(
                    "Webhook endpoint %s failed %d times in a row; nothing is sent to it before %s.",
                    endpoint.pk,
                    failures,
                    until.isoformat(timespec="seconds"),
                )
        changes: dict[str, Any] = {}
        if (failures, until, trips) != (
            endpoint.consecutive_failures,
            endpoint.backoff_until,
            endpoint.backoff_trips,
        ):
            changes.update(consecutive_failures=failures, backoff_until=until, backoff_trips=trips)
        if gone is not None and endpoint.disabled_at is None:
            changes.update(
                disabled_at=now,
                disabled_reason=f"The receiver answered 410 Gone to delivery {gone.delivery.pk}.",
            )
            log.warning("Webhook endpoint %s disabled: the receiver answered 410 Gone.", endpoint.pk)
        if changes:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(**changes)
        if endpoint.deleted_at is not None:
            burials[endpoint.pk] = "The endpoint was deleted before this delivery was sent."
        elif gone is not None or endpoint.disabled_at is not None:
            burials[endpoint.pk] = "The endpoint was disabled before this delivery was sent."
    return burials


def deliveries_bury(*, endpoint_id: str, reason: str) -> int:
    """End as DEAD every delivery to this endpoint not yet sent (it was deleted or disabled)."""
    return Delivery.objects.filter(endpoint_id=endpoint_id, status__in=RETRYABLE).update(
        status=DeliveryStatus.DEAD, next_attempt_at=None, claimed_until=None, last_error=reason
    )


def deliveries_bury_orphans(*, now: datetime) -> int:
    """Periodic: deliveries whose worker died while their endpoint was deleted or disabled end as DEAD.

    Such rows are never claimed again (claims skip endpoints that are gone), so without this they would
    stay DELIVERING for ever.
    """
    return (
        Delivery.objects.filter(status=DeliveryStatus.DELIVERING, claimed_until__lte=now)
        .filter(Q(endpoint__deleted_at__isnull=False) | Q(endpoint__disabled_at__isnull=False))
        .update(
            status=DeliveryStatus.DEAD,
            claimed_until=None,
            next_attempt_at=None,
            last_error="The worker stopped during this attempt, and the endpoint is gone since.",
        )
    )


def _recorded_field(name: str) -> tuple[Field[Any, Any], str]:
    """A field of `_RECORDED_FIELDS` and its column (`get_field` may also return a reverse relation)."""
    field = Delivery._meta.get_field(name)
    assert isinstance(field, Field) and field.column, name
    return field, field.column


def _update_claimed(claimed: list[Delivery]) -> None:
    """One parameterised UPDATE per row, sent as a batch (`executemany`), each conditional on our claim.

    `bulk_update` would do the same in one statement but builds a CASE expression per field and row in
    Python, which costs more than the whole HTTP exchange at a few hundred deliveries a second.
    """
    recorded = [_recorded_field(name) for name in _RECORDED_FIELDS]
    quote = connection.ops.quote_name
    # Identifiers come from the model's metadata, every value is a parameter.
    assignments = ", ".join(f"{quote(column)} = %s" for _, column in recorded)
    table = quote(Delivery._meta.db_table)
    sql = f"UPDATE {table} SET {assignments} WHERE id = %s AND claim_token = %s AND status = %s"  # noqa: S608
    params = [
        [f.get_db_prep_save(getattr(d, f.attname), connection) for f, _ in recorded]
        + [d.pk, d.claim_token, DeliveryStatus.DELIVERING.value]
        for d in claimed
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _fast_commit() -> None:
    """Delivery bookkeeping commits without waiting for the WAL flush (PostgreSQL).

    A crash can lose the last few such commits, and the worst that does is send an attempt again: the
    contract promises at-least-once, and receivers dedupe on webhook-id. The outbox rows themselves are
    written by the business transaction, which keeps full durability.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


# --- synchronous attempts (tools and tests) -----------------------------------------------------------------


def deliveries_attempt(*, delivery_ids: Sequence[str], clock: Clock = timezone.now) -> list[AttemptOutcome]:
    """Attempt these deliveries now, one after the other, if due and not another worker's."""
    claimed = deliveries_claim_ids(delivery_ids=delivery_ids, clock=clock)
    return attempts_record([attempt_send(d, clock=clock) for d in claimed], clock=clock)


def delivery_attempt(*, delivery_id: str, clock: Clock = timezone.now) -> AttemptOutcome | None:
    """Make one attempt if the delivery is due and no other worker has it; None if there was nothing to do."""
    outcomes = deliveries_attempt(delivery_ids=[delivery_id], clock=clock)
    return outcomes[0] if outcomes else None
