"""Who may import whom. Apps signal work through `core.wakeup`; the runner at the project level composes them.

- `notifications/` is a leaf: besides itself it imports only `core` (and libraries). The request-scoped
  views of its history live in `requests_app`, which imports notifications, never the other way round.
- No app imports the background runner (`dsar_project.background`): the runner imports the apps. The
  entry points are the exception: `manage.py run_worker` and `serve` are management commands, which
  Django only finds inside an app.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = {"core", "notifications", "requests_app", "authority", "clocks", "exports", "dsar_project"}
APPS = ("core", "notifications", "requests_app", "authority", "clocks", "exports")


def _imports(package: str) -> list[tuple[str, int, str]]:
    """(file, line, imported module) for every import in the package, including those inside functions."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(str(path.relative_to(ROOT)), node.lineno, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.append((str(path.relative_to(ROOT)), node.lineno, node.module))
    return found


def test_notifications_is_a_leaf_that_imports_only_core():
    offending = [
        f"{file}:{line} imports {module}"
        for file, line, module in _imports("notifications")
        if module.split(".")[0] in PROJECT_PACKAGES - {"core", "notifications"}
    ]
    assert offending == []


@pytest.mark.parametrize("package", APPS)
def test_no_app_imports_the_background_runner(package):
    offending = [
        f"{file}:{line} imports {module}"
        for file, line, module in _imports(package)
        if module.startswith("dsar_project.background") and "/management/commands/" not in file
    ]
    assert offending == []
