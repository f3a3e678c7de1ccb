"""The Vendors page in headless Chromium: ranking, a vendor's drill-down to SKUs and comments,
and the evidence pack downloaded and opened with the network cut off."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from dash.testing.wait import until

from dashboard.app import create_app
from tests.browser import allow_downloads, downloaded, text_under_modebar
from warehouse.contract import CODE_LABELS
from warehouse.engine import duckdb_path

pytestmark = pytest.mark.e2e

READY = "#vendors-ranking-table table"


@pytest.fixture(scope="module")
def vendors_url(warehouse_url: str, prefect_harness: None,
                tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of the session warehouse with the vendor tables published by the flow."""
    from flows.vendors import vendors_flow

    copy = tmp_path_factory.mktemp("vendors_e2e") / "w.duckdb"
    shutil.copy(duckdb_path(warehouse_url), copy)
    url = f"duckdb:///{copy}"
    vendors_flow(db=url)
    return url


def _settled(dash_duo: Any) -> None:
    until(lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length === 0"
        " && Array.from(document.querySelectorAll('.dash-graph'))"
        ".every(g => g.querySelector('.main-svg'))"), timeout=60)


def _open(dash_duo: Any, url: str, ready: str = READY) -> None:
    """The Vendors page over `url` at 1440 x 900, once `ready` is there and graphs are drawn."""
    dash_duo.start_server(create_app(url))
    dash_duo.driver.set_window_size(1440, 900)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/vendors")
    dash_duo.wait_for_element(ready, timeout=60)
    _settled(dash_duo)


def _click(dash_duo: Any, element: Any) -> None:
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); "
                                   "arguments[0].click();", element)


def test_e2e_vendors_001_ranking_renders_whole_at_1440_without_console_errors(
        dash_duo: Any, vendors_url: str, artifacts: Path) -> None:
    _open(dash_duo, vendors_url)

    dash_duo.driver.save_screenshot(str(artifacts / "page-vendors-1440x900.png"))
    cut = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.table-responsive'))"
        ".filter(t => t.scrollWidth > t.clientWidth + 1).length")
    assert cut == 0
    first = dash_duo.find_element(f"{READY} tbody tr td a.table-link").text
    assert "(V" in first  # a name beside the id
    assert dash_duo.get_logs() == []


def test_e2e_vendors_002_a_vendor_in_the_ranking_drills_down_to_its_skus_and_comments(
        dash_duo: Any, vendors_url: str) -> None:
    _open(dash_duo, vendors_url)
    links = dash_duo.find_elements(f"{READY} tbody tr td a.table-link")
    target = links[3]
    name = target.text

    _click(dash_duo, target)

    until(lambda: name in dash_duo.find_element("#vendors-detail").text, timeout=30)
    _settled(dash_duo)
    assert dash_duo.find_elements("#vendors-skus-table tbody tr")
    assert dash_duo.find_element("#vendors-trend-graph .main-svg")
    assert text_under_modebar(dash_duo.driver) == []
    assert dash_duo.get_logs() == []


def test_e2e_vendors_004_what_customers_wrote_shows_reasons_conditions_and_languages_in_words(
        dash_duo: Any, vendors_url: str) -> None:
    _open(dash_duo, vendors_url, "#vendors-comments-table tbody tr")

    cells = {c.text for c in dash_duo.find_elements("#vendors-comments-table tbody td")}

    assert cells and not cells & set(CODE_LABELS)
    assert dash_duo.get_logs() == []


def test_e2e_vendors_003_the_evidence_pack_downloads_and_opens_offline(
        dash_duo: Any, vendors_url: str, artifacts: Path) -> None:
    _open(dash_duo, vendors_url)
    download_dir = allow_downloads(dash_duo)
    vendor = dash_duo.find_element("#vendors-detail strong").text.split("(")[-1].rstrip(")")

    _click(dash_duo, dash_duo.find_element("#vendors-pack-button"))

    pack = downloaded(download_dir, f"returnlens-evidence-{vendor}.html")
    assert pack.stat().st_size > 1_000_000
    dash_duo.driver.execute_cdp_cmd("Network.enable", {})
    dash_duo.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    dash_duo.driver.get(pack.as_uri())
    until(lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2"), timeout=30)
    assert vendor in dash_duo.driver.title
    dash_duo.driver.save_screenshot(str(artifacts / "vendors-evidence-pack.png"))
