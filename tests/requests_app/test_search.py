"""Finding a request by who made it: GET /v1/requests `q` and `email`, the admin's search box, the SQLite
FTS5 mirror and the PostgreSQL trigram index (requests_app.search, migration 0006).

Contract: `q` is a case-insensitive substring of the request id, the requestor's or the contact's e-mail,
name or phone (a phone also by its digits alone); `email` is exact (trimmed, case-insensitive) over the
requestor's and the contact's e-mail; every filter composes; a bad value is a 400.

Request ids are `req_` + Crockford base32 (no I, L, O, U), so needles with `o`, spaces or punctuation
can never match an id by chance: the "found nothing" cases below rely on that.
"""

from __future__ import annotations

import re
from datetime import timedelta
from importlib import import_module
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from core.ids import new_id
from core.staff import staff_user_create
from requests_app import services
from requests_app.models import DataSubjectRequest
from requests_app.search import FTS_TABLE, INDEX_PIECES, haystack, text_matches, trigram_pattern

pytestmark = pytest.mark.django_db

MIGRATION = import_module("requests_app.migrations.0006_search")
QUEUE = "/admin/requests_app/datasubjectrequest/"


def _create(
    org,
    *,
    name: str | None = "Jane Doe",
    email: str | None = "jane@example.org",
    contact: str = "",
    days_ago: float = 1,
    jurisdiction: str = "GB",
    raw_text: str = "Please send me a copy of my data.",
):
    requestor = {"type": "DATA_SUBJECT", "name": name, "email": email, "relation": None}
    return services.request_create(
        org=org,
        actor="test",
        jurisdiction=jurisdiction,
        channel="EMAIL",
        raw_text=raw_text,
        intake_received_at=timezone.now() - timedelta(days=days_ago),
        contact=contact,
        requestor=requestor,
    ).request


def _clones(template: DataSubjectRequest, count: int) -> list[DataSubjectRequest]:
    """`count` copies of `template` under new ids, each through `save()` (which derives the search keys):
    no timeline, no outbox, so hundreds take a fraction of a second."""
    fields = [f.attname for f in DataSubjectRequest._meta.concrete_fields if f.attname != "id"]
    made = []
    for _ in range(count):
        dsr = DataSubjectRequest(id=new_id("req"), **{name: getattr(template, name) for name in fields})
        dsr.save(force_insert=True)
        made.append(dsr)
    return made


def _list(client, **params):
    return client.get("/v1/requests?" + urlencode(params))


def _found(client, **params) -> set[str]:
    response = _list(client, **params)
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    ids = [r["id"] for r in data["requests"]]
    assert data["total"] == len(ids), data  # every test here fits one page
    return set(ids)


def _error_field(response) -> str:
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["ok"] is False
    assert body["error"]["code"] == "validation_error"
    return body["error"]["details"][0]["field"]


