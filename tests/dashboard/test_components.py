"""Layout pieces: tables show every value as text, and their links feed a store."""

from __future__ import annotations

from typing import Any

import polars as pl

from dashboard.components import MAX_CELL_CHARS, Col, PageLink, RowLink, format_value, frame_table
from tests.dashboard.helpers import table_rows, text, walk

FRAME = pl.DataFrame({"sku": ["P1-S", "<b>P2</b>"], "units": [1200, 3], "rate": [0.25, None],
                      "flagged": [False, True]})
COLUMNS = (Col("sku", "SKU"), Col("units", "Units", "int"), Col("rate", "Rate", "pct"))


def test_a_table_shows_formatted_values_row_by_row() -> None:
    table = frame_table(FRAME, COLUMNS)

    assert table_rows(table) == [["P1-S", "1,200", "25.0%"], ["<b>P2</b>", "3", "–"]]
    assert "2 rows" in text(table)


def test_a_value_that_rounds_to_zero_shows_no_minus_sign() -> None:
    shown = [format_value(-0.001, kind) for kind in ("num", "money", "pct", "z")]

    assert shown == ["0.00", "0.00", "-0.1%", "0.0"]
    assert format_value(-0.0004, "pct") == "0.0%"
    assert format_value(-0.04, "pp") == "+0.0 pp"


def test_whole_numbers_are_rounded_not_cut() -> None:
    assert [format_value(v, "int") for v in (14_405.7, -2.6, 3)] == ["14,406", "-3", "3"]


def test_a_list_of_codes_reads_as_their_names() -> None:
    assert format_value("serial_returner,wardrobing", "codes") \
        == "Serial returning, Wardrobing (worn, then returned)"


HOSTILE = ["{braces} and {{more}}", "<script>alert(1)</script>", "line one\n\nline two",
           "![x](http://127.0.0.1:9/t.png)", "[link](http://example.com)", "退货 반품"]


def test_a_table_shows_any_text_as_text_never_as_markup() -> None:
    frame = pl.DataFrame({"sku": HOSTILE, "units": list(range(len(HOSTILE))),
                          "rate": [0.1] * len(HOSTILE)})

    table = frame_table(frame, COLUMNS)

    assert [row[0] for row in table_rows(table)] == HOSTILE
    assert not [c for c in walk(table) if type(c).__name__ == "Markdown"]


def test_a_ten_megabyte_value_shows_its_start_and_its_length() -> None:
    huge = "退货 {x} ." * 1_250_000  # 10 million characters
    frame = pl.DataFrame({"sku": [huge], "units": [1], "rate": [0.1]})

    cell = table_rows(frame_table(frame, COLUMNS))[0][0]

    assert cell.startswith(huge[:MAX_CELL_CHARS]) and len(cell) < MAX_CELL_CHARS + 100
    assert "10,000,000 characters in all" in cell


def test_a_long_table_says_how_many_rows_it_leaves_to_the_download() -> None:
    table = frame_table(pl.concat([FRAME] * 20), COLUMNS, max_rows=10)

    assert len(table_rows(table)) == 10
    assert "40 rows; first 10 shown — download for all" in text(table)


def _frame_table(table: object) -> Any:
    return next(c for c in walk(table) if type(c).__name__ == "FrameTable")


def test_highlighted_rows_are_marked() -> None:
    assert _frame_table(frame_table(FRAME, COLUMNS, highlight="flagged")).marked == [1]


def test_row_links_name_their_store_and_the_rows_value() -> None:
    table = frame_table(FRAME.with_columns(link="sku:" + pl.col("sku")), COLUMNS,
                        link=RowLink("products-drill-click", "link"))

    assert _frame_table(table).links == [
        {"store": "products-drill-click", "value": "sku:P1-S"},
        {"store": "products-drill-click", "value": "sku:<b>P2</b>"}]


def test_page_links_open_the_address_in_their_row() -> None:
    table = frame_table(FRAME.with_columns(href="/products?drill=sku%3A" + pl.col("sku")),
                        COLUMNS, link=PageLink("href"))

    assert _frame_table(table).links == [
        {"href": "/products?drill=sku%3AP1-S"}, {"href": "/products?drill=sku%3A<b>P2</b>"}]


def test_a_table_is_one_component_whatever_its_size() -> None:
    """Dash's renderer spends ~1 ms on each component it mounts: cells are not components."""
    table = frame_table(pl.concat([FRAME] * 20), COLUMNS, max_rows=40)

    assert sum(1 for _ in walk(table)) == 3  # the wrapper, the table, its caption


def test_p_values_show_three_decimals_and_tiny_ones_as_below_a_thousandth() -> None:
    assert [format_value(p, "p") for p in (0.0123, 0.0004)] == ["0.012", "< 0.001"]


def test_an_empty_frame_says_there_are_no_rows() -> None:
    assert "No rows for the current filters." in text(frame_table(FRAME.clear(), COLUMNS))


def test_a_table_of_the_first_rows_says_how_many_the_download_has() -> None:
    table = frame_table(FRAME, COLUMNS, max_rows=2, total=350)

    assert len(table_rows(table)) == 2
    assert "350 rows; first 2 shown — download for all" in text(table)


def test_months_read_as_months() -> None:
    from datetime import date

    from dashboard.components import format_value

    assert format_value(date(2025, 12, 1), "month") == "Dec 2025"


def test_six_figure_sums_show_no_decimals_and_smaller_amounts_show_cents() -> None:
    from dashboard.components import format_value

    assert format_value(1_234_567.891, "money") == "1,234,568"
    assert format_value(-100_000.4, "money") == "-100,000"
    assert format_value(99_999.456, "money") == "99,999.46"


def test_money_headers_and_csv_columns_say_their_currency() -> None:
    from dashboard.components import priced, priced_frame

    columns = priced((Col("sku", "SKU"), Col("net_cost", "Net cost", "money")), "GBP")
    frame = priced_frame(pl.DataFrame({"sku": ["a"], "net_cost": [1.0]}), ("net_cost",), "GBP")

    assert [c.label for c in columns] == ["SKU", "Net cost (GBP)"]
    assert frame.columns == ["sku", "net_cost_gbp"]


def test_months_read_as_months_whether_dates_or_iso_text() -> None:
    from datetime import date

    from dashboard.components import format_value

    assert format_value(date(2025, 3, 1), "month") == "Mar 2025"
    assert format_value("2025-03-01", "month") == "Mar 2025"
