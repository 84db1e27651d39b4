"""Tamper evidence: the database refuses to change the record, and the hash chain shows it if it was."""

from __future__ import annotations

import io
from datetime import timedelta
from importlib import import_module
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone

from notifications.models import Delivery, DeliveryAttempt, DeliveryStatus, OutboxEvent, WebhookEndpoint
from notifications.services import outbox_relay
from requests_app.management.commands.verify_timeline import missing_triggers
from requests_app.models import TimelineEntry
from requests_app.timeline_chain import GENESIS, entry_hash

pytestmark = pytest.mark.django_db

timeline_guard = import_module("requests_app.migrations.0004_timeline_append_only")
chain_migration = import_module("requests_app.migrations.0003_chain_existing_timeline")
TABLE = TimelineEntry._meta.db_table


def _acknowledged(officer, make_request) -> str:
    request_id = make_request()["id"]
    assert officer.post(f"/v1/requests/{request_id}/acknowledgements", {}).status_code == 202
    return request_id


def _refused(statement, message: str) -> None:
    # The savepoint keeps the test's transaction usable after the error (PostgreSQL aborts it otherwise).
    with pytest.raises(IntegrityError, match=message), transaction.atomic():
        statement()


def _raw(sql: str, *params) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _verify(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify_timeline", *args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return exc.returncode, out.getvalue()
    return 0, out.getvalue()


# --- the chain ----------------------------------------------------------------------------------------------


def test_entries_created_through_the_api_carry_a_valid_chain(officer, make_request):
    request_id = _acknowledged(officer, make_request)
    first, second = TimelineEntry.objects.filter(request_id=request_id).order_by("seq")
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash
    for entry in (first, second):
        assert len(entry.hash) == 64
        assert entry.hash == entry_hash(entry, entry.prev_hash)


def test_an_entry_cannot_be_saved_unchained(make_request):
    entry = TimelineEntry.objects.filter(request_id=make_request()["id"]).get()
    entry.pk, entry.seq, entry.hash = "tle_unchained", 2, ""
    entry._state.adding = True
    with pytest.raises(ValueError, match="seal"):
        entry.save(force_insert=True)


# --- the triggers -------------------------------------------------------------------------------------------


def test_the_append_only_triggers_are_installed():
    # Fails if a later migration remade one of the tables on SQLite without installing them again.
    assert missing_triggers() == []


def test_the_database_refuses_to_change_or_delete_a_timeline_entry(officer, make_request):
    request_id = _acknowledged(officer, make_request)
    entries = TimelineEntry.objects.filter(request_id=request_id)
    _refused(lambda: entries.update(notes="x"), "append-only")
    _refused(lambda: entries.filter(seq=2).delete(), "append-only")
    _refused(
        lambda: _raw(f"UPDATE {TABLE} SET notes = %s WHERE request_id = %s", "x", request_id), "append-only"
    )
    _refused(lambda: _raw(f"DELETE FROM {TABLE} WHERE request_id = %s", request_id), "append-only")
    assert list(entries.order_by("seq").values_list("seq", "notes")) == [(1, ""), (2, "")]


def test_a_dispatched_outbox_event_is_frozen(make_request):
    make_request()
    event = OutboxEvent.objects.get()
    assert event.dispatched_at is None
    assert outbox_relay().events == 1  # setting dispatched_at on an undispatched event is allowed
    events = OutboxEvent.objects.filter(pk=event.pk)
    message = "dispatched outbox events cannot be changed"
    _refused(lambda: events.update(body="{}"), message)
    _refused(lambda: events.update(dispatched_at=None), message)
    _refused(lambda: events.delete(), message)
    assert OutboxEvent.objects.get().body == event.body


def test_a_delivered_delivery_and_the_attempt_log_are_frozen(org, other_org, make_request):
    make_request()
    make_request()
    outbox_relay()
    now = timezone.now()
    event, other_event = OutboxEvent.objects.order_by("created_at", "id")
    endpoint, other_endpoint = (
        WebhookEndpoint.objects.create(
            org=org, url=f"https://receiver.example/{n}", event_types=["*"], secret="whsec_x", created_at=now
        )
        for n in range(2)
    )
    delivery = Delivery.objects.create(
        org=org, event=event, endpoint=endpoint, next_attempt_at=now, created_at=now
    )
    rows = Delivery.objects.filter(pk=delivery.pk)
    # Until delivered the row is the retry schedule: the workers change it freely.
    rows.update(status=DeliveryStatus.DELIVERING, attempt=1, claim_token="t", claimed_until=now)
    rows.update(
        status=DeliveryStatus.DELIVERED,
        delivered_at=now,
        last_response_code=200,
        next_attempt_at=None,
        claimed_until=None,
    )

    message = "delivered webhook deliveries cannot be changed"
    later = now + timedelta(minutes=1)
    # Every column, the claim bookkeeping included: since `enqueued_until` went, nothing writes to a
    # delivered row, so nothing on it may change.
    changes = {
        "id": "dlv_renamed",
        "org": other_org,
        "event": other_event,
        "endpoint": other_endpoint,
        "status": DeliveryStatus.FAILED,
        "attempt": 2,
        "next_attempt_at": later,
        "claimed_at": later,
        "claimed_until": later,
        "claim_token": "someone-else",
        "last_attempted_at": later,
        "last_response_code": 500,
        "last_latency_ms": 12,
        "last_error": "rewritten",
        "delivered_at": None,
        "created_at": later,
        "replay_of": delivery,
        "actor": "someone",
    }
    assert set(changes) == {f.name for f in Delivery._meta.concrete_fields}, "a new column: freeze it too"
    for name, value in changes.items():
        _refused(lambda name=name, value=value: rows.update(**{name: value}), message)
    _refused(lambda: rows.delete(), message)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt, delivery.claim_token, delivery.delivered_at) == (
        DeliveryStatus.DELIVERED,
        1,
        "t",
        now,
    )

    attempt = DeliveryAttempt.objects.create(delivery=delivery, number=1, attempted_at=now, response_code=200)
    attempts = DeliveryAttempt.objects.filter(pk=attempt.pk)
    _refused(lambda: attempts.update(response_code=500), "delivery attempts are append-only")
    _refused(lambda: attempts.delete(), "delivery attempts are append-only")


