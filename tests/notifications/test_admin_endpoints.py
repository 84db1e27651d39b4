"""Webhook endpoints in the admin: org-scoped, status, breaker, rotation and the latest attempts on the change
page; Disable and Re-enable through the API's service; never a signing secret on any page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Permission
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.staff import staff_user_create
from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, WebhookEndpoint
from notifications.services import endpoint_create, endpoint_rotate_secret, event_emit, outbox_relay

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple"
PUBLIC = "https://93.184.215.14/hooks/dsar"
CHANGELIST = reverse("admin:notifications_webhookendpoint_changelist")


def _staff(org, username: str, *codenames: str, auditor: bool = False) -> Client:
    user = staff_user_create(org=org, username=username, password=PASSWORD, auditor=auditor)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="notifications", codename__in=codenames)
    )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def operator(org) -> Client:
    """Olivia: sees her org's endpoints and may disable and re-enable them."""
    return _staff(org, "olivia", "view_webhookendpoint", "change_webhookendpoint")


@pytest.fixture
def watcher(org) -> Client:
    """Aldo: sees the org's endpoints, changes nothing."""
    return _staff(org, "aldo", "view_webhookendpoint", auditor=True)


@pytest.fixture
def endpoint(org) -> WebhookEndpoint:
    return endpoint_create(org=org, url=PUBLIC, event_types=["*"], description="CRM", actor="test")


def _change_url(endpoint: WebhookEndpoint) -> str:
    return reverse("admin:notifications_webhookendpoint_change", args=[quote(endpoint.pk)])


def _act(client: Client, action: str, *endpoints: WebhookEndpoint):
    return client.post(
        CHANGELIST, {"action": action, "_selected_action": [e.pk for e in endpoints]}, follow=True
    )


def _attempts(endpoint: WebhookEndpoint, count: int, *, start=None) -> Delivery:
    """One delivery to `endpoint` with `count` recorded attempts a minute apart (#1 oldest)."""
    start = start or timezone.now() - timedelta(hours=2)
    with transaction.atomic():
        event = event_emit(org_id=endpoint.org_id, type="clock.overdue", data={}, at=start)
    delivery = Delivery.objects.create(
        org_id=endpoint.org_id, event=event, endpoint=endpoint, status=DeliveryStatus.FAILED, created_at=start
    )
    DeliveryAttempt.objects.bulk_create(
        DeliveryAttempt(
            delivery=delivery,
            number=n,
            attempted_at=start + timedelta(minutes=n),
            response_code=500 + (n % 4),
            latency_ms=10 + n,
            error=f"HTTP {500 + (n % 4)} failure number {n}",
        )
        for n in range(1, count + 1)
    )
    return delivery


def _readonly(page: str, label: str) -> str:
    found = re.search(rf"<label>{label}:</label>\s*<div class=\"readonly\">(.*?)</div>", page, re.S)
    assert found is not None, label
    return found.group(1).strip()


def _secrets(endpoint: WebhookEndpoint) -> list[str]:
    endpoint.refresh_from_db()
    values = [endpoint.secret, endpoint.previous_secret]
    # The whole value, and its key part alone (base64: HTML escaping leaves it as it is).
    return [v for s in values if s for v in (s, s.split("_", 1)[1])]


def test_the_change_page_shows_status_breaker_rotation_and_never_a_secret(operator, endpoint):
    endpoint_rotate_secret(org=endpoint.org, endpoint_id=endpoint.pk, actor="test")
    until = timezone.now() + timedelta(minutes=30)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=7, backoff_until=until, backoff_trips=2
    )

    response = operator.get(_change_url(endpoint))

    assert response.status_code == 200
    page = response.content.decode()
    assert PUBLIC in page and "CRM" in page
    assert "Active" in page
    assert "Open: nothing is sent before" in page
    assert _readonly(page, "Consecutive failures") == "7"
    assert _readonly(page, "Backoff trips") == "2"
    assert _readonly(page, "Secret rotated at") not in ("", "-")
    assert _readonly(page, "Previous secret expires at") not in ("", "-")
    assert len(_secrets(endpoint)) == 4
    for secret in _secrets(endpoint):
        assert secret not in page
    assert 'name="secret"' not in page and 'name="previous_secret"' not in page


def test_the_changelist_never_shows_a_secret(operator, endpoint):
    endpoint_rotate_secret(org=endpoint.org, endpoint_id=endpoint.pk, actor="test")

    page = operator.get(CHANGELIST).content.decode()

    assert endpoint.pk in page
    for secret in _secrets(endpoint):
        assert secret not in page
    found = operator.get(CHANGELIST, {"q": endpoint.secret[:12]}).content.decode()
    assert "0 results" in found  # not even searchable


