"""Issue 12 through the API: the US state packs' worked examples (tests/clocks/test_packs_us_states.py derives
each date), intake and each event over HTTP, the due date read back; and intake refusing a request received
before the law's effective date.

Receipts at 16:00 UTC fall on the same local date in every US zone (08:00 Pacific to 12:00 Eastern). Laws not
yet in force on 2026-12-05 (OK, LA, AL, VT) need receipts the API would refuse as lying in the future, so
those examples run with Django's clock moved past them.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
from unittest.mock import patch

import pytest

pytestmark = pytest.mark.django_db

NOT_YET_IN_FORCE = {"US-OK", "US-LA", "US-AL", "US-VT"}  # on 2026-12-05, when these tests were written
LATER = datetime(2028, 12, 1, 12, 0, tzinfo=UTC)  # after every example below

EFFECTIVE = {
    "US-NJ": "2025-01-15",
    "US-TN": "2025-07-01",
    "US-IN": "2026-01-01",
    "US-MD": "2025-10-01",
    "US-MN": "2025-07-31",
    "US-KY": "2026-01-01",
    "US-IA": "2025-01-01",
    "US-NE": "2025-01-01",
    "US-NH": "2025-01-01",
    "US-DE": "2025-01-01",
    "US-MT": "2024-10-01",
    "US-RI": "2026-01-01",
    "US-FL": "2024-07-01",
    "US-OK": "2027-01-01",
    "US-LA": "2027-01-01",
    "US-AL": "2027-05-01",
    "US-VT": "2028-01-01",
    "US-NV": "2021-10-01",
}


def at(day: str) -> str:
    return f"{day}T16:00:00Z"


def extend(day: str) -> tuple[str, dict]:
    return "extensions", {"reason": "records held by a processor", "occurredAt": at(day)}


def refuse(day: str) -> tuple[str, dict]:
    return "refusals", {"reason": "unverifiable", "occurredAt": at(day)}


def appeal(day: str) -> tuple[str, dict]:
    return "appeals", {"receivedAt": at(day)}


def clock_of(code: str):
    """Django's clock as the example needs it: real time, or moved past the laws not yet in force."""
    return (
        patch("django.utils.timezone.now", return_value=LATER) if code in NOT_YET_IN_FORCE else nullcontext()
    )


