"""exports.redaction: output columns and types, every action, credential-looking columns dropped by default,
and notes that count rows and never carry a value."""

from __future__ import annotations

import hashlib
import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exports.redaction import DEFAULT_DROP_NOTE, Redactor, build_redactor, looks_like_credential
from exports.types import Redaction, SubjectMatch, Table

SECTION = "crm.customers"


def table(columns, redact=(), types=None):
    return Table(
        name="customers",
        subject=SubjectMatch(column="email", identity="email"),
        columns=tuple(columns),
        types=dict(types or {}),
        redact=tuple(Redaction(*rule) for rule in redact),
    )


def run(redactor, rows):
    return [redactor.apply(row) for row in rows]


def test_it_passes_rows_through_untouched_without_rules():
    redactor = Redactor(
        table(["id", "email", "created_at"], types={"id": "int64", "created_at": "timestamp"})
    )
    row = (1, "a@example.com", None)

    assert redactor.is_identity
    assert redactor.apply(row) is row
    assert list(redactor.apply_rows([row, row])) == [row, row]
    assert redactor.output_columns == ("id", "email", "created_at")
    assert redactor.output_types == {"id": "int64", "email": "string", "created_at": "timestamp"}
    assert redactor.notes(SECTION) == []


def test_it_drops_a_column_and_counts_every_row_written():
    redactor = build_redactor(table(["id", "ssn", "name"], [("ssn", "drop")], types={"id": "int64"}))

    assert run(redactor, [(1, "123-45-6789", "Ann"), (2, None, "Bo")]) == [(1, "Ann"), (2, "Bo")]
    assert redactor.output_columns == ("id", "name")
    assert redactor.output_types == {"id": "int64", "name": "string"}
    assert redactor.notes(SECTION) == ["crm.customers: ssn dropped (drop) in 2 rows"]


def test_it_masks_all_but_the_last_four_characters():
    redactor = Redactor(table(["id", "phone"], [("phone", "mask_last4")], types={"phone": "int64"}))

    rows = run(redactor, [(1, "+44 7700 900123"), (2, None), (3, "123"), (4, 5551234), (5, "")])

    assert [row[1] for row in rows] == ["***********0123", None, "***", "***1234", ""]
    assert redactor.output_types["phone"] == "string"
    assert redactor.notes(SECTION) == [
        "crm.customers: phone masked to the last 4 characters (mask_last4) in 3 rows"
    ]


def test_it_hashes_the_utf8_text_with_sha256():
    redactor = Redactor(table(["email", "blob"], [("email", "hash_sha256"), ("blob", "hash_sha256")]))

    rows = run(redactor, [("zoë@example.com", b"\x00\x01"), (None, None)])

    assert rows[0] == (
        hashlib.sha256("zoë@example.com".encode()).hexdigest(),
        hashlib.sha256(b"\x00\x01").hexdigest(),
    )
    assert rows[1] == (None, None)
    assert redactor.notes(SECTION) == [
        "crm.customers: email replaced by its SHA-256 hash (hash_sha256) in 1 row",
        "crm.customers: blob replaced by its SHA-256 hash (hash_sha256) in 1 row",
    ]


def test_it_truncates_ip_addresses_and_withholds_what_is_not_one():
    redactor = Redactor(table(["ip"], [("ip", "truncate_ip")]))
    values = [
        "192.0.2.77",
        " 198.51.100.200 ",
        "2001:db8:abcd:12:1:2:3:4",
        "::ffff:203.0.113.9",
        ipaddress.ip_address("203.0.113.10"),
        ipaddress.ip_interface("192.0.2.5/32"),
        "10.1.2.0",  # already truncated: not counted as changed
        "not an ip",
        "999.1.1.1",
        None,
    ]

    rows = run(redactor, [(value,) for value in values])

    assert [row[0] for row in rows] == [
        "192.0.2.0",
        "198.51.100.0",
        "2001:db8:abcd::",
        "203.0.113.0",
        "203.0.113.0",
        "192.0.2.0",
        "10.1.2.0",
        None,
        None,
        None,
    ]
    assert redactor.output_types == {"ip": "string"}
    assert redactor.notes(SECTION) == [
        "crm.customers: ip truncated to its network (IPv4 /24, IPv6 /48) (truncate_ip) in 6 rows; "
        "2 rows held no IP address and were withheld as null"
    ]


def test_it_withholds_a_column_keeping_it_as_nulls_with_the_reason():
    redactor = Redactor(
        table(
            ["id", "notes", "score"],
            [("notes", "withhold", "legal privilege"), ("score", "withhold", "")],
            types={"score": "float64"},
        )
    )

    assert run(redactor, [(1, "private", 0.5)]) == [(1, None, None)]
    assert redactor.output_columns == ("id", "notes", "score")
    assert redactor.output_types == {"id": "string", "notes": "string", "score": "float64"}
    assert redactor.notes(SECTION) == [
        "crm.customers: notes withheld (every value null) (withhold) in 1 row; reason: legal privilege",
        "crm.customers: score withheld (every value null) (withhold) in 1 row; reason: none given",
    ]


