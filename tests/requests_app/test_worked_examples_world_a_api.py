"""Issue 12, rest of world (batch A) through the API: intake over HTTP, the due date read back.

The examples are those derived in tests/clocks/test_packs_world_a.py. Each receivedAt is a UTC instant that
falls on the intended local date in the pack's zone (noted per row).
"""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest

pytestmark = pytest.mark.django_db

# id, code, receivedAt (UTC), request types, action, body, expected due date, expected acknowledgeBy
EXAMPLES = [
    # KR, Asia/Seoul (UTC+9): 03:00Z is 12:00 local.
    ("KR-CHUSEOK", "KR", "2025-09-23T03:00:00Z", ["ACCESS"], None, None, "2025-10-10", None),
    ("KR-SATURDAY", "KR", "2025-11-05T03:00:00Z", ["ERASURE"], None, None, "2025-11-17", None),
    # NZ, Pacific/Auckland (UTC+13 in summer): 00:00Z is 13:00 local.
    ("NZ-CLOSE-DOWN", "NZ", "2025-12-10T00:00:00Z", ["ACCESS"], None, None, "2026-01-29", None),
    ("NZ-WAITANGI", "NZ", "2026-01-20T00:00:00Z", ["RECTIFICATION"], None, None, "2026-02-18", None),
    ("NZ-INSIDE-CLOSE-DOWN", "NZ", "2025-12-28T00:00:00Z", ["ACCESS"], None, None, "2026-02-13", None),
    # ZA, Africa/Johannesburg (UTC+2): 10:00Z is 12:00 local.
    ("ZA-SATURDAY", "ZA", "2025-10-02T10:00:00Z", ["ACCESS"], None, None, "2025-11-01", None),
    ("ZA-SUNDAY", "ZA", "2025-07-11T10:00:00Z", ["ACCESS"], None, None, "2025-08-11", None),
    ("ZA-SUNDAY-HOLIDAY", "ZA", "2025-05-16T10:00:00Z", ["ACCESS"], None, None, "2025-06-17", None),
    (
        "ZA-EXTENSION",
        "ZA",
        "2025-10-02T10:00:00Z",
        ["ACCESS"],
        "extensions",
        {"reason": "volume", "occurredAt": "2025-10-20T10:00:00Z"},
        "2025-12-01",
        None,
    ),
    # JP, Asia/Tokyo (UTC+9): 03:00Z is 12:00 local.
    ("JP-GOLDEN-WEEK", "JP", "2025-04-30T03:00:00Z", ["ACCESS"], None, None, "2025-05-14", None),
    ("JP-HOLIDAY-KEPT", "JP", "2025-09-01T03:00:00Z", ["ERASURE"], None, None, "2025-09-15", None),
    # CN, Asia/Shanghai (UTC+8): 04:00Z is 12:00 local.
    ("CN-QINGMING", "CN", "2025-03-24T04:00:00Z", ["ACCESS"], None, None, "2025-04-15", None),
    ("CN-LABOUR-DAY", "CN", "2025-04-28T04:00:00Z", ["RECTIFICATION"], None, None, "2025-05-22", None),
    # TH, Asia/Bangkok (UTC+7): 05:00Z is 12:00 local.
    ("TH-SUNDAY", "TH", "2025-06-06T05:00:00Z", ["ACCESS"], None, None, "2025-07-07", None),
    ("TH-SONGKRAN", "TH", "2025-03-15T05:00:00Z", ["ACCESS"], None, None, "2025-04-17", None),
    # TR, Europe/Istanbul (UTC+3): 09:00Z is 12:00 local.
    ("TR-30-DAYS", "TR", "2025-03-03T09:00:00Z", ["ACCESS"], None, None, "2025-04-02", None),
    ("TR-HOLIDAY-KEPT", "TR", "2025-05-07T09:00:00Z", ["ACCESS"], None, None, "2025-06-06", None),
    # VN, Asia/Ho_Chi_Minh (UTC+7): 05:00Z is 12:00 local.
    (
        "VN-WITHDRAW",
        "VN",
        "2026-06-10T05:00:00Z",
        ["WITHDRAW_CONSENT"],
        None,
        None,
        "2026-06-25",
        "2026-06-12",
    ),
    (
        "VN-WITHDRAW-HUNG-KINGS",
        "VN",
        "2026-04-24T05:00:00Z",
        ["WITHDRAW_CONSENT"],
        None,
        None,
        "2026-05-09",
        "2026-04-29",
    ),
    ("VN-ACCESS", "VN", "2026-03-02T05:00:00Z", ["ACCESS"], None, None, "2026-03-12", "2026-03-04"),
]


