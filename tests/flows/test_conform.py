"""Holding a feed file to the contract: typed rows in, broken rows quarantined, nothing lost."""

from pathlib import Path

import polars as pl
import pytest

from flows.conform import FileRejected, conform, discover

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
    assert result.quarantined.is_empty()
    row = result.good.row(0, named=True)
    assert row["quantity"] == 2 and row["unit_price"] == 10.5
    assert str(row["delivered_at"]) == "2025-01-04 09:30:00"


def test_timestamps_with_offsets_are_converted_to_utc(tmp_path):
    row = GOOD.replace("2025-01-02 10:00:00", "2025-01-02T17:00:00+07:00")
    assert str(conform(orders_file(tmp_path, row)).good["ordered_at"][0]) == "2025-01-02 10:00:00"


def test_a_missing_required_column_rejects_the_file_naming_file_and_column(tmp_path):
    write(tmp_path, "orders.csv", HEADER.replace(",sku", ""), GOOD.replace(",P1-M", ""))
    [source] = discover(tmp_path)
    with pytest.raises(FileRejected, match=r"orders\.csv: missing required column\(s\) sku"):
        conform(source)


@pytest.mark.parametrize(("bad_row", "field", "rule", "text"), [
    (GOOD.replace(",2,10.5", ",two,10.5"), "quantity", "type", "expected Int64, got 'two'"),
    (GOOD.replace(",2,10.5", ",0,10.5"), "quantity", "range", "below the minimum"),
    (GOOD.replace(",web,", ",fax,"), "channel", "accepted_values", "'fax' is not one of"),
    (GOOD.replace("O1,", ",", 1), "order_id", "not_null", "is required but empty"),
    (GOOD.replace("2025-01-02 10:00:00", "yesterday"), "ordered_at", "type", "got 'yesterday'"),
    (GOOD.replace(",1.0,", ",-1.0,"), "discount_amount", "range", "below the minimum"),
])
def test_a_broken_row_is_quarantined_with_row_field_rule_and_message(tmp_path, bad_row, field,
                                                                      rule, text):
    result = conform(orders_file(tmp_path, GOOD, bad_row))
    assert result.good.height == 1
    q = result.quarantined.row(0, named=True)
    assert (q["row_number"], q["field"], q["rule"]) == (2, field, rule)
    assert text in q["message"] and q["message"].startswith(field)


def test_every_problem_of_a_row_is_in_its_message(tmp_path):
    bad = GOOD.replace(",2,10.5", ",two,10.5").replace(",web,", ",fax,")
    message = conform(orders_file(tmp_path, bad)).quarantined["message"][0]
    assert "quantity" in message and "channel" in message


def test_quarantine_keeps_the_original_record(tmp_path):
    result = conform(orders_file(tmp_path, GOOD.replace(",web,", ",fax,")))
    assert '"channel": "fax"' in result.quarantined["record"][0]


def test_a_repeated_key_keeps_the_last_row_and_counts_the_duplicate(tmp_path):
    corrected = GOOD.replace(",2,10.5", ",3,10.5")
    result = conform(orders_file(tmp_path, GOOD, corrected))
    assert result.duplicates == 1
    assert result.good["quantity"].to_list() == [3]


def test_rows_read_equal_good_plus_quarantined_plus_duplicates(tmp_path):
    result = conform(orders_file(tmp_path, GOOD, GOOD, GOOD.replace(",web,", ",fax,"),
                                 GOOD.replace("O1,", "O2,", 1)))
    assert result.rows_read == 4
    assert result.good.height + result.quarantined.height + result.duplicates == 4


def test_extra_columns_are_reported_and_ignored(tmp_path):
    write(tmp_path, "orders.csv", HEADER + ",coupon", GOOD + ",XMAS")
    [source] = discover(tmp_path)
    result = conform(source)
    assert result.extra_columns == ("coupon",)
    assert "coupon" not in result.good.columns


def test_parquet_with_narrower_types_is_cast_to_the_contract(tmp_path):
    frame = pl.read_csv(write(tmp_path, "x.csv", HEADER, GOOD), infer_schema=False)
    frame.with_columns(pl.col("quantity").cast(pl.Int32)).write_parquet(tmp_path / "orders.parquet")
    (tmp_path / "x.csv").unlink()
    [source] = discover(tmp_path)
    result = conform(source)
    assert result.good.schema["quantity"] == pl.Int64 and result.quarantined.is_empty()
