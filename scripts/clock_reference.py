"""Rewrite the generated sections of docs/clock.md from the policy packs.

.venv/bin/python scripts/clock_reference.py          # rewrite docs/clock.md
.venv/bin/python scripts/clock_reference.py --check  # exit 1 if it is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clocks.reference import render  # noqa: E402

GUIDE = ROOT / "docs" / "clock.md"


def main() -> int:
    current = GUIDE.read_text(encoding="utf-8")
    wanted = render(current)
    if "--check" in sys.argv[1:]:
        if wanted != current:
            print("docs/clock.md is out of date: run python scripts/clock_reference.py", file=sys.stderr)
            return 1
        return 0
    GUIDE.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
