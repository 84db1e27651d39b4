"""Export fixtures: a key with the `export` scope, a SQLite "customer database" substrate, and helpers to
open a downloaded bundle."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from tests.conftest import _client


@pytest.fixture(autouse=True)
def _export_dirs(settings, tmp_path):
    """Bundles and work directories under this test's own folder (Django resets its storages when
    STORAGES changes)."""
    settings.DSAR_EXPORT_DIR = str(tmp_path / "bundles")
    settings.DSAR_EXPORT_WORK_DIR = str(tmp_path / "work")
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {
                "location": str(tmp_path / "bundles"),
                "file_permissions_mode": 0o600,
                "directory_permissions_mode": 0o700,
            },
        },
    }


@pytest.fixture
def exporter(org):
    return _client(org, ["export"])


@pytest.fixture
def other_exporter(other_org):
    return _client(other_org, ["export"])


@pytest.fixture
def crm(org, tmp_path, monkeypatch):
    """The demo customer database as substrate `crm` of `org` (a real SQLite source)."""
    from exports.demo import DSN_ENV, demo_substrate_register

    monkeypatch.setenv(DSN_ENV, f"sqlite:///{tmp_path / 'crm.sqlite3'}")
    registered = demo_substrate_register(org=org)
    assert registered is not None
    return registered.substrate


def open_bundle(content: bytes) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(content))


def bundle_json(content: bytes, name: str):
    with open_bundle(content) as bundle:
        return json.loads(bundle.read(name))


def create_job(client, **body):
    body.setdefault("scope", {"dataSubjectId": "jane@example.org"})
    response = client.post("/v1/compliance/dsar", body)
    assert response.status_code == 202, response.content
    return response.json()["data"]["job"]


def run_job(client, job_id):
    response = client.post(f"/v1/compliance/dsar/{job_id}/run")
    assert response.status_code == 200, response.content
    return response.json()["data"]
