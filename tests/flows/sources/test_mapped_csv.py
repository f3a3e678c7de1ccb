"""mapped-csv: the worked example of docs/mapped-csv.md loads, and bad mappings say where."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
import yaml

from flows.pipeline import pipeline
from flows.sources import get_adapter
from flows.sources.mapped_csv import MappingError
from warehouse import read
from warehouse.contract import FEEDS
from warehouse.engine import reader_engine

KIND = "mapped-csv"
EXAMPLE = Path(__file__).parent / "fixtures" / "returns_platform"


def adapt(source: Path, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    report = get_adapter(KIND)(source, out)
    return report, {p.stem: pl.read_parquet(p) for p in out.glob("*.parquet")}


@pytest.fixture
def example(tmp_path) -> Path:
    """A copy of the worked example to change."""
    return Path(shutil.copytree(EXAMPLE, tmp_path / "example"))


def edit_mapping(folder: Path, change) -> Path:
    """Apply `change` to the parsed mapping.yaml of `folder` and write it back."""
    path = folder / "mapping.yaml"
    mapping = yaml.safe_load(path.read_text())
    change(mapping["feeds"])
    path.write_text(yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True))
    return path


@pytest.fixture(scope="module")
def example_warehouse(prefect_harness, tmp_path_factory):
    """The worked example loaded by the real pipeline: (url, summary)."""
    root = tmp_path_factory.mktemp("mapped")
    url = f"duckdb:///{root / 'w.duckdb'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETURNLENS_DATA_DIR", str(root / "data"))
        summary = pipeline(source=EXAMPLE / "mapping.yaml", db=url, source_kind=KIND)
    return url, summary


def sql_frame(url: str, sql: str) -> pl.DataFrame:
    with reader_engine(url).connect() as conn:
        return pl.read_database(sa.text(sql), conn)


def test_the_worked_example_loads_every_row(example_warehouse):
    _, summary = example_warehouse
    loaded = {f.feed: (f.rows_read, f.rows_loaded, f.rows_quarantined) for f in summary.files}
    assert loaded == {"vendors": (4, 4, 0), "products": (8, 8, 0), "orders": (12, 12, 0),
                      "returns": (7, 7, 0), "carrier_scans": (11, 11, 0)}


def test_the_worked_examples_kpis_equal_a_count_of_the_export(example_warehouse):
    url, _ = example_warehouse
    orders = pl.read_csv(EXAMPLE / "shop_orders.csv")
    returns = pl.read_csv(EXAMPLE / "returns_export.csv")
    scans = pl.read_csv(EXAMPLE / "tracking_events.csv")
    attempts = scans.filter(pl.col("Status").is_in(["Pickup failed", "Picked up"]))
    with reader_engine(url).connect() as conn:
        kpis = read.kpis.kpis(conn)
    assert kpis["orders"] == orders["Name"].n_unique()
    assert kpis["units_sold"] == orders["Lineitem quantity"].sum()
    assert kpis["units_returned"] == returns["Quantity"].sum()
    assert kpis["refund_value"] == pytest.approx(returns["Refund Amount"].sum())
    assert kpis["npr_rate"] == pytest.approx(
        (attempts["Status"] == "Pickup failed").sum() / attempts.height)


def test_codes_are_mapped_onto_contract_values(example_warehouse):
    url, _ = example_warehouse
    returns = sql_frame(url, "SELECT return_id, reason_code, resolution, return_method, condition "
                        "FROM raw.returns ORDER BY return_id")
    assert returns.row(0) == ("RMA-9001", "size_too_small", "exchange", "pickup", "new")
    assert returns["reason_code"].to_list() == [
        "size_too_small", "size_too_large", "defective", "changed_mind", "damaged_in_transit",
        "arrived_late", "not_as_described"]
    orders = sql_frame(url, "SELECT DISTINCT channel, payment_method FROM raw.orders")
    assert set(orders["channel"]) == {"web", "app", "social"}
    assert set(orders["payment_method"]) == {"card", "wallet", "bnpl", "cod", "bank_transfer"}


def test_local_times_and_offsets_become_utc(example_warehouse):
    url, _ = example_warehouse
    received = sql_frame(url, "SELECT received_at FROM raw.returns WHERE return_id = 'RMA-9006'")
    assert received.item() == datetime(2024, 4, 2, 9, 0)  # 10:00 London summer time
    ordered = sql_frame(url, "SELECT ordered_at FROM raw.orders WHERE order_id = '#1009'")
    assert ordered.item() == datetime(2024, 4, 3, 8, 0)  # 09:00 +0100
    prices = sql_frame(url, "SELECT list_price FROM raw.products WHERE sku = 'MUG-STN'")
    assert prices.item() == 14.0  # "£14.00"


def test_the_run_notes_say_what_was_mapped_and_what_is_absent(example_warehouse):
    url, _ = example_warehouse
    with reader_engine(url).connect() as conn:
        notes = dict(read.quality.source_notes(conn).select("note", "value").iter_rows())
    assert notes["values:returns.reason_code"].startswith("7 of 7 (100.0%)")
    assert notes["default:returns.return_type"].startswith("customer_return")
    assert "absent:reviews" in notes
    assert "absent:orders.delivered_at" not in notes


def test_a_toml_mapping_reads_like_the_yaml_one(example, tmp_path):
    (example / "mapping.toml").write_text('''
[feeds.products]
file = "catalogue.csv"
[feeds.products.columns]
"Variant SKU" = "sku"
"Product ID" = "product_id"
"Title" = "product_name"
"Product Type" = "category"
"Size" = "size"
"Vendor" = "vendor_id"
"Price" = "list_price"
"Cost per item" = "unit_cost"
''', encoding="utf-8")
    _, from_toml = adapt(example / "mapping.toml", tmp_path / "toml")
    _, from_yaml = adapt(example / "mapping.yaml", tmp_path / "yaml")
    assert from_toml["products"].equals(from_yaml["products"])


def test_a_code_the_mapping_does_not_know_is_quarantined_and_noted(example, data_dir, tmp_path,
                                                                   prefect_harness):
    path = example / "returns_export.csv"
    path.write_text(path.read_text().replace("Changed my mind", "Colour not as expected"))
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    summary = pipeline(source=example / "mapping.yaml", db=url, source_kind=KIND)
    returns = next(f for f in summary.files if f.feed == "returns")
    assert (returns.rows_loaded, returns.rows_quarantined) == (6, 1)
    assert "Colour not as expected" in summary.report.notes["values:returns.reason_code"]
    with reader_engine(url).connect() as conn:
        rows = read.quality.quarantined_rows(conn, summary.run_id)
    assert "'Colour not as expected' is not one of" in rows["message"][0]


BAD_MAPPINGS = {
    "unknown feed": (lambda f: f.update(refunds=f.pop("returns")), "feeds.refunds: not a contract"),
    "misspelt key": (lambda f: f["orders"].update(colums=f["orders"].pop("columns")),
                     "feeds.orders.colums: unknown key"),
    "not a contract column": (lambda f: f["returns"]["columns"].update({"Return Reason": "reason"}),
                              "feeds.returns.columns.Return Reason: 'reason' is not a returns"),
    "value not accepted": (
        lambda f: f["returns"]["values"]["reason_code"].update({"Too small": "too_small"}),
        "feeds.returns.values.reason_code.Too small: 'too_small' is not one of"),
    "required column unmapped": (lambda f: f["returns"]["columns"].pop("Created"),
                                 "feeds.returns.columns: required column(s) requested_at"),
    "column not in the file": (
        lambda f: f["returns"]["columns"].update({"Qty Returned": f["returns"]["columns"].pop(
            "Quantity")}),
        "feeds.returns.columns.Qty Returned: no such column in returns_export.csv"),
    "missing file": (lambda f: f["orders"].update(file="orders_export.csv"),
                     "feeds.orders.file: no file matches 'orders_export.csv'"),
    "bad time zone": (lambda f: f["returns"].update(timezone="London"),
                      "feeds.returns.timezone: 'London' is not a time zone"),
    "constant not accepted": (lambda f: f["returns"]["constants"].update(return_type="refund"),
                              "feeds.returns.constants.return_type: 'refund' is not one of"),
    "date format not a string": (lambda f: f["orders"].update(date_format=12),
                                 "feeds.orders.date_format: must be a format string"),
}


@pytest.mark.parametrize("change, message", BAD_MAPPINGS.values(), ids=BAD_MAPPINGS.keys())
def test_a_bad_mapping_is_a_clear_error_naming_file_and_field(example, tmp_path, change,
                                                              message):
    path = edit_mapping(example, change)
    with pytest.raises(MappingError) as error:
        adapt(path, tmp_path / "out")
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_a_mapping_that_is_not_yaml_says_where(example, tmp_path):
    path = example / "mapping.yaml"
    path.write_text("feeds:\n  orders:\n    file: [shop_orders.csv\n")
    with pytest.raises(MappingError,
                       match=r"mapping\.yaml: cannot be read as YAML: line \d+, column \d+: "):
        adapt(example, tmp_path / "out")


@pytest.mark.usefixtures("prefect_harness")
def test_the_pipeline_stops_on_a_bad_mapping_before_writing_anything(example, data_dir,
                                                                     tmp_path):
    path = edit_mapping(example, lambda f: f["returns"]["columns"].pop("Created"))
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    with pytest.raises(MappingError, match="required column"):
        pipeline(source=path, db=url, source_kind=KIND)
    assert not (tmp_path / "w.duckdb").exists()


def test_every_contract_column_of_a_mapped_feed_is_written(example, tmp_path):
    _, feeds = adapt(example, tmp_path / "out")
    for name, frame in feeds.items():
        assert frame.columns == FEEDS[name].column_names, name