ACCESS = ["ACCESS"]
# id, code, request types, local receipt date, steps (action, body), expected dueDate, expected deadlineKind
EXAMPLES = [
    ("NJ-01", "US-NJ", ACCESS, "2025-01-17", [], "2025-03-03", "RESPONSE"),
    ("NJ-02", "US-NJ", ACCESS, "2025-03-31", [extend("2025-05-15")], "2025-06-29", "RESPONSE"),
    (
        "NJ-03",
        "US-NJ",
        ACCESS,
        "2025-03-31",
        [refuse("2025-04-10"), appeal("2025-05-30")],
        "2025-07-14",
        "APPEAL",
    ),
    ("TN-01", "US-TN", ACCESS, "2025-07-01", [], "2025-08-15", "RESPONSE"),
    (
        "TN-02",
        "US-TN",
        ACCESS,
        "2025-10-31",
        [refuse("2025-11-20"), appeal("2025-12-01")],
        "2026-01-30",
        "APPEAL",
    ),
    ("IN-01", "US-IN", ACCESS, "2026-01-01", [], "2026-02-15", "RESPONSE"),
    ("IN-02", "US-IN", ACCESS, "2026-01-15", [extend("2026-03-01")], "2026-04-15", "RESPONSE"),
    ("MD-01", "US-MD", ACCESS, "2025-10-01", [], "2025-11-15", "RESPONSE"),
    (
        "MD-02",
        "US-MD",
        ACCESS,
        "2026-01-30",
        [refuse("2026-02-20"), appeal("2026-02-27")],
        "2026-04-28",
        "APPEAL",
    ),
    ("MN-01", "US-MN", ACCESS, "2025-07-31", [], "2025-09-14", "RESPONSE"),
    ("MN-02", "US-MN", ACCESS, "2025-07-31", [extend("2025-09-01")], "2025-10-29", "RESPONSE"),
    (
        "MN-03",
        "US-MN",
        ACCESS,
        "2025-08-29",
        [refuse("2025-09-15"), appeal("2025-09-30")],
        "2025-11-14",
        "APPEAL",
    ),
    # The appeal extended on its due date, Fri 2025-11-14: Tue 2025-09-30 + 45 + 60 = Tue 2026-01-13.
    (
        "MN-04",
        "US-MN",
        ACCESS,
        "2025-08-29",
        [refuse("2025-09-15"), appeal("2025-09-30"), extend("2025-11-14")],
        "2026-01-13",
        "APPEAL",
    ),
    ("KY-01", "US-KY", ACCESS, "2026-01-01", [], "2026-02-15", "RESPONSE"),
    ("KY-02", "US-KY", ACCESS, "2026-06-01", [extend("2026-07-16")], "2026-08-30", "RESPONSE"),
    ("IA-01", "US-IA", ACCESS, "2025-01-01", [], "2025-04-01", "RESPONSE"),
    ("IA-02", "US-IA", ACCESS, "2025-11-28", [extend("2026-02-20")], "2026-04-12", "RESPONSE"),
    (
        "IA-03",
        "US-IA",
        ACCESS,
        "2025-01-01",
        [refuse("2025-03-03"), appeal("2025-04-15")],
        "2025-06-14",
        "APPEAL",
    ),
    ("NE-01", "US-NE", ACCESS, "2025-01-01", [], "2025-02-15", "RESPONSE"),
    ("NE-02", "US-NE", ACCESS, "2025-12-31", [extend("2026-01-20")], "2026-03-31", "RESPONSE"),
    ("NH-01", "US-NH", ACCESS, "2025-01-15", [], "2025-03-01", "RESPONSE"),
    (
        "NH-02",
        "US-NH",
        ACCESS,
        "2025-06-02",
        [refuse("2025-06-30"), appeal("2025-07-01")],
        "2025-08-30",
        "APPEAL",
    ),
    ("DE-01", "US-DE", ACCESS, "2025-01-31", [], "2025-03-17", "RESPONSE"),
    (
        "DE-03",
        "US-DE",
        ACCESS,
        "2025-01-31",
        [refuse("2025-02-20"), appeal("2025-03-20")],
        "2025-05-19",
        "APPEAL",
    ),
    ("MT-01", "US-MT", ACCESS, "2024-10-01", [], "2024-11-15", "RESPONSE"),
    ("MT-02", "US-MT", ACCESS, "2024-12-20", [extend("2025-01-10")], "2025-03-20", "RESPONSE"),
    ("RI-01", "US-RI", ACCESS, "2026-01-01", [], "2026-02-15", "RESPONSE"),
    (
        "RI-02",
        "US-RI",
        ACCESS,
        "2026-01-28",
        [refuse("2026-02-10"), appeal("2026-03-02")],
        "2026-05-01",
        "APPEAL",
    ),
    ("RI-03", "US-RI", ["WITHDRAW_CONSENT"], "2026-01-28", [], "2026-02-12", "RESPONSE"),
    ("RI-04", "US-RI", ["ACCESS", "WITHDRAW_CONSENT"], "2026-01-28", [], "2026-02-12", "RESPONSE"),
    ("FL-01", "US-FL", ACCESS, "2024-07-01", [], "2024-08-15", "RESPONSE"),
    ("FL-02", "US-FL", ACCESS, "2025-02-13", [extend("2025-03-28")], "2025-04-14", "RESPONSE"),
    ("OK-01", "US-OK", ACCESS, "2027-01-01", [], "2027-02-15", "RESPONSE"),
    (
        "OK-02",
        "US-OK",
        ACCESS,
        "2027-01-29",
        [refuse("2027-02-10"), appeal("2027-03-01")],
        "2027-04-30",
        "APPEAL",
    ),
    ("LA-01", "US-LA", ACCESS, "2027-01-04", [], "2027-02-18", "RESPONSE"),
    (
        "LA-02",
        "US-LA",
        ACCESS,
        "2027-02-01",
        [refuse("2027-03-01"), appeal("2027-03-15")],
        "2027-04-29",
        "APPEAL",
    ),
    ("AL-01", "US-AL", ACCESS, "2027-05-01", [], "2027-06-15", "RESPONSE"),
    (
        "AL-02",
        "US-AL",
        ACCESS,
        "2027-05-17",
        [refuse("2027-06-01"), appeal("2027-06-30")],
        "2027-08-14",
        "APPEAL",
    ),
    ("AL-03", "US-AL", ACCESS, "2027-05-17", [extend("2027-07-01")], "2027-08-15", "RESPONSE"),
    ("VT-01", "US-VT", ACCESS, "2028-01-01", [], "2028-02-15", "RESPONSE"),
    ("VT-02", "US-VT", ACCESS, "2028-02-29", [extend("2028-04-01")], "2028-05-29", "RESPONSE"),
    (
        "VT-03",
        "US-VT",
        ACCESS,
        "2028-02-29",
        [refuse("2028-03-10"), appeal("2028-03-31")],
        "2028-05-15",
        "APPEAL",
    ),
    ("NV-01", "US-NV", ACCESS, "2025-11-03", [], "2025-12-18", "RESPONSE"),
    ("NV-02", "US-NV", ["OPT_OUT_SALE"], "2025-11-03", [], "2026-01-02", "RESPONSE"),
    ("NV-03", "US-NV", ["OPT_OUT_SALE"], "2025-11-03", [extend("2025-12-15")], "2026-02-01", "RESPONSE"),
]


