"""Admin sign-in, throttled per user name and per client address with the API's shared counters.

Failed attempts are counted (core.ratelimit): over `DSAR_LOGIN_RATE` for a user name, or five times that
for one address, the form refuses even the right password until the window ends, and says so plainly.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from . import ratelimit

ADDRESS_FACTOR = 5


def client_address(request: HttpRequest) -> str:
    """The caller's address: behind our TLS proxy, the hop that proxy appended to X-Forwarded-For."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.DSAR_BEHIND_TLS and forwarded:
        return forwarded.split(",")[-1].strip()[:64]
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


def _limits(request: HttpRequest | None, username: str) -> list[tuple[str, ratelimit.Rate]]:
    per_user = ratelimit.Rate.parse(settings.DSAR_LOGIN_RATE)
    limits = [(f"login:user:{username.strip().casefold()[:150]}", per_user)]
    if request is not None:  # the admin's login view always passes it
        per_address = ratelimit.Rate(limit=per_user.limit * ADDRESS_FACTOR, seconds=per_user.seconds)
        limits.append((f"login:addr:{client_address(request)}", per_address))
    return limits


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "throttled": "Too many failed sign-ins. Try again in %(minutes)s minute(s).",
    }

    def clean(self) -> dict[str, Any]:
        limits = _limits(self.request, self.cleaned_data.get("username") or "")
        for name, rate in limits:
            state = ratelimit.peek(name, rate)
            if not state.allowed:
                minutes = max(1, -(-state.retry_after // 60))
                raise ValidationError(
                    self.error_messages["throttled"], code="throttled", params={"minutes": minutes}
                )
        try:
            return super().clean()
        except ValidationError:
            for name, rate in limits:
                ratelimit.hit(name, rate)
            raise
