"""Auditors read everything in their org and act on nothing: no buttons, and every write URL is a 403."""

from __future__ import annotations

import pytest
from admin_paths import act_url, change_url, replay_url

from notifications.models import OutboxEvent
from requests_app.admin.actions import ACTIONS
from requests_app.models import TimelineEntry

pytestmark = pytest.mark.django_db


def test_it_shows_an_auditor_the_request_without_action_buttons(auditor_client, on_time):
    response = auditor_client.get(change_url(on_time))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Read-only: you can view this request but not act on it" in page
    assert "/act/" not in page
    assert "Replay…" not in page
    assert 'name="_save"' not in page


def test_it_shows_an_officer_a_button_per_allowed_action(officer_client, on_time):
    page = officer_client.get(change_url(on_time)).content.decode()

    for name in ("acknowledge", "extend", "refuse", "close", "clarification.request"):
        assert act_url(on_time, name) in page
    # Not allowed while RECEIVED: there is no clarification to receive.
    assert act_url(on_time, "clarification.receive") not in page


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_it_refuses_every_action_to_an_auditor_with_403_and_writes_nothing(auditor_client, on_time, action):
    before = TimelineEntry.objects.filter(request=on_time).count()
    body = {"reason": "EXCESSIVE", "message": "m", "outcome": "FULFILLED", "type": "DATA_SUBJECT"}

    assert auditor_client.get(act_url(on_time, action)).status_code == 403
    assert auditor_client.post(act_url(on_time, action), body).status_code == 403

    assert TimelineEntry.objects.filter(request=on_time).count() == before
    on_time.refresh_from_db()
    assert on_time.status == "RECEIVED"


def test_it_refuses_replay_to_an_auditor(auditor_client, on_time):
    event = OutboxEvent.objects.get(request=on_time)

    assert auditor_client.post(replay_url(on_time, event.pk), {}).status_code == 403


def test_it_refuses_the_change_form_post_even_to_an_officer(officer_client, auditor_client, on_time):
    # The request page is read-only for everyone; status changes only through the action forms.
    for client in (officer_client, auditor_client):
        assert client.post(change_url(on_time), {"status": "CLOSED"}).status_code == 403
    on_time.refresh_from_db()
    assert on_time.status == "RECEIVED"
