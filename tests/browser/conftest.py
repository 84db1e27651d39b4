"""Playwright (sync API) driving Debian's chromium against pytest-django's live server.

Screenshots go to the test's own `tmp_path`; each one's path is printed (run with `-s`, or read the
captured output of a failure) — nothing is written into the work tree.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM would otherwise refuse to run here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        # Missing prerequisites are red, never a silent skip.
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/test.sh does, as root).")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


class Screenshots:
    """`shots.take(page, "queue")` or `shots.take(locator, "clock")`: a PNG in the test's tmp_path."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.paths: list[Path] = []

    def take(self, target, name: str, *, full_page: bool = True) -> Path:
        path = self.folder / f"{name}.png"
        if hasattr(target, "goto"):  # a Page
            target.screenshot(path=str(path), full_page=full_page)
        else:  # a Locator
            target.screenshot(path=str(path))
        self.paths.append(path)
        print(f"screenshot: {path}")
        return path


@pytest.fixture
def shots(tmp_path: Path) -> Screenshots:
    return Screenshots(tmp_path)
