"""Text from the data in headless Chromium: a table shows every value as text, whatever it
holds, and nothing in it makes the browser fetch anything."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import dash
import polars as pl
import pytest
from dash import html

from dashboard.app import create_app
from dashboard.components import Col, RowLink, bounded, frame_table
from tests.browser import allow_downloads, assert_nothing_fetched_or_run, downloaded, pick_sku

pytestmark = pytest.mark.e2e

HOSTILE = [
    "{braces} and {{double braces}}",
    "<script>window.__pwned = 1</script>",
    "first paragraph\n\nsecond paragraph after a blank line",
    "![x](http://127.0.0.1:9/t.png)",
    "look [here](http://127.0.0.1:9/link) and http://127.0.0.1:9/bare",
    "<img src=http://127.0.0.1:9/img.png onerror=window.__pwned=2>",
    "尺码偏小，退货 · 사이즈가 작아요",
    "=HYPERLINK(\"http://127.0.0.1:9/\",\"Click\")",
    "| a | b |\n|---|---|\n| c | d |",
    "<b>ten megabytes</b> 退货 " * 500_000,
]


def _hostile_app() -> dash.Dash:
    frame = pl.DataFrame({"comment": HOSTILE, "n": list(range(len(HOSTILE)))})
    app = dash.Dash(__name__)
    app.layout = html.Div(frame_table(frame, (Col("comment", "Comment", "wrap"),
                                              Col("n", "N", "int")),
                                      link=RowLink("nowhere", "comment")),
                          id="hostile")
    return app


def test_e2e_hostile_text_renders_as_text_in_every_row_and_fetches_nothing(
        dash_duo: Any, artifacts: Path) -> None:
    dash_duo.start_server(_hostile_app())
    dash_duo.wait_for_element("#hostile table", timeout=20)

    cells = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#hostile tbody tr'))"
        ".map(tr => tr.querySelector('td').textContent)")
    dash_duo.driver.save_screenshot(str(artifacts / "hostile-text-table.png"))

    assert cells == [bounded(h) for h in HOSTILE]
    assert_nothing_fetched_or_run(dash_duo, "#hostile")
    assert "10 rows" in dash_duo.find_element("#hostile").text


@pytest.fixture(scope="module")
def hostile_reviews(small_shop_dir: Path, prefect_harness: None,
                    tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A warehouse the pipeline loaded from a shop whose newest reviews of one SKU are the
    hostile texts; returns its URL and the SKU."""
    from flows.pipeline import pipeline

    source = tmp_path_factory.mktemp("hostile_shop")
    for path in small_shop_dir.glob("*.parquet"):
        shutil.copy(path, source / path.name)
    reviews = pl.read_parquet(source / "reviews.parquet")
    template = reviews.sort("reviewed_at").tail(1)
    hostile = pl.concat([template.with_columns(
        review_id=pl.lit(f"HOSTILE-{i}"), text=pl.lit(text),
        reviewed_at=pl.col("reviewed_at") + timedelta(minutes=i + 1)) for i, text
        in enumerate(HOSTILE)])
    pl.concat([reviews, hostile]).write_parquet(source / "reviews.parquet")
    url = f"duckdb:///{tmp_path_factory.mktemp('hostile_wh') / 'returnlens.duckdb'}"
    pipeline(source=source, db=url)
    return url, template["sku"][0]


def test_e2e_hostile_reviews_loaded_by_the_pipeline_render_as_text_and_export_inert(
        dash_duo: Any, hostile_reviews: tuple[str, str], artifacts: Path) -> None:
    url, sku = hostile_reviews
    dash_duo.start_server(create_app(url))
    download_dir = allow_downloads(dash_duo)
    dash_duo.wait_for_page(url=dash_duo.server_url + "/products")
    dash_duo.wait_for_element("#products-level-table table", timeout=30)
    pick_sku(dash_duo, sku, sku)
    dash_duo.wait_for_element("#products-feedback-table table", timeout=30)

    texts = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#products-feedback-table tbody tr'))"
        ".map(tr => tr.lastElementChild.textContent)")
    dash_duo.driver.save_screenshot(str(artifacts / "hostile-reviews-drill-down.png"))
    assert all(bounded(h) in texts for h in HOSTILE)
    assert_nothing_fetched_or_run(dash_duo, "#products-feedback-table")

    dash_duo.driver.execute_script("arguments[0].click();", dash_duo.find_element(
        '[id*="products-export-button"][id*="feedback"]'))
    target = downloaded(download_dir, "returnlens-products-feedback.csv")
    exported = pl.read_csv(target, infer_schema=False)["feedback_text"].to_list()
    assert all(h in exported for h in HOSTILE if not h.startswith("="))
    assert ["'" + h for h in HOSTILE if h.startswith("=")] == [
        t for t in exported if t.startswith("'=")]