def _mirror(request_id: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT text FROM {FTS_TABLE} WHERE request_id = %s", [request_id])
        return [row[0] for row in cursor.fetchall()]


# --- q: what it finds ------------------------------------------------------------------------------------


@pytest.fixture
def cast(officer):
    org = officer.org
    return {
        "jane": _create(
            org, name="Jane Doe", email="Jane.Doe@Example.ORG", contact="j.d-contact@Mailbox.test"
        ),
        "zoe": _create(org, name="Zoë Ørsted", email="zoe@nordic.example", contact="020 7946 0000"),
        "odd": _create(
            org,
            name='Odd AND NEAR(Nemo) "Q" O\'Neil*',
            email="odd@example.net",
            contact="a_b%c@weird.example",
        ),
        "bob": _create(org, name="Bob Stone", email="bob@stone.example", contact="0161 496 0123"),
    }


@pytest.mark.parametrize(
    ("needle", "expected"),
    [
        # the requestor's name, any case
        ("doe", {"jane"}),
        ("JANE D", {"jane"}),
        ("  jane   doe ", {"jane"}),
        # a non-ASCII name, folded either way
        ("ørsted", {"zoe"}),
        ("ZOË", {"zoe"}),
        ("zoË ØRS", {"zoe"}),
        # the requestor's e-mail, any case, any part
        ("jane.doe@example.org", {"jane"}),
        ("DOE@EXAMPLE", {"jane"}),
        ("@nordic", {"zoe"}),
        # the contact's e-mail
        ("contact@mailbox", {"jane"}),
        ("J.D-CONTACT", {"jane"}),
        # a phone contact: its text, and its digits alone
        ("020 7946", {"zoe"}),
        ("7946 0000", {"zoe"}),
        ("02079460000", {"zoe"}),
        ("7946-0000", {"zoe"}),
        ("(020) 7946-0000", {"zoe"}),
        ("0161-496-0123", {"bob"}),
        ("01614960123", {"bob"}),
        # one or two characters still work (below a trigram, a plain scan)
        ("ø", {"zoe"}),
        ("Ø", {"zoe"}),
        ("zo", {"zoe"}),
        ("DO", {"jane"}),
        ("ob", {"bob"}),
        # SQL / FTS5 syntax is literal text
        ("_b%", {"odd"}),
        ("%", {"odd"}),
        ("b%c", {"odd"}),
        ("a_b", {"odd"}),
        ("'", {"odd"}),
        ("o'neil", {"odd"}),
        ("O'NEIL*", {"odd"}),
        ("*", {"odd"}),
        ('"', {"odd"}),
        ('"q"', {"odd"}),
        ("and near(", {"odd"}),
        ("NEAR(", {"odd"}),
        ("NEAR(nemo)", {"odd"}),
        # ... and finds nothing when the literal text is nowhere
        ("doe*", set()),
        ("jane OR bob", set()),
        ("jane AND doe", set()),
        ("NEAR(jane doe)", set()),
        ("^jane", set()),
        ('"jane" "doe"', set()),
        ("jane -doe", set()),
        ("%doe", set()),
        ("j_ne", set()),
        ("%%", set()),
        ("' OR '1'='1", set()),
        ("'; DROP TABLE x; --", set()),
        ("nobody@nowhere.example", set()),
        ("qwo", set()),
        ("\\", set()),
    ],
)
def test_q_finds_by_name_email_contact_and_phone(officer, cast, needle, expected):
    found = _found(officer, q=needle)

    assert found == {cast[name].id for name in expected}


def test_q_finds_by_the_full_id_or_a_prefix_of_it_in_any_case(officer, cast):
    jane = cast["jane"]
    others = {dsr.id for name, dsr in cast.items() if name != "jane"}

    assert _found(officer, q=jane.id) == {jane.id}
    assert _found(officer, q=jane.id.lower()) == {jane.id}
    # req_ + 10 characters of time + 6 random: no other request shares them
    assert _found(officer, q=jane.id[:20]) == {jane.id}
    assert _found(officer, q=jane.id[:20].lower()) == {jane.id}
    # a short prefix is shared by every request made this millisecond-ish: jane is among them
    assert jane.id in _found(officer, q=jane.id[:8].lower())
    # the id's tail is also a substring of it
    assert _found(officer, q=jane.id[-12:]) == {jane.id}
    assert not others & _found(officer, q=jane.id)


def test_q_and_email_find_a_request_without_a_requestor(officer):
    anonymous = services.request_create(
        org=officer.org,
        actor="test",
        jurisdiction="GB",
        channel="PHONE",
        raw_text="copy of my data",
        intake_received_at=timezone.now() - timedelta(days=1),
        contact="Walk-In@Example.COM",
    ).request

    assert _found(officer, q="walk-in@") == {anonymous.id}
    assert _found(officer, email="walk-in@example.com") == {anonymous.id}


def test_q_matches_the_whole_needle_as_typed_including_repeated_spaces(officer):
    """Contract: `q` is a substring. The selector collapses runs of whitespace in the needle, but the
    haystack keeps them as stored, so a name stored with two spaces is not found by itself."""
    spaced = _create(officer.org, name="Mary  Ann Smith", email="mary@example.org")

    assert _found(officer, q="ann smith") == {spaced.id}
    assert _found(officer, q="Mary  Ann") == {spaced.id}, (
        "q='Mary  Ann' (two spaces, exactly as stored) does not find 'Mary  Ann Smith': "
        "search._needles collapses the needle's whitespace, search.haystack does not collapse the stored text"
    )


def test_q_never_matches_the_intake_text(officer):
    _create(officer.org, raw_text="My data near the zebra-crossing camera, please.")

    assert _found(officer, q="zebra-crossing") == set()
    assert _found(officer, q="camera") == set()


def test_q_only_finds_the_callers_organisation(officer, other_org_client):
    mine = _create(officer.org, email="Shared@Example.org", contact="020 7946 0000")
    theirs = _create(other_org_client.org, email="shared@example.org", contact="020 7946 0000")

    for params in ({"q": "shared@"}, {"q": "02079460000"}, {"q": "@e"}, {"email": "shared@example.org"}):
        assert _found(officer, **params) == {mine.id}, params
        assert _found(other_org_client, **params) == {theirs.id}, params
    assert _found(officer, q=theirs.id) == set()
    assert _found(other_org_client, q=mine.id) == set()


# --- the admin's box: q, and the intake text too ------------------------------------------------------------


@pytest.fixture
def admin_client(org):
    client = DjangoClient()
    client.force_login(staff_user_create(org=org, username="olivia", password="correct-horse-battery"))
    return client


def _admin_found(client, term: str) -> set[str]:
    response = client.get(QUEUE, {"q": term})
    assert response.status_code == 200
    return {row.pk for row in response.context["cl"].result_list}


def test_the_admin_box_finds_by_email_substring_phone_digits_and_intake_text(admin_client, org, other_org):
    match = _create(
        org,
        email="Janet@Requestor.example",
        contact="020 7946 0000",
        raw_text="My data near the zebra-crossing camera, please.",
    )
    _create(org, email="bob@stone.example", contact="bob@stone.example")
    _create(other_org, email="janet@requestor.example", contact="020 7946 0000", raw_text="zebra-crossing")

    for term in ("janet@req", "REQUESTOR.EX", "02079460000", "7946-0000", "zebra-crossing", match.id.lower()):
        assert _admin_found(admin_client, term) == {match.id}, term
    assert _admin_found(admin_client, "_b%") == set()


# --- email --------------------------------------------------------------------------------------------------


def test_email_is_exact_trimmed_and_case_insensitive_over_requestor_and_contact(officer):
    by_requestor = _create(officer.org, email="jane@example.org", contact="020 7946 0000")
    by_contact = _create(officer.org, name="Agent", email="agent@firm.example", contact="JANE@Example.org")
    _create(officer.org, email="jane@example.org.uk", contact="xjane@example.org")
    _create(officer.org, email="ja.ne@example.org")

    expected = {by_requestor.id, by_contact.id}
    assert _found(officer, email=" Jane@Example.ORG ") == expected
    assert _found(officer, email="jane@example.org") == expected
    assert _found(officer, email="JANE@EXAMPLE.ORG") == expected
    # not a substring
    assert _found(officer, email="ane@example.org") == set()
    assert _found(officer, email="jane@example.or") == set()
    assert _found(officer, email="agent@firm.example") == {by_contact.id}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("email=not-an-email", "email"),
        ("email=jane%40", "email"),
        ("email=example.org", "email"),
        ("email=", "email"),
        ("q=", "q"),
        ("q=%20%20%20", "q"),
        ("q=" + "x" * 201, "q"),
        ("q=ok&email=bad", "email"),
    ],
)
def test_bad_search_parameters_are_400_in_the_envelope(officer, query, field):
    _create(officer.org)

    assert _error_field(officer.get(f"/v1/requests?{query}")) == field


