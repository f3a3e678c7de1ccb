"""Headless Chromium as the browser tests and the first-render benchmark drive it, and
what on each page says its data has arrived."""

from __future__ import annotations

import shutil

from selenium.webdriver.chrome.options import Options

PAGES = {  # path → an element that exists only once the page's data has arrived
    "/": "#overview-kpi-orders",
    "/products": "#products-level-table table",
    "/costs": "#costs-kpi-net-cost",
    "/carriers": "#carriers-scorecard-table table",
    "/quality": "#quality-runs-table table",
    "/policy": "#policy-result-table table",
    "/risk": "#risk-card-loaded",
}


def headless_chromium() -> Options:
    """Chrome options: the system Chromium, headless, fit for CI containers."""
    options = Options()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    return options
