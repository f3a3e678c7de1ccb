"""Text from the data in headless Chromium: a table shows every value as text, whatever it
holds, and nothing in it makes the browser fetch anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dash
import polars as pl
import pytest
from dash import html

from dashboard.components import Col, RowLink, bounded, frame_table

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
    fetched = dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    dash_duo.driver.save_screenshot(str(artifacts / "hostile-text-table.png"))

    assert cells == [bounded(h) for h in HOSTILE]
    assert [url for url in fetched if not url.startswith(dash_duo.server_url)] == []
    assert dash_duo.driver.execute_script(
        "return [document.querySelectorAll('#hostile img, #hostile script').length,"
        " window.__pwned === undefined]") == [0, True]
    assert "10 rows" in dash_duo.find_element("#hostile").text
