"""The clock guide's generated sections (the jurisdiction table, every pack's citations) match the packs."""

from __future__ import annotations

from pathlib import Path

import pytest

from clocks.packs import jurisdiction_codes
from clocks.reference import jurisdiction_table, pack_citations, render

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "clock.md"


def test_the_guide_is_up_to_date_with_the_packs() -> None:
    current = GUIDE.read_text(encoding="utf-8")
    assert render(current) == current, "run: .venv/bin/python scripts/clock_reference.py"


def test_every_code_has_a_row_and_every_pack_a_section() -> None:
    table = jurisdiction_table()
    for code in jurisdiction_codes():
        assert f"| `{code}` |" in table
    sections = pack_citations()
    assert "#### `nz-privacy-2020`" in sections and "| closed period | 12-25 to 01-15 |" in sections
    assert "| verification (fraud suspected) | EXCLUDE |" in sections  # Utah
    assert "| appeal extension | up to 60 calendar days, once |" in sections  # Colorado, Minnesota
    assert "14 calendar days (product decision)" in sections  # Japan


def test_render_refuses_a_guide_without_its_markers() -> None:
    with pytest.raises(ValueError, match="generated: jurisdictions"):
        render("no markers here")
