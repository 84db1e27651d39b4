"""`{% background_health %}`: on the admin home, whether the background work is running.

Reads the heartbeats `/healthz` reads (`core.health.heartbeats`, same staleness rule). Healthy: one quiet
line. A missing or stale heartbeat: a banner naming the part, when it last reported, what stops with it,
and what to start — which depends on the mode (`serve` runs both parts in embedded mode; with a broker
they are the Celery worker and beat).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.health import Heartbeat, heartbeats

register = template.Library()

EMBEDDED_REMEDY = format_html(
    "Restart <code>{}</code>: it runs the background worker and its scheduler, and restarts the worker if it "
    "dies, so its log says why it stopped.",
    "python manage.py serve",
)
CELERY_REMEDY = {
    "worker": format_html("Start (or restart) <code>{}</code>.", "celery -A dsar_project worker"),
    "beat": format_html("Start (or restart) one <code>{}</code>.", "celery -A dsar_project beat"),
}
EFFECT = {
    "worker": "Webhooks are not being delivered and deadline sweeps are not running.",
    "beat": "Retries and deadline sweeps are not being scheduled.",
}


@dataclass(frozen=True)
class Part:
    name: str
    ok: bool
    seen: datetime | None
    age_seconds: int | None
    detail: str
    effect: str
    remedy: SafeString


def _part(beat: Heartbeat, *, now: datetime, beat_ok: bool) -> Part:
    if not settings.CELERY_BROKER_URL:
        remedy = EMBEDDED_REMEDY
    else:
        remedy = CELERY_REMEDY[beat.role]
        if beat.role == "worker" and not beat_ok:
            # Beat sends the task a worker reports in with: a stopped beat also makes the worker look stale.
            remedy = format_html("{} Its heartbeat task is sent by beat: start beat first.", remedy)
    age = int((now - beat.seen).total_seconds()) if beat.seen is not None else None
    return Part(beat.name, beat.check.ok, beat.seen, age, beat.check.detail, EFFECT[beat.role], remedy)


@register.inclusion_tag("admin/dsar/background_health.html", takes_context=True)
def background_health(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not (user.is_active and user.is_staff):
        return {"background": None}
    now = timezone.now()
    try:
        beats = heartbeats(now)
    except Exception as exc:  # the page still renders; the banner says the heartbeats cannot be read
        return {"background": {"ok": False, "error": f"{type(exc).__name__}: {str(exc)[:200]}"}}
    beat_ok = all(b.check.ok for b in beats if b.role == "beat")
    parts = [_part(b, now=now, beat_ok=beat_ok) for b in beats]
    return {
        "background": {
            "ok": all(part.ok for part in parts),
            "parts": parts,
            "stale": [part for part in parts if not part.ok],
        }
    }
