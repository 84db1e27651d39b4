"""Every URL of the API against the inputs clients and attackers send: never a 5xx, always the envelope.

One table of edge inputs (1,001 query parameters, JSON nested 1,000 deep, NUL in the path and in the
query, `Accept` variants, HEAD, a chunked body) against every path and method the URLconf has.
"""

from __future__ import annotations

import base64
import io
import json

import pytest

from tests.test_envelope import PATHS, _assert_envelope

pytestmark = pytest.mark.django_db

WRITE_METHODS = ["post", "put", "patch", "delete"]


@pytest.fixture
def caller(org):
    """A key with every scope, so that each path gets past the scope check to the input."""
    from tests.conftest import _client

    return _client(org, ["officer", "intake", "integration", "export"])


def _call(client, method, path, *, data=b"", content_type="application/json", **extra):
    return client.api.generic(
        method.upper(),
        path,
        data=data,
        content_type=content_type,
        HTTP_AUTHORIZATION=f"Bearer {client.raw}",
        **extra,
    )


def _assert_refused(response, path, *, allowed=(400, 401, 403, 404, 405, 409, 413, 415, 429)):
    assert response.status_code < 500, (path, response.status_code, response.content[:300])
    assert response.status_code in allowed, (path, response.status_code, response.content[:300])
    _assert_envelope(response, path)


@pytest.mark.parametrize("path", PATHS)
def test_too_many_query_parameters_are_a_400(caller, client, path):
    query = "&".join(f"p{i}=1" for i in range(1001))
    for response in (client.get(f"{path}?{query}"), _call(caller, "get", f"{path}?{query}")):
        _assert_refused(response, path, allowed=(400,))
        assert response.json()["error"]["code"] == "validation_error"


@pytest.mark.parametrize("path", PATHS)
def test_a_nul_byte_in_the_path_or_the_query_is_refused(caller, path):
    for target in (f"{path}%00", f"{path}?limit=%00", f"{path}?%00=1"):
        _assert_refused(_call(caller, "get", target), target, allowed=(400, 404))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", WRITE_METHODS)
def test_json_nested_1000_deep_is_a_400(caller, path, method):
    deep = b'{"a":' * 1000 + b"1" + b"}" * 1000
    response = _call(caller, method, path, data=deep)
    _assert_refused(response, path, allowed=(400, 404, 405))


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "application/json", "application/*", "text/html", "application/json; charset=utf-8"],
)
def test_accept_never_gets_in_the_way(caller, path, accept):
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    response = caller.api.get(path, HTTP_AUTHORIZATION=f"Bearer {caller.raw}", **extra)
    assert response.status_code != 406
    _assert_refused(response, path, allowed=(200, 400, 404, 405))
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("path", PATHS)
def test_head_answers_like_get_without_a_body(caller, path):
    get = caller.api.get(path, HTTP_AUTHORIZATION=f"Bearer {caller.raw}")
    head = caller.api.head(path, HTTP_AUTHORIZATION=f"Bearer {caller.raw}")
    assert head.status_code == get.status_code
    assert head.content == b""
    assert head["Content-Type"] == get["Content-Type"]


def test_head_needs_the_same_scope_as_get(intake_clerk, integration_client, org):
    from tests.conftest import _client

    export_only = _client(org, ["export"])
    assert (
        intake_clerk.api.head("/v1/requests", HTTP_AUTHORIZATION=f"Bearer {intake_clerk.raw}").status_code
        == 200
    )
    response = export_only.api.head("/v1/requests", HTTP_AUTHORIZATION=f"Bearer {export_only.raw}")
    assert response.status_code == 403


@pytest.mark.parametrize("path", PATHS)
def test_an_unknown_query_parameter_is_named_in_a_400(caller, path):
    response = _call(caller, "get", f"{path}?atriskdays=7")
    _assert_refused(response, path, allowed=(400, 404, 405))
    if response.status_code == 400:
        assert response.json()["error"]["details"] == [
            {"field": "atriskdays", "message": "Unknown query parameter."}
        ]


