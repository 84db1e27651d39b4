"""Notifications: the outbox, webhook endpoints, delivery with retries, and replay.

How an event travels:
1. `event_emit` inserts an `OutboxEvent` in the caller's transaction and, on commit, kicks the worker.
2. `outbox_relay` claims undispatched events and creates one `Delivery` per matching active endpoint.
3. `deliveries_due` lists due deliveries; `deliveries_attempt` claims a batch (one conditional UPDATE →
   DELIVERING under a claim token and a lease), POSTs them concurrently outside any transaction, then
   records the attempts and schedules the next ones in one transaction.
The kick only shortens the wait: the periodic dispatch (Celery beat or the embedded loop) is what
guarantees delivery, so a broker outage at commit time loses nothing. Delivery is at-least-once:
receivers dedupe on `webhook-id`, which is the event id on every retry and replay.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F, Field, Q
from django.utils import timezone

from core.api import Conflict, NotFound, ValidationFailed
from core.models import Org

from . import conf, netguard, signing, transport
from .models import RETRYABLE, Delivery, DeliveryAttempt, DeliveryStatus, OutboxEvent, WebhookEndpoint

log = logging.getLogger(__name__)

# The contract's event types ("at least" these); an endpoint may also subscribe to "*".
EVENT_TYPES: tuple[str, ...] = (
    "request.created",
    "request.acknowledged",
    "request.clarification_requested",
    "request.clarification_received",
    "request.extended",
    "request.refused",
    "request.closed",
    "request.requestor_changed",
    "request.verification_requested",
    "request.verification_received",
    "authority.requested",
    "authority.submitted",
    "authority.approved",
    "authority.rejected",
    "clock.at_risk",
    "clock.overdue",
    "clock.acknowledgement_at_risk",
    "clock.acknowledgement_overdue",
    "request.types_changed",
    "request.appeal_received",
    "request.appeal_decided",
    # Listed by the contract for the subject and export features: subscribable now, emitted once built.
    "request.verification_expired",
    "message.sent",
    "message.failed",
    "export.requested",
    "export.ready",
    "export.delivered",
    "export.expired",
    "export.failed",
    # Beyond the contract's list (it says "at least"): emitted when a request moves to a new pack version.
    "request.clock_recomputed",
)
ALL_EVENTS = "*"

LOST_ATTEMPT_ERROR = (
    "No result recorded: the worker stopped during this attempt and its lease expired; "
    "the receiver may or may not have got it."
)


# --- outbox -------------------------------------------------------------------------------------------------


def event_emit(
    *, org_id: str, type: str, data: dict[str, Any], at: datetime, request_id: str | None = None
) -> OutboxEvent:
    """Insert the event in the caller's transaction; it is delivered only if that transaction commits."""
    event = OutboxEvent(org_id=org_id, request_id=request_id, type=type, created_at=at)
    event.body = json.dumps(
        {"id": event.id, "type": type, "createdAt": at.isoformat(), "orgId": org_id, "data": data},
        separators=(",", ":"),
        ensure_ascii=False,
        cls=DjangoJSONEncoder,
    )
    event.save(force_insert=True)
    transaction.on_commit(kick)
    return event


def kick(*, delivery_ids: Sequence[str] = ()) -> None:
    """Wake delivery now rather than at the next tick. Best effort, never blocks, never raises.

    With a broker, the relay task (or, for `delivery_ids`, the deliver task) is published from a
    background thread (`kicker`): publishing to a broker that is down blocks for seconds, and that must
    not hold up the API response. Without one, the embedded worker loop is woken.
    """
    try:
        if conf.broker_configured():
            from .kicker import celery_kicker

            celery_kicker.kick(delivery_ids=delivery_ids)
        else:
            from .worker import wake

            wake()
    except Exception:
        log.warning(
            "Could not kick the webhook relay; the dispatch tick will pick the event up.", exc_info=True
        )


# --- endpoints ----------------------------------------------------------------------------------------------


