"""Words for export jobs and substrates, in the officers' workspace's vocabulary: its one date formatter
(`format_when`) and its actor words, shown in the org's zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils.html import format_html

from core.models import Org
from requests_app.admin.presenters import NOTHING, actor_words, format_when, plural

from ..models import State

# The badge's tone (the workspace's badge classes, plus `dsar-running` from exports/styles.html) and words.
STATE_BADGES: dict[str, tuple[str, str]] = {
    State.REQUESTED: ("pending", "Requested — not run yet"),
    State.COLLECTING: ("running", "Collecting"),
    State.PACKAGING: ("running", "Packaging"),
    State.READY: ("on-time", "Ready to download"),
    State.DELIVERED: ("stopped", "Delivered"),
    State.EXPIRED: ("stopped", "Expired — bundle deleted"),
    State.FAILED: ("overdue", "Failed"),
}

ACTION_WORDS: dict[str, str] = {
    "request": "Export requested",
    "run": "Run",
    "hand-off": "Handed to the background worker",
    "take-over": "Taken over by another worker",
    "package": "Packaging",
    "ready": "Ready",
    "deliver": "Delivered",
    "download": "Downloaded again",
    "revoke-link": "Download links revoked",
    "expire": "Expired",
    "fail": "Failed",
}


def org_zone(org: Org) -> str:
    """The zone the org's times are shown in: its override, else the server's (UTC)."""
    return org.timezone_override or settings.TIME_ZONE or "UTC"


def when(value: datetime | str | None, org: Org) -> str:
    return format_when(value, org_zone(org))


def state_name(state: str) -> str:
    """The state alone, for the timeline's "Requested → Collecting"."""
    return state.capitalize()


def state_words(state: str) -> str:
    return STATE_BADGES.get(state, ("stopped", state.capitalize()))[1]


def state_badge(state: str) -> str:
    tone, words = STATE_BADGES.get(state, ("stopped", state.capitalize()))
    return format_html('<span class="dsar-badge dsar-{}" data-state="{}">{}</span>', tone, state, words)


def size_words(size: int | None, *, exact: bool = True) -> str:
    """ "1.4 MB (1,468,006 bytes)" ("1.4 MB" when not `exact`); "812 bytes"; a dash for none."""
    if size is None:
        return NOTHING
    if size < 1024:
        return plural(size, "byte")
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    return f"{value:,.1f} {unit} ({size:,} bytes)" if exact else f"{value:,.1f} {unit}"


def rows_words(collected: int, expected: int | None, state: str) -> str:
    if state == State.REQUESTED:
        return "not run yet"
    if expected is None:
        return f"{collected:,} collected (total not counted in advance)"
    return f"{collected:,} of {expected:,}"


KIND_WORDS = {"sql": "SQL database", "files": "Files (CSV, NDJSON)", "dsar_core": "Built in"}


def kind_words(kind: str) -> str:
    return KIND_WORDS.get(kind, kind)


def entry_action_words(action: str) -> str:
    return ACTION_WORDS.get(action, action.replace("-", " ").replace("_", " ").capitalize())


def job_actor_words(actor: str) -> str:
    if actor == "link":
        return "someone with the download link"
    if actor == "system":
        return "the system"
    if actor.startswith("worker:"):
        return f"worker {actor.partition(':')[2]}"
    return actor_words(actor)


def downloader_words(downloaded_by: str) -> str:
    """`downloadedBy`: an API key's id, `link` or `subject` (the delivery portal)."""
    if downloaded_by == "link":
        return "someone with the download link"
    if downloaded_by == "subject":
        return "the data subject (delivery portal)"
    return f"API key {downloaded_by}" if downloaded_by else NOTHING


def scope_rows(scope: dict[str, Any]) -> list[tuple[str, str]]:
    """The scope as (label, value) lines, every key the job holds."""
    labels = {
        "dataSubjectId": "Data subject id",
        "subjectIdentities": "Identities",
        "windowStart": "From",
        "windowEnd": "Until (excluded)",
        "campaignIds": "Campaigns",
        "substrates": "Substrates",
    }
    rows = []
    for key, value in scope.items():
        if isinstance(value, dict):
            text = ", ".join(f"{k}: {v}" for k, v in value.items()) or NOTHING
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value) or NOTHING
        else:
            text = str(value) if value not in (None, "") else NOTHING
        rows.append((labels.get(key, key), text))
    if "substrates" not in scope or not scope.get("substrates"):
        rows.append(("Substrates", "all enabled substrates"))
    return rows
