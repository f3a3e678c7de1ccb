"""Online Retail II: the documented rules on real lines, then the real pipeline on them."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from polars.testing import assert_frame_equal

from flows.records import FileRejected
from flows.sources import AdapterReport, get_adapter
from tests.flows.sources.retail_reference import reference
from warehouse import read
from warehouse.contract import FEEDS
from warehouse.engine import reader_engine

KIND = "online-retail-ii"


def adapt(source: Path, out: Path) -> tuple[AdapterReport, dict[str, pl.DataFrame], pl.DataFrame]:
    """Run the adapter; its report, the feeds it wrote and the lines it kept aside."""
    out.mkdir(parents=True)
    report = get_adapter(KIND)(source, out)
    feeds = {p.stem: pl.read_parquet(p) for p in out.glob("*.parquet")}
    return report, feeds, pl.read_parquet(out / "_side" / "excluded_lines.parquet")


def count(note: str) -> int:
    """The number a note starts with: '1,234 of ...' → 1234."""
    return int(note.split()[0].rstrip(":").replace(",", ""))


def lines(rows: list[tuple]) -> pl.DataFrame:
    """Invoice lines in the dataset's own columns."""
    return pl.DataFrame(rows, orient="row", schema={
        "Invoice": pl.String, "StockCode": pl.String, "Description": pl.String,
        "Quantity": pl.Int64, "InvoiceDate": pl.Datetime("us"), "Price": pl.Float64,
        "Customer ID": pl.Float64, "Country": pl.String})


@pytest.fixture(scope="module")
def adapted(retail_extract, tmp_path_factory):
    return adapt(retail_extract, tmp_path_factory.mktemp("adapted") / "feeds")


def test_every_feed_written_has_the_contract_schema(adapted):
    report, feeds, _ = adapted
    assert sorted(report.feeds_written) == sorted(feeds) == [
        "orders", "products", "regions", "returns", "vendors"]
    for name, frame in feeds.items():
        assert frame.schema == FEEDS[name].schema, name
        assert not frame.select(FEEDS[name].key).is_duplicated().any(), name


def test_every_source_line_is_loaded_or_kept_aside_with_its_class(adapted, retail_extract):
    _, feeds, excluded = adapted
    assert (feeds["orders"].height + feeds["returns"].height + excluded.height
            == pl.read_parquet(retail_extract).height)
    assert set(excluded["line_class"]) <= {"non_product", "stock_adjustment", "return_unlinked",
                                           "unusable"}


def test_sales_and_links_follow_the_documented_rules(adapted, retail_extract):
    _, feeds, excluded = adapted
    ref = reference(retail_extract)
    assert_frame_equal(
        feeds["orders"].select("order_id", "line_id", "sku", "quantity").sort("order_id",
                                                                              "line_id"),
        ref.sales.select(order_id="invoice", line_id="line", sku="code", quantity="quantity")
        .sort("order_id", "line_id"))
    linked = ref.returns.filter(pl.col("sale_invoice").is_not_null())
    assert_frame_equal(
        feeds["returns"].select("return_id", "order_id", "line_id", "quantity").sort(
            "return_id"),
        linked.select(return_id=pl.col("invoice") + "-" + pl.col("line").cast(pl.String),
                      order_id="sale_invoice", line_id="sale_line", quantity="quantity")
        .sort("return_id"))
    unlinked = excluded.filter(pl.col("line_class") == "return_unlinked")
    assert sorted(unlinked["unlinked_reason"]) == sorted(
        ref.returns.filter(pl.col("sale_invoice").is_null())["why"])


def test_returned_units_never_exceed_the_units_of_the_sale(adapted):
    _, feeds, _ = adapted
    per_line = feeds["returns"].group_by("order_id", "line_id").agg(pl.col("quantity").sum())
    joined = per_line.join(feeds["orders"], on=["order_id", "line_id"], suffix="_sold")
    assert joined.height == per_line.height
    assert (joined["quantity"] <= joined["quantity_sold"]).all()


def test_no_return_reason_or_outcome_is_invented(adapted):
    report, feeds, _ = adapted
    returns = feeds["returns"]
    assert returns.height > 0
    for column in ("reason_code", "reason_text", "resolution", "carrier", "condition",
                   "disposition", "received_at", "refunded_at"):
        assert returns[column].null_count() == returns.height, column
    assert set(returns["return_type"]) == {"customer_return"}
    assert "absent:returns.reason_code" in report.notes


def test_stock_adjustments_are_kept_apart_and_reported(adapted, retail_extract):
    report, feeds, excluded = adapted
    ref = reference(retail_extract)
    adjustments = excluded.filter(pl.col("line_class") == "stock_adjustment")
    assert adjustments.height == ref.stock_adjustments > 0
    assert count(report.notes["stock_adjustment_lines"]) == adjustments.height
    assert not adjustments["invoice"].str.starts_with("C").any()
    assert ((adjustments["quantity"] < 0) | (adjustments["price"] <= 0)).all()
    returned = feeds["returns"]["return_id"].str.extract(r"^(.*)-\d+$")
    assert returned.str.starts_with("C").all()