def endpoint_create(
    *,
    org: Org,
    url: str,
    event_types: list[str],
    description: str = "",
    actor: str = "",
    now: datetime | None = None,
) -> WebhookEndpoint:
    """Register a receiver. The returned row carries the `whsec_` secret: show it once, never again."""
    now = now or timezone.now()
    try:
        # Checked here and again before every attempt; the URL is stored as given.
        netguard.url_check(url, allow_private=conf.allow_private_networks())
    except netguard.UnsafeUrl as exc:
        raise ValidationFailed.field("url", str(exc)) from None
    types = list(dict.fromkeys(event_types))
    if not types:
        raise ValidationFailed.field("eventTypes", 'At least one event type, or ["*"] for all.')
    for index, name in enumerate(types):
        if name != ALL_EVENTS and name not in EVENT_TYPES:
            raise ValidationFailed.field(f"eventTypes.{index}", f"Unknown event type {name!r}.")
    if ALL_EVENTS in types:
        types = [ALL_EVENTS]
    with transaction.atomic():
        return WebhookEndpoint.objects.create(
            org=org,
            url=url.strip(),
            event_types=types,
            description=description,
            secret=signing.secret_generate(),
            created_at=now,
            created_by=actor,
        )


def endpoint_delete(*, org: Org, endpoint_id: str, actor: str = "", now: datetime | None = None) -> None:
    """Soft delete: the row stays for the delivery history; deliveries not yet sent end as DEAD."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = WebhookEndpoint.objects.filter(org=org, pk=endpoint_id, deleted_at__isnull=True).update(
            deleted_at=now, deleted_by=actor
        )
        if updated != 1:
            raise NotFound("No such webhook endpoint in this organisation.")
        Delivery.objects.filter(endpoint_id=endpoint_id, status__in=RETRYABLE).update(
            status=DeliveryStatus.DEAD,
            next_attempt_at=None,
            enqueued_until=None,
            last_error="The endpoint was deleted before this delivery was sent.",
        )


def _active_endpoints(org_ids: set[str]) -> dict[str, list[WebhookEndpoint]]:
    by_org: dict[str, list[WebhookEndpoint]] = defaultdict(list)
    rows = WebhookEndpoint.objects.filter(
        org_id__in=org_ids, deleted_at__isnull=True, disabled_at__isnull=True
    ).only("id", "org_id", "event_types")
    for endpoint in rows:
        by_org[endpoint.org_id].append(endpoint)
    return by_org


# --- relay --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RelayResult:
    events: int  # events claimed (a batch this size means there may be more)
    delivery_ids: list[str]


def outbox_relay(
    *, limit: int = 200, now: datetime | None = None, reserve_for: timedelta | None = None
) -> RelayResult:
    """Turn up to `limit` undispatched events into deliveries, one per matching active endpoint.

    Safe with several relays at once: on PostgreSQL each takes different rows (`SKIP LOCKED`); elsewhere
    each event is claimed by a conditional UPDATE, and the one whose row count is 0 leaves it alone.
    `reserve_for` marks the new deliveries as taken care of (the Celery relay attempts or enqueues them
    itself), so a dispatch tick does not enqueue them a second time meanwhile.
    """
    now = now or timezone.now()
    with transaction.atomic():
        pending = (
            OutboxEvent.objects.filter(dispatched_at__isnull=True)
            .order_by("created_at", "id")
            .only("id", "org_id", "type")
        )
        if connection.features.has_select_for_update_skip_locked:
            events = list(pending.select_for_update(skip_locked=True)[:limit])
            if events:
                OutboxEvent.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=now)
        else:
            events = [
                e
                for e in pending[:limit]
                if OutboxEvent.objects.filter(pk=e.pk, dispatched_at__isnull=True).update(dispatched_at=now)
                == 1
            ]
        if not events:
            return RelayResult(events=0, delivery_ids=[])
        endpoints = _active_endpoints({e.org_id for e in events})
        reserved = now + reserve_for if reserve_for else None
        deliveries = [
            Delivery(
                org_id=event.org_id,
                event_id=event.pk,
                endpoint_id=endpoint.pk,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                enqueued_until=reserved,
                created_at=now,
            )
            for event in events
            for endpoint in endpoints.get(event.org_id, ())
            if endpoint.subscribes_to(event.type)
        ]
        Delivery.objects.bulk_create(deliveries)
    return RelayResult(events=len(events), delivery_ids=[d.pk for d in deliveries])


# --- dispatch -----------------------------------------------------------------------------------------------


def _due(now: datetime) -> Q:
    # Retryable rows whose time has come, and claimed rows whose worker's lease ran out (it died mid-attempt).
    return Q(status__in=RETRYABLE, next_attempt_at__lte=now) | Q(
        status=DeliveryStatus.DELIVERING, claimed_until__lte=now
    )


def deliveries_due(*, now: datetime, limit: int, reserve_for: timedelta | None = None) -> list[str]:
    """Ids of deliveries due now, oldest first.

    With `reserve_for` (the Celery tick), the rows are marked as queued until then, so the next tick does
    not enqueue them again while they wait in the broker. Reservation is only an optimisation against
    piling duplicate tasks up; `delivery_attempt`'s claim is what guarantees one sender per attempt.
    """
    qs = Delivery.objects.filter(_due(now)).order_by("next_attempt_at", "id")
    if reserve_for is None:
        return list(qs.values_list("id", flat=True)[:limit])
    qs = qs.filter(Q(enqueued_until__isnull=True) | Q(enqueued_until__lte=now))
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            ids = list(qs.select_for_update(skip_locked=True).values_list("id", flat=True)[:limit])
        else:
            ids = list(qs.values_list("id", flat=True)[:limit])
        if ids:
            Delivery.objects.filter(pk__in=ids).update(enqueued_until=now + reserve_for)
    return ids


def deliveries_unreserve(*, delivery_ids: list[str]) -> None:
    """Give back reservations whose tasks could not be published (the broker is down)."""
    Delivery.objects.filter(pk__in=delivery_ids).update(enqueued_until=None)


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


@dataclass(frozen=True)
class AttemptOutcome:
    delivery_id: str
    number: int
    status: str  # the delivery's status after this attempt
    response_code: int | None
    error: str
    sent: bool  # False when nothing went on the wire (refused address, unresolvable host)


class _Executor(Protocol):
    def map(self, fn: Callable[[Any], Any], *iterables: Iterable[Any]) -> Iterator[Any]: ...


def delivery_attempt(*, delivery_id: str, now: datetime | None = None) -> AttemptOutcome | None:
    """Make one attempt if the delivery is due and no other worker has it; None if there was nothing to do."""
    outcomes = deliveries_attempt(delivery_ids=[delivery_id], now=now)
    return outcomes[0] if outcomes else None


def deliveries_attempt(
    *, delivery_ids: Sequence[str], now: datetime | None = None, executor: _Executor | None = None
) -> list[AttemptOutcome]:
    """Attempt every one of these deliveries that is due and not another worker's; skip the rest.

    Per chunk of at most two rounds of the executor's threads, three steps, the HTTP requests between two
    short transactions and never inside one:
    1. claim: one conditional UPDATE moves the due rows to DELIVERING under a fresh claim token and a
       lease long enough for the chunk's sends; a row another worker claimed first no longer matches, so
       each attempt has exactly one sender;
    2. send, concurrently on `executor` when given (one slow receiver must not hold up the others);
    3. record: the attempts and the new states in one transaction, each row only if our token still
       holds it (if our lease ran out and another worker took over, its outcome is the one that counts).
    """
    threads = conf.worker_threads() if executor is not None else 1
    size = max(1, 2 * threads)
    outcomes: list[AttemptOutcome] = []
    for start in range(0, len(delivery_ids), size):
        at = now or timezone.now()
        chunk = delivery_ids[start : start + size]
        rounds = -(-len(chunk) // threads)
        claimed = _claim(delivery_ids=chunk, now=at, lease=conf.lease() * rounds)
        if not claimed:
            continue
        if executor is None or len(claimed) == 1:
            sends = [_send(delivery=d, now=at) for d in claimed]
        else:

            def send(d: Delivery, at: datetime = at) -> tuple[transport.HttpResult, bool, int]:
                return _send(delivery=d, now=at)

            sends = list(executor.map(send, claimed))
        outcomes += _record(claimed=claimed, results=sends, now=at)
    return outcomes


def _claim(*, delivery_ids: Sequence[str], now: datetime, lease: timedelta) -> list[Delivery]:
    candidates = list(
        Delivery.objects.filter(pk__in=list(delivery_ids))
        .filter(_due(now))
        .values_list("id", "status", "attempt", "claimed_at", "endpoint__disabled_at", "endpoint__deleted_at")
    )
    if not candidates:
        return []
    gone = [row for row in candidates if row[4] is not None or row[5] is not None]
    for delivery_id, status, attempt, _, _, deleted_at in gone:
        # Not sent at all: the endpoint went away (deleted, or disabled after a 410) since it was queued.
        Delivery.objects.filter(pk=delivery_id, status=status, attempt=attempt).update(
            status=DeliveryStatus.DEAD,
            next_attempt_at=None,
            claimed_until=None,
            enqueued_until=None,
            last_error=f"The endpoint was {'deleted' if deleted_at else 'disabled'} before this was sent.",
        )
    live = {row[0]: row for row in candidates if row not in gone}
    if not live:
        return []
    token = uuid.uuid4().hex
    with transaction.atomic():
        _fast_commit()
        # The claim. `_due` is evaluated again by the UPDATE itself: a row claimed by another worker since
        # the read above no longer matches, and PostgreSQL re-checks it after waiting for that worker's lock.
        Delivery.objects.filter(pk__in=list(live)).filter(_due(now)).update(
            status=DeliveryStatus.DELIVERING,
            attempt=F("attempt") + 1,
            claimed_at=now,
            claimed_until=now + lease,
            enqueued_until=None,
            claim_token=token,
        )
        claimed = list(
            Delivery.objects.filter(claim_token=token, status=DeliveryStatus.DELIVERING)
            .select_related("event", "endpoint")
            .only(
                "id",
                "attempt",
                "claim_token",
                "event__id",
                "event__body",
                "endpoint__id",
                "endpoint__url",
                "endpoint__secret",
            )
            .order_by("next_attempt_at", "id")
        )
        # A row that was DELIVERING with an expired lease: its worker died during that attempt.
        lost = [
            DeliveryAttempt(
                delivery_id=d.pk,
                number=live[d.pk][2],
                attempted_at=live[d.pk][3] or now,
                error=LOST_ATTEMPT_ERROR,
            )
            for d in claimed
            if live[d.pk][1] == DeliveryStatus.DELIVERING
        ]
        if lost:
            DeliveryAttempt.objects.bulk_create(lost)
    return claimed


def _send(*, delivery: Delivery, now: datetime) -> tuple[transport.HttpResult, bool, int]:
    """One signed POST, or the reason none was made. Returns (result, sent, webhook timestamp)."""
    endpoint, event = delivery.endpoint, delivery.event
    body = event.body.encode("utf-8")
    timestamp = int(now.timestamp())
    try:
        target = netguard.url_parse(endpoint.url)
        # Resolved and vetted again now (DNS can change); the connection goes to the vetted address.
        addresses = netguard.resolve(target, allow_private=conf.allow_private_networks())
    except netguard.UnsafeUrl as exc:
        return (
            transport.HttpResult(status=None, latency_ms=0, error=f"Not sent. {exc}"[:500]),
            False,
            timestamp,
        )
    result = transport.post(
        target=target,
        address=addresses[0],
        body=body,
        headers=signing.headers(secret=endpoint.secret, msg_id=event.pk, timestamp=timestamp, body=body),
        connect_timeout=conf.connect_timeout(),
        read_timeout=conf.read_timeout(),
    )
    return result, True, timestamp


def _next_state(*, delivery: Delivery, result: transport.HttpResult, sent: bool, now: datetime) -> None:
    """Set the delivery's fields (in memory) for the outcome of its attempt number `delivery.attempt`."""
    finished = now + timedelta(milliseconds=result.latency_ms)
    delivery.last_attempted_at = now
    delivery.last_response_code = result.status
    delivery.last_latency_ms = result.latency_ms if sent else None
    delivery.last_error = result.error
    delivery.claimed_until = None
    delivery.delivered_at = None
    delivery.next_attempt_at = None
    if result.ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = finished
    elif result.status == 410:
        # Standard Webhooks: 410 Gone means "stop sending"; the endpoint is disabled, not retried.
        delivery.status = DeliveryStatus.DEAD
    else:
        delay = retry_delay(failed_attempt=delivery.attempt, retry_after=result.retry_after)
        if delay is None:
            delivery.status = DeliveryStatus.DEAD
        else:
            delivery.status = DeliveryStatus.FAILED
            delivery.next_attempt_at = finished + delay


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