def test_a_nul_byte_in_q_is_a_400_not_a_database_error(officer):
    response = officer.get("/v1/requests?q=a%00b")

    assert response.status_code == 400
    assert response.json()["ok"] is False
    assert response.json()["error"]["code"] == "validation_error"


def test_q_of_200_characters_is_accepted(officer):
    _create(officer.org)

    response = _list(officer, q="x" * 200)

    assert response.status_code == 200
    assert response.json()["data"]["total"] == 0


# --- composition --------------------------------------------------------------------------------------------


def test_q_and_email_compose_with_status_jurisdiction_and_at_risk(officer):
    org = officer.org
    acknowledged = _create(org, email="jane@example.org", days_ago=2)
    services.request_acknowledge(org=org, request_id=acknowledged.id, actor="t")
    received = _create(org, email="jane@example.org", days_ago=3)
    german = _create(org, email="jane@example.org", jurisdiction="DE", days_ago=4)
    due_soon = _create(org, email="jane@example.org", days_ago=27)  # GB access: due in ~3 days
    # the same statuses, jurisdictions and deadlines for someone else
    other = _create(org, name="Bob Stone", email="bob@stone.example", days_ago=27)
    services.request_acknowledge(org=org, request_id=other.id, actor="t")
    bob_de = _create(org, name="Bob Stone", email="bob@stone.example", jurisdiction="DE")

    for search in ({"q": "jane@"}, {"email": "JANE@example.org"}):
        assert _found(officer, **search) == {acknowledged.id, received.id, german.id, due_soon.id}
        assert _found(officer, **search, status="ACKNOWLEDGED") == {acknowledged.id}
        assert _found(officer, **search, status="RECEIVED") == {received.id, german.id, due_soon.id}
        assert _found(officer, **search, jurisdiction="DE") == {german.id}
        assert _found(officer, **search, atRiskDays=7) == {due_soon.id}
        assert _found(officer, **search, atRiskDays=7, status="ACKNOWLEDGED") == set()
    assert _found(officer, q="jane@", email="bob@stone.example") == set()
    assert _found(officer, q="stone", email="bob@stone.example", jurisdiction="DE") == {bob_de.id}


