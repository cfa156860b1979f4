"""Fixtures of the end-to-end tests: a live server (``live``) and a headless Chromium page (``page``)."""

from __future__ import annotations

import pytest

from tests.e2e.browser import CHROMIUM_ARGS, DESKTOP, chromium_path
from tests.e2e.live import serve


@pytest.fixture
def live(db, tmp_path):
    """A real uvicorn server over a fresh migrated database (SQLite and PostgreSQL) holding the small county."""
    with serve(db, tmp_path) as running:
        yield running


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (no cookies) at desktop size; use ``page.set_viewport_size(PHONE)`` for a phone."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    yield pg
    context.close()