def _record(
    *, claimed: list[Delivery], results: list[tuple[transport.HttpResult, bool, int]], now: datetime
) -> list[AttemptOutcome]:
    attempts = []
    gone: dict[str, str] = {}
    for delivery, (result, sent, timestamp) in zip(claimed, results, strict=True):
        _next_state(delivery=delivery, result=result, sent=sent, now=now)
        attempts.append(
            DeliveryAttempt(
                delivery_id=delivery.pk,
                number=delivery.attempt,
                attempted_at=now,
                webhook_timestamp=timestamp if sent else None,
                response_code=result.status,
                latency_ms=result.latency_ms if sent else None,
                error=result.error,
            )
        )
        if result.status == 410:
            gone[delivery.endpoint.pk] = delivery.pk
    with transaction.atomic():
        _fast_commit()
        DeliveryAttempt.objects.bulk_create(attempts)
        # Only rows our claim token still holds: if our lease ran out and another worker took a row over,
        # its outcome is the one that counts; ours stays in the attempt log.
        _update_claimed(claimed)
        for endpoint_id, delivery_id in gone.items():
            WebhookEndpoint.objects.filter(pk=endpoint_id, disabled_at__isnull=True).update(
                disabled_at=now, disabled_reason=f"The receiver answered 410 Gone to delivery {delivery_id}."
            )
    return [
        AttemptOutcome(
            delivery_id=d.pk,
            number=d.attempt,
            status=str(d.status),
            response_code=result.status,
            error=result.error,
            sent=sent,
        )
        for d, (result, sent, _) in zip(claimed, results, strict=True)
    ]


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


