"""Browser-test set-up: headless Chromium for dash_duo, and where screenshots go."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from selenium.webdriver.chrome.options import Options

from tests.dashboard.conftest import shop  # noqa: F401  (the shop's feed files as frames)

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def pytest_setup_options() -> Options:
    """Chrome options for dash_duo: the system Chromium, headless, fit for CI containers."""
    options = Options()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    return options


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """test-artifacts/ at the repository root (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
