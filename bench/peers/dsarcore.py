"""The peer harness's DSAR Core adapter (../shared/bench/peers/dsarapi.py), with search.

load.py imports its adapter by module name, so put this directory on the path:

    PYTHONPATH=bench/peers python3 ../shared/bench/peers/load.py --adapter dsarcore ...

Everything is dsarapi's except `search`, which now has DSAR Core's equivalent of Fides' fuzzy identity
search (`POST /api/v1/privacy-request/search {"fuzzy_search_str": <local part of an e-mail>}`, page of 50):
`GET /v1/requests?q=<the same local part>&limit=50`, a case-insensitive substring search over the request
id, the requestor's name and e-mail and the contact. `search_email` (DSAR Core only) is the exact match,
`GET /v1/requests?email=<the whole address>&limit=50`.
"""

from __future__ import annotations

import random
import urllib.parse

import dsarapi
from dsarapi import *  # noqa: F403  (BASE_URL, Conn, prepare, describe, finish: load.py's adapter API)


def _ok(status: int, body: bytes) -> bool:
    return status == 200 and body.startswith(b'{"ok":true')


def op_search(c: dsarapi.Conn, ctx: dsarapi.Ctx, rng: random.Random) -> bool:
    needle = rng.choice(ctx.emails).split("@")[0]  # as fidesapi.op_search: a substring of one identity
    status, body = c.request("GET", f"/v1/requests?q={urllib.parse.quote(needle)}&limit={dsarapi.PAGE}")
    return _ok(status, body) and needle.encode() in body


def op_search_email(c: dsarapi.Conn, ctx: dsarapi.Ctx, rng: random.Random) -> bool:
    email = rng.choice(ctx.emails)
    status, body = c.request("GET", f"/v1/requests?email={urllib.parse.quote(email)}&limit={dsarapi.PAGE}")
    return _ok(status, body) and email.encode() in body


SCENARIOS = {**dsarapi.SCENARIOS, "search": op_search, "search_email": op_search_email}
# Rows are added by create: keep it last, as dsarapi does.
SCENARIOS = {name: fn for name, fn in SCENARIOS.items() if name != "create"} | {"create": dsarapi.op_create}