def test_the_change_page_lists_the_latest_50_attempts_newest_first(operator, endpoint):
    delivery = _attempts(endpoint, 55)

    page = operator.get(_change_url(endpoint)).content.decode()

    table = re.search(r"<table class=.dsar-attempts.>(.*?)</table>", page, re.S)
    assert table is not None
    rows = re.findall(r"<tr><td>(.*?)</tr>", table.group(1), re.S)
    assert len(rows) == 50
    numbers = [int(n) for n in re.findall(r"</a> #(\d+)</td>", table.group(1))]
    assert numbers == list(range(55, 5, -1))
    first = rows[0]
    assert "clock.overdue" in first and delivery.pk in first
    assert "503" in first and "65 ms" in first and "HTTP 503 failure number 55" in first
    delivery_link = reverse("admin:notifications_delivery_change", args=[quote(delivery.pk)])
    assert delivery_link in first


def test_the_change_page_costs_the_same_queries_however_many_deliveries(operator, endpoint):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert operator.get(_change_url(endpoint)).status_code == 200
        return len(captured)

    _attempts(endpoint, 3)
    operator.get(_change_url(endpoint))  # warm the session and permission caches
    one = queries()
    for _ in range(5):
        _attempts(endpoint, 3)

    assert queries() == one


def test_another_orgs_endpoints_are_not_found_and_not_listed(operator, other_org):
    theirs = endpoint_create(org=other_org, url=PUBLIC, event_types=["*"], actor="globex")

    assert operator.get(_change_url(theirs)).status_code == 404
    assert theirs.pk not in operator.get(CHANGELIST).content.decode()
    _act(operator, "disable_endpoints", theirs)
    theirs.refresh_from_db()
    assert theirs.disabled_at is None


def test_disable_calls_the_service_and_buries_the_deliveries_not_yet_sent(operator, org, endpoint):
    with transaction.atomic():
        event_emit(org_id=org.pk, type="request.created", data={}, at=timezone.now())
    (delivery_id,) = outbox_relay().delivery_ids

    page = _act(operator, "disable_endpoints", endpoint).content.decode()

    assert "Disabled 1 endpoint(s)" in page
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None
    assert endpoint.disabled_reason == "Disabled by admin:olivia."
    assert Delivery.objects.get(pk=delivery_id).status == DeliveryStatus.DEAD


def test_re_enable_calls_the_service_and_closes_the_breaker(operator, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        disabled_at=timezone.now(),
        disabled_reason="The receiver answered 410 Gone to delivery dlv_x.",
        consecutive_failures=5,
        backoff_until=timezone.now() + timedelta(hours=1),
        backoff_trips=2,
    )

    page = _act(operator, "enable_endpoints", endpoint).content.decode()

    assert "Re-enabled 1 endpoint(s)" in page
    endpoint.refresh_from_db()
    assert (endpoint.disabled_at, endpoint.disabled_reason) == (None, "")
    assert (endpoint.consecutive_failures, endpoint.backoff_until, endpoint.backoff_trips) == (0, None, 0)
    assert endpoint.updated_at is not None


def test_actions_skip_endpoints_already_so_and_deleted_ones(operator, org, endpoint):
    gone = endpoint_create(org=org, url=PUBLIC, event_types=["*"], actor="test")
    WebhookEndpoint.objects.filter(pk=gone.pk).update(deleted_at=timezone.now())

    page = _act(operator, "enable_endpoints", endpoint, gone).content.decode()

    assert "Nothing to change" in page
    gone.refresh_from_db()
    assert gone.updated_at is None


def test_a_viewer_sees_endpoints_but_has_no_actions(watcher, endpoint):
    page = watcher.get(CHANGELIST).content.decode()
    assert endpoint.pk in page
    assert "disable_endpoints" not in page and "enable_endpoints" not in page

    _act(watcher, "disable_endpoints", endpoint)

    endpoint.refresh_from_db()
    assert endpoint.disabled_at is None


def test_endpoints_cannot_be_added_edited_or_deleted_in_the_admin(operator, endpoint):
    assert operator.get(reverse("admin:notifications_webhookendpoint_add")).status_code == 403
    assert operator.post(_change_url(endpoint), {"url": "https://evil.example/"}).status_code == 403
    delete = reverse("admin:notifications_webhookendpoint_delete", args=[quote(endpoint.pk)])
    assert operator.post(delete, {"post": "yes"}).status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.url == PUBLIC and endpoint.deleted_at is None
