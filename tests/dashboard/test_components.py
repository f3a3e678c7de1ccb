"""Layout pieces: tables are escaped HTML blocks whose links feed a store."""

from __future__ import annotations

import polars as pl

from dashboard.components import Col, RowLink, frame_table
from tests.dashboard.helpers import table_rows, text

FRAME = pl.DataFrame({"sku": ["P1-S", "<b>P2</b>"], "units": [1200, 3], "rate": [0.25, None],
                      "flagged": [False, True]})
COLUMNS = (Col("sku", "SKU"), Col("units", "Units", "int"), Col("rate", "Rate", "pct"))


def test_a_table_shows_formatted_values_row_by_row() -> None:
    table = frame_table(FRAME, COLUMNS)

    assert table_rows(table) == [["P1-S", "1,200", "25.0%"], ["<b>P2</b>", "3", "–"]]
    assert "2 rows" in text(table)


def test_a_table_escapes_what_it_shows() -> None:
    markup = frame_table(FRAME, COLUMNS).children[0].children

    assert "<b>P2</b>" not in markup and "&lt;b&gt;P2&lt;/b&gt;" in markup


def test_a_long_table_says_how_many_rows_it_leaves_to_the_download() -> None:
    table = frame_table(pl.concat([FRAME] * 20), COLUMNS, max_rows=10)

    assert len(table_rows(table)) == 10
    assert "40 rows; first 10 shown — download for all" in text(table)


def test_highlighted_rows_are_marked() -> None:
    markup = frame_table(FRAME, COLUMNS, highlight="flagged").children[0].children

    assert markup.count('class="table-danger"') == 1
    assert markup.index('class="table-danger"') > markup.index("P1-S")


def test_row_links_name_their_store_and_the_rows_value() -> None:
    markup = frame_table(FRAME.with_columns(link="sku:" + pl.col("sku")), COLUMNS,
                         link=RowLink("products-drill-click", "link")).children[0].children

    assert 'data-store="products-drill-click" data-value="sku:P1-S"' in markup
    assert markup.count('class="table-link"') == 2


def test_an_empty_frame_says_there_are_no_rows() -> None:
    assert "No rows for the current filters." in text(frame_table(FRAME.clear(), COLUMNS))


def test_a_table_of_the_first_rows_says_how_many_the_download_has() -> None:
    table = frame_table(FRAME, COLUMNS, max_rows=2, total=350)

    assert len(table_rows(table)) == 2
    assert "350 rows; first 2 shown — download for all" in text(table)
