"""Holding a feed file to the contract: typed rows in, broken rows quarantined, nothing lost."""

from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from flows.conform import Conformed, discover, read_batches
from flows.records import FileRejected

OPENED, HORIZON = date(2000, 1, 1), datetime(2030, 1, 1)


def conform(source) -> Conformed:
    """A small file read in one batch, as the pipeline reads it."""
    (batch,) = read_batches(source, OPENED, HORIZON, batch_rows=1 << 62)
    return batch


HEADER = ("order_id,line_id,customer_id,sku,quantity,unit_price,discount_amount,ordered_at,"
          "channel,payment_method,ship_region,promised_delivery_at,delivered_at")
GOOD = "O1,1,C1,P1-M,2,10.5,1.0,2025-01-02 10:00:00,web,card,ID-JK,2025-01-05,2025-01-04T09:30:00"


def write(folder: Path, name: str, *rows: str) -> Path:
    path = folder / name
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def orders_file(tmp_path: Path, *rows: str):
    write(tmp_path, "orders.csv", HEADER, *rows)
    [source] = discover(tmp_path)
    return source


def test_discover_finds_feed_files_in_load_order_and_ignores_the_rest(tmp_path):
    for name in ("orders.csv", "orders_2026-01.parquet", "products.csv", "notes.txt",
                 "returns.json"):
        (tmp_path / name).write_text("x")
    (tmp_path / "_truth").mkdir()
    (tmp_path / "_truth" / "orders.csv").write_text("x")
    assert [f.path.name for f in discover(tmp_path)] == [
        "products.csv", "orders.csv", "orders_2026-01.parquet"]


def test_a_conforming_row_is_typed_as_the_contract_says(tmp_path):
    result = conform(orders_file(tmp_path, GOOD))
    assert result.type_issues.is_empty()
    row = result.typed.row(0, named=True)
    assert row["quantity"] == 2 and row["unit_price"] == 10.5
    assert str(row["delivered_at"]) == "2025-01-04 09:30:00"


def test_timestamps_with_offsets_are_converted_to_utc(tmp_path):
    row = GOOD.replace("2025-01-02 10:00:00", "2025-01-02T17:00:00+07:00")
    typed = conform(orders_file(tmp_path, row)).typed
    assert str(typed["ordered_at"][0]) == "2025-01-02 10:00:00"


def test_a_missing_required_column_rejects_the_file_naming_file_and_column(tmp_path):
    write(tmp_path, "orders.csv", HEADER.replace(",sku", ""), GOOD.replace(",P1-M", ""))
    [source] = discover(tmp_path)
    with pytest.raises(FileRejected, match=r"orders\.csv: missing required column\(s\) sku"):
        conform(source)


def test_a_semicolon_separated_file_is_rejected_with_a_hint(tmp_path):
    write(tmp_path, "orders.csv", HEADER.replace(",", ";"), GOOD.replace(",", ";"))
    [source] = discover(tmp_path)
    with pytest.raises(FileRejected, match="looks ';'-separated"):
        conform(source)


@pytest.mark.parametrize(("bad_row", "field", "text"), [
    (GOOD.replace(",2,10.5", ",two,10.5"), "quantity", "quantity expected Int64, got 'two'"),
    (GOOD.replace(",2,10.5", ",2.5,10.5"), "quantity", "got '2.5'"),
    (GOOD.replace("2025-01-02 10:00:00", "yesterday"), "ordered_at", "got 'yesterday'"),
    (GOOD.replace(",10.5,", ",ten,"), "unit_price", "got 'ten'"),
])
def test_a_value_that_does_not_parse_is_an_issue_naming_row_and_field(tmp_path, bad_row, field,
                                                                       text):
    result = conform(orders_file(tmp_path, GOOD, bad_row))
    issue = result.type_issues.row(0, named=True)
    assert (issue["_row"], issue["field"], issue["rule"]) == (2, field, "type")
    assert text in issue["message"]


def test_every_value_that_does_not_parse_is_its_own_issue(tmp_path):
    bad = GOOD.replace(",2,10.5", ",two,ten")
    assert conform(orders_file(tmp_path, bad)).type_issues["field"].to_list() == [
        "quantity", "unit_price"]


def test_the_original_text_of_every_row_is_kept(tmp_path):
    result = conform(orders_file(tmp_path, GOOD.replace(",2,10.5", ",two,10.5")))
    assert result.original.row(0, named=True)["quantity"] == "two"


def test_extra_columns_are_reported_and_ignored(tmp_path):
    write(tmp_path, "orders.csv", HEADER + ",coupon", GOOD + ",XMAS")
    [source] = discover(tmp_path)
    result = conform(source)
    assert result.extra_columns == ("coupon",)
    assert "coupon" not in result.typed.columns


def test_parquet_with_narrower_types_is_cast_to_the_contract(tmp_path):
    frame = pl.read_csv(write(tmp_path, "x.csv", HEADER, GOOD), infer_schema=False)
    frame.with_columns(pl.col("quantity").cast(pl.Int32)).write_parquet(tmp_path / "orders.parquet")
    (tmp_path / "x.csv").unlink()
    [source] = discover(tmp_path)
    result = conform(source)
    assert result.typed.schema["quantity"] == pl.Int64 and result.type_issues.is_empty()


def test_an_iso_z_suffix_is_utc(tmp_path):
    row = GOOD.replace("2025-01-02 10:00:00", "2025-01-02T10:00:00Z")
    typed = conform(orders_file(tmp_path, row)).typed
    assert str(typed["ordered_at"][0]) == "2025-01-02 10:00:00"