def test_a_typo_in_a_list_filter_no_longer_lists_everything(officer, make_request):
    make_request()
    response = officer.get("/v1/requests?atriskdays=7&limit=5")
    assert response.status_code == 400
    assert "atriskdays" in response.json()["error"]["message"]
    assert officer.get("/v1/requests?atRiskDays=7&limit=5").status_code == 200


def test_format_is_not_a_parameter_of_this_api(officer):
    response = officer.get("/v1/requests?format=api")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "format"


def _post_chunked(client, path: str, body: bytes):
    return client.api.generic(
        "POST",
        path,
        data=body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {client.raw}",
        HTTP_TRANSFER_ENCODING="chunked",
        CONTENT_LENGTH="",
        # What gunicorn hands over: the de-chunked body, readable in pieces of any size.
        **{"wsgi.input": io.BytesIO(body)},
    )


def test_a_chunked_body_is_read_like_any_other(officer, intake):
    response = _post_chunked(officer, "/v1/requests", json.dumps(intake()).encode())
    assert response.status_code == 202, response.content
    assert response.json()["data"]["request"]["jurisdiction"] == "GB"


def test_a_chunked_body_over_the_limit_is_a_413(officer, settings):
    settings.DSAR_MAX_BODY_BYTES = 100
    response = _post_chunked(officer, "/v1/requests", b'{"a": "' + b"x" * 200 + b'"}')
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_an_empty_body_on_an_all_optional_endpoint_is_an_empty_object(officer, make_request):
    dsr = make_request()
    response = officer.api.generic(
        "POST",
        f"/v1/requests/{dsr['id']}/acknowledgements",
        data=b"",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {officer.raw}",
    )
    assert response.status_code == 202, response.content


@pytest.mark.parametrize(
    "accept", [None, "application/json", "*/*", "application/*", "application/vnd.oai.openapi+json"]
)
def test_the_schema_answers_every_json_accept(client, accept):
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    response = client.get("/v1/openapi.json", **extra)
    assert response.status_code == 200
    assert json.loads(response.content)["openapi"].startswith("3.")
    expected = accept if accept == "application/vnd.oai.openapi+json" else "application/json"
    assert response["Content-Type"].startswith(expected)


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        _cursor('["0001-01-01T00:00:00+14:00","req_x"]'),  # out of range once converted to UTC
        _cursor('["9999-12-31T23:59:59-14:00","req_x"]'),
        _cursor('["1850-01-01T00:00:00+00:00","req_x"]'),  # before anything the clock can hold
        _cursor('["2026-01-01T00:00:00+00:00","req_\\u0000"]'),  # a NUL inside the id
        _cursor('["2026-01-01T00:00:00",  "req_x"]'),  # naive
        _cursor("[" * 5000 + "]" * 5000),  # deeply nested
        _cursor('{"a": 1}'),
        "not base64 at all!",
    ],
)
def test_a_crafted_dsr_cursor_is_a_400(officer, cursor):
    response = officer.get(f"/v1/dsr?cursor={cursor}")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "cursor"


def test_dsr_answers_the_seed_pages_bare_body(officer, make_request):
    made = make_request()
    body = officer.get("/v1/dsr").json()
    assert "ok" not in body and "data" not in body
    assert body["requests"][0]["id"] == made["id"]
    assert body["items"] == body["requests"]
    error = officer.get("/v1/dsr?limit=0").json()
    assert error["ok"] is False and error["error"]["code"] == "validation_error"


def test_plain_http_behind_tls_is_refused_not_redirected(officer, settings):
    settings.DSAR_BEHIND_TLS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^v1/", r"^healthz$"]

    plain = officer.post("/v1/requests", {"jurisdiction": "GB"})
    assert plain.status_code == 400
    assert plain.json()["error"]["code"] == "tls_required"
    assert "Location" not in plain

    secure = officer.get("/v1/requests", X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    # Browsers on the admin are still sent to https.
    admin = officer.api.get("/admin/login/")
    assert admin.status_code == 301 and admin["Location"].startswith("https://")
