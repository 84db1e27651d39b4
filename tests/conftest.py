"""The cast: an org with an officer key, an intake clerk, an integration and another org's officer."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass

import pytest
from hypothesis import settings as hypothesis_settings

# Locally, properties explore new examples on every run; in CI the same examples run every time, so a
# red CI is always reproducible (a failure found locally is added as an explicit @example).
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def pytest_configure(config):
    """Each test session gets its own SQLite file, so two suites running at once never share one."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3") and not os.environ.get("DSAR_TEST_DB_NAME"):
        folder = tempfile.mkdtemp(prefix="dsar-test-")
        config._dsar_test_folder = folder
        database.setdefault("TEST", {})["NAME"] = os.path.join(folder, "db.sqlite3")


def pytest_unconfigure(config):
    folder = getattr(config, "_dsar_test_folder", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True, scope="session")
def _sqlite_flush_past_append_only_triggers():
    """Transactional tests end with a flush. On SQLite that is `DELETE FROM`, which the append-only triggers
    (requests_app 0004, notifications 0003, exports 0002) refuse; PostgreSQL's TRUNCATE fires no row
    trigger. So here, and only in tests, SQLite's flush lifts the triggers and puts them back in the same
    transaction, with the migrations' own helper (one copy of the SQL). Outside tests SQLite keeps
    refusing."""
    from contextlib import ExitStack
    from importlib import import_module

    from django.db import connection

    if connection.vendor != "sqlite":
        yield
        return
    guards = [
        import_module("requests_app.migrations.0004_timeline_append_only"),
        import_module("notifications.migrations.0003_outbox_append_only"),
        import_module("exports.migrations.0002_timeline_append_only"),
    ]
    operations = type(connection.ops)
    flush = operations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        with ExitStack() as stack:
            for guard in guards:
                stack.enter_context(guard.suspended(self.connection))
            flush(self, sql_list)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(operations, "execute_sql_flush", execute_sql_flush)
        yield


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class Client:
    """An API client bound to one key; `.post_json` etc. return (status, parsed body)."""

    api: object
    org: object
    key: object
    raw: str

    def _call(self, method: str, path: str, body=None, **headers):
        kwargs = {"HTTP_AUTHORIZATION": f"Bearer {self.raw}"}
        kwargs.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
        fn = getattr(self.api, method)
        if body is None:
            return fn(path, **kwargs)
        return fn(path, data=body, format="json", **kwargs)

    def get(self, path: str, **headers):
        return self._call("get", path, **headers)

    def post(self, path: str, body=None, **headers):
        return self._call("post", path, {} if body is None else body, **headers)

    def put(self, path: str, body=None, **headers):
        return self._call("put", path, body, **headers)

    def patch(self, path: str, body=None, **headers):
        return self._call("patch", path, {} if body is None else body, **headers)

    def delete(self, path: str, **headers):
        return self._call("delete", path, **headers)


def _client(org, scopes):
    from rest_framework.test import APIClient

    from core.services import api_key_create

    key, raw = api_key_create(org=org, scopes=scopes)
    return Client(api=APIClient(), org=org, key=key, raw=raw)


@pytest.fixture
def org(db):
    from core.services import org_create

    return org_create(name="Acme Ltd")


@pytest.fixture
def other_org(db):
    from core.services import org_create

    return org_create(name="Globex Corp")


@pytest.fixture
def officer(org):
    return _client(org, ["officer"])


@pytest.fixture
def intake_clerk(org):
    return _client(org, ["intake"])


@pytest.fixture
def integration_client(org):
    return _client(org, ["integration"])


@pytest.fixture
def other_org_client(other_org):
    return _client(other_org, ["officer", "integration", "intake", "export"])


def intake_body(**overrides):
    body = {
        "jurisdiction": "GB",
        "intakeSource": {
            "channel": "EMAIL",
            "rawText": "Please send me a copy of all personal data you hold about me.",
            "receivedAt": "2026-03-31T09:12:00Z",
            "contact": "jane@example.org",
        },
        "requestor": {
            "type": "DATA_SUBJECT",
            "name": "Jane Doe",
            "email": "jane@example.org",
            "relation": "SELF",
        },
        "requestTypes": ["ACCESS"],
    }
    for key, value in overrides.items():
        if key in ("channel", "rawText", "receivedAt", "contact", "sourceEvidence"):
            body["intakeSource"][key] = value
        elif value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


@pytest.fixture
def make_request(officer):
    """Create a request through the API as the officer; returns the Request resource."""

    def make(**overrides):
        response = officer.post("/v1/requests", intake_body(**overrides))
        assert response.status_code == 202, response.content
        return response.json()["data"]["request"]

    return make


@pytest.fixture
def intake():
    """`intake(**overrides)` builds a valid intake body (GB, access, received 2026-03-31T09:12Z)."""
    return intake_body


def pytest_collection_modifyitems(config, items):
    """`postgres`-marked tests run when the suite runs on PostgreSQL (CI's second pass), not on SQLite;
    `sqlite`-marked tests (SQLite's own machinery) the other way round."""
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    other = "sqlite" if on_postgres else "postgres"
    kept, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker(other) else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
