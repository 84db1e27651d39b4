"""exports.bundle: the ZIP's entries and their recorded sizes and hashes, the bundle's own hash, the README
and verify_bundle catching a tampered, missing or extra file."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import textwrap
import zipfile
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from exports.bundle import BundleResult, BundleWriter, readme_text, verify_bundle
from exports.writers import open_writer

COLUMNS = ("id", "email", "created_at", "total")
TYPES = {"id": "int64", "created_at": "timestamp", "total": "decimal"}
ROWS = [(i, f"u{i}@example.com", datetime(2024, 1, 1, tzinfo=UTC), Decimal("9.99")) for i in range(500)]


def build(path, fmt="CSV", sections=(("crm", "customers", ROWS), ("crm", "orders", []))):
    bundle = BundleWriter(str(path), compresslevel=1)
    for substrate, name, rows in sections:
        entry = f"data/{substrate}/{name}.{fmt.lower()}"
        with bundle.section(entry, section=f"{substrate}.{name}") as sink:
            writer = open_writer(fmt, sink, COLUMNS, TYPES)
            written = writer.write_rows(rows)
            writer.close()
        bundle.set_rows(entry, written)
    files = bundle.files
    bundle.add_json("audit_report.json", {"jobId": "dsar:01J", "totalRecords": sum(f["rows"] for f in files)})
    bundle.add_text(
        "README.txt",
        readme_text(
            job_id="dsar:01J",
            org_id="org_1",
            generated_at="2024-05-01T00:00:00+00:00",
            format=fmt,
            files=files,
        ),
    )
    bundle.add_json("manifest.json", {"jobId": "dsar:01J", "format": fmt, "files": files})
    return bundle.close(), files


def rewrite(path, change):
    """A copy of the bundle with `change(name, data) -> data | None` applied (None drops the entry)."""
    with zipfile.ZipFile(path) as source:
        entries = [(info.filename, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for name, data in entries:
            changed = change(name, data)
            if changed is not None:
                target.writestr(name, changed)


@pytest.mark.parametrize("fmt", ["JSON", "CSV", "NDJSON", "PARQUET"])
def test_it_records_each_data_file_as_a_reader_extracts_it(tmp_path, fmt):
    path = tmp_path / "bundle.zip"

    result, files = build(path, fmt)

    assert [(f["path"], f["section"], f["rows"]) for f in files] == [
        (f"data/crm/customers.{fmt.lower()}", "crm.customers", 500),
        (f"data/crm/orders.{fmt.lower()}", "crm.orders", 0),
    ]
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(
            ["README.txt", "audit_report.json", "manifest.json", *(f["path"] for f in files)]
        )
        for entry in files:
            data = archive.read(entry["path"])
            assert entry["bytes"] == len(data)
            assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert archive.getinfo(files[0]["path"]).compress_type == zipfile.ZIP_DEFLATED
        assert json.loads(archive.read("manifest.json"))["files"] == files
    assert verify_bundle(str(path)) == []
    assert result == BundleResult(
        size_bytes=os.path.getsize(path), sha256=hashlib.sha256(path.read_bytes()).hexdigest()
    )


def test_a_bundle_with_no_data_files_is_still_valid(tmp_path):
    path = tmp_path / "bundle.zip"

    build(path, sections=())

    assert verify_bundle(str(path)) == []


def test_verify_detects_a_tampered_file(tmp_path):
    path = tmp_path / "bundle.zip"
    _, files = build(path)
    target = files[0]["path"]

    rewrite(
        path,
        lambda name, data: data.replace(b"u1@example.com", b"u1@example.org") if name == target else data,
    )

    assert verify_bundle(str(path)) == [f"{target}: sha256 does not match the manifest"]


def test_verify_detects_a_truncated_file(tmp_path):
    path = tmp_path / "bundle.zip"
    _, files = build(path)
    target = files[0]["path"]

    rewrite(path, lambda name, data: data[:100] if name == target else data)

    assert verify_bundle(str(path)) == [
        f"{target}: 100 bytes, the manifest says {files[0]['bytes']}",
        f"{target}: sha256 does not match the manifest",
    ]


def test_verify_detects_missing_and_extra_files(tmp_path):
    path = tmp_path / "bundle.zip"
    _, files = build(path)
    missing = files[1]["path"]

    def change(name, data):
        return None if name in (missing, "README.txt") else data

    rewrite(path, change)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("data/crm/extra.csv", b"id\r\n1\r\n")

    assert verify_bundle(str(path)) == [
        "README.txt: missing",
        f"{missing}: listed in the manifest but missing",
        "data/crm/extra.csv: not listed in the manifest",
    ]


def test_verify_reports_a_file_that_is_not_a_bundle(tmp_path):
    not_zip = tmp_path / "x.zip"
    not_zip.write_bytes(b"hello")
    no_manifest = tmp_path / "y.zip"
    with zipfile.ZipFile(no_manifest, "w") as archive:
        archive.writestr("data/a.csv", b"x")

    assert verify_bundle(str(not_zip)) == ["not a readable ZIP file"]
    assert verify_bundle(str(no_manifest)) == [
        "manifest.json: missing",
        "audit_report.json: missing",
        "README.txt: missing",
    ]


def test_verify_reports_a_damaged_entry_without_crashing(tmp_path):
    path = tmp_path / "bundle.zip"
    _, files = build(path)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(files[0]["path"])
    # Flip bytes inside the compressed data of the first data file (after its local header).
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 10
    data[start : start + 20] = bytes(20)
    path.write_bytes(bytes(data))

    problems = verify_bundle(str(path))

    assert problems and all(problem.startswith(files[0]["path"]) for problem in problems)


def test_an_unnamed_row_count_stops_the_manifest(tmp_path):
    bundle = BundleWriter(str(tmp_path / "b.zip"), compresslevel=1)
    with bundle.section("data/crm/a.csv", section="crm.a") as sink:
        sink.write(b"id\r\n")

    with pytest.raises(ValueError, match=r"no row count for data/crm/a\.csv"):
        _ = bundle.files
    with pytest.raises(KeyError):
        bundle.set_rows("data/crm/nope.csv", 1)
    bundle.abort()


def test_a_failed_section_is_not_recorded(tmp_path):
    bundle = BundleWriter(str(tmp_path / "b.zip"), compresslevel=1)

    with pytest.raises(RuntimeError), bundle.section("data/crm/a.csv", section="crm.a") as sink:
        sink.write(b"partial")
        raise RuntimeError("source failed")

    assert bundle.files == []
    bundle.abort()


@pytest.mark.parametrize(
    "name", ["/etc/passwd", "../x.csv", "data/../../x", "data\\x.csv", "", "data//x.csv", "./x"]
)
def test_it_refuses_unsafe_entry_names(tmp_path, name):
    bundle = BundleWriter(str(tmp_path / "b.zip"), compresslevel=1)

    with pytest.raises(ValueError, match="not a safe path"):
        bundle.add_text(name, "x")
    bundle.abort()


def test_it_refuses_a_name_twice_and_a_second_open_section(tmp_path):
    bundle = BundleWriter(str(tmp_path / "b.zip"), compresslevel=1)
    bundle.add_text("README.txt", "x")

    with pytest.raises(ValueError, match="already in the bundle"):
        bundle.add_text("README.txt", "y")
    with bundle.section("data/a.csv", section="a"), pytest.raises(ValueError, match="still being written"):
        bundle.add_text("audit_report.json", "{}")
    bundle.abort()


def test_close_is_idempotent_and_hashes_the_final_file(tmp_path):
    path = tmp_path / "bundle.zip"
    bundle = BundleWriter(str(path), compresslevel=6)
    bundle.add_text("README.txt", "hello\n" * 1000)

    first = bundle.close()

    assert bundle.close() == first
    assert first.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(ValueError, match="closed"):
        bundle.add_text("x.txt", "x")


def test_the_readme_explains_the_bundle_and_how_to_verify_it(tmp_path):
    path = tmp_path / "bundle.zip"
    build(path, fmt="CSV")
    with zipfile.ZipFile(path) as archive:
        readme = archive.read("README.txt").decode()

    for expected in (
        "dsar:01J",
        "org_1",
        "2024-05-01T00:00:00+00:00",
        "Format:        CSV",
        "data/crm/customers.csv  (500 records,",
        "data/crm/orders.csv  (0 records,",
        "sha256sum bundle.zip",
        "shasum -a 256 bundle.zip",
        "Get-FileHash -Algorithm SHA256 bundle.zip",
        "Repr-Digest",
        "bundleSha256",
        "unzip bundle.zip -d bundle",
        "sha256sum bundle/data/crm/customers.csv",
        "apostrophe (')",
        "pandas",
        "DuckDB",
    ):
        assert expected in readme, expected
    assert all(len(line) <= 110 for line in readme.splitlines())


def test_the_readme_python_check_runs_and_passes(tmp_path, monkeypatch):
    path = tmp_path / "bundle.zip"
    _, files = build(path, fmt="PARQUET")
    readme = readme_text(job_id="j", org_id="o", generated_at="t", format="PARQUET", files=files)
    snippet = re.search(r"\n( +import hashlib, json, zipfile\n.*?\n +print\(.*?\)\n)", readme, re.S)
    assert snippet is not None
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()

    with contextlib.redirect_stdout(out):
        exec(textwrap.dedent(snippet.group(1)), {})

    assert out.getvalue().splitlines() == [f"OK  {f['path']}" for f in files]


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="no sha256sum")
def test_the_readme_shell_check_matches_the_bundle_hash(tmp_path):
    path = tmp_path / "bundle.zip"
    result, _ = build(path)

    output = subprocess.run(
        ["sha256sum", "bundle.zip"], cwd=tmp_path, capture_output=True, text=True, check=True
    )

    assert output.stdout.split()[0] == result.sha256
