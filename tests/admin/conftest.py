"""The admin cast: Olivia (privacy officer, Acme), Aldo (auditor, Acme), Greta (officer, Globex), and requests
whose deadlines sit on time, due soon or overdue relative to the real clock."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from core.staff import staff_user_create

PASSWORD = "correct-horse-battery-staple"


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def olivia(org):
    return staff_user_create(org=org, username="olivia", password=PASSWORD)


@pytest.fixture
def aldo(org):
    return staff_user_create(org=org, username="aldo", password=PASSWORD, auditor=True)


@pytest.fixture
def greta(other_org):
    return staff_user_create(org=other_org, username="greta", password=PASSWORD)


@pytest.fixture
def officer_client(olivia) -> Client:
    return _login(olivia)


@pytest.fixture
def auditor_client(aldo) -> Client:
    return _login(aldo)


@pytest.fixture
def other_officer_client(greta) -> Client:
    return _login(greta)


@pytest.fixture
def new_request(org):
    """`new_request(days_ago=, jurisdiction=, org=, **kw)`: a request through the intake service."""
    from requests_app import services

    def make(*, days_ago: float = 1, jurisdiction: str = "US-CA", request_org=None, **kwargs):
        received = timezone.now() - timedelta(days=days_ago)
        params = {
            "channel": "EMAIL",
            "raw_text": "Please send me a copy of all personal data you hold about me.",
            "contact": "jane@example.org",
            "requestor": {"type": "DATA_SUBJECT", "name": "Jane Doe", "email": "jane@example.org"},
            "request_types": ["ACCESS"],
        }
        params.update(kwargs)
        return services.request_create(
            org=request_org or org,
            actor="test",
            jurisdiction=jurisdiction,
            intake_received_at=received,
            **params,
        ).request

    return make


@pytest.fixture
def on_time(new_request):
    # US-CA access: 45 days from receipt.
    return new_request(days_ago=1)


@pytest.fixture
def due_soon(new_request):
    return new_request(days_ago=41, contact="soon@example.org")


@pytest.fixture
def overdue(new_request):
    return new_request(days_ago=50, contact="late@example.org")


def _ack_due(dsr, *, days_from_today: int) -> None:
    """Arrange the acknowledgement deadline `days_from_today` local days away (the engine's columns)."""
    from requests_app.admin.presenters import end_of_day
    from requests_app.models import DataSubjectRequest

    local_today = timezone.now().astimezone(ZoneInfo(dsr.clock_timezone)).date()
    day = local_today + timedelta(days=days_from_today)
    DataSubjectRequest.objects.filter(pk=dsr.pk).update(
        clock_acknowledge_by=day, clock_acknowledge_due_at=end_of_day(day, dsr.clock_timezone)
    )


@pytest.fixture
def ack_cast(new_request):
    """US-CA requests (confirm receipt within 10 business days) in every acknowledgement state, and a GB
    request (no acknowledgement deadline)."""
    from requests_app import services

    late = new_request(days_ago=20, contact="ack.late@example.org")  # 45-day response: 25 days left
    soon = new_request(days_ago=1, contact="ack.soon@example.org")
    _ack_due(soon, days_from_today=1)
    later = new_request(days_ago=1, contact="ack.later@example.org")
    _ack_due(later, days_from_today=6)
    done = new_request(days_ago=3, contact="ack.done@example.org")
    services.request_acknowledge(org=done.org, request_id=done.pk, actor="test")
    britain = new_request(days_ago=3, jurisdiction="GB", contact="uk@example.org")
    return {"late": late, "soon": soon, "later": later, "done": done, "britain": britain}
