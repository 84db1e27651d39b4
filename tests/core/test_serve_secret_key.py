"""`serve` will not run a production server on the demo key that anyone can read in the repository."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command


def test_serve_refuses_debug_off_without_a_secret_key(monkeypatch, settings):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("SECRET_KEY_FILE", raising=False)
    settings.DEBUG = False
    with pytest.raises(CommandError, match="SECRET_KEY is not set"):
        call_command("serve")


def test_the_run_script_makes_a_local_key_once_and_keeps_it_out_of_git():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    script = (root / "scripts/run.sh").read_text()
    assert ".secret_key" in script and "export SECRET_KEY" in script
    assert ".secret_key" in (root / ".gitignore").read_text().splitlines()
    settings_source = (root / "dsar_project/settings.py").read_text()
    assert ".secret_key" not in settings_source  # settings never read the file by themselves
