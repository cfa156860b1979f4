"""Headless Chromium for console tests: Debian's ``chromium`` driven by Playwright.

Playwright's own browser download does not work on these machines, so the tests launch the system browser
(``/usr/bin/chromium``, installed by ``scripts/browser.sh install``, which ``make test`` runs). A missing
browser fails the test; it does not skip it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.factories import PASSWORD

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def chromium_path() -> str:
    for candidate in (os.environ.get("RHIP_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("Chromium not found: run the suite with `make test` (scripts/browser.sh installs Debian's chromium)")


def sign_in(page, base: str, username: str, password: str = PASSWORD) -> None:
    """Sign in through the console's form, as a person would, and wait for the home page."""
    page.goto(f"{base}/console/login")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "/console/login" not in page.url, f"sign-in as {username} failed: {page.inner_text('body')[:300]}"
