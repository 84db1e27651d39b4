"""The request page: the intake verbatim, the clock drawn and explained, the timeline and notifications."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from admin_paths import act_url, change_url, replay_url
from django.contrib.messages import get_messages
from django.utils import timezone

from notifications.models import Delivery, OutboxEvent, Replay, WebhookEndpoint
from notifications.selectors import DELIVERIES_PER_EVENT
from notifications.services import event_emit
from requests_app import services
from requests_app.admin.presenters import format_day
from requests_app.admin.views import ADMIN_EVENTS_SHOWN

pytestmark = pytest.mark.django_db


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_it_shows_the_intake_verbatim_with_both_receipt_times_as_local_times(officer_client, new_request):
    raw = "Dear DPO,\n\n  please send <b>everything</b> you hold.\n-- J."
    dsr = new_request(jurisdiction="GB", raw_text=raw)

    page = officer_client.get(change_url(dsr)).content.decode()

    escaped = "Dear DPO,\n\n  please send &lt;b&gt;everything&lt;/b&gt; you hold.\n-- J."
    assert f'<pre class="dsar-verbatim">{escaped}</pre>' in page
    local = dsr.intake_received_at.astimezone(ZoneInfo("Europe/London"))
    # "Tue 24 Nov 2026, 14:05 GMT": the clock's zone, no seconds, no raw UTC stamp.
    assert f"{format_day(local)}, {local:%H:%M} {local.tzname()}" in page
    assert "received by the organisation" in page.lower()
    assert "recorded by this system" in page.lower()
    assert "Europe/London" in page


def test_it_draws_the_clock_and_explains_it_with_citations(officer_client, due_soon):
    response = officer_client.get(change_url(due_soon))

    page = response.content.decode()
    assert '<svg viewBox="0 0 1000' in page
    assert 'data-marker="DUE"' in page and 'data-marker="TODAY"' in page
    assert 'data-kind="RUNNING"' in page
    assert 'id="clock-deadlines"' in page
    assert "11 CCR §7021" in page or "11 CCR &sect;7021" in page
    assert "<script" not in page.split('id="clock"')[1].split("</fieldset>")[0]
    assert response.context["dsar_explanation"]["due_date"] == format_day(due_soon.clock_due_date)


def test_it_lists_the_timeline_oldest_first(officer_client, on_time):
    services.request_acknowledge(org=on_time.org, request_id=on_time.pk, actor="test", notes="letter sent")
    services.request_extend(org=on_time.org, request_id=on_time.pk, actor="test", reason="complex")

    timeline = officer_client.get(change_url(on_time)).context["dsar_timeline"]

    assert [e["action"] for e in timeline] == ["create", "acknowledge", "extend"]
    assert [e["action_words"] for e in timeline] == ["Request received", "Acknowledged", "Deadline extended"]
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


def test_it_records_an_admin_replay_like_an_api_one(officer_client, on_time, endpoint):
    event = OutboxEvent.objects.get(request=on_time)

    officer_client.post(replay_url(on_time, event.pk), {})

    replay = Replay.objects.get()
    assert (replay.event_id, replay.endpoint_id, replay.actor, replay.deliveries) == (
        event.pk,
        None,
        "user:olivia",
        1,
    )


def test_it_shows_a_replay_over_the_hourly_quota_as_a_message(officer_client, on_time, endpoint, settings):
    settings.DSAR_WEBHOOK_REPLAYS_PER_HOUR = 1
    event = OutboxEvent.objects.get(request=on_time)
    officer_client.post(replay_url(on_time, event.pk), {"endpoint": endpoint.pk})

    response = officer_client.post(replay_url(on_time, event.pk), {"endpoint": endpoint.pk}, follow=True)

    assert response.status_code == 200
    assert (
        "Replay refused: this event was already replayed once in the last hour, the most allowed. "
        "Try again in 60 minutes."
    ) in _messages(response)
    assert Delivery.objects.filter(event=event).count() == Replay.objects.count() == 1


def _deliveries(event, endpoint, count):
    return Delivery.objects.bulk_create(
        Delivery(
            org_id=event.org_id,
            event=event,
            endpoint=endpoint,
            status="DELIVERED",
            attempt=1,
            created_at=event.created_at + timedelta(minutes=i),
        )
        for i in range(count)
    )


def test_it_shows_an_events_latest_deliveries_and_how_many_more_it_has(officer_client, on_time, endpoint):
    event = OutboxEvent.objects.get(request=on_time)
    rows = _deliveries(event, endpoint, DELIVERIES_PER_EVENT + 3)

    response = officer_client.get(change_url(on_time))

    (row,) = response.context["dsar_notifications"]
    assert [d["id"] for d in row["deliveries"]] == [d.pk for d in rows[3:]]
    assert (row["delivery_count"], row["deliveries_hidden"]) == (23, 3)
    assert "3 more earlier deliveries not shown (23 in all)" in _section(
        response.content.decode(), "notifications"
    )


def test_it_shows_the_latest_events_and_says_when_earlier_ones_are_not_shown(officer_client, on_time):
    start = timezone.now()
    emitted = [
        event_emit(
            org_id=on_time.org_id,
            request_id=on_time.pk,
            type="clock.at_risk",
            data={},
            at=start + timedelta(seconds=i),
        ).pk
        for i in range(ADMIN_EVENTS_SHOWN)
    ]

    response = officer_client.get(change_url(on_time))

    rows = response.context["dsar_notifications"]
    assert len(rows) == ADMIN_EVENTS_SHOWN
    # The latest fifty, shown oldest first like the timeline: the first event (request.created) is left out.
    assert [r["id"] for r in rows] == emitted
    assert response.context["dsar_notifications_older"] is True
    assert "earlier ones are not shown here" in _section(response.content.decode(), "notifications")


def test_it_says_nothing_of_earlier_events_when_all_are_shown(officer_client, on_time):
    response = officer_client.get(change_url(on_time))

    assert response.context["dsar_notifications_older"] is False
    assert "earlier ones are not shown" not in response.content.decode()


def test_it_answers_404_for_an_event_of_another_request(officer_client, on_time, new_request):
    other = new_request()
    event = OutboxEvent.objects.get(request=other)

    assert officer_client.get(replay_url(on_time, event.pk)).status_code == 404


# --- the page in words ---


def _section(page: str, element_id: str) -> str:
    return page.split(f'id="{element_id}"')[1].split("</fieldset>")[0]


@pytest.mark.parametrize(
    ("requestor", "contact", "heading"),
    [
        (
            {"type": "DATA_SUBJECT", "name": "Jane Doe", "email": "jane@example.org"},
            "jd@example.org",
            "Jane Doe",
        ),
        (
            {"type": "DATA_SUBJECT", "email": "x@example.org"},
            "only.contact@example.org",
            "only.contact@example.org",
        ),
        (None, "", "Unnamed requestor"),
    ],
)
def test_it_heads_the_page_with_the_subjects_name_and_the_id_below(
    officer_client, new_request, requestor, contact, heading
):
    dsr = new_request(requestor=requestor, contact=contact)

    response = officer_client.get(change_url(dsr))

    page = response.content.decode()
    assert f'<h1 class="dsar-subject-heading">{heading}</h1>' in page
    subtitle = page.split('id="dsar-subtitle"')[1].split("</p>")[0]
    assert dsr.pk in subtitle and "US-CA" in subtitle and "Received" in subtitle
    assert f"<title>{heading} · {dsr.pk} | DSAR Core</title>" in page


def test_it_shows_dates_without_microseconds_or_utc_stamps(officer_client, on_time):
    services.request_acknowledge(org=on_time.org, request_id=on_time.pk, actor="test")

    page = officer_client.get(change_url(on_time)).content.decode()

    assert not re.search(r"\d{2}:\d{2}:\d{2}\.\d+", page)  # no microseconds
    assert "+00:00" not in page
    assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", page)  # no ISO instants
    local = on_time.intake_received_at.astimezone(ZoneInfo("America/Los_Angeles"))
    assert f"{format_day(local)}, {local:%H:%M} {local.tzname()}" in _section(page, "timeline")


def test_it_tells_an_extension_in_words_with_the_due_date_it_moved(officer_client, on_time):
    before = on_time.clock_due_date
    services.request_extend(
        org=on_time.org, request_id=on_time.pk, actor="user:olivia", reason="complex request"
    )
    on_time.refresh_from_db()

    page = officer_client.get(change_url(on_time)).content.decode()

    timeline = _section(page, "timeline")
    assert (
        f"Extended by 45 calendar days — reason: complex request; "
        f"due {format_day(on_time.clock_due_date)} (was {format_day(before)})"
    ) in timeline
    assert "{&quot;" not in timeline and '{"' not in timeline  # no JSON


def test_it_names_the_request_type_an_extension_moved_when_there_are_several(officer_client, new_request):
    dsr = new_request(request_types=["ACCESS", "OPT_OUT_SALE"], days_ago=2)
    services.request_extend(org=dsr.org, request_id=dsr.pk, actor="test", reason="complex")

    (row,) = [
        e for e in officer_client.get(change_url(dsr)).context["dsar_timeline"] if e["action"] == "extend"
    ]

    # Opt-out cannot be extended under the CCPA: only the access deadline moved.
    assert "Access due " in row["sentence"] and "(was " in row["sentence"]
    assert "Opt out" not in row["sentence"]


def test_it_tells_a_closure_in_words_keeping_the_message_and_the_internal_notes_apart(
    officer_client, on_time
):
    services.request_close(
        org=on_time.org,
        request_id=on_time.pk,
        actor="user:olivia",
        outcome="FULFILLED",
        message="Your export is attached.",
        notes="Sent via the secure portal.",
    )

    page = officer_client.get(change_url(on_time)).content.decode()

    told = "Closed — outcome: fulfilled; told the requestor: “Your export is attached.”; "
    notes = "internal notes: Sent via the secure portal."
    timeline = _section(page, "timeline")
    # The letter the closure sent the subject is named between the two (correspondence).
    assert re.search(
        re.escape(told) + r"wrote to the subject: CLOSURE msg_\w+ \(queued\); " + re.escape(notes), timeline
    )
    assert told + notes in page.split('class="form-row field-outcome_display"')[1]
    assert '"kind"' not in page and "&quot;kind&quot;" not in page


def test_it_says_when_a_stopped_request_was_answered_instead_of_days_remaining(officer_client, overdue):
    services.request_close(org=overdue.org, request_id=overdue.pk, actor="test", outcome="FULFILLED")
    overdue.refresh_from_db()

    page = officer_client.get(change_url(overdue)).content.decode()

    deadline = page.split('class="form-row field-deadline"')[1].split("</div>\n")[0]
    stopped_on = format_day(overdue.clock_stopped_at.astimezone(ZoneInfo(overdue.clock_timezone)))
    assert re.search(rf"Closed on {stopped_on} — answered [4-6] days late", deadline)
    assert "it was due" in deadline
    assert "left" not in deadline and "remaining" not in deadline


def test_it_offers_the_appeal_only_where_the_law_grants_one_and_names_the_regulator_otherwise(
    officer_client, new_request
):
    virginia, britain = new_request(jurisdiction="US-VA"), new_request(jurisdiction="GB")
    for dsr in (virginia, britain):
        services.request_refuse(org=dsr.org, request_id=dsr.pk, actor="test", reason="EXCESSIVE")

    va_page = officer_client.get(change_url(virginia)).content.decode()
    gb_page = officer_client.get(change_url(britain)).content.decode()

    assert act_url(virginia, "appeal") in va_page
    assert 'id="dsar-regulator"' not in va_page
    assert act_url(britain, "appeal") not in gb_page
    note = gb_page.split('id="dsar-regulator"')[1].split("</p>")[0]
    assert "grants no appeal to the organisation" in note
    assert "The requestor may complain to" in note


def test_it_badges_an_overdue_acknowledgement_on_the_request_page(officer_client, new_request):
    # US-CA: confirm receipt within 10 business days; 20 calendar days on, unacknowledged.
    dsr = new_request(days_ago=20)

    page = officer_client.get(change_url(dsr)).content.decode()

    assert 'id="dsar-ack-badge">Acknowledgement overdue<' in page
    assert "On time" not in page.split('id="dsar-subtitle"')[1].split("</p>")[0]
