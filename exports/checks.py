"""Export settings checked at start-up: a bad value shows in `manage.py check`, not as a failed job."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def export_settings(app_configs: Any, **kwargs: Any) -> list[Error | Warning]:
    problems: list[Error | Warning] = []
    minimums = {
        "DSAR_EXPORT_ACTIVE_LIMIT": 1,
        "DSAR_EXPORT_INLINE_ROWS": 0,
        "DSAR_EXPORT_TTL_SECONDS": 60,
        "DSAR_EXPORT_STALE_SECONDS": 10,
        "DSAR_EXPORT_WORKERS": 1,
    }
    for name, least in minimums.items():
        if getattr(settings, name) < least:
            problems.append(Error(f"{name} must be at least {least}.", id="dsar.E201"))
    if settings.DSAR_EXPORT_HEARTBEAT_SECONDS * 3 > settings.DSAR_EXPORT_STALE_SECONDS:
        problems.append(
            Warning(
                "DSAR_EXPORT_STALE_SECONDS is under three heartbeats: a busy worker may be taken over.",
                hint="Keep DSAR_EXPORT_STALE_SECONDS at least three times DSAR_EXPORT_HEARTBEAT_SECONDS.",
                id="dsar.W201",
            )
        )
    for root in settings.DSAR_EXPORT_FILE_ROOTS:
        if not os.path.isabs(root) or not os.path.isdir(root):
            problems.append(
                Warning(
                    f"DSAR_EXPORT_FILE_ROOTS entry {root!r} is not an absolute path to a directory.",
                    hint="File substrates under it will fail their check until it exists.",
                    id="dsar.W202",
                )
            )
    if settings.DSAR_PUBLIC_BASE_URL and not settings.DSAR_PUBLIC_BASE_URL.startswith(
        ("https://", "http://")
    ):
        problems.append(Error("DSAR_PUBLIC_BASE_URL must start with https:// (or http://).", id="dsar.E202"))
    return problems
