"""pytest plugin: Debian's headless Chromium driven by Playwright (`executable_path`, no browser
download), a page per journey that records every request it makes (none may go to another
origin: R9) and saves screenshots to $FACEGATE_SCREENSHOTS when set (the README's come from
there), else to the test's temporary directory. Camera pictures are masked in every screenshot:
no face is ever saved with them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}


DESK = {"width": 1280, "height": 900}


class Journey:
    """One person's browser (a resident's phone unless `desk`): a Chromium page, the requests
    it made, its screenshots."""

    def __init__(
        self, browser: Any, base: str, locale: str, shots: Path, name: str, *, desk: bool = False
    ) -> None:
        self.base = base
        screen: dict[str, Any] = (
            {"viewport": DESK}
            if desk
            else {"viewport": PHONE, "is_mobile": True, "has_touch": True}
        )
        self.context = browser.new_context(
            locale=locale, device_scale_factor=1 if desk else 2, **screen
        )
        self.desk = desk
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.shots, self.name, self.step = shots, name, 0

    def shot(self, what: str, *, full_page: bool | None = None) -> None:
        """The page as seen now (all of it at a desk, unless `full_page` says otherwise)."""
        self.step += 1
        path = str(self.shots / f"{self.name}-{self.step}-{what}.png")
        # The camera's picture is masked: no face goes into a screenshot.
        masked = {
            "mask": [self.page.locator("video")],
            "mask_color": "#333333",
            "full_page": self.desk if full_page is None else full_page,
        }
        try:
            self.page.screenshot(path=path, **masked)
        except playwright.Error:  # seen once under load, mid-navigation: one more try
            self.page.wait_for_load_state()
            self.page.screenshot(path=path, **masked)

    def foreign(self) -> list[str]:
        return [url for url in self.requests if not url.startswith(self.base)]


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    """Playwright, once per module (its sync API cannot be started twice at a time)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: scripts/setup.sh installs Debian's chromium")
    with playwright.sync_playwright() as started:
        yield started


@pytest.fixture(scope="module")
def browser(driver: Any) -> Iterator[Any]:
    launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    where = Path(os.environ.get("FACEGATE_SCREENSHOTS") or tmp_path / "screens")
    where.mkdir(parents=True, exist_ok=True)
    return where
