"""Celery tasks: thin wrappers over the services. Every one is idempotent, so `acks_late` redelivery is safe.

- `notifications.relay`: kicked after commits; turns new outbox rows into deliveries and attempts them
  right away in the same task (one broker hop from commit to HTTP). With a backlog it first asks for
  another relay, so every worker process helps drain it.
- `notifications.dispatch_tick` (beat, every 2 s): the guarantee behind the kick. Relays whatever the
  kicks missed (the broker was down at commit time) and enqueues due retries and expired leases.
- `notifications.deliver`: attempts a chunk of deliveries concurrently.
- `notifications.sweeps` (beat, every 60 s): deadline events, provisional clock refresh, idempotency purge.
Long retry delays live in `Delivery.next_attempt_at`, never in broker countdowns.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from celery import shared_task
from django.utils import timezone

from . import conf, services

log = logging.getLogger(__name__)

RELAY_BATCH = 50  # events a relay task takes at a time (then attempts their deliveries)
TICK_MAX = 5000  # deliveries enqueued per tick at most; the next tick takes the rest
CHUNK = 25  # deliveries per `deliver` task
# How long an enqueued delivery is left to its task before a tick enqueues it again.
RESERVATION = timedelta(seconds=60)

_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    # Its threads only make HTTP requests (claims and records stay on the task's thread), so they never
    # open database connections of their own.
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=conf.worker_threads(), thread_name_prefix="webhook")
    return _pool


def _enqueue(delivery_ids: list[str]) -> int:
    """Publish `deliver` tasks; on a broker error give the rest back to the next tick. Returns how many."""
    for start in range(0, len(delivery_ids), CHUNK):
        chunk = delivery_ids[start : start + CHUNK]
        try:
            deliver_task.apply_async(args=[chunk], retry=False)
        except Exception:
            log.warning("Could not enqueue deliveries; they stay due for the next tick.", exc_info=True)
            services.deliveries_unreserve(delivery_ids=delivery_ids[start:])
            return start
    return len(delivery_ids)


def _attempt(delivery_ids: list[str]) -> int:
    try:
        return len(
            services.deliveries_attempt(delivery_ids=delivery_ids, now=timezone.now(), executor=_executor())
        )
    except Exception:
        # Claimed rows come back when their lease expires; unclaimed ones are still due.
        log.exception("Webhook attempts failed unexpectedly for %s", delivery_ids)
        return 0


@shared_task(name="notifications.relay", acks_late=True, ignore_result=True)
def relay_task() -> int:
    attempted = 0
    while True:
        result = services.outbox_relay(limit=RELAY_BATCH, now=timezone.now(), reserve_for=RESERVATION)
        if result.events >= RELAY_BATCH:
            # More waiting: let another worker process take the next batch while we send this one.
            try:
                relay_task.apply_async(retry=False)
            except Exception:
                log.warning("Could not fan the relay out; carrying on alone.", exc_info=True)
        if result.delivery_ids:
            attempted += _attempt(result.delivery_ids)
        if result.events < RELAY_BATCH:
            return attempted


@shared_task(name="notifications.dispatch_tick", acks_late=True, ignore_result=True)
def dispatch_tick_task() -> int:
    enqueued = 0
    while True:
        result = services.outbox_relay(limit=200, now=timezone.now(), reserve_for=RESERVATION)
        enqueued += _enqueue(result.delivery_ids)
        if result.events < 200:
            break
    while enqueued < TICK_MAX:
        ids = services.deliveries_due(now=timezone.now(), limit=500, reserve_for=RESERVATION)
        if not ids:
            break
        published = _enqueue(ids)
        enqueued += published
        if published < len(ids) or len(ids) < 500:
            break
    return enqueued


@shared_task(name="notifications.deliver", acks_late=True, ignore_result=True)
def deliver_task(delivery_ids: list[str] | str) -> int:
    """Attempt the deliveries still due; a redelivered message finds them claimed or done: a no-op."""
    return _attempt([delivery_ids] if isinstance(delivery_ids, str) else list(delivery_ids))


@shared_task(name="notifications.sweeps", acks_late=True, ignore_result=True)
def sweeps_task() -> dict[str, int]:
    return run_sweeps(now=timezone.now())


def run_sweeps(*, now: datetime) -> dict[str, int]:
    """The periodic housekeeping (Celery beat or the embedded worker): deadline notices and clock
    refreshes (requests_app.sweeps), then expired idempotency records. Counts of what it did."""
    from core.idempotency import idempotency_purge
    from requests_app.sweeps import sweep_deadlines

    result = sweep_deadlines(now=now)
    return {
        "atRisk": len(result.at_risk),
        "overdue": len(result.overdue),
        "acknowledgementAtRisk": len(result.acknowledgement_at_risk),
        "acknowledgementOverdue": len(result.acknowledgement_overdue),
        "refreshed": result.refreshed,
        "idempotencyPurged": idempotency_purge(now=now),
    }
