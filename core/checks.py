from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Warning, register


@register(deploy=True)
def broker_configured(app_configs, **kwargs) -> list[Warning]:
    if not settings.CELERY_BROKER_URL:
        return [
            Warning(
                "CELERY_BROKER_URL is unset: deliveries and sweeps run only inside `manage.py serve`.",
                hint="Set CELERY_BROKER_URL=redis://... and run `celery -A dsar_project worker` and `beat`.",
                id="dsar.W001",
            )
        ]
    return []


@register(deploy=True)
def database_is_server(app_configs, **kwargs) -> list[Warning]:
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return [
            Warning(
                "SQLite is the embedded default; use PostgreSQL (DATABASE_URL=postgres://...) in production.",
                id="dsar.W002",
            )
        ]
    return []


@register()
def rates_parse(app_configs, **kwargs) -> list[Error]:
    """A malformed rate would otherwise surface as a 500 on every API call or sign-in."""
    from .ratelimit import Rate

    errors = []
    for name in ("DSAR_API_RATE", "DSAR_LOGIN_RATE"):
        try:
            Rate.parse(getattr(settings, name))
        except ValueError as exc:
            errors.append(Error(f"{name}: {exc}", hint="Write it like 1200/min or 10/15min.", id="dsar.E001"))
    return errors