def test_q_and_email_compose_with_sorting_and_pages_and_total_counts_matches_only(officer):
    org = officer.org
    janes = [_create(org, email="jane@example.org", days_ago=d) for d in (5, 4, 3, 2, 1)]  # oldest first
    for d in (6, 3.5, 0.5):
        _create(org, name="Bob Stone", email="bob@stone.example", days_ago=d)

    for search in ({"q": "JANE"}, {"email": "jane@example.org"}):
        page = _list(officer, **search, sortBy="receivedAt", sortOrder="asc", limit=2, offset=2).json()[
            "data"
        ]
        assert [r["id"] for r in page["requests"]] == [janes[2].id, janes[3].id]
        assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)

        newest = _list(officer, **search, sortBy="receivedAt", limit=2).json()["data"]
        assert [r["id"] for r in newest["requests"]] == [janes[4].id, janes[3].id]
        assert newest["total"] == 5

        past_the_end = _list(officer, **search, offset=5).json()["data"]
        assert (past_the_end["requests"], past_the_end["total"]) == ([], 5)
    assert _list(officer).json()["data"]["total"] == 8


# --- a changed requestor ------------------------------------------------------------------------------------


def test_after_the_requestor_changes_the_old_email_no_longer_matches_and_the_new_one_does(officer):
    dsr = _create(officer.org, name="Jane Doe", email="Old.Address@Example.org", contact="020 7946 0000")
    assert _found(officer, email="old.address@example.org") == {dsr.id}

    response = officer.put(
        f"/v1/requests/{dsr.id}/requestor",
        {"type": "AUTHORIZED_AGENT", "name": "Agent Smith", "email": "New.Agent@Firm.example"},
    )
    assert response.status_code == 202, response.content

    assert _found(officer, email="old.address@example.org") == set()
    assert _found(officer, q="old.address") == set()
    assert _found(officer, q="jane doe") == set()
    assert _found(officer, email=" new.agent@FIRM.example") == {dsr.id}
    assert _found(officer, q="new.agent@") == {dsr.id}
    assert _found(officer, q="agent smith") == {dsr.id}
    assert _found(officer, q="02079460000") == {dsr.id}  # the contact did not change
    stored = DataSubjectRequest.objects.get(pk=dsr.id)
    assert stored.requestor_email_key == "new.agent@firm.example"
    if connection.vendor == "sqlite":
        # the mirror row was replaced, not added to
        assert _mirror(dsr.id) == [stored.search_text]
        assert "old.address" not in stored.search_text


