"""Finding a request by who made it: "has this person written before?"

One normalisation and one selector, used by the API's `q` and `email` and by the admin's search box
(which also looks in the intake text).

- `email`: exact, over the requestor's and the contact's e-mail, trimmed and case-folded on both sides.
  Two B-tree indexed key columns, kept by `DataSubjectRequest.save()`.
- `q`: a case-insensitive substring of the request id, the requestor's name or e-mail, the contact (an
  e-mail, a phone number or an address) or, for a phone number, its digits alone ("020 7946 0000" is
  found by "02079460000" and by "7946-0000"). The haystack is one case-folded column, `search_text`.
  - PostgreSQL: a `pg_trgm` GIN index on that column (migration 0006 creates the extension where the
    role may; without it the same query scans). A GIN scan costs about the same for every trigram of
    the pattern, however common, so a long needle is looked up by a few of its trigrams spread along it
    (`trigram_pattern`) and the candidates are then checked for the whole needle (`TrigramContains`).
  - SQLite: an FTS5 table with the trigram tokenizer mirrors the column, kept in step by triggers in the
    same transaction as the write (migration 0006).

Both are in the database, so a request is found by every worker the moment its transaction commits.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.db import connection
from django.db.models import F, Lookup, Q
from django.db.models.expressions import RawSQL

from core.prepared import Derived

# The SQLite mirror of `search_text` (migration 0006 creates it and its triggers).
FTS_TABLE = "requests_app_request_search"
# A trigram index needs at least three characters to narrow anything down.
TRIGRAM = 3
# How many trigrams of a long needle the PostgreSQL index is asked for (`trigram_pattern`).
INDEX_PIECES = 4

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


def trigram_pattern(needle: str) -> str:
    """A LIKE pattern that every text containing `needle` matches, made of at most `INDEX_PIECES` of its
    trigrams: non-overlapping, in their order in the needle, spread from its start to its end.

    For "seed1796451737-9997" that is `%see%d17%517%999%` instead of all 17 trigrams. The pattern only
    narrows the candidates through the index; `TrigramContains` then checks each for the whole needle, so
    the answer is exact whichever trigrams were picked. A needle short enough to hold no more than
    `INDEX_PIECES` such trigrams is used whole. The pieces are letters and digits only: nothing to escape.
    """
    whole = f"%{connection.ops.prep_for_like_query(needle)}%"
    if len(needle) <= INDEX_PIECES * TRIGRAM:
        return whole
    starts: list[int] = []
    for i in range(len(needle) - TRIGRAM + 1):
        if needle[i : i + TRIGRAM].isalnum() and (not starts or i >= starts[-1] + TRIGRAM):
            starts.append(i)
    if not starts:
        return whole
    if len(starts) > INDEX_PIECES:
        last = len(starts) - 1
        starts = [starts[round(j * last / (INDEX_PIECES - 1))] for j in range(INDEX_PIECES)]
    return "%" + "%".join(needle[i : i + TRIGRAM] for i in starts) + "%"


class TrigramContains(Lookup):
    """PostgreSQL: the column contains the needle, found through the trigram index by a few of the
    needle's trigrams (`trigram_pattern`), each candidate then checked with `strpos` (which the index
    cannot serve, so the planner keeps it as the exact filter)."""

    lookup_name = "trigram_contains"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        column, column_params = self.process_lhs(compiler, connection)
        pattern = Derived(self.rhs, trigram_pattern)
        sql = f"({column} LIKE %s AND strpos({column}, %s) > 0)"
        return sql, (*column_params, pattern, *column_params, self.rhs)


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
        elif len(needle) >= TRIGRAM:
            match |= Q(TrigramContains(F("search_text"), needle))
        else:
            # Shorter than a trigram (one or two characters): no index can narrow it, on either database.
            # Rare, and still exact.
            match |= Q(search_text__contains=needle)
    return match


def text_matches(q: str) -> Q:
    """Requests whose id, requestor or contact contains `q` (see the module docstring)."""
    return needles_match(needles(q))


def officer_matches(term: str) -> Q:
    """The admin's search box: what `q` finds, and also requests whose intake text contains the term
    ("the zebra-crossing camera"). The intake text has no index: on a large queue that part scans."""
    return text_matches(term) | Q(raw_text__icontains=term.strip())
