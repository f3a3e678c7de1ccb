"""The Policy Lab in headless Chromium: a scenario recomputes the page, the CSV export matches
what the page shows, and a saved scenario appears beside the others."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from dash.testing.wait import until
from selenium.webdriver.common.keys import Keys

from dashboard.app import create_app
from tests.browser import allow_downloads, downloaded, text_under_modebar
from warehouse.engine import derived_path, duckdb_path

pytestmark = pytest.mark.e2e
PAGE = "/policy"
READY = "#policy-result-table table"


@pytest.fixture()
def lab_url(warehouse_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A private copy of the test warehouse (saving a scenario writes to it), with the
    simulator's cache in the test's folder."""
    monkeypatch.setenv("RETURNLENS_DATA_DIR", str(tmp_path))
    target = tmp_path / "lab.duckdb"
    shutil.copy(duckdb_path(warehouse_url), target)
    source_models = Path(derived_path(warehouse_url))
    if source_models.exists():
        shutil.copy(source_models, derived_path(f"duckdb:///{target}"))
    return f"duckdb:///{target}"


def _settled(dash_duo: Any) -> None:
    until(lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length === 0"
        " && Array.from(document.querySelectorAll('.dash-graph'))"
        ".every(g => g.querySelector('.main-svg'))"), timeout=120)


def _value(dash_duo: Any, card: str) -> str:
    """A KPI's text, read in one step: found and read apart, a card re-rendered in between
    raised StaleElementReferenceException ('' while the card is being replaced)."""
    return dash_duo.driver.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
        f"#policy-kpi-{card} .kpi-value")


def _units(text: str) -> int:
    return int(text.replace(",", ""))


def _set(dash_duo: Any, input_id: str, value: str) -> None:
    """Replace an input's value in one edit (clearing first would send an empty value)."""
    box = dash_duo.find_element(f"#{input_id}")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(value + Keys.ENTER)


def _open(dash_duo: Any, url: str) -> None:
    dash_duo.start_server(create_app(url))
    dash_duo.wait_for_page(url=dash_duo.server_url + PAGE)
    dash_duo.wait_for_element(READY, timeout=180)
    _settled(dash_duo)


def test_policy_e2e_001_a_shorter_window_lowers_units_and_shows_the_naive_estimate(
        dash_duo: Any, lab_url: str, artifacts: Path) -> None:
    _open(dash_duo, lab_url)
    units_at_30 = _value(dash_duo, "units-scenario")
    assert _value(dash_duo, "net-cost-baseline").startswith("USD ")

    _set(dash_duo, "policy-window", "7")
    until(lambda: _units(_value(dash_duo, "units-scenario") or units_at_30)
          < _units(units_at_30), timeout=120)
    _settled(dash_duo)

    table = dash_duo.find_element(READY).text
    assert "Naive truncation" in table and "80% interval" in table
    height = dash_duo.driver.execute_script("return document.body.scrollHeight")
    dash_duo.driver.set_window_size(1440, min(max(height, 900), 6000))
    dash_duo.driver.save_screenshot(str(artifacts / "page-policy-7-days.png"))
    width = dash_duo.driver.execute_script("return document.body.scrollWidth")
    assert width <= 1440  # nothing pushes the page sideways
    assert text_under_modebar(dash_duo.driver) == []
    assert dash_duo.get_logs() == []


def test_policy_e2e_002_csv_export_matches_the_page(dash_duo: Any, lab_url: str) -> None:
    _open(dash_duo, lab_url)
    download_dir = allow_downloads(dash_duo)
    dash_duo.find_element("#policy-export-button").click()

    exported = pl.read_csv(downloaded(download_dir, "returnlens-policy-scenario.csv"))
    net = exported.filter(pl.col("metric") == "net_cost").row(0, named=True)
    assert f"USD {net['point']:,.0f}" == _value(dash_duo, "net-cost-scenario")
    assert {"baseline", "point", "low", "high", "naive", "currency"} <= set(exported.columns)
    assert dash_duo.get_logs() == []


def test_policy_e2e_003_a_saved_scenario_appears_beside_the_others(
        dash_duo: Any, lab_url: str) -> None:
    _open(dash_duo, lab_url)
    _set(dash_duo, "policy-fee", "20")
    _settled(dash_duo)
    _set(dash_duo, "policy-save-name", "twenty percent")
    dash_duo.find_element("#policy-save-button").click()

    dash_duo.wait_for_contains_text("#policy-save-status", "Saved", timeout=120)
    dash_duo.wait_for_contains_text("#policy-saved-table", "twenty percent", timeout=60)
    assert "20.0%" in dash_duo.find_element("#policy-saved-table").text
    assert dash_duo.get_logs() == []