def test_every_pack_has_at_least_two_examples():
    per_code = {code: sum(row[1] == code for row in EXAMPLES) for code in EFFECTIVE}
    assert min(per_code.values()) >= 2, per_code


@pytest.mark.parametrize(
    ("code", "types", "received", "steps", "due", "kind"),
    [pytest.param(*row[1:], id=row[0]) for row in EXAMPLES],
)
def test_worked_example_through_the_api(officer, make_request, code, types, received, steps, due, kind):
    with clock_of(code):
        request = make_request(jurisdiction=code, receivedAt=at(received), requestTypes=types)
        clock = request["clock"]
        for action, body in steps:
            response = officer.post(f"/v1/requests/{request['id']}/{action}", body)
            assert response.status_code == 202, response.content
            clock = response.json()["data"]["clock"]

        assert (clock["dueDate"], clock["deadlineKind"]) == (due, kind)
        explain = officer.get(f"/v1/requests/{request['id']}/clock/explain").json()["data"]
    assert explain["dueDate"] == due


def test_rhode_island_gives_each_request_type_its_own_deadline(officer, make_request):
    request = make_request(
        jurisdiction="US-RI", receivedAt=at("2026-01-28"), requestTypes=["ACCESS", "WITHDRAW_CONSENT"]
    )

    explain = officer.get(f"/v1/requests/{request['id']}/clock/explain").json()["data"]

    responses = {d["requestType"]: d["dueDate"] for d in explain["deadlines"] if d["kind"] == "RESPONSE"}
    assert responses == {"ACCESS": "2026-03-14", "WITHDRAW_CONSENT": "2026-02-12"}


# --- refusals the rules require -----------------------------------------------------------------------------


def post(officer, request, step):
    action, body = step
    return officer.post(f"/v1/requests/{request['id']}/{action}", body)


def test_a_minnesota_appeal_extension_after_the_appeal_due_date_is_refused(officer, make_request):
    request = make_request(jurisdiction="US-MN", receivedAt=at("2025-08-29"))
    post(officer, request, refuse("2025-09-15"))
    post(officer, request, appeal("2025-09-30"))  # due Fri 2025-11-14

    late = post(officer, request, extend("2025-11-15"))

    assert late.status_code == 409, late.content
    assert late.json()["error"]["code"] == "invalid_transition"
    clock = officer.get(f"/v1/requests/{request['id']}/clock/explain").json()["data"]
    assert clock["dueDate"] == "2025-11-14"


def test_a_minnesota_appeal_is_extended_once(officer, make_request):
    request = make_request(jurisdiction="US-MN", receivedAt=at("2025-08-29"))
    post(officer, request, refuse("2025-09-15"))
    post(officer, request, appeal("2025-09-30"))
    assert post(officer, request, extend("2025-10-06")).status_code == 202

    again = post(officer, request, extend("2025-10-20"))

    assert again.status_code == 409, again.content


def test_florida_refuses_more_than_15_days(officer, make_request):
    request = make_request(jurisdiction="US-FL", receivedAt=at("2025-02-13"))
    action, body = extend("2025-03-01")

    response = officer.post(
        f"/v1/requests/{request['id']}/{action}", {**body, "extendBy": {"amount": 45, "unit": "DAYS"}}
    )

    assert response.status_code == 409, response.content
    assert "15" in response.json()["error"]["message"]


def test_nevada_extends_only_the_opt_out(officer, make_request):
    request = make_request(jurisdiction="US-NV", receivedAt=at("2025-11-03"))

    response = post(officer, request, extend("2025-11-20"))

    assert response.status_code == 409, response.content


# --- in force -----------------------------------------------------------------------------------------------


def day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


def clock_on(day: str):
    """Django's clock late on the effective day: neither receipt lies in the future, so only "not yet in
    force" can refuse one (and the test does not depend on today's date)."""
    return patch("django.utils.timezone.now", return_value=datetime.fromisoformat(f"{day}T23:00:00+00:00"))


@pytest.mark.parametrize("code", EFFECTIVE)
def test_a_request_received_before_the_law_is_in_force_is_refused(officer, intake, code):
    effective = EFFECTIVE[code]
    with clock_on(effective):
        response = officer.post(
            "/v1/requests", intake(jurisdiction=code, receivedAt=at(day_before(effective)))
        )
        on_the_day = officer.post("/v1/requests", intake(jurisdiction=code, receivedAt=at(effective)))

    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [d["field"] for d in error["details"]] == ["jurisdiction"]
    assert effective in error["message"]
    assert on_the_day.status_code == 202, on_the_day.content
