"""The dashboard in headless Chromium: every page renders cleanly, filters drive the figures
and live in the URL, drill-downs reach a SKU's comments, CSV exports match the page."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from dash.testing.wait import until

from dashboard.app import create_app
from dashboard.components import format_value
from tests.browser import (
    PAGES,
    allow_downloads,
    choose_option,
    downloaded,
    pick_sku,
    tables_wider_than_their_cards,
    text_under_modebar,
)
from tests.shop_reference import returns_enriched
from warehouse import read
from warehouse.engine import reader_engine

pytestmark = pytest.mark.e2e


def _settled(dash_duo: Any) -> None:
    """Wait until no callback is running and every graph has drawn."""
    until(lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length === 0"
        " && Array.from(document.querySelectorAll('.dash-graph'))"
        ".every(g => g.querySelector('.main-svg'))"), timeout=30)


def _screenshot(dash_duo: Any, artifacts: Path, name: str) -> None:
    height = dash_duo.driver.execute_script("return document.body.scrollHeight")
    dash_duo.driver.set_window_size(1440, min(max(height, 900), 6000))
    dash_duo.driver.save_screenshot(str(artifacts / f"{name}.png"))
    dash_duo.driver.set_window_size(1440, 900)


def _click(dash_duo: Any, element: Any) -> None:
    """Click `element` the way its handler sees it, wherever late-drawing graphs moved it."""
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); "
                                   "arguments[0].click();", element)


def _graph_y(dash_duo: Any, graph_id: str) -> list[float]:
    return dash_duo.driver.execute_script(
        f"return document.querySelector('#{graph_id} .js-plotly-plot').data[0].y")


@pytest.mark.parametrize("path", list(PAGES))
def test_e2e_001_every_page_renders_without_console_errors(
        dash_duo: Any, warehouse_url: str, artifacts: Path, path: str) -> None:
    dash_duo.start_server(create_app(warehouse_url))
    dash_duo.driver.set_window_size(1440, 900)  # the width the pages are made for
    dash_duo.wait_for_page(url=dash_duo.server_url + path)

    dash_duo.wait_for_element(PAGES[path], timeout=30)
    _settled(dash_duo)

    _screenshot(dash_duo, artifacts, f"page-{path.strip('/') or 'overview'}")
    assert dash_duo.get_logs() == []
    assert text_under_modebar(dash_duo.driver) == []
    assert tables_wider_than_their_cards(dash_duo.driver) == []


def test_e2e_002_a_filter_changes_the_figures_and_the_url(
        dash_duo: Any, warehouse_url: str) -> None:
    dash_duo.start_server(create_app(warehouse_url))
    dash_duo.wait_for_element("#overview-kpi-orders", timeout=30)
    _settled(dash_duo)
    before = _graph_y(dash_duo, "overview-net-cost-graph")

    dash_duo.select_dcc_dropdown("#filter-category-dropdown", value="shoes")

    until(lambda: _graph_y(dash_duo, "overview-net-cost-graph") != before, timeout=20)
    assert sum(_graph_y(dash_duo, "overview-net-cost-graph")) < sum(before)
    until(lambda: "category=shoes" in dash_duo.driver.current_url, timeout=10)
    assert dash_duo.get_logs() == []


def test_e2e_003_a_shared_url_restores_its_filters(
        dash_duo: Any, warehouse_url: str, shop: dict[str, pl.DataFrame]) -> None:
    dash_duo.start_server(create_app(warehouse_url))
    returns = returns_enriched(shop).filter(
        pl.col("category") == "shoes",
        pl.col("requested_at").dt.date().is_between(date(2025, 1, 1), date(2025, 3, 31)))

    dash_duo.wait_for_page(url=dash_duo.server_url
                           + "/costs?from=2025-01&to=2025-03&category=shoes")

    dash_duo.wait_for_text_to_equal("#costs-kpi-net-cost .kpi-value",
                                    format_value(returns["net_cost"].sum(), "money"), timeout=30)
    assert "shoes" in dash_duo.find_element("#filter-category-dropdown").text
    assert "2025-03" in dash_duo.find_element("#filter-to-dropdown").text
    assert dash_duo.get_logs() == []


def test_e2e_004_the_navbar_keeps_the_filters(dash_duo: Any, warehouse_url: str) -> None:
    dash_duo.start_server(create_app(warehouse_url))
    dash_duo.wait_for_page(url=dash_duo.server_url + "/?region=SG")
    dash_duo.wait_for_element("#overview-kpi-orders", timeout=30)

    _click(dash_duo, dash_duo.find_element('[id*=\'"page":"carriers"\']'))

    dash_duo.wait_for_element("#carriers-scorecard-table table", timeout=30)
    until(lambda: dash_duo.driver.current_url.endswith("/carriers?region=SG"), timeout=10)
    assert "SG" in dash_duo.find_element("#filter-region-dropdown").text
    assert dash_duo.get_logs() == []


def test_e2e_005_drill_down_reaches_a_skus_comments(
        dash_duo: Any, warehouse_url: str, artifacts: Path,
        shop: dict[str, pl.DataFrame]) -> None:
    dash_duo.start_server(create_app(warehouse_url))
    dash_duo.wait_for_page(url=dash_duo.server_url + "/products")
    dash_duo.wait_for_element("#products-level-table table", timeout=30)

    for _ in range(3):  # category → product → SKU
        link = dash_duo.find_element("#products-level-table tbody tr td a.table-link")
        name = link.text
        _click(dash_duo, link)
        dash_duo.wait_for_text_to_equal("#products-drill-current", name, timeout=30)
    _settled(dash_duo)

    sku = dash_duo.find_element("#products-drill-current").text
    comments = shop["returns"].filter(pl.col("sku") == sku, pl.col("reason_text").is_not_null())
    feedback = dash_duo.find_element("#products-feedback-table").text
    assert comments.height and any(t in feedback for t in comments["reason_text"])
    _screenshot(dash_duo, artifacts, "products-sku-drill-down")
    assert dash_duo.get_logs() == []


def test_e2e_007_sku_search_lands_on_the_skus_drill_down(
        dash_duo: Any, warehouse_url: str, artifacts: Path,
        shop: dict[str, pl.DataFrame]) -> None:
    dash_duo.start_server(create_app(warehouse_url))
    dash_duo.wait_for_page(url=dash_duo.server_url + "/products")
    dash_duo.wait_for_element("#products-level-table table", timeout=30)
    _settled(dash_duo)
    sku = shop["orders"]["sku"].sort()[0]
    name = shop["products"].filter(pl.col("sku") == sku)["product_name"][0]

    pick_sku(dash_duo, name, sku)

    _settled(dash_duo)
    _screenshot(dash_duo, artifacts, "products-sku-search")
    assert dash_duo.get_logs() == []


def test_e2e_006_csv_export_downloads_and_matches_the_page(
        dash_duo: Any, warehouse_url: str) -> None:
    dash_duo.start_server(create_app(warehouse_url))
    download_dir = allow_downloads(dash_duo)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/costs?from=2025-01&to=2025-06")
    dash_duo.wait_for_element("#costs-kpi-net-cost", timeout=30)
    _settled(dash_duo)

    _click(dash_duo, dash_duo.find_element('[id*="costs-export-button"][id*="by-month"]'))

    exported = pl.read_csv(downloaded(download_dir, "returnlens-costs-by-month.csv"))
    assert exported.height == 6
    shown = dash_duo.find_element("#costs-kpi-net-cost .kpi-value").text
    assert format_value(exported["net_cost_usd"].sum(), "money") == shown
    assert dash_duo.get_logs() == []


def test_e2e_008_a_url_with_a_drill_down_opens_that_drill_down(
        dash_duo: Any, warehouse_url: str, artifacts: Path,
        shop: dict[str, pl.DataFrame]) -> None:
    dash_duo.start_server(create_app(warehouse_url))
    sku = shop["orders"].filter(pl.col("sku").str.contains("-4"))["sku"].sort()[0]

    dash_duo.wait_for_page(url=f"{dash_duo.server_url}/products?region=SG&drill=sku:{sku}"
                           "&group=size")

    dash_duo.wait_for_text_to_equal("#products-drill-current", sku, timeout=30)
    _settled(dash_duo)
    assert "SG" in dash_duo.find_element("#filter-region-dropdown").text
    assert dash_duo.find_element("#products-group-radio input[value='size']").is_selected()
    until(lambda: dash_duo.driver.current_url.endswith(
        f"/products?region=SG&drill=sku%3A{sku}&group=size"), timeout=10)
    _screenshot(dash_duo, artifacts, "products-drill-down-from-url")
    assert dash_duo.get_logs() == []


def test_e2e_009_a_drill_down_click_goes_into_the_url(
        dash_duo: Any, warehouse_url: str) -> None:
    dash_duo.start_server(create_app(warehouse_url))
    dash_duo.wait_for_page(url=dash_duo.server_url + "/products?region=SG")
    dash_duo.wait_for_element("#products-level-table table", timeout=30)

    link = dash_duo.find_element("#products-level-table tbody tr td a.table-link")
    category = link.text
    _click(dash_duo, link)

    dash_duo.wait_for_text_to_equal("#products-drill-current", category, timeout=30)
    until(lambda: dash_duo.driver.current_url.endswith(
        f"/products?region=SG&drill=category%3A{category}"), timeout=10)
    _click(dash_duo, dash_duo.find_element('[id*="products-crumb"]'))
    until(lambda: dash_duo.driver.current_url.endswith("/products?region=SG"), timeout=10)
    assert dash_duo.get_logs() == []


def test_e2e_010_a_sku_the_overview_says_is_returned_more_opens_its_drill_down_in_the_app(
        dash_duo: Any, warehouse_url: str) -> None:
    dash_duo.start_server(create_app(warehouse_url))
    dash_duo.wait_for_page(url=dash_duo.server_url + "/?to=2025-12")
    dash_duo.wait_for_element("#overview-kpi-orders", timeout=30)
    _settled(dash_duo)
    links = dash_duo.find_elements("#overview-sku-movers-table a.table-link")
    assert links, "the test shop's latest cohorts hold no SKU whose return rate rose clearly"
    sku = links[0].text
    dash_duo.driver.execute_script("window.__same_page = true;")  # gone if the page reloads

    _click(dash_duo, links[0])

    dash_duo.wait_for_text_to_equal("#products-drill-current", sku, timeout=30)
    assert dash_duo.driver.execute_script("return window.__same_page === true;")
    until(lambda: dash_duo.driver.current_url.endswith(f"/products?to=2025-12&drill=sku%3A{sku}"),
          timeout=10)
    assert "2025-12" in dash_duo.find_element("#filter-to-dropdown").text
    assert dash_duo.get_logs() == []


def test_e2e_011_the_carrier_dropdown_drives_the_charts_below_it(
        dash_duo: Any, warehouse_url: str, artifacts: Path,
        shop: dict[str, pl.DataFrame]) -> None:
    carrier = shop["carrier_scans"]["carrier"].mode()[0]
    dash_duo.start_server(create_app(warehouse_url))
    dash_duo.wait_for_page(url=dash_duo.server_url + "/carriers")
    dash_duo.wait_for_element(PAGES["/carriers"], timeout=30)
    _settled(dash_duo)

    _click(dash_duo, dash_duo.find_element("#carriers-carrier-dropdown"))
    until(lambda: any(o.text == carrier for o in dash_duo.find_elements(
        ".dash-dropdown-option")), timeout=20)
    _click(dash_duo, next(o for o in dash_duo.find_elements(".dash-dropdown-option")
                          if o.text == carrier))

    names = ("return Array.from(document.querySelectorAll('#carriers-weekday-graph "
             ".js-plotly-plot, #carriers-times-graph .js-plotly-plot'))"
             ".flatMap(g => g.data.map(t => t.name))")
    until(lambda: set(dash_duo.driver.execute_script(names)) == {carrier}, timeout=30)
    dash_duo.wait_for_text_to_equal("#carriers-summary-table tbody td", carrier, timeout=30)
    _settled(dash_duo)
    _screenshot(dash_duo, artifacts, "carriers-one-carrier")
    assert dash_duo.get_logs() == []


def test_e2e_012_a_ready_made_range_sets_the_months_and_the_url(
        dash_duo: Any, warehouse_url: str, shop: dict[str, pl.DataFrame]) -> None:
    last = shop["orders"]["ordered_at"].max().date().replace(day=1)
    first = date(last.year - (last.month <= 2), (last.month - 3) % 12 + 1, 1)
    dash_duo.start_server(create_app(warehouse_url))
    dash_duo.wait_for_element("#overview-kpi-orders", timeout=30)
    _settled(dash_duo)
    before = dash_duo.find_element("#overview-kpi-orders .kpi-value").text

    choose_option(dash_duo, "#filter-preset-dropdown", "Last 3 months")

    until(lambda: f"from={first:%Y-%m}&to={last:%Y-%m}" in dash_duo.driver.current_url,
          timeout=20)
    assert f"{first:%Y-%m}" in dash_duo.find_element("#filter-from-dropdown").text
    assert f"{last:%Y-%m}" in dash_duo.find_element("#filter-to-dropdown").text
    until(lambda: dash_duo.find_element("#overview-kpi-orders .kpi-value").text != before,
          timeout=20)
    assert dash_duo.get_logs() == []


def test_e2e_012b_a_range_of_days_sets_days_and_compares_with_the_days_before(
        dash_duo: Any, warehouse_url: str) -> None:
    with reader_engine(warehouse_url).connect() as conn:
        last = max(d for d in read.runs.data_bounds(conn).row(0) if d is not None)
    first = last - timedelta(days=6)
    dash_duo.start_server(create_app(warehouse_url))
    dash_duo.wait_for_element("#overview-kpi-orders", timeout=30)
    _settled(dash_duo)

    choose_option(dash_duo, "#filter-preset-dropdown", "Last 7 days")

    until(lambda: f"from={first}&to={last}" in dash_duo.driver.current_url, timeout=20)
    assert f"{first}" in dash_duo.find_element("#filter-from-dropdown").text
    assert f"{last}" in dash_duo.find_element("#filter-to-dropdown").text
    before = (first - timedelta(days=7), first - timedelta(days=1))
    until(lambda: f"previous period, {before[0]} – {before[1]}" in dash_duo.find_element(
        "#overview-notes").text, timeout=20)
    assert dash_duo.get_logs() == []


def test_e2e_012c_the_range_dropdown_says_custom_range_for_dates_no_preset_matches(
        dash_duo: Any, warehouse_url: str) -> None:
    dash_duo.start_server(create_app(warehouse_url))
    dash_duo.wait_for_element("#overview-kpi-orders", timeout=30)
    _settled(dash_duo)
    assert "All dates" in dash_duo.find_element("#filter-preset-dropdown").text

    dash_duo.wait_for_page(url=dash_duo.server_url + "/?from=2025-03-10&to=2025-04-06")

    until(lambda: "Custom range" in dash_duo.find_element("#filter-preset-dropdown").text,
          timeout=20)
    assert "2025-03-10" in dash_duo.find_element("#filter-from-dropdown").text
    assert dash_duo.get_logs() == []
