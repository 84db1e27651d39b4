"""Layering rules that code review alone would let slip."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CLOCKS = ROOT / "clocks"
FORBIDDEN_ROOTS = {"django", "rest_framework"}
# Deadline code that reads the wall clock can only be tested by freezing global time (style.md §6.7).
WALL_CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}


@pytest.fixture(autouse=True)
def _fast_hasher():
    """These checks read source files only: no Django settings needed."""


def clocks_sources() -> list[Path]:
    sources = sorted(CLOCKS.rglob("*.py"))
    assert sources, f"no Python files under {CLOCKS}"
    return sources


def imported_roots(tree: ast.AST) -> set[str]:
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "__import__" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                roots.add(first.value.split(".")[0])
    return roots


def test_clocks_never_imports_django_or_drf() -> None:
    offenders = {}
    for path in clocks_sources():
        found = (
            imported_roots(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))) & FORBIDDEN_ROOTS
        )
        if found:
            offenders[str(path.relative_to(ROOT))] = sorted(found)
    assert offenders == {}, f"clocks/ must stay pure Python: {offenders}"


def test_clocks_never_reads_the_wall_clock() -> None:
    offenders = []
    for path in clocks_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in WALL_CLOCK_CALLS
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in {"datetime", "date", "time", "timezone"}
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == [], f"`now` must be a parameter, not read inside clocks/: {offenders}"


def test_the_import_check_sees_forbidden_imports() -> None:
    sample = "import django.conf\nfrom rest_framework import serializers\nx = __import__('django')\n"
    assert imported_roots(ast.parse(sample)) == {"django", "rest_framework"}


def test_clocks_imports_without_django_settings() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    code = (
        "import sys, clocks\n"
        "assert not any(m == 'django' or m.startswith(('django.', 'rest_framework')) for m in sys.modules), "
        "sorted(m for m in sys.modules if 'django' in m)\n"
        "print(len(clocks.jurisdiction_codes()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) >= 44
