"""Browser-test set-up: headless Chromium for dash_duo, and where screenshots go."""

from __future__ import annotations

from pathlib import Path

import pytest
from selenium.webdriver.chrome.options import Options

from tests.browser import headless_chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_setup_options() -> Options:
    """Chrome options for dash_duo: the system Chromium, headless, fit for CI containers."""
    return headless_chromium()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/ at the repository root (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
