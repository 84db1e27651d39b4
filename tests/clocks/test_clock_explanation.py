"""The contract shapes: the Request `clock` block and the clock explanation (api-contract.md)."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time

from clocks import ClockEvent, EventKind, compute, get_pack
from clocks.zones import zone

E = EventKind
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?[+-]\d{2}:\d{2}$")

CONTRACT_KEYS = {
    "requestId", "policyPack", "timezone", "receivedAt", "clockStartsAt", "period", "baseDueDate",
    "dueDate", "dueAt", "extensions", "pauses", "segments", "deadlines", "adjustments",
    "acknowledgement", "state", "daysRemaining", "atRisk", "overdue", "computedAt",
}  # fmt: skip
EXTRA_KEYS = {
    "jurisdiction", "provisional", "excludedDays", "holidaysReliedOn", "citations",
    "answeredLate", "deadlineKind", "appeal", "segmentsByType", "periods", "holidaysCounted",
}  # fmt: skip


def local(day: str, at: time = time(10, 0)) -> datetime:
    return datetime.combine(date.fromisoformat(day), at, tzinfo=zone("Europe/London"))


EXTEND_ONE_MONTH = {"amount": 1, "unit": "CALENDAR_MONTHS", "reason": "volume", "by": "dpo"}


def busy_result():
    events = [
        ClockEvent(E.CLARIFICATION_REQUESTED, local("2026-04-02")),
        ClockEvent(E.CLARIFICATION_RECEIVED, local("2026-04-04")),
        ClockEvent(E.EXTENSION, local("2026-04-20"), EXTEND_ONE_MONTH),
        ClockEvent(E.ACKNOWLEDGED, local("2026-04-01", time(11))),
    ]
    # 31 March + 2 months = 31 May (a Sunday) + 3 excluded days = Wednesday 3 June.
    return compute(
        get_pack("GB"),
        received_at=datetime(2026, 3, 31, 9, 12, tzinfo=zone("UTC")),
        request_types=["ACCESS"],
        events=events,
        now=local("2026-04-21"),
    )


def test_clock_block_matches_the_request_resource() -> None:
    block = busy_result().clock_block()

    assert block == {
        "policyPack": "uk-gdpr",
        "policyVersion": "2026.1",
        "timezone": "Europe/London",
        "state": "RUNNING",
        "startedAt": "2026-03-31T00:00:00+01:00",
        "baseDueDate": "2026-04-30",
        "dueDate": "2026-06-03",
        "dueAt": "2026-06-03T23:59:59+01:00",
        "acknowledgeBy": None,
        "acknowledgedAt": "2026-04-01T11:00:00+01:00",
        "daysRemaining": 43,
        "atRisk": False,
        "overdue": False,
        "answeredLate": None,  # not stopped
        "acknowledgeOverdue": False,  # GB has no acknowledgement deadline
        "deadlineKind": "RESPONSE",
    }


def test_explanation_has_the_contract_keys_and_shapes() -> None:
    data = busy_result().explanation("req_01")
    json.dumps(data)  # plain JSON values only

    assert set(data) == CONTRACT_KEYS | EXTRA_KEYS
    assert data["requestId"] == "req_01"
    assert set(data["policyPack"]) == {"id", "version", "law", "citation"}
    assert data["policyPack"]["law"] == "UK GDPR Art. 12(3)"
    assert data["period"] == {"amount": 1, "unit": "CALENDAR_MONTHS"}
    assert data["receivedAt"] == "2026-03-31T10:12:00+01:00"  # shown in the pack's zone
    assert data["clockStartsAt"] == "2026-03-31T00:00:00+01:00"
    assert (data["baseDueDate"], data["dueDate"]) == ("2026-04-30", "2026-06-03")
    assert data["acknowledgement"] == {
        "dueDate": None,
        "dueAt": None,
        "at": "2026-04-01T11:00:00+01:00",
        "overdue": False,
    }
    assert (data["appeal"], data["answeredLate"], data["deadlineKind"]) == (None, None, "RESPONSE")
    assert data["segmentsByType"] == {}  # one request type: nothing differs
    assert data["periods"] == [
        {
            "requestType": "ACCESS",
            "amount": 1,
            "unit": "CALENDAR_MONTHS",
            "citation": get_pack("GB").period_rule("ACCESS").citation,
            "extendable": True,
            "basis": "STATUTE",
        }
    ]
    assert data["holidaysCounted"] == []
    assert data["excludedDays"] == 3
    assert data["computedAt"] == "2026-04-21T10:00:00+01:00"

    [extension] = data["extensions"]
    assert extension == {
        "grantedAt": "2026-04-20T10:00:00+01:00",
        "by": "dpo",
        "amount": 1,
        "unit": "CALENDAR_MONTHS",
        "reason": "volume",
        "dueDateAfter": "2026-06-03",
    }
    assert data["pauses"] == [
        {
            "pausedAt": "2026-04-02T10:00:00+01:00",
            "resumedAt": "2026-04-04T10:00:00+01:00",
            "reason": "CLARIFICATION",
            "effect": "EXCLUDE",
        }
    ]
    assert [s["kind"] for s in data["segments"]] == ["RUNNING", "PAUSED", "RUNNING", "EXTENDED"]
    for segment in data["segments"]:
        assert set(segment) == {"kind", "start", "end", "days", "note", "rule"}
        assert DATETIME.match(segment["start"])
        assert segment["end"] is None or DATETIME.match(segment["end"])
        assert segment["rule"]
    assert data["deadlines"] == [{"kind": "RESPONSE", "requestType": "ACCESS", "dueDate": "2026-06-03"}]
    for adjustment in data["adjustments"]:
        assert set(adjustment) == {"from", "to", "why", "reliedUpon"}
        assert DATE.match(adjustment["from"]) and DATE.match(adjustment["to"])
    for key in ("dueAt", "receivedAt", "clockStartsAt", "computedAt"):
        assert DATETIME.match(data[key]), key
    assert all(isinstance(c, str) and c for c in data["citations"])


def test_roll_adjustment_and_holidays_are_explained() -> None:
    # 4 April 2026 + 1 month = Monday 4 May, the Early May bank holiday -> Tuesday 5 May.
    at = local("2026-04-04")
    data = compute(get_pack("GB"), received_at=at, request_types=[], events=[], now=at).explanation("r")

    assert data["dueDate"] == "2026-05-05"
    assert data["adjustments"] == [
        {"from": "2026-05-04", "to": "2026-05-05", "why": "May Day (GB-ENG)", "reliedUpon": True}
    ]
    assert data["holidaysReliedOn"] == [{"date": "2026-05-04", "name": "May Day (GB-ENG)"}]
    assert get_pack("GB").roll.citation in data["citations"]


def test_results_record_pack_id_and_version() -> None:
    result = busy_result()
    assert (result.pack_id, result.pack_version) == ("uk-gdpr", "2026.1")
    assert result.computed_at == local("2026-04-21")