def test_it_counts_zero_rows():
    redactor = Redactor(table(["id", "phone", "password"], [("phone", "mask_last4")]))

    assert redactor.notes(SECTION) == [
        "crm.customers: phone masked to the last 4 characters (mask_last4) in 0 rows",
        f"crm.customers: password dropped (drop) in 0 rows; {DEFAULT_DROP_NOTE}",
    ]


def test_it_drops_credential_looking_columns_by_default_with_a_note():
    redactor = Redactor(table(["id", "email", "password_hash", "apiKey", "session_key"]))

    assert run(redactor, [(1, "a@example.com", "pbkdf2$x", "k-1", "s-1")]) == [(1, "a@example.com")]
    assert redactor.output_columns == ("id", "email")
    assert redactor.notes(SECTION) == [
        "crm.customers: password_hash dropped (drop) in 1 row; dropped by default: looks like a credential",
        "crm.customers: apiKey dropped (drop) in 1 row; dropped by default: looks like a credential",
        "crm.customers: session_key dropped (drop) in 1 row; dropped by default: looks like a credential",
    ]


def test_an_explicit_rule_wins_over_the_default_drop():
    redactor = Redactor(
        table(
            ["api_key", "password_hint"],
            [("api_key", "mask_last4"), ("password_hint", "withhold", "useless")],
        )
    )

    assert run(redactor, [("sk_live_abcdef", "my dog")]) == [("**********cdef", None)]
    assert redactor.output_columns == ("api_key", "password_hint")
    assert all(DEFAULT_DROP_NOTE not in note for note in redactor.notes(SECTION))


@pytest.mark.parametrize(
    "column",
    [
        "password",
        "PASSWORD",
        "passwd",
        "pwd",
        "password_hash",
        "passwordHash",
        "user_password2",
        "secret",
        "client_secret",
        "mfaSecret",
        "token",
        "auth_token",
        "refresh-token",
        "token_count",
        "api_key",
        "apikey",
        "apiKey",
        "APIKey",
        "access_key",
        "aws_access_key_id",
        "private_key",
        "credential",
        "credentials",
        "salt",
        "otp",
        "totp_seed",
        "pin_hash",
        "session_key",
        "sessionid",
        "sessionId",
        "session_id",
    ],
)
def test_it_recognises_credential_looking_names(column):
    assert looks_like_credential(column)


@pytest.mark.parametrize(
    "column",
    [
        "tokenizer_version",
        "passwordless_enabled",
        "secretary_name",
        "email",
        "key",
        "hash",
        "pin",
        "session_count",
        "api_version",
        "keystone",
        "salted_caramel",
        "topic",
        "otpauth_enabled",
    ],
)
def test_it_leaves_names_that_merely_contain_a_credential_word(column):
    assert not looks_like_credential(column)


def test_notes_never_carry_a_value():
    values = (
        "+44 7700 900123",
        "secret-value@example.com",
        "192.0.2.77",
        "confidential memo",
        "hunter2",
        "gone",
    )
    redactor = Redactor(
        table(
            ["phone", "email", "ip", "memo", "password", "ssn"],
            [
                ("phone", "mask_last4"),
                ("email", "hash_sha256"),
                ("ip", "truncate_ip"),
                ("memo", "withhold", "privileged"),
                ("ssn", "drop"),
            ],
        )
    )
    outputs = run(redactor, [values, (*values[:2], "garbage", *values[3:])])

    text = "\n".join(redactor.notes(SECTION))
    fragments = {
        *values,
        "0123",
        "192.0.2.0",
        "garbage",
        *(value for row in outputs for value in row if value),
    }
    assert len(redactor.notes(SECTION)) == 6
    assert not [fragment for fragment in fragments if fragment in text]


def test_it_drops_every_column_when_all_are_dropped():
    redactor = Redactor(table(["password", "token"]))

    assert redactor.output_columns == ()
    assert redactor.apply(("a", "b")) == ()


def test_it_keeps_a_single_remaining_column_as_a_tuple():
    redactor = Redactor(table(["id", "password"]))

    assert redactor.apply((7, "x")) == (7,)


def test_it_refuses_rules_for_undeclared_or_twice_ruled_columns():
    with pytest.raises(ValueError, match="not a declared column"):
        Redactor(table(["id"], [("phone", "drop")]))
    with pytest.raises(ValueError, match="more than one"):
        Redactor(table(["phone"], [("phone", "drop"), ("phone", "mask_last4")]))


@given(st.text(min_size=5))
def test_masking_keeps_the_length_and_only_the_last_four_characters(text):
    (masked,) = Redactor(table(["v"], [("v", "mask_last4")])).apply((text,))

    assert len(masked) == len(text)
    assert masked[-4:] == text[-4:]
    assert set(masked[:-4]) == {"*"}


@given(st.one_of(st.text(), st.integers(), st.binary()))
def test_hashing_always_gives_64_lower_hex_digits(value):
    (hashed,) = Redactor(table(["v"], [("v", "hash_sha256")])).apply((value,))

    assert len(hashed) == 64
    assert set(hashed) <= set("0123456789abcdef")
