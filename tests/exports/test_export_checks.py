"""The export settings' system checks."""

from __future__ import annotations

from exports.checks import export_settings


def test_the_defaults_pass():
    assert export_settings(None) == []


def test_limits_below_their_least_are_errors(settings):
    settings.DSAR_EXPORT_ACTIVE_LIMIT = 0
    settings.DSAR_EXPORT_TTL_SECONDS = 5
    problems = export_settings(None)
    assert [p.id for p in problems] == ["dsar.E201", "dsar.E201"]
    assert "DSAR_EXPORT_ACTIVE_LIMIT" in problems[0].msg


def test_a_stale_time_under_three_heartbeats_warns(settings):
    settings.DSAR_EXPORT_STALE_SECONDS = 10
    settings.DSAR_EXPORT_HEARTBEAT_SECONDS = 5
    assert [p.id for p in export_settings(None)] == ["dsar.W201"]


def test_a_file_root_that_is_not_an_absolute_directory_warns(settings, tmp_path):
    settings.DSAR_EXPORT_FILE_ROOTS = [str(tmp_path), "relative/dir", str(tmp_path / "missing")]
    problems = export_settings(None)
    assert [p.id for p in problems] == ["dsar.W202", "dsar.W202"]


def test_a_public_base_url_without_a_scheme_is_an_error(settings):
    settings.DSAR_PUBLIC_BASE_URL = "privacy.example.org"
    assert [p.id for p in export_settings(None)] == ["dsar.E202"]
