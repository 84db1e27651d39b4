"""A new policy-pack version never silently moves an existing deadline (legal-clocks §1.11)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

import clocks
from clocks import packs
from requests_app.models import DataSubjectRequest, TimelineEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def new_uk_version(monkeypatch, tmp_path):
    """Pretend uk-gdpr 2026.1 was superseded by 2027.1 (a 2-month period): the old file is archived."""
    original = json.loads((packs.resources.files(packs.__name__) / "uk-gdpr.json").read_text())
    newer = {**original, "version": "2027.1"}
    newer["periods"] = [{**original["periods"][0], "amount": 2}]
    real_registry = packs._registry()
    patched = dict(real_registry)
    for code in ("GB", "GB-WLS", "GB-SCT", "GB-NIR"):
        patched[code] = packs._build(newer, code, newer["jurisdictions"][code])
    monkeypatch.setattr(packs, "_registry", lambda: patched)
    monkeypatch.setattr(
        packs, "_archived_raw", lambda pid, v: original if (pid, v) == ("uk-gdpr", "2026.1") else None
    )
    packs._archived.cache_clear()
    yield
    packs._archived.cache_clear()


def test_an_existing_request_keeps_its_pack_version_until_upgraded(officer, make_request, new_uk_version):
    # Created before the new version existed: simulate by pinning the row to 2026.1.
    request = make_request(receivedAt="2026-03-02T09:00:00Z")
    DataSubjectRequest.objects.filter(pk=request["id"]).update(
        clock_pack_version="2026.1", clock_due_date="2026-04-02"
    )

    acked = officer.post(f"/v1/requests/{request['id']}/acknowledgements", {}).json()["data"]
    assert acked["clock"]["policyVersion"] == "2026.1"
    assert acked["clock"]["dueDate"] == "2026-04-02"  # still one month: nothing moved silently

    out = StringIO()
    call_command("clock_upgrade", stdout=out)
    assert "would be recomputed" in out.getvalue()
    assert DataSubjectRequest.objects.get(pk=request["id"]).clock_pack_version == "2026.1"

    call_command("clock_upgrade", "--apply", stdout=StringIO())
    dsr = DataSubjectRequest.objects.get(pk=request["id"])
    assert (dsr.clock_pack_version, dsr.clock_due_date.isoformat()) == ("2027.1", "2026-05-05")
    entry = TimelineEntry.objects.filter(request=dsr).order_by("-seq").first()
    assert entry.action == "clock.upgrade"
    assert entry.data["from"] == "uk-gdpr@2026.1" and entry.data["to"] == "uk-gdpr@2027.1"
    assert entry.data["dueDateBefore"] == "2026-04-02" and entry.data["dueDateAfter"] == "2026-05-05"


def test_a_missing_archived_version_is_a_clear_error():
    with pytest.raises(clocks.UnknownPackVersion, match=r"uk-gdpr@1999\.1"):
        clocks.get_pack("GB", version="1999.1")