# --- replay -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayResult:
    event: OutboxEvent
    deliveries: list[Delivery] = field(default_factory=list)


def event_replay(
    *,
    org: Org,
    request_id: str,
    event_id: str,
    actor: str,
    endpoint_id: str | None = None,
    now: datetime | None = None,
) -> ReplayResult:
    """New deliveries of the same event (same id, same bytes) to one endpoint or every matching one.

    Refused for a deleted endpoint (404, as for any unknown id), a disabled one, or one that does not
    subscribe to the event's type (409 `conflict`).
    """
    from requests_app.selectors import request_get

    now = now or timezone.now()
    dsr = request_get(org=org, request_id=request_id)
    event = OutboxEvent.objects.filter(org=org, request_id=dsr.pk, pk=event_id).first()
    if event is None:
        raise NotFound("No such event for this request.")
    if endpoint_id is not None:
        endpoint = WebhookEndpoint.objects.filter(org=org, pk=endpoint_id, deleted_at__isnull=True).first()
        if endpoint is None:
            raise NotFound(
                "No such webhook endpoint in this organisation.",
                details=[{"field": "endpointId", "message": "No such webhook endpoint."}],
            )
        if endpoint.disabled_at is not None:
            raise Conflict(
                f"The endpoint is disabled ({endpoint.disabled_reason or 'no reason given'}); "
                "register it again to receive events.",
                details=[{"field": "endpointId", "message": "disabled"}],
            )
        if not endpoint.subscribes_to(event.type):
            raise Conflict(
                f"The endpoint does not subscribe to {event.type}.",
                details=[{"field": "endpointId", "message": "not subscribed to this event type"}],
            )
        endpoints = [endpoint]
    else:
        endpoints = [e for e in _active_endpoints({org.pk}).get(org.pk, []) if e.subscribes_to(event.type)]
        if not endpoints:
            raise Conflict(f"No active webhook endpoint subscribes to {event.type}.")
    with transaction.atomic():
        latest: dict[str, str] = {}
        for delivery_id, ep_id in (
            Delivery.objects.filter(event=event, endpoint_id__in=[e.pk for e in endpoints])
            .order_by("created_at", "id")
            .values_list("id", "endpoint_id")
        ):
            latest[ep_id] = delivery_id
        deliveries = [
            Delivery(
                org_id=org.pk,
                event=event,
                endpoint_id=endpoint.pk,
                status=DeliveryStatus.PENDING,
                next_attempt_at=now,
                created_at=now,
                replay_of_id=latest.get(endpoint.pk),
                actor=actor,
            )
            for endpoint in endpoints
        ]
        Delivery.objects.bulk_create(deliveries)
        ids = [d.pk for d in deliveries]
        transaction.on_commit(lambda: kick(delivery_ids=ids))
    return ReplayResult(event=event, deliveries=deliveries)
