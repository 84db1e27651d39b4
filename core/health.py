"""`GET /healthz`: is every part of this installation working? Cheap enough to poll every few seconds.

Checks: the database answers, the shared cache stores and reads, the broker accepts a connection (when
one is configured), no migration is pending, and the background worker and the scheduler ("beat") have
reported in within the last two minutes. The worker and the scheduler report through `heartbeat()`: in
embedded mode both roles are the `run_worker` process (which `serve` restarts if it dies); with Celery,
beat writes its own from its scheduler's tick (`dsar_project.background.beat`) and a worker writes
"worker" when it runs the `dsar.heartbeat` task that beat sends. `heartbeats()` is the one reading of
them, for `/healthz` and for the admin's home page.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

STALE_AFTER = timedelta(minutes=2)
ROLES = ("worker", "beat")
ROLE_NAMES = {"worker": "background worker", "beat": "scheduler (beat)"}
_KEY = "dsar:heartbeat:{}"
_last_written: dict[str, float] = {}


def heartbeat(role: str, *, every_seconds: float = 10.0) -> None:
    """Record that `role` is alive now; writes at most once per `every_seconds` per process."""
    now = time.time()
    if now - _last_written.get(role, float("-inf")) < every_seconds:
        return
    cache.set(_KEY.format(role), now, timeout=None)
    _last_written[role] = now


def last_heartbeat(role: str) -> datetime | None:
    value = cache.get(_KEY.format(role))
    return datetime.fromtimestamp(float(value), tz=UTC) if value is not None else None


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "detail": self.detail}


def _database() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return Check(True, f"{connection.vendor} answers")


@dataclass(frozen=True)
class Heartbeat:
    """One role's last report, judged: `seen` is None if it never reported; `check.ok` is False if stale."""

    role: str
    seen: datetime | None
    check: Check

    @property
    def name(self) -> str:
        return ROLE_NAMES[self.role]


def heartbeats(now: datetime | None = None) -> list[Heartbeat]:
    """The worker's and beat's last reports, in `ROLES` order, in one cache read; raises if the cache fails.

    Each is judged as `/healthz` judges it (stale after `STALE_AFTER`).
    """
    now = now or datetime.now(UTC)
    values = cache.get_many([_KEY.format(role) for role in ROLES])
    result = []
    for role in ROLES:
        value = values.get(_KEY.format(role))
        seen = datetime.fromtimestamp(float(value), tz=UTC) if value is not None else None
        result.append(Heartbeat(role, seen, _heartbeat(role, seen, now)))
    return result


def _cache_and_heartbeats(now: datetime) -> dict[str, Check]:
    """One read: the cache answers, and the heartbeats the worker and beat wrote into it are fresh."""
    beats = heartbeats(now)
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 2)[-2]
    return {"cache": Check(True, f"{backend} cache answers"), **{beat.role: beat.check for beat in beats}}


def _broker() -> Check:
    if not settings.CELERY_BROKER_URL:
        return Check(True, "not configured: embedded mode, the background work runs beside `serve`")
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return Check(True, "accepts connections")


_migrations_done = False


def _migrations() -> Check:
    global _migrations_done
    if not _migrations_done:  # once applied they stay applied: only the first answer costs a graph load
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if pending:
            names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in pending[:5])
            return Check(False, f"{len(pending)} pending: {names}; run `manage.py migrate`")
        _migrations_done = True
    return Check(True, "all applied")


def _heartbeat(role: str, seen: datetime | None, now: datetime) -> Check:
    what = ROLE_NAMES[role]
    if seen is None:
        return Check(False, f"the {what} has never reported in")
    age = int((now - seen).total_seconds())
    if now - seen > STALE_AFTER:
        limit = int(STALE_AFTER.total_seconds())
        return Check(False, f"the {what} last reported {age} s ago (stale after {limit} s)")
    return Check(True, f"last reported {age} s ago")


def health_report(now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    checks: dict[str, Check] = {}
    for name, probe in (("database", _database), ("broker", _broker), ("migrations", _migrations)):
        try:
            checks[name] = probe()
        except Exception as exc:  # a check that cannot run has failed; say which and why, never a 500
            checks[name] = Check(False, f"{type(exc).__name__}: {str(exc)[:200]}")
    try:
        checks.update(_cache_and_heartbeats(now))
    except Exception as exc:
        failed = Check(False, f"the cache does not answer: {type(exc).__name__}: {str(exc)[:200]}")
        checks.update({"cache": failed, **dict.fromkeys(ROLES, failed)})
    ordered = {name: checks[name] for name in ("database", "cache", "broker", "migrations", *ROLES)}
    return {"ok": all(c.ok for c in ordered.values()), "checks": {k: c.as_dict() for k, c in ordered.items()}}


@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    report = health_report()
    response = JsonResponse(report, status=200 if report["ok"] else 503)
    response["Cache-Control"] = "no-store"
    return response