@pytest.mark.parametrize(
    ("case", "code", "received", "types", "action", "body", "due", "ack"),
    EXAMPLES,
    ids=[e[0] for e in EXAMPLES],
)
def test_worked_example_through_the_api(
    officer, make_request, case, code, received, types, action, body, due, ack
):
    request = make_request(jurisdiction=code, receivedAt=received, requestTypes=types)
    if action:
        response = officer.post(f"/v1/requests/{request['id']}/{action}", body)
        assert response.status_code == 202, response.content
        clock = response.json()["data"]["clock"]
    else:
        clock = request["clock"]

    assert clock["dueDate"] == due, case
    assert clock["acknowledgeBy"] == ack, case
    explain = officer.get(f"/v1/requests/{request['id']}/clock/explain").json()["data"]
    assert explain["dueDate"] == due


# --- ID: 3 x 24 hours, dueAt is the exact instant -----------------------------------------------------------

ID_EXAMPLES = [
    # Received Tue 2025-03-04 15:00 WIB (08:00Z) -> Fri 2025-03-07 15:00 WIB.
    ("ID-72H", "2025-03-04T08:00:00Z", "2025-03-07", datetime(2025, 3, 7, 8, 0, tzinfo=UTC)),
    # Received 2025-05-29 20:00Z = Fri 05-30 03:00 WIB -> Mon 06-02 03:00 WIB (06-01 20:00Z): the local date.
    ("ID-LOCAL-DATE", "2025-05-29T20:00:00Z", "2025-06-02", datetime(2025, 6, 1, 20, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize(("case", "received", "due", "due_at"), ID_EXAMPLES, ids=[e[0] for e in ID_EXAMPLES])
def test_indonesia_due_at_is_receipt_plus_72_hours(make_request, case, received, due, due_at):
    request = make_request(jurisdiction="ID", receivedAt=received)

    clock = request["clock"]
    assert clock["dueDate"] == due, case
    assert datetime.fromisoformat(clock["dueAt"]) == due_at, clock["dueAt"]
    assert clock["dueAt"].endswith("+07:00")  # rendered in the pack's zone, Asia/Jakarta


# --- IN: rights from 2027-05-13, in the future as these tests are written (2026-12) -------------------------

AFTER_THE_EXAMPLES = datetime(2027, 8, 1, 6, 0, tzinfo=UTC)

IN_EXAMPLES = [
    # Kolkata (UTC+5:30): 06:30Z is 12:00 local. Thu 2027-05-13 + 30 = Sat 2027-06-12, kept.
    ("IN-FIRST-DAY", "2027-05-13T06:30:00Z", ["ACCESS"], "2027-06-12"),
    # Tue 2027-06-01 + 30 = Thu 2027-07-01.
    ("IN-30-DAYS", "2027-06-01T06:30:00Z", ["ERASURE"], "2027-07-01"),
    # 2027-05-12 19:00Z is 2027-05-13 00:30 in Kolkata: the local date is the first day in force.
    ("IN-LOCAL-DATE", "2027-05-12T19:00:00Z", ["ACCESS"], "2027-06-12"),
]


@pytest.mark.parametrize(("case", "received", "types", "due"), IN_EXAMPLES, ids=[e[0] for e in IN_EXAMPLES])
def test_india_worked_example_once_in_force(officer, make_request, case, received, types, due):
    with mock.patch("django.utils.timezone.now", return_value=AFTER_THE_EXAMPLES):
        request = make_request(jurisdiction="IN", receivedAt=received, requestTypes=types)
        explain = officer.get(f"/v1/requests/{request['id']}/clock/explain").json()["data"]

    assert request["clock"]["dueDate"] == due, case
    assert explain["dueDate"] == due


def test_india_request_received_before_13_may_2027_is_refused_at_intake(officer, intake):
    # 2027-05-12 18:00Z is 23:30 on 05-12 in Kolkata: the day before the rights apply.
    body = intake(jurisdiction="IN", receivedAt="2027-05-12T18:00:00Z")

    with mock.patch("django.utils.timezone.now", return_value=AFTER_THE_EXAMPLES):
        response = officer.post("/v1/requests", body)

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    messages = [detail["message"] for detail in error["details"] if detail["field"] == "jurisdiction"]
    assert messages, error
    assert "2027-05-13" in messages[0]
