"""Finding a request by who made it: "has this person written before?"

One normalisation and one selector, used by the API's `q` and `email` and by the admin's search box
(which also looks in the intake text).

- `email`: exact, over the requestor's and the contact's e-mail, trimmed and case-folded on both sides.
  Two B-tree indexed key columns, kept by `DataSubjectRequest.save()`.
- `q`: a case-insensitive substring of the request id, the requestor's name or e-mail, the contact (an
  e-mail, a phone number or an address) or, for a phone number, its digits alone ("020 7946 0000" is
  found by "02079460000" and by "7946-0000"). The haystack is one case-folded column, `search_text`.
  - PostgreSQL: a `pg_trgm` GIN index on that column serves `LIKE '%…%'` (migration 0006 creates the
    extension where the role may; without it the same query scans).
  - SQLite: an FTS5 table with the trigram tokenizer mirrors the column, kept in step by triggers in the
    same transaction as the write (migration 0006).

Both are in the database, so a request is found by every worker the moment its transaction commits.
"""

from __future__ import annotations

import re
import unicodedata

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL

# The SQLite mirror of `search_text` (migration 0006 creates it and its triggers).
FTS_TABLE = "requests_app_request_search"
# A trigram index needs at least three characters to narrow anything down.
TRIGRAM = 3

_PHONE = re.compile(r"\+?[\d\s().\-/]+")
_MIN_PHONE_DIGITS = 6


def fold(text: str | None) -> str:
    """How both sides of `q` are compared: Unicode-normalised (NFKC: "Zoë" however it was typed),
    case-folded, and with each run of whitespace made one space."""
    return " ".join(unicodedata.normalize("NFKC", text or "").casefold().split())


def email_key(value: str | None) -> str:
    """How an e-mail address is compared: trimmed and case-folded."""
    return (value or "").strip().casefold()


def phone_digits(value: str | None) -> str:
    """The digits of a phone number, or "" when `value` does not read as one."""
    text = (value or "").strip()
    if not _PHONE.fullmatch(text):
        return ""
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= _MIN_PHONE_DIGITS else ""


def haystack(*, request_id: str, requestor_name: str, requestor_email: str, contact: str) -> str:
    """The folded haystack `q` is matched against, one line per value so that no match spans two."""
    parts = [request_id, requestor_name, requestor_email, contact, phone_digits(contact)]
    return "\n".join(folded for folded in map(fold, parts) if folded)


def email_matches(email: str) -> Q:
    key = email_key(email)
    return Q(requestor_email_key=key) | Q(contact_key=key)


def needles(q: str) -> list[str]:
    """What `q` is looked for as: the folded text and, for a phone number, its digits alone."""
    return [n for n in dict.fromkeys([fold(q), phone_digits(q)]) if n]


def _fts_phrase(needle: str) -> str:
    return '"' + needle.replace('"', '""') + '"'


def needles_match(found: list[str]) -> Q:
    """Requests whose haystack contains any of the needles."""
    if not found:
        return Q(pk__in=[])
    match = Q()
    for needle in found:
        if connection.vendor == "sqlite" and len(needle) >= TRIGRAM:
            # A phrase of the trigram tokenizer matches the substring, through the index.
            # The needle is a bound parameter, quoted as one phrase (_fts_phrase).
            mirror = f"SELECT request_id FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"  # noqa: S608
            match |= Q(pk__in=RawSQL(mirror, [_fts_phrase(needle)]))  # noqa: S611
        else:
            # PostgreSQL: LIKE '%needle%', served by the trigram GIN index. A needle shorter than a
            # trigram (one or two characters) scans on either database; it is rare and still exact.
            match |= Q(search_text__contains=needle)
    return match


def text_matches(q: str) -> Q:
    """Requests whose id, requestor or contact contains `q` (see the module docstring)."""
    return needles_match(needles(q))


def officer_matches(term: str) -> Q:
    """The admin's search box: what `q` finds, and also requests whose intake text contains the term
    ("the zebra-crossing camera"). The intake text has no index: on a large queue that part scans."""
    return text_matches(term) | Q(raw_text__icontains=term.strip())