def test_the_service_keeps_the_keys_and_the_mirror_in_step_through_several_changes(officer):
    dsr = _create(officer.org, email="first@example.org")
    for n, email in enumerate(["second@example.org", "THIRD@example.org", ""], start=1):
        services.request_requestor_set(
            org=officer.org,
            request_id=dsr.id,
            actor="t",
            requestor={"type": "DATA_SUBJECT", "name": f"Name {n}", "email": email or None},
        )
    assert _found(officer, q="@example.org") == set()
    assert _found(officer, q="name 3") == {dsr.id}
    if connection.vendor == "sqlite":
        assert _mirror(dsr.id) == [DataSubjectRequest.objects.get(pk=dsr.id).search_text]


# --- the index / mirror is installed ------------------------------------------------------------------------


def test_the_search_mirror_is_installed():
    """Migration 0006 names this test: a later migration that remakes the request table on SQLite drops
    the mirror's triggers and must install them again."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name, type FROM sqlite_master")
            present = dict(cursor.fetchall())
            assert present[FTS_TABLE] == "table"
            for op in ("insert", "update", "delete"):
                assert present[f"{FTS_TABLE}_{op}"] == "trigger", present
            cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [FTS_TABLE])
            assert "trigram" in cursor.fetchone()[0]
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [MIGRATION.TABLE])
            present = {row[0] for row in cursor.fetchall()}
        else:
            pytest.fail(f"no search index for {connection.vendor}")
    assert set(MIGRATION.INSTALLED[connection.vendor]) <= set(present)


@pytest.mark.sqlite  # the FTS5 mirror is SQLite's; PostgreSQL indexes the column itself
def test_the_mirror_follows_every_row_written_through_the_model(officer):
    made = [_create(officer.org, email=f"person{i}@example.org") for i in range(3)]
    for dsr in made:
        assert _mirror(dsr.id) == [DataSubjectRequest.objects.get(pk=dsr.id).search_text]
    # an unrelated update leaves it alone; a direct change of search_text replaces it
    services.request_acknowledge(org=officer.org, request_id=made[0].id, actor="t")
    assert len(_mirror(made[0].id)) == 1
    DataSubjectRequest.objects.filter(pk=made[1].id).update(search_text="changed by hand")
    assert _mirror(made[1].id) == ["changed by hand"]


@pytest.mark.sqlite
def test_sqlite_answers_a_long_needle_from_the_mirror(officer):
    _create(officer.org)
    qs = DataSubjectRequest.objects.filter(org=officer.org).filter(text_matches("jane@example"))
    with connection.cursor() as cursor:
        sql, params = qs.query.sql_with_params()
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        plan = " | ".join(str(row[-1]) for row in cursor.fetchall())
    assert "VIRTUAL TABLE INDEX" in plan and FTS_TABLE in plan, plan


@pytest.mark.postgres
def test_postgres_has_the_trigram_index_and_q_uses_it(officer):
    template = _create(officer.org, name="Wxyvq Needlesmith", email="needlesmith@example.org")
    fields = [f.attname for f in DataSubjectRequest._meta.concrete_fields if f.attname != "id"]
    rows = []
    for i in range(3000):  # enough rows of the same org that the org's own indexes do not narrow it down
        dsr = DataSubjectRequest(id=new_id("req"), **{name: getattr(template, name) for name in fields})
        dsr.requestor_name = f"Person {i}"
        dsr.requestor_email = dsr.requestor_email_key = f"p{i}@bulk.example"
        dsr.search_text = haystack(
            request_id=dsr.id,
            requestor_name=dsr.requestor_name,
            requestor_email=dsr.requestor_email,
            contact="",
        )
        rows.append(dsr)
    DataSubjectRequest.objects.bulk_create(rows, batch_size=1000)

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [MIGRATION.TRIGRAM_INDEX])
        (definition,) = cursor.fetchone()
        assert "gin" in definition and "gin_trgm_ops" in definition and "search_text" in definition
        # Fresh rows wait in the GIN pending list (costed as a full scan of it) until a vacuum: merge them.
        cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [MIGRATION.TRIGRAM_INDEX])
        cursor.execute(f"ANALYZE {MIGRATION.TABLE}")
        cursor.execute("SET LOCAL enable_seqscan = off")
        # the API's own statements for q: the page, and the count (a full page needs it)
        with CaptureQueriesContext(connection) as ctx:
            response = _list(officer, q="NeedleSmith")
            _list(officer, q="Person 12", limit=1)  # 111 of 3,001 rows: a full page, so a count
        statements = [q["sql"] for q in ctx.captured_queries if "search_text" in q["sql"]]
        assert len(statements) == 3 and sum("COUNT(*)" in sql for sql in statements) == 1, statements
        # (a page of one row may rightly walk the newest-first index until it meets a match)
        for sql in [sql for sql in statements if "needlesmith" in sql or "COUNT(*)" in sql]:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert f"Bitmap Index Scan on {MIGRATION.TRIGRAM_INDEX}" in plan, plan
        digits = (
            DataSubjectRequest.objects.filter(org=officer.org).filter(text_matches("7946-0000")).explain()
        )
        assert MIGRATION.TRIGRAM_INDEX in digits, digits
    assert {r["id"] for r in response.json()["data"]["requests"]} == {template.id}
    assert _list(officer, q="@BULK.example", limit=1).json()["data"]["total"] == 3000


def _like(pattern: str, text: str) -> bool:
    """SQL LIKE with backslash escapes, as PostgreSQL reads the pattern."""
    pieces = re.findall(r"\\.|%|_|[^%_\\]", pattern)
    regex = "".join(".*" if p == "%" else "." if p == "_" else re.escape(p[-1]) for p in pieces)
    return re.fullmatch(regex, text, re.DOTALL) is not None


_TEXT = st.text(alphabet=st.sampled_from("abcxyz019-_%\\@. é"), max_size=40)


@given(needle=_TEXT.filter(lambda n: len(n) >= 3), before=_TEXT, after=_TEXT)
def test_every_text_containing_the_needle_matches_its_index_pattern(needle, before, after):
    assert _like(trigram_pattern(needle), before + needle + after)


@given(needle=st.text(alphabet=st.sampled_from("abcdefgh0123-@"), min_size=3, max_size=200))
@example(needle="00@00@00@00@0")  # no three letters or digits in a row: the needle is used whole
def test_the_index_pattern_holds_at_most_a_few_trigrams_in_the_needles_order(needle):
    pattern, whole = trigram_pattern(needle), f"%{needle}%"
    trigrams = [needle[i : i + 3] for i in range(len(needle) - 2) if needle[i : i + 3].isalnum()]
    if len(needle) <= INDEX_PIECES * 3 or not trigrams:
        assert pattern == whole
        return
    pieces = pattern.strip("%").split("%")
    assert 1 <= len(pieces) <= INDEX_PIECES
    assert all(piece in trigrams for piece in pieces)
    assert pieces[0] == trigrams[0]


def test_the_index_pattern_of_a_long_needle_spreads_four_trigrams_and_a_short_one_is_whole():
    assert trigram_pattern("seed1796451737-9997") == "%see%d17%517%999%"
    assert trigram_pattern("jane@example") == "%jane@example%"
    assert trigram_pattern("50%_off\\") == "%50\\%\\_off\\\\%"
    assert trigram_pattern("-- . -- . -- .") == "%-- . -- . -- .%"  # no trigram of letters: whole


@pytest.mark.postgres
def test_postgres_checks_each_candidate_for_the_whole_needle(officer):
    """The index is asked for four trigrams of a long needle; a text holding them apart is a candidate
    only, never an answer."""
    wanted = _create(officer.org, name="Abcdefghijklmno Person", email="one@example.org")
    _create(officer.org, name="Abc Def Ghi Jkl Mno", email="two@example.org")  # the pieces, apart
    assert trigram_pattern("abcdefghijklmno") == "%abc%def%jkl%mno%"
    assert _found(officer, q="ABCDEFGHIJKLMNO") == {wanted.id}
    assert _found(officer, q="bcdefghijklmno p") == {wanted.id}
    plan = DataSubjectRequest.objects.filter(text_matches("abcdefghijklmno")).explain()
    assert "strpos" in plan, plan


# --- query budgets ------------------------------------------------------------------------------------------


def _queries(client, **params) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as ctx:
        response = _list(client, **params, limit=200)
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.json()["data"]["requests"])


@pytest.mark.parametrize(
    "search", [{"q": "jane@exa"}, {"q": "e@"}, {"q": "02079460000"}, {"email": "Jane@Example.org"}]
)
def test_the_search_costs_the_same_queries_for_1_and_200_rows(officer, search, django_assert_max_num_queries):
    template = _create(officer.org, email="jane@example.org", contact="020 7946 0000")
    _create(officer.org, name="Bob Stone", email="bob@stone.example")
    _list(officer)  # the key's last-used stamp, written at most once a minute, is out of the way

    one, rows = _queries(officer, **search)
    assert rows == 1
    _clones(template, 199)
    # key lookup, the shared rate counter, count, page
    with django_assert_max_num_queries(4):
        response = _list(officer, **search, limit=200)
    assert response.json()["data"]["total"] == 200
    many, rows = _queries(officer, **search)
    assert rows == 200
    # Never a query per row: a full page costs the count as well (4); a page that is not full says its
    # total without counting (3).
    assert (one, many) == (3, 4)


# --- the backfill of migration 0006 -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_migration_backfills_the_keys_and_the_mirror(org):
    from django.db.migrations.executor import MigrationExecutor

    template = _create(org, email="template@example.org")
    values = {
        f.attname: getattr(template, f.attname)
        for f in DataSubjectRequest._meta.concrete_fields
        if f.attname not in {"id", "requestor_email_key", "contact_key", "search_text"}
    }
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    try:
        executor.migrate([("requests_app", "0005_appeals_ack_tracking")])
        old_apps = executor.loader.project_state([("requests_app", "0005_appeals_ack_tracking")]).apps
        Historical = old_apps.get_model("requests_app", "DataSubjectRequest")
        assert "search_text" not in {f.name for f in Historical._meta.get_fields()}
        # Only the columns the table had then (later migrations add others).
        then = {f.attname for f in Historical._meta.concrete_fields}
        values = {name: value for name, value in values.items() if name in then}
        legacy_id = new_id("req")
        Historical.objects.create(
            **{
                **values,
                "id": legacy_id,
                "requestor_name": "Ærøskøbing Ölander",
                "requestor_email": "  Mixed.Case@Example.ORG ",
                "contact": "Contact.Person@EXAMPLE.org",
            }
        )
        phone_id = new_id("req")
        Historical.objects.create(
            **{
                **values,
                "id": phone_id,
                "requestor_email": "",
                "requestor_name": "",
                "contact": "020 7946 0000",
            }
        )

        executor = MigrationExecutor(connection)
        executor.migrate([("requests_app", "0006_search")])
        # Read with today's model, leaving out the columns later migrations add.
        state = executor.loader.project_state([("requests_app", "0006_search")]).apps
        historical = state.get_model("requests_app", "DataSubjectRequest")
        at_0006 = {f.attname for f in historical._meta.concrete_fields}
        rows = DataSubjectRequest.objects.defer(
            *[f.attname for f in DataSubjectRequest._meta.concrete_fields if f.attname not in at_0006]
        )

        legacy = rows.get(pk=legacy_id)
        assert legacy.requestor_email_key == "mixed.case@example.org"
        assert legacy.contact_key == "contact.person@example.org"
        assert legacy.search_text == haystack(
            request_id=legacy_id,
            requestor_name="Ærøskøbing Ölander",
            requestor_email="  Mixed.Case@Example.ORG ",
            contact="Contact.Person@EXAMPLE.org",
        )
        assert legacy_id.lower() in legacy.search_text
        phone = rows.get(pk=phone_id)
        assert "02079460000" in phone.search_text.splitlines()
        untouched = rows.get(pk=template.id)
        assert untouched.requestor_email_key == "template@example.org"

        scoped = rows.filter(org=org)
        assert set(scoped.filter(text_matches("ÆRØSKØBING")).values_list("id", flat=True)) == {legacy_id}
        assert set(scoped.filter(text_matches("7946-0000")).values_list("id", flat=True)) == {phone_id}
        assert set(scoped.filter(text_matches("mixed.case@")).values_list("id", flat=True)) == {legacy_id}
        if connection.vendor == "sqlite":
            for dsr in (legacy, phone, untouched):
                assert _mirror(dsr.id) == [dsr.search_text]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(latest)
    # the mirror and its triggers (SQLite) or the trigram index (PostgreSQL) are back
    test_the_search_mirror_is_installed()
