"""`@idempotent(redact=...)`: which parts of a stored answer are kept as null. Pure, no database."""

from __future__ import annotations

from core.idempotency import redacted


def test_it_nulls_the_value_at_each_path_and_leaves_the_rest():
    data = {"endpoint": {"id": "whe_1", "secret": "whsec_abc", "url": "https://x"}, "other": 1}

    assert redacted(data, ["endpoint.secret"]) == {
        "endpoint": {"id": "whe_1", "secret": None, "url": "https://x"},
        "other": 1,
    }


def test_it_never_changes_the_callers_object():
    data = {"endpoint": {"secret": "whsec_abc"}}

    redacted(data, ["endpoint.secret"])

    assert data == {"endpoint": {"secret": "whsec_abc"}}


def test_absent_paths_and_error_answers_are_left_alone():
    error = {"ok": False, "error": {"code": "conflict", "message": "m", "details": []}}
    assert redacted(error, ["endpoint.secret"]) == error
    assert redacted({"endpoint": None}, ["endpoint.secret"]) == {"endpoint": None}
    assert redacted({"endpoint": {"id": "whe_1"}}, ["endpoint.secret"]) == {"endpoint": {"id": "whe_1"}}


def test_no_paths_is_the_same_object():
    data = {"request": {"id": "dsr_1"}}
    assert redacted(data, ()) is data
