"""What leaves the building: a table's redaction rules applied to its rows, and the audit notes that say so.

`Redactor(table)` is built once per section. It decides the output columns and their types, precomputes
one function per redacted column, and counts what each rule changed, so `notes()` can tell an auditor
what was done to which column in how many rows, without ever repeating a value.

Rules, per declared column:

- `drop`: the column is not in the output at all.
- `withhold`: the column stays in the output (an auditor sees it exists) and every value is null; the
  note carries the mapping's reason. Its declared type is kept (a null fits any type).
- `mask_last4`: the text keeps its last 4 characters, the others become `*`. A value of 4 characters or
  fewer is masked entirely (keeping "the last 4" of it would disclose all of it). None stays None.
- `hash_sha256`: the lower-hex SHA-256 of the value's UTF-8 text (of the bytes themselves for a bytes
  value). None stays None. This is pseudonymisation, not anonymisation: a known e-mail can be hashed and
  compared.
- `truncate_ip`: an IPv4 address becomes its /24 network (last octet 0), an IPv6 address its /48
  network, an IPv4-mapped IPv6 address its IPv4 /24. A value that is not an IP address is withheld as
  null and counted separately in the note. None stays None.
- Masked, hashed and truncated columns are "string" in the output whatever their declared type.

Credential-looking columns are dropped by default (`looks_like_credential`) unless the mapping has an
explicit rule for that column: the explicit rule wins.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from operator import itemgetter
from typing import Any

from exports.types import REDACT_ACTIONS, Redaction, Table

DEFAULT_DROP_NOTE = "dropped by default: looks like a credential"

# A column name is split into word parts on `_`, `-`, `.`, spaces and camelCase boundaries ("apiKey",
# "APIKey", "sessionID" → api/key, api/key, session/id), lower-cased. It looks like a credential when one
# part is in _CREDENTIAL_WORDS, or two consecutive parts are in _CREDENTIAL_PAIRS. Whole parts only:
# `token_count` and `authToken` drop, `tokenizer_version` and `passwordless_enabled` do not.
_CREDENTIAL_WORDS = frozenset(
    {
        "password",
        "passwords",
        "passwd",
        "pwd",
        "passphrase",
        "passcode",
        "secret",
        "secrets",
        "token",
        "tokens",
        "credential",
        "credentials",
        "salt",
        "otp",
        "totp",
        "hotp",
        "sessionid",
        "apikey",
        "apikeys",
        "privkey",
    }
)
_CREDENTIAL_PAIRS = frozenset(
    {
        ("api", "key"),
        ("api", "keys"),
        ("access", "key"),
        ("private", "key"),
        ("signing", "key"),
        ("encryption", "key"),
        ("session", "key"),
        ("session", "id"),
        ("pin", "hash"),
        ("pin", "code"),
        ("recovery", "code"),
        ("recovery", "codes"),
        ("backup", "code"),
        ("backup", "codes"),
    }
)
_SEPARATORS = re.compile(r"[_\-.\s]+")
# Within one separator-free chunk: an acronym before a capitalised word ("API" in "APIKey"), a
# capitalised or lower-case word, a trailing acronym, or digits.
_CAMEL_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def name_parts(column: str) -> list[str]:
    """The lower-cased word parts of a column name, as `looks_like_credential` sees them."""
    return [part.lower() for chunk in _SEPARATORS.split(column) for part in _CAMEL_PARTS.findall(chunk)]


def looks_like_credential(column: str) -> bool:
    parts = name_parts(column)
    if any(part in _CREDENTIAL_WORDS for part in parts):
        return True
    return any(pair in _CREDENTIAL_PAIRS for pair in pairwise(parts))


class _Counted(ABC):
    """A per-column value function that counts the values it changed."""

    __slots__ = ("changed",)

    def __init__(self) -> None:
        self.changed = 0

    @abstractmethod
    def __call__(self, value: Any) -> Any: ...


class _MaskLast4(_Counted):
    __slots__ = ()

    def __call__(self, value: Any) -> Any:
        if value is None:
            return None
        text = value if isinstance(value, str) else str(value)
        masked = "*" * len(text) if len(text) <= 4 else "*" * (len(text) - 4) + text[-4:]
        if masked != value:
            self.changed += 1
        return masked


class _HashSha256(_Counted):
    __slots__ = ()

    def __call__(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bytes | bytearray | memoryview):
            data = bytes(value)
        else:
            data = (value if isinstance(value, str) else str(value)).encode("utf-8", "surrogatepass")
        self.changed += 1
        return hashlib.sha256(data).hexdigest()


class _TruncateIp(_Counted):
    __slots__ = ("invalid",)

    def __init__(self) -> None:
        super().__init__()
        self.invalid = 0

    def __call__(self, value: Any) -> Any:
        if value is None:
            return None
        address = _ip_address(value)
        if address is None:
            self.invalid += 1
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        prefix = 24 if address.version == 4 else 48
        truncated = str(ipaddress.ip_network((address, prefix), strict=False).network_address)
        if truncated != value:
            self.changed += 1
        return truncated


def _ip_address(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    # Database drivers hand back ipaddress objects for `inet` / `cidr` columns (psycopg does).
    # Interfaces first: IPv4Interface is a subclass of IPv4Address.
    if isinstance(value, ipaddress.IPv4Interface | ipaddress.IPv6Interface):
        return value.ip
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address):
        return value
    if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return value.network_address
    if not isinstance(value, str):
        return None
    try:
        # ip_interface reads a bare address as well as one with a prefix ("192.0.2.7/32").
        return ipaddress.ip_interface(value.strip()).ip
    except ValueError:
        return None


class _Withhold(_Counted):
    __slots__ = ()

    def __call__(self, value: Any) -> None:
        return None


@dataclass(frozen=True)
class _Rule:
    column: str
    action: str
    reason: str
    default: bool  # dropped by default (credential-looking), not by the mapping
    function: _Counted | None  # None for `drop`


_DESCRIPTIONS = {
    "drop": "dropped",
    "mask_last4": "masked to the last 4 characters",
    "hash_sha256": "replaced by its SHA-256 hash",
    "truncate_ip": "truncated to its network (IPv4 /24, IPv6 /48)",
    "withhold": "withheld (every value null)",
}
_FUNCTIONS: dict[str, Callable[[], _Counted]] = {
    "mask_last4": _MaskLast4,
    "hash_sha256": _HashSha256,
    "truncate_ip": _TruncateIp,
    "withhold": _Withhold,
}


def _rows(n: int) -> str:
    return "1 row" if n == 1 else f"{n} rows"


class Redactor:
    """One section's redaction: output columns and types, a row function, and the audit notes.

    `apply` expects rows in `table.columns` order and returns them in `output_columns` order. A table
    with no rule and no credential-looking column gets the identity (no copy, no count, no notes)."""

    def __init__(self, table: Table) -> None:
        declared = table.columns
        explicit: dict[str, Redaction] = {}
        for rule in table.redact:
            # The mapping parser already refuses these; a Redactor built by hand must not guess.
            if rule.column not in declared:
                raise ValueError(f"redaction rule for column {rule.column!r}: not a declared column")
            if rule.column in explicit:
                raise ValueError(f"column {rule.column!r} has more than one redaction rule")
            if rule.action not in REDACT_ACTIONS:
                raise ValueError(f"column {rule.column!r}: unknown redaction action {rule.action!r}")
            explicit[rule.column] = rule

        self._rules: list[_Rule] = []
        keep: list[int] = []
        output_types: dict[str, str] = {}
        self._functions: list[tuple[int, _Counted]] = []  # (output position, function)
        for index, column in enumerate(declared):
            found = explicit.get(column)
            if found is not None:
                action, reason, default = found.action, found.reason, False
            elif looks_like_credential(column):
                action, reason, default = "drop", "", True
            else:
                keep.append(index)
                output_types[column] = table.types.get(column, "string")
                continue
            function = _FUNCTIONS[action]() if action != "drop" else None
            self._rules.append(_Rule(column, action, reason, default, function))
            if function is None:
                continue
            keep.append(index)
            # A withheld column keeps its declared type (all nulls fit it); the others become text.
            kept_type = table.types.get(column, "string") if action == "withhold" else "string"
            output_types[column] = kept_type
            self._functions.append((len(keep) - 1, function))

        self.output_columns: tuple[str, ...] = tuple(declared[i] for i in keep)
        self.output_types: dict[str, str] = output_types
        self._rows_seen = 0
        self._identity = not self._rules
        if len(keep) == len(declared):
            self._pick: Callable[[Any], tuple[Any, ...]] = tuple
        elif len(keep) == 1:
            only = keep[0]
            self._pick = lambda row: (row[only],)
        elif keep:
            self._pick = itemgetter(*keep)
        else:
            self._pick = lambda row: ()

    @property
    def is_identity(self) -> bool:
        """True when rows pass through unchanged (no rule, nothing dropped by default)."""
        return self._identity

    def apply(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        if self._identity:
            return row
        self._rows_seen += 1
        if not self._functions:
            return self._pick(row)
        out = list(self._pick(row))
        for position, function in self._functions:
            out[position] = function(out[position])
        return tuple(out)

    def apply_rows(self, rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        if self._identity:
            yield from rows
            return
        apply = self.apply
        for row in rows:
            yield apply(row)

    def notes(self, section: str) -> list[str]:
        """One line per column and rule, in declared column order: what was done, in how many rows.
        `drop` and `withhold` count every row written; the value rules count the values they changed.
        Never a value."""
        lines = []
        for rule in self._rules:
            function = rule.function
            if rule.action in ("drop", "withhold") or function is None:
                count = self._rows_seen
            else:
                count = function.changed
            line = f"{section}: {rule.column} {_DESCRIPTIONS[rule.action]} ({rule.action}) in {_rows(count)}"
            if rule.default:
                line += f"; {DEFAULT_DROP_NOTE}"
            if isinstance(function, _TruncateIp) and function.invalid:
                line += f"; {_rows(function.invalid)} held no IP address and were withheld as null"
            if rule.action == "withhold":
                line += f"; reason: {rule.reason.strip() or 'none given'}"
            lines.append(line)
        return lines


def build_redactor(table: Table) -> Redactor:
    return Redactor(table)
