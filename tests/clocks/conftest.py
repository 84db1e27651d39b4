"""Pure clock tests: plain values in, plain values out; no Django settings, no database."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# Without pytest-django nothing puts the project root on sys.path, and the rootdir-relative
# `tests/clocks` folder would then shadow the real `clocks` package as a namespace package.
_ROOT = str(Path(__file__).resolve().parents[2])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)


@pytest.fixture(autouse=True)
def _fast_hasher():
    """Shadows the suite-wide autouse fixture: it needs Django settings these tests never touch."""