def test_fee_and_manual_codes_are_not_skus(tmp_path):
    fees = ["POST", "M", "m", "D", "DOT", "BANK CHARGES", "AMAZONFEE", "CRUK", "C2", "C3",
            "PADS", "ADJUST", "ADJUST2", "TEST001", "S", "B", "gift_0001_30"]
    products = ["85123A", "15056BL", "84970s", "21232", "DCGS0058", "SP1002", "47503J "]
    at = datetime(2010, 3, 1, 10)
    rows = [("500001", code, "x", 1, at, 5.0, 12345.0, "United Kingdom")
            for code in fees + products]
    rows += [("C500002", code, "x", -1, datetime(2010, 3, 2), 5.0, 12345.0, "United Kingdom")
             for code in fees]
    lines(rows).write_parquet(tmp_path / "lines.parquet")
    report, feeds, excluded = adapt(tmp_path / "lines.parquet", tmp_path / "out")
    expected = sorted(c.strip().upper() for c in products)
    assert sorted(feeds["orders"]["sku"]) == sorted(feeds["products"]["sku"]) == expected
    non_product = excluded.filter(pl.col("line_class") == "non_product")
    assert sorted(non_product["stock_code"].unique()) == sorted({c.upper() for c in fees})
    assert non_product.height == 2 * len(fees) == count(report.notes["non_product_lines"])
    assert feeds["returns"].is_empty()


def test_a_return_links_to_the_latest_earlier_sale_with_enough_quantity(tmp_path):
    def at(day: int) -> datetime:
        return datetime(2010, 5, day, 12)

    lines([
        ("510001", "20725", "bag", 5, at(1), 2.0, 1.0, "France"),
        ("510002", "20725", "bag", 2, at(3), 2.0, 1.0, "France"),
        ("C510003", "20725", "bag", -3, at(4), 2.0, 1.0, "France"),  # 510002 has too few
        ("C510004", "20725", "bag", -2, at(5), 2.0, 1.0, "France"),  # 510002, the latest
        ("C510005", "20725", "bag", -3, at(6), 2.0, 1.0, "France"),  # 2 left on 510001
        ("510006", "21212", "cases", 4, at(7), 1.0, 1.0, "France"),
        ("C510007", "21212", "cases", -1, at(7), 1.0, 1.0, "France"),  # same minute: not before
        ("C510008", "20725", "bag", -1, at(8), 2.0, None, "France"),  # no customer
        ("510009", "20725", "bag", -7, at(9), 0.0, None, "United Kingdom"),  # stock adjustment
    ]).write_parquet(tmp_path / "lines.parquet")
    report, feeds, excluded = adapt(tmp_path / "lines.parquet", tmp_path / "out")
    links = dict(feeds["returns"].select("return_id", "order_id").iter_rows())
    assert links == {"C510003-1": "510001", "C510004-1": "510002"}
    why = dict(excluded.filter(pl.col("line_class") == "return_unlinked")
               .select("invoice", "unlinked_reason").iter_rows())
    assert why == {"C510005": "no_earlier_sale_with_enough_quantity",
                   "C510007": "no_earlier_sale", "C510008": "no_customer"}
    assert report.notes["return_lines_linked_share"] == "0.4000"
    assert excluded.filter(pl.col("line_class") == "stock_adjustment")["invoice"].to_list() == [
        "510009"]


def test_unlinked_returns_and_guest_sales_are_counted(adapted, retail_extract):
    report, feeds, excluded = adapted
    ref = reference(retail_extract)
    unlinked = excluded.filter(pl.col("line_class") == "return_unlinked")
    assert count(report.notes["return_lines_unlinked"]) == unlinked.height == ref.returns.filter(
        pl.col("sale_invoice").is_null()).height > 0
    assert count(report.notes["return_lines"]) == ref.returns.height
    guests = feeds["orders"].filter(pl.col("customer_id") == "GUEST").height
    assert count(report.notes["sale_lines_without_customer"]) == guests == (
        ref.sales["customer"].null_count()) > 0


def test_another_year_in_csv_loads_without_change(adapted, retail_extract, tmp_path):
    _, feeds, _ = adapted
    shifted = pl.read_parquet(retail_extract).with_columns(
        pl.col("InvoiceDate").dt.offset_by("1y"))
    shifted.write_csv(tmp_path / "online_retail_2010_2011.csv")
    report, later, _ = adapt(tmp_path / "online_retail_2010_2011.csv", tmp_path / "out")
    year = {"ordered_at", "promised_delivery_at", "requested_at"}
    for name in ("orders", "returns", "products", "regions"):
        moved = feeds[name].with_columns(pl.col(c).dt.offset_by("1y")
                                         for c in year & set(feeds[name].columns))
        assert_frame_equal(later[name], moved, check_row_order=False)
    assert report.notes["period"].startswith("2010-12-01")


