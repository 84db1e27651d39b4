"""Every API answer is the contract's envelope: no HTML, no bare {"detail": ...}, whatever goes wrong."""

from __future__ import annotations

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

pytestmark = pytest.mark.django_db

METHODS = ["get", "post", "put", "patch", "delete"]


def _api_paths():
    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern)

    for route in walk(get_resolver().url_patterns):
        if route.startswith("v1/") and "openapi" not in route and "docs" not in route:
            yield "/" + route.replace("<str:request_id>", "req_nope").replace(
                "<str:event_id>", "evt_nope"
            ).replace("<str:endpoint_id>", "whe_nope").replace("<str:job_id>", "dsar:nope")


PATHS = [*sorted(set(_api_paths())), "/v1/", "/v1/unknown", "/v1/requests/req_nope/unknown-action"]


BARE_BODY_PATHS = {"/v1/dsr"}  # the seed page's body, unwrapped (errors still use the envelope)


def _assert_envelope(response, path=""):
    assert response["Content-Type"].startswith("application/json"), (
        response.status_code,
        response.content[:200],
    )
    body = json.loads(response.content)
    if response.status_code < 400 and path in BARE_BODY_PATHS:
        assert "ok" not in body and "requests" in body
        return
    assert body["contractVersion"] == "v1.0"
    if response.status_code >= 400:
        assert body["ok"] is False
        assert set(body["error"]) == {"code", "message", "details"}
        assert "detail" not in body
    else:
        assert body["ok"] is True


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("method", METHODS)
def test_every_path_and_method_answers_in_the_envelope(officer, path, method):
    for auth in (True, False):
        headers = {"HTTP_AUTHORIZATION": f"Bearer {officer.raw}"} if auth else {}
        response = officer.api.generic(
            method.upper(), path, data=b"{not json", content_type="application/json", **headers
        )
        assert response.status_code < 500
        _assert_envelope(response, path)


def test_an_unhandled_error_is_a_500_in_the_envelope(officer, monkeypatch, settings):
    from requests_app import apis

    def boom(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(apis, "request_row", boom)
    officer.api.raise_request_exception = False
    response = officer.get("/v1/requests/req_x")

    assert response.status_code == 500
    _assert_envelope(response)
    assert response.json()["error"]["code"] == "internal_error"
    assert "bug" not in response.content.decode()


def test_the_openapi_schema_is_served_without_a_key(client):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/v1/requests/{request_id}/extensions" in schema["paths"]
    assert "ErrorEnvelope" in schema["components"]["schemas"]


def test_swagger_ui_is_served_offline(client):
    response = client.get("/v1/docs")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"cdn." not in response.content
