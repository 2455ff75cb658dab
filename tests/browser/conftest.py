"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright.

The browser tests skip, saying why, only when /usr/bin/chromium is missing
(``scripts/ci_widgets.sh`` installs it; CI always has it). Screenshots go to
``test-artifacts/`` at the repository root and their paths are printed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chromium import ARTIFACTS

# The browser fixture (one headless Chromium per module) lives in tests/conftest.py,
# shared with tests/frontends.


class PageWatch:
    """A page plus everything that must not happen on it: errors, dialogs, network."""

    def __init__(self, page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.console_errors: list[str] = []
        self.dialogs: list[str] = []
        self.requests: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on(
            "console",
            lambda msg: self.console_errors.append(msg.text) if msg.type == "error" else None,
        )

        def on_dialog(dialog) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)

    def block_network(self, allowed_prefixes: tuple[str, ...]) -> None:
        """Abort (and record) every request not starting with an allowed prefix."""

        def route(r) -> None:
            url = r.request.url
            if url.startswith(allowed_prefixes):
                r.continue_()
            else:
                self.requests.append(url)
                r.abort()

        self.page.route("**/*", route)

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / name
        self.page.screenshot(path=str(path), full_page=True)
        print(f"\nscreenshot: {path}")
        return path

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.console_errors == [], self.console_errors
        assert self.dialogs == [], f"a dialog opened (injected script ran?): {self.dialogs}"


@pytest.fixture
def watched_page(browser) -> Iterator[PageWatch]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    try:
        yield PageWatch(page)
    finally:
        context.close()