def test_a_folder_of_overlapping_parquet_and_excel_parts_equals_the_single_file(
        adapted, retail_extract, tmp_path):
    _, feeds, _ = adapted
    raw = pl.read_parquet(retail_extract)
    folder = tmp_path / "parts"
    folder.mkdir()
    date = pl.col("InvoiceDate")
    raw.filter(date < datetime(2010, 7, 1)).write_parquet(folder / "a_2009_2010.parquet")
    with xlsxwriter.Workbook(folder / "b_2010.xlsx") as workbook:
        raw.filter(date >= datetime(2010, 6, 1), date < datetime(2010, 10, 1)).write_excel(
            workbook, worksheet="Year 2010 a")
        raw.filter(date >= datetime(2010, 9, 1)).write_excel(workbook, worksheet="Year 2010 b")
    report, parts, _ = adapt(folder, tmp_path / "out")
    for name in ("orders", "returns", "products"):
        assert_frame_equal(parts[name], feeds[name], check_row_order=False)
    assert count(report.notes["invoices_in_several_parts"]) > 0
    assert report.notes["source"].count(",") == 2


def test_a_file_without_a_required_column_is_rejected_naming_file_and_column(tmp_path):
    lines([]).drop("Customer ID").write_csv(tmp_path / "export.csv")
    with pytest.raises(FileRejected, match=r"export\.csv: missing column\(s\) 'Customer ID'"):
        adapt(tmp_path / "export.csv", tmp_path / "out")


# --- the real pipeline flow on the extract ---------------------------------------------------

def read_kpis(url: str) -> dict:
    with reader_engine(url).connect() as conn:
        return read.kpis.kpis(conn)


def test_pipeline_sales_kpis_equal_the_independent_computation(retail_warehouse,
                                                               retail_extract):
    url, _ = retail_warehouse
    expected = reference(retail_extract).kpis()
    got = read_kpis(url)
    assert {k: got[k] for k in ("orders", "units_sold")} == {
        k: expected[k] for k in ("orders", "units_sold")}


def test_pipeline_return_kpis_equal_the_independent_computation(retail_warehouse,
                                                                retail_extract):
    url, _ = retail_warehouse
    expected = reference(retail_extract).kpis()
    assert expected["units_returned"] > 0
    got = read_kpis(url)
    assert {k: got[k] for k in expected} == pytest.approx(expected)


def test_pipeline_records_the_adapter_notes(retail_warehouse):
    url, summary = retail_warehouse
    with reader_engine(url).connect() as conn:
        notes = read.quality.source_notes(conn)
        same = read.quality.source_notes(conn, summary.run_id)
    assert_frame_equal(notes, same)
    assert set(notes["source_kind"]) == {KIND}
    values = dict(notes.select("note", "value").iter_rows())
    assert values == summary.report.notes
    channel = notes.filter(pl.col("note") == "default:orders.channel").row(0, named=True)
    assert (channel["kind"], channel["feed"], channel["field"]) == ("default", "orders",
                                                                    "channel")
    assert notes.filter(pl.col("note") == "absent:carrier_scans")["field"].to_list() == [None]


def test_data_coverage_shows_what_the_source_cannot_answer(retail_warehouse):
    url, _ = retail_warehouse
    with reader_engine(url).connect() as conn:
        coverage = read.quality.data_coverage(conn)
    assert coverage.schema == read.quality.COVERAGE_SCHEMA
    assert coverage.select("feed", "field").rows() == [
        (f.name, c.name) for f in FEEDS.values() for c in f.columns]
    by = {(r["feed"], r["field"]): r for r in coverage.iter_rows(named=True)}
    assert by[("orders", "customer_id")]["share_with_value"] == 1.0
    assert by[("orders", "delivered_at")]["rows_with_value"] == 0
    assert by[("carrier_scans", "event_code")]["rows_loaded"] == 0
    assert by[("carrier_scans", "event_code")]["share_with_value"] is None
    assert by[("returns", "reason_code")]["rows_with_value"] == 0


def test_the_adapter_records_that_the_money_is_in_pounds_sterling(adapted):
    report, _, _ = adapted
    assert report.notes["currency"] == "GBP"


def test_the_warehouse_reads_its_money_as_pounds_sterling(retail_warehouse):
    url, _ = retail_warehouse
    with reader_engine(url).connect() as conn:
        assert read.runs.currency(conn) == "GBP"


def test_serial_returning_is_measured_though_the_source_records_no_deliveries(retail_warehouse):
    from warehouse import abuse_signals

    url, _ = retail_warehouse
    with reader_engine(url).connect() as conn:
        signals = abuse_signals.customer_signals(conn, abuse_signals.latest_event(conn))
        lines = conn.exec_driver_sql("SELECT COUNT(*) FROM core.fct_order_lines").scalar()
    assert signals["delivered_lines"].sum() == lines
    assert signals["expected_returned_lines"].sum() > 0
