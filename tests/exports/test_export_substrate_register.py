"""`manage.py substrate_register`: register or update from a mapping file, checked against the live source."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from exports.demo import DSN_ENV, MAPPING, demo_crm_create
from exports.models import Substrate

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm_file(tmp_path, monkeypatch):
    database = tmp_path / "crm.sqlite3"
    demo_crm_create(database)
    monkeypatch.setenv(DSN_ENV, f"sqlite:///{database}")
    path = tmp_path / "crm.json"
    path.write_text(json.dumps(MAPPING))
    return path


def _register(org, path, *extra) -> list[str]:
    out = io.StringIO()
    call_command("substrate_register", "--org", org.id, "--file", str(path), *extra, stdout=out)
    return out.getvalue().splitlines()


def test_it_registers_and_prints_the_key_on_its_last_line(org, crm_file):
    lines = _register(org, crm_file)
    assert lines[-1] == "crm"
    substrate = Substrate.objects.get(org=org, key="crm")
    assert substrate.kind == "sql" and substrate.enabled and substrate.checked_at is not None
    assert "sqlite" not in json.dumps(substrate.mapping)  # the DSN is never stored


def test_running_it_again_with_the_same_key_updates_it(org, crm_file):
    _register(org, crm_file)
    mapping = json.loads(crm_file.read_text())
    mapping["description"] = "CRM, second edition"
    crm_file.write_text(json.dumps(mapping))
    lines = _register(org, crm_file, "--disabled")
    assert lines[0].startswith("Updated") and lines[-1] == "crm"
    substrate = Substrate.objects.get(org=org, key="crm")
    assert substrate.description == "CRM, second edition" and not substrate.enabled
    assert Substrate.objects.filter(org=org).count() == 1


def test_a_column_the_source_lacks_is_refused_naming_it(org, crm_file):
    mapping = json.loads(crm_file.read_text())
    mapping["tables"][0]["columns"].append("shoe_size")
    crm_file.write_text(json.dumps(mapping))
    with pytest.raises(CommandError) as error:
        _register(org, crm_file)
    assert "shoe_size" in str(error.value)
    assert not Substrate.objects.exists()


def test_an_invalid_mapping_lists_every_problem_with_its_path(org, crm_file):
    mapping = json.loads(crm_file.read_text())
    mapping["kind"] = "ftp"
    mapping["tables"][1]["redact"] = [{"column": "total", "action": "shred"}]
    crm_file.write_text(json.dumps(mapping))
    with pytest.raises(CommandError) as error:
        _register(org, crm_file)
    text = str(error.value)
    assert "kind" in text and "tables.1.redact.0.action" in text


def test_an_unset_dsn_variable_is_named(org, crm_file, monkeypatch):
    monkeypatch.delenv(DSN_ENV)
    with pytest.raises(CommandError) as error:
        _register(org, crm_file)
    assert DSN_ENV in str(error.value)


def test_an_unknown_org_is_refused(db, crm_file):
    with pytest.raises(CommandError, match="No organisation"):
        call_command("substrate_register", "--org", "org_nope", "--file", str(crm_file))
