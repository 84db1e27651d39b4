"""Issue 12 (rest of the world, B) through the API: AR, MX, SG, PH, SA, IL, CA-AB, CA-BC and TW.

Intake (and the extension, where the pack has one) over HTTP; the due date read back from the request's
clock and from GET /v1/requests/{id}/clock/explain. The derivations are in
tests/clocks/test_packs_world_b.py; each receipt time below is chosen to fall on the intended local date
in the pack's zone (noted per row where the UTC date differs).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

# id, code, receivedAt (UTC), request types, local date of receipt, expected due date
EXAMPLES = [
    # AR, UTC-3: 15:00Z is noon in Buenos Aires.
    ("AR-01", "AR", "2025-03-20T15:00:00Z", ["ACCESS"], "2025-03-20", "2025-03-30"),
    ("AR-02", "AR", "2025-03-20T15:00:00Z", ["ERASURE"], "2025-03-20", "2025-03-28"),
    ("AR-03", "AR", "2025-02-27T15:00:00Z", ["ACCESS", "ERASURE"], "2025-02-27", "2025-03-09"),
    ("AR-04", "AR", "2025-07-07T15:00:00Z", ["ACCESS", "ERASURE"], "2025-07-07", "2025-07-15"),
    # MX, UTC-6: 18:00Z is noon in Mexico City; 03:00Z on 28 Aug is still 27 Aug locally.
    ("MX-01", "MX", "2025-06-02T18:00:00Z", ["ACCESS"], "2025-06-02", "2025-06-22"),
    ("MX-02", "MX", "2025-08-28T03:00:00Z", ["ACCESS"], "2025-08-27", "2025-09-16"),
    # SG, UTC+8: 17:30Z on 30 Jan is 01:30 on 31 Jan in Singapore.
    ("SG-01", "SG", "2025-01-31T04:00:00Z", ["ACCESS"], "2025-01-31", "2025-03-02"),
    ("SG-02", "SG", "2025-01-30T17:30:00Z", ["ACCESS"], "2025-01-31", "2025-03-02"),
    # PH, UTC+8.
    ("PH-01", "PH", "2025-04-07T04:00:00Z", ["ACCESS"], "2025-04-07", "2025-05-26"),
    ("PH-02", "PH", "2025-08-18T04:00:00Z", ["ACCESS", "ERASURE"], "2025-08-18", "2025-10-01"),
    # SA, UTC+3.
    ("SA-01", "SA", "2025-03-01T09:00:00Z", ["ACCESS"], "2025-03-01", "2025-03-31"),
    ("SA-02", "SA", "2024-02-29T09:00:00Z", ["ACCESS"], "2024-02-29", "2024-03-30"),
    # IL, UTC+3 in summer: 21:30Z on 13 Aug is 00:30 on 14 Aug, the first day of Amendment 13.
    ("IL-01", "IL", "2025-09-02T09:00:00Z", ["ACCESS"], "2025-09-02", "2025-10-02"),
    ("IL-02", "IL", "2025-08-13T21:30:00Z", ["ACCESS", "RECTIFICATION"], "2025-08-14", "2025-09-13"),
    # CA-AB, UTC-7 (MST) / UTC-6 (MDT).
    ("AB-01", "CA-AB", "2025-01-02T19:00:00Z", ["ACCESS"], "2025-01-02", "2025-02-16"),
    ("AB-02", "CA-AB", "2025-05-16T18:00:00Z", ["ACCESS"], "2025-05-16", "2025-06-30"),
    # CA-BC, UTC-7 (PDT) / UTC-8 (PST).
    ("BC-01", "CA-BC", "2025-09-02T19:00:00Z", ["ACCESS"], "2025-09-02", "2025-10-16"),
    ("BC-02", "CA-BC", "2025-11-03T20:00:00Z", ["ACCESS"], "2025-11-03", "2025-12-16"),
    # TW, UTC+8.
    ("TW-01", "TW", "2025-01-24T04:00:00Z", ["ACCESS"], "2025-01-24", "2025-02-08"),
    ("TW-02", "TW", "2025-01-24T04:00:00Z", ["ERASURE"], "2025-01-24", "2025-02-23"),
    ("TW-03", "TW", "2025-09-01T04:00:00Z", ["ACCESS", "ERASURE"], "2025-09-01", "2025-09-16"),
]

# id, code, receivedAt, request types, extension body, due date before, due date after
EXTENSIONS = [
    # 2 Jun + (20 + 20) days: LFPDPPP 2025 Art 40, once for an equal period.
    (
        "MX-EXT",
        "MX",
        "2025-06-02T18:00:00Z",
        ["ACCESS"],
        {"reason": "several systems to search", "occurredAt": "2025-06-20T18:00:00Z"},
        "2025-06-22",
        "2025-07-12",
    ),
    # Reg 5 notice within the first 30 days, capped at 30 more: 31 Jan + 60 days.
    (
        "SG-EXT",
        "SG",
        "2025-01-31T04:00:00Z",
        ["ACCESS"],
        {"reason": "archived records", "occurredAt": "2025-02-20T04:00:00Z"},
        "2025-03-02",
        "2025-04-01",
    ),
    # The organisation notifies a shorter time: 31 Jan + 44 days.
    (
        "SG-EXT-14",
        "SG",
        "2025-01-31T04:00:00Z",
        ["ACCESS"],
        {
            "reason": "archived records",
            "occurredAt": "2025-02-20T04:00:00Z",
            "extendBy": {"unit": "DAYS", "amount": 14},
        },
        "2025-03-02",
        "2025-03-16",
    ),
    # Alberta PIPA s.31: 16 May + (45 + 30) days.
    (
        "AB-EXT",
        "CA-AB",
        "2025-05-16T18:00:00Z",
        ["ACCESS"],
        {"reason": "third party consultation", "occurredAt": "2025-06-20T18:00:00Z"},
        "2025-06-30",
        "2025-07-30",
    ),
    # BC PIPA s.31: 60 'days' (no Saturdays, Sundays or holidays) from 3 Nov.
    (
        "BC-EXT",
        "CA-BC",
        "2025-11-03T20:00:00Z",
        ["ACCESS"],
        {"reason": "large volume", "occurredAt": "2025-12-10T20:00:00Z"},
        "2025-12-16",
        "2026-01-29",
    ),
    # Taiwan Art 13, +15 for every type (the shorter): access 1 Sep + 30, erasure 1 Sep + 45.
    (
        "TW-EXT",
        "TW",
        "2025-09-01T04:00:00Z",
        ["ACCESS", "ERASURE"],
        {"reason": "records held by a processor", "occurredAt": "2025-09-10T04:00:00Z"},
        "2025-09-16",
        "2025-10-01",
    ),
]

# code, receivedAt on the local day before the law's effective date, that date
NOT_YET_IN_FORCE = [
    ("AR", "2000-11-01T15:00:00Z", "2000-11-02"),
    ("MX", "2025-03-21T03:00:00Z", "2025-03-21"),  # 20 March, 21:00 in Mexico City
    ("SG", "2014-07-01T04:00:00Z", "2014-07-02"),
    ("PH", "2016-09-08T04:00:00Z", "2016-09-09"),
    ("SA", "2023-09-13T09:00:00Z", "2023-09-14"),
    ("IL", "1980-12-31T09:00:00Z", "1981-01-01"),
    ("CA-AB", "2004-01-01T06:00:00Z", "2004-01-01"),  # 31 December 2003, 23:00 in Edmonton
    ("CA-BC", "2003-12-31T20:00:00Z", "2004-01-01"),
    ("TW", "2012-09-30T04:00:00Z", "2012-10-01"),
]


def explain(officer, request_id: str) -> dict:
    response = officer.get(f"/v1/requests/{request_id}/clock/explain")
    assert response.status_code == 200, response.content
    return response.json()["data"]


@pytest.mark.parametrize(
    ("case", "code", "received_at", "types", "anchor", "due"), EXAMPLES, ids=[e[0] for e in EXAMPLES]
)
def test_worked_example_through_the_api(officer, make_request, case, code, received_at, types, anchor, due):
    request = make_request(jurisdiction=code, receivedAt=received_at, requestTypes=types)

    assert request["clock"]["dueDate"] == due, case
    explained = explain(officer, request["id"])
    assert explained["dueDate"] == due, case
    # The clock starts on the local date of receipt (rendered in the pack's zone), never the UTC date.
    assert explained["clockStartsAt"].startswith(anchor), case
    responses = [d for d in explained["deadlines"] if d["kind"] == "RESPONSE"]
    assert sorted(d["requestType"] for d in responses) == sorted(types), case
    assert min(d["dueDate"] for d in responses) == due, case


@pytest.mark.parametrize(
    ("case", "code", "received_at", "types", "body", "before", "after"),
    EXTENSIONS,
    ids=[e[0] for e in EXTENSIONS],
)
def test_extension_through_the_api(
    officer, make_request, case, code, received_at, types, body, before, after
):
    request = make_request(jurisdiction=code, receivedAt=received_at, requestTypes=types)
    assert request["clock"]["dueDate"] == before, case

    response = officer.post(f"/v1/requests/{request['id']}/extensions", body)

    assert response.status_code == 202, response.content
    assert response.json()["data"]["clock"]["dueDate"] == after, case
    assert explain(officer, request["id"])["dueDate"] == after, case


@pytest.mark.parametrize(
    ("code", "received_at", "body"),
    [
        # MX: base due 2025-06-22; 23 June is too late to extend.
        ("MX", "2025-06-02T18:00:00Z", {"reason": "late", "occurredAt": "2025-06-23T18:00:00Z"}),
        # SG: 31 more days is beyond the product's cap of 30.
        (
            "SG",
            "2025-01-31T04:00:00Z",
            {
                "reason": "long",
                "occurredAt": "2025-02-20T04:00:00Z",
                "extendBy": {"unit": "DAYS", "amount": 31},
            },
        ),
        # AR, PH, SA, IL: the pack provides no extension.
        ("AR", "2025-03-20T15:00:00Z", {"reason": "volume", "occurredAt": "2025-03-21T15:00:00Z"}),
        ("PH", "2025-04-07T04:00:00Z", {"reason": "volume", "occurredAt": "2025-04-08T04:00:00Z"}),
        ("SA", "2025-03-01T09:00:00Z", {"reason": "volume", "occurredAt": "2025-03-02T09:00:00Z"}),
        ("IL", "2025-09-02T09:00:00Z", {"reason": "volume", "occurredAt": "2025-09-03T09:00:00Z"}),
    ],
)
def test_an_extension_the_pack_does_not_allow_is_a_409(officer, make_request, code, received_at, body):
    request = make_request(jurisdiction=code, receivedAt=received_at)
    due = request["clock"]["dueDate"]

    response = officer.post(f"/v1/requests/{request['id']}/extensions", body)

    assert response.status_code == 409, response.content
    assert response.json()["error"]["code"] == "invalid_transition"
    assert explain(officer, request["id"])["dueDate"] == due


def test_a_second_taiwan_extension_is_refused(officer, make_request):
    request = make_request(
        jurisdiction="TW", receivedAt="2025-09-01T04:00:00Z", requestTypes=["RECTIFICATION"]
    )
    first = officer.post(
        f"/v1/requests/{request['id']}/extensions", {"reason": "volume", "occurredAt": "2025-09-25T04:00:00Z"}
    )
    assert first.status_code == 202, first.content
    assert first.json()["data"]["clock"]["dueDate"] == "2025-10-16"  # 1 Sep + 30 + 15

    again = officer.post(
        f"/v1/requests/{request['id']}/extensions", {"reason": "more", "occurredAt": "2025-09-26T04:00:00Z"}
    )

    assert again.status_code == 409, again.content
    assert explain(officer, request["id"])["dueDate"] == "2025-10-16"


@pytest.mark.parametrize(("code", "received_at", "effective_from"), NOT_YET_IN_FORCE)
def test_a_request_received_before_the_law_is_in_force_is_refused_at_intake(
    officer, intake, code, received_at, effective_from
):
    response = officer.post("/v1/requests", intake(jurisdiction=code, receivedAt=received_at))

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    details = [d for d in error["details"] if d["field"] == "jurisdiction"]
    assert details, error
    assert effective_from in str(details[0]) or effective_from in error["message"], error
