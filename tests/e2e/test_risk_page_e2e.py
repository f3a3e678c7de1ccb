"""The Risk page in headless Chromium: before any training it says how to train; after it, the
model card, the abuse queue and the tables show what was published, and exports match."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from dash.testing.wait import until

from dashboard.app import create_app
from dashboard.components import format_value
from tests.browser import allow_downloads, downloaded, tables_wider_than_their_cards
from warehouse import read
from warehouse.engine import reader_engine

pytestmark = pytest.mark.e2e


def _settled(dash_duo: Any) -> None:
    until(lambda: dash_duo.driver.execute_script(
        "return document.querySelectorAll('[data-dash-is-loading=\"true\"]').length === 0"
        " && Array.from(document.querySelectorAll('.dash-graph'))"
        ".every(g => g.querySelector('.main-svg'))"), timeout=60)


def test_risk_001_without_a_model_the_page_says_how_to_train_one(
        dash_duo: Any, warehouse_url: str) -> None:
    dash_duo.start_server(create_app(warehouse_url))
    dash_duo.wait_for_page(url=dash_duo.server_url + "/risk")
    dash_duo.wait_for_element("#risk-card-loaded", timeout=30)

    assert "No model trained yet: run `returnlens train`" in \
        dash_duo.find_element("#risk-card").text
    assert dash_duo.get_logs() == []


def test_risk_002_the_model_card_queue_and_exports_show_what_training_published(
        dash_duo: Any, trained_warehouse: tuple[str, Path], artifacts: Path) -> None:
    url, _ = trained_warehouse
    with reader_engine(url).connect() as conn:
        card = read.risk.model_card(conn)
        queue = read.abuse.review_queue(conn, limit=1)
    dash_duo.start_server(create_app(url))
    download_dir = allow_downloads(dash_duo)
    dash_duo.driver.set_window_size(1440, 900)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/risk")
    dash_duo.wait_for_element("#risk-kpi-roc-auc", timeout=60)
    _settled(dash_duo)

    roc_auc = card["metrics"]["return_risk"]["roc_auc"]
    assert format_value(roc_auc, "score") in dash_duo.find_element("#risk-kpi-roc-auc").text
    assert card["snapshot"] in dash_duo.find_element("#risk-card").text
    assert queue["customer_id"][0] in dash_duo.find_element("#risk-abuse-table").text
    height = dash_duo.driver.execute_script("return document.body.scrollHeight")
    dash_duo.driver.set_window_size(1440, min(max(height, 900), 6000))
    dash_duo.driver.save_screenshot(str(artifacts / "page-risk-trained.png"))
    assert tables_wider_than_their_cards(dash_duo.driver) == []
    dash_duo.driver.set_window_size(1440, 900)

    button = dash_duo.find_element('[id*="risk-export-button"][id*="skus"]')
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'}); "
                                   "arguments[0].click();", button)
    target = downloaded(download_dir, "returnlens-risk-skus.csv")
    with reader_engine(url).connect() as conn:
        expected = read.risk.risk_table(conn, "risk_skus")
    assert pl.read_csv(target)["sku"].to_list() == expected["sku"].to_list()
    assert dash_duo.get_logs() == []
