"""The request page: the intake verbatim, the clock drawn and explained, the timeline and notifications."""

from __future__ import annotations

import pytest
from admin_paths import change_url, replay_url
from django.contrib.messages import get_messages
from django.utils import timezone

from notifications.models import Delivery, OutboxEvent, WebhookEndpoint
from requests_app import services

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_it_shows_the_intake_verbatim_with_both_receipt_times(officer_client, new_request):
    raw = "Dear DPO,\n\n  please send <b>everything</b> you hold.\n-- J."
    dsr = new_request(jurisdiction="GB", raw_text=raw)

    page = officer_client.get(change_url(dsr)).content.decode()

    escaped = "Dear DPO,\n\n  please send &lt;b&gt;everything&lt;/b&gt; you hold.\n-- J."
    assert f'<pre class="dsar-verbatim">{escaped}</pre>' in page
    local = dsr.intake_received_at.astimezone(timezone.get_default_timezone())
    assert f"{local:%Y-%m-%d %H:%M} UTC" in page
    assert "received by the organisation" in page.lower()
    assert "recorded by this system" in page.lower()
    assert "(Europe/London)" in page


def test_it_draws_the_clock_and_explains_it_with_citations(officer_client, due_soon):
    response = officer_client.get(change_url(due_soon))

    page = response.content.decode()
    assert '<svg viewBox="0 0 1000' in page
    assert 'data-marker="DUE"' in page and 'data-marker="TODAY"' in page
    assert 'data-kind="RUNNING"' in page
    assert "Deadlines per request type" in page
    assert "11 CCR §7021" in page or "11 CCR &sect;7021" in page
    assert "<script" not in page.split('id="clock"')[1].split("</fieldset>")[0]
    assert response.context["dsar_explanation"]["due_date"] == due_soon.clock_due_date.isoformat()


def test_it_lists_the_timeline_oldest_first(officer_client, on_time):
    services.request_acknowledge(org=on_time.org, request_id=on_time.pk, actor="test", notes="letter sent")
    services.request_extend(org=on_time.org, request_id=on_time.pk, actor="test", reason="complex")

    timeline = officer_client.get(change_url(on_time)).context["dsar_timeline"]

    assert [e["action"] for e in timeline] == ["create", "acknowledge", "extend"]
    assert timeline[1]["notes"] == "letter sent"


@pytest.fixture
def endpoint(org):
    return WebhookEndpoint.objects.create(
        org=org,
        url="https://hooks.example.org/dsar",
        event_types=["*"],
        secret="whsec_dGVzdA==",
        created_at=timezone.now(),
    )


def test_it_shows_notification_history_with_a_replay_per_event(officer_client, on_time, endpoint):
    event = OutboxEvent.objects.get(request=on_time)

    response = officer_client.get(change_url(on_time))

    (row,) = response.context["dsar_notifications"]
    assert row["type"] == "request.created"
    assert row["replay_url"] == replay_url(on_time, event.pk)
    assert replay_url(on_time, event.pk) in response.content.decode()


def test_it_replays_an_event_through_the_replay_service(officer_client, on_time, endpoint):
    event = OutboxEvent.objects.get(request=on_time)
    form = officer_client.get(replay_url(on_time, event.pk)).context["form"]
    assert (endpoint.pk, f"{endpoint.pk} — {endpoint.url}") in form.fields["endpoint"].choices

    response = officer_client.post(replay_url(on_time, event.pk), {"endpoint": endpoint.pk})

    assert response.status_code == 302
    delivery = Delivery.objects.get(event=event)
    assert (delivery.endpoint_id, delivery.actor, delivery.status) == (endpoint.pk, "user:olivia", "PENDING")
    assert any("1 new delivery" in m for m in _messages(response))


def test_it_shows_a_refused_replay_as_a_message(officer_client, on_time):
    event = OutboxEvent.objects.get(request=on_time)

    response = officer_client.post(replay_url(on_time, event.pk), {}, follow=True)

    assert response.status_code == 200
    assert any(m.startswith("Replay refused: No active webhook endpoint") for m in _messages(response))
    assert not Delivery.objects.exists()


def test_it_answers_404_for_an_event_of_another_request(officer_client, on_time, new_request):
    other = new_request()
    event = OutboxEvent.objects.get(request=other)

    assert officer_client.get(replay_url(on_time, event.pk)).status_code == 404
