"""legal-clocks.md §4 through the API: intake (and the event, if any) over HTTP, the due date read back."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

# id, code, local receipt (noon UTC keeps every zone on the same date), action, body, expected due
EXAMPLES = [
    ("UK-01", "GB", "2025-09-03", None, None, "2025-10-03"),
    ("UK-02", "GB", "2025-01-31", None, None, "2025-02-28"),
    ("UK-03", "GB", "2024-01-31", None, None, "2024-02-29"),
    ("UK-05", "GB", "2024-01-01", None, None, "2024-02-01"),
    ("UK-08", "GB", "2025-03-31", None, None, "2025-04-30"),
    (
        "UK-14",
        "GB",
        "2025-09-03",
        "extensions",
        {"reason": "complex", "occurredAt": "2025-09-20T12:00:00Z"},
        "2025-12-03",
    ),
    ("EU-01", "DE", "2025-01-31", None, None, "2025-02-28"),
    ("EU-02", "IE", "2025-02-17", None, None, "2025-03-18"),
    ("CA-02", "US-CA", "2025-01-06", None, None, "2025-02-20"),
    ("CT-01", "US-CT", "2025-09-02", None, None, "2025-10-17"),
    ("UT-01", "US-UT", "2025-05-12", None, None, "2025-06-26"),
    ("BR-01", "BR", "2025-03-10", None, None, "2025-03-25"),
    (
        "CAN-01",
        "CA",
        "2025-06-02",
        "extensions",
        {"reason": "volume", "occurredAt": "2025-06-30T16:00:00Z"},
        "2025-08-01",
    ),
    ("QC-01", "CA-QC", "2025-06-02", None, None, "2025-07-02"),
    ("AU-01", "AU", "2018-02-09", None, None, "2018-03-12"),
]


@pytest.mark.parametrize(
    ("case", "code", "received", "action", "body", "due"), EXAMPLES, ids=[e[0] for e in EXAMPLES]
)
def test_worked_example_through_the_api(officer, make_request, case, code, received, action, body, due):
    request = make_request(
        jurisdiction=code, receivedAt=f"{received}T12:00:00Z" if code != "AU" else f"{received}T01:00:00Z"
    )
    if action:
        response = officer.post(f"/v1/requests/{request['id']}/{action}", body)
        assert response.status_code == 202, response.content
        clock = response.json()["data"]["clock"]
    else:
        clock = request["clock"]

    assert clock["dueDate"] == due, case
    explain = officer.get(f"/v1/requests/{request['id']}/clock/explain").json()["data"]
    assert explain["dueDate"] == due