# --- verify_timeline ----------------------------------------------------------------------------------------


def test_verify_timeline_passes_an_intact_record(officer, make_request):
    _acknowledged(officer, make_request)
    make_request()
    assert _verify() == (0, "2 requests, 3 entries checked; 0 broken\n")


def test_verify_timeline_catches_a_row_edited_with_the_triggers_dropped(officer, make_request):
    tampered = _acknowledged(officer, make_request)
    intact = _acknowledged(officer, make_request)
    with timeline_guard.suspended(connection):
        _raw(f"UPDATE {TABLE} SET notes = %s WHERE request_id = %s AND seq = 2", "nothing to see", tampered)
    _refused(lambda: _raw(f"UPDATE {TABLE} SET notes = ''"), "append-only")  # the triggers are back
    code, out = _verify()
    assert code == 1
    assert f"BROKEN {tampered} at seq 2: content changed" in out
    assert intact not in out
    assert out.endswith("2 requests, 4 entries checked; 1 broken\n")


def test_verify_timeline_catches_a_removed_and_a_relinked_entry(officer, make_request):
    removed = _acknowledged(officer, make_request)
    relinked = _acknowledged(officer, make_request)
    with timeline_guard.suspended(connection):
        _raw(f"DELETE FROM {TABLE} WHERE request_id = %s AND seq = 1", removed)
        _raw(f"UPDATE {TABLE} SET prev_hash = %s WHERE request_id = %s AND seq = 2", GENESIS, relinked)
    code, out = _verify()
    assert code == 1
    assert f"BROKEN {removed} at seq 2: gap" in out
    assert f"BROKEN {relinked} at seq 2: link broken" in out


def test_verify_timeline_names_a_request_with_no_timeline_left(make_request):
    request_id = make_request()["id"]
    with timeline_guard.suspended(connection):
        _raw(f"DELETE FROM {TABLE} WHERE request_id = %s", request_id)
    code, out = _verify()
    assert code == 1
    assert f"BROKEN {request_id} at -: no timeline entries at all" in out


def test_verify_timeline_org_scoping(officer, make_request, other_org_client, intake):
    mine = make_request()["id"]
    response = other_org_client.post("/v1/requests", intake())
    assert response.status_code == 202
    theirs = response.json()["data"]["request"]["id"]
    with timeline_guard.suspended(connection):
        _raw(f"UPDATE {TABLE} SET actor = %s WHERE request_id = %s", "someone else", theirs)
    assert _verify("--org", officer.org.pk) == (0, "1 requests, 1 entries checked; 0 broken\n")
    code, out = _verify("--org", other_org_client.org.pk)
    assert code == 1 and f"BROKEN {theirs} at seq 1: content changed" in out and mine not in out


# --- the data migration -------------------------------------------------------------------------------------


def test_the_migration_chains_existing_rows(officer, make_request):
    first = _acknowledged(officer, make_request)
    second = _acknowledged(officer, make_request)
    expected = dict(TimelineEntry.objects.values_list("pk", "hash"))
    # As the rows were before the chain existed, walked through the historical model of that migration.
    apps = MigrationLoader(connection).project_state(("requests_app", "0003_chain_existing_timeline")).apps
    with timeline_guard.suspended(connection):
        _raw(f"UPDATE {TABLE} SET prev_hash = '', hash = ''")
        chain_migration.PAGE = 3  # several pages, one of them ending mid-request
        try:
            chain_migration.chain_existing(apps, SimpleNamespace(connection=connection))
        finally:
            chain_migration.PAGE = 1000
    assert dict(TimelineEntry.objects.values_list("pk", "hash")) == expected
    assert {first, second} <= set(TimelineEntry.objects.values_list("request_id", flat=True))
    assert _verify()[0] == 0
