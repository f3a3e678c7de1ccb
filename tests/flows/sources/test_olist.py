"""Olist: order items, sellers, products and Portuguese reviews, and never an invented return."""

from __future__ import annotations

import polars as pl
import pytest

from flows.pipeline import pipeline
from flows.records import FileRejected
from flows.sources import get_adapter
from tests.flows.sources.extracts import OLIST, require
from warehouse import read
from warehouse.contract import FEEDS
from warehouse.engine import reader_engine

KIND = "olist"


def adapt(source, out):
    out.mkdir(parents=True)
    report = get_adapter(KIND)(source, out)
    return report, {p.stem: pl.read_parquet(p) for p in out.glob("*.parquet")}


@pytest.fixture(scope="module")
def adapted(olist_extract, tmp_path_factory):
    return adapt(olist_extract, tmp_path_factory.mktemp("olist-out") / "feeds")


@pytest.fixture(scope="module")
def raw(olist_extract) -> dict[str, pl.DataFrame]:
    """The extract's CSV tables as written, by short name."""
    return {p.name.removeprefix("olist_").removesuffix("_dataset.csv"): pl.read_csv(p)
            for p in olist_extract.glob("olist_*.csv")}


def test_feeds_have_the_contract_schema_and_no_returns_are_written(adapted):
    report, feeds = adapted
    assert sorted(feeds) == ["orders", "products", "regions", "reviews", "vendors"]
    for name, frame in feeds.items():
        assert frame.schema == FEEDS[name].schema, name
        assert not frame.select(FEEDS[name].key).is_duplicated().any(), name
    assert "returns" not in report.feeds_written
    assert "no returns field" in report.notes["absent:returns"]


def test_sold_items_become_order_lines_and_cancellations_are_only_counted(adapted, raw):
    report, feeds = adapted
    lines = raw["order_items"].join(raw["orders"], on="order_id")
    cancelled = lines.filter(pl.col("order_status").is_in(["canceled", "unavailable"]))
    assert feeds["orders"].height == lines.height - cancelled.height
    assert int(report.notes["order_lines_not_sold"].split()[0]) == cancelled.height
    assert feeds["orders"]["quantity"].unique().to_list() == [1]
    assert set(feeds["orders"]["channel"]) == {"marketplace"}
    assert set(feeds["orders"]["payment_method"]) <= {"card", "bank_transfer", "wallet"}


def test_delivery_is_measured_against_the_estimate(adapted, raw):
    _, feeds = adapted
    orders = raw["orders"].with_columns(
        pl.col("order_estimated_delivery_date", "order_delivered_customer_date")
        .str.to_datetime(time_unit="us"))
    expected = orders.select("order_id", promised="order_estimated_delivery_date",
                             delivered="order_delivered_customer_date")
    got = feeds["orders"].join(expected, on="order_id")
    assert got.height == feeds["orders"].height
    assert (got["promised_delivery_at"] == got["promised"]).all()
    assert got["delivered_at"].eq_missing(got["delivered"]).all()


def test_reviews_are_portuguese_and_about_the_orders_first_item(adapted, raw):
    _, feeds = adapted
    reviews = feeds["reviews"]
    first = (raw["order_items"].sort("order_id", "order_item_id")
             .group_by("order_id").first().select("order_id", "product_id"))
    joined = reviews.join(first, on="order_id")
    assert joined.height == reviews.height > 0
    assert (joined["sku"] == joined["product_id"]).all()
    assert set(reviews["language"]) == {"pt"}
    assert reviews["text"].is_not_null().any()
    assert reviews["rating"].is_between(1, 5).all()


def test_products_carry_the_english_category_and_their_main_seller(adapted, raw):
    _, feeds = adapted
    products = feeds["products"]
    assert set(products["sku"]) == set(raw["order_items"]["product_id"])
    assert set(products["vendor_id"]) <= set(feeds["vendors"]["vendor_id"])
    assert products["category"].str.contains("_").any()  # e.g. bed_bath_table
    assert set(feeds["orders"]["ship_region"]) <= set(feeds["regions"]["region"])


@pytest.mark.realdata
def test_the_shared_sample_with_its_own_file_names_maps_too(tmp_path):
    report, feeds = adapt(require(OLIST), tmp_path / "out")
    assert feeds["orders"].height > 0 and feeds["reviews"].height > 0
    assert "customers" in report.notes["source"]


def test_a_folder_without_the_order_items_is_rejected_naming_the_table(olist_extract, tmp_path):
    folder = tmp_path / "partial"
    folder.mkdir()
    for path in olist_extract.glob("*.csv"):
        if "order_items" not in path.name:
            (folder / path.name).write_bytes(path.read_bytes())
    with pytest.raises(FileRejected, match="no Olist table.*order_items"):
        adapt(folder, tmp_path / "out")


@pytest.mark.usefixtures("prefect_harness")
def test_the_pipeline_loads_olist_and_notes_what_it_lacks(olist_extract, data_dir, tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    summary = pipeline(source=olist_extract, db=url, source_kind=KIND)
    assert {f.status for f in summary.files} == {"loaded"}
    _, feeds = adapt(olist_extract, tmp_path / "again")
    with reader_engine(url).connect() as conn:
        kpis = read.kpis.kpis(conn)
        coverage = read.quality.data_coverage(conn)
        notes = read.quality.source_notes(conn)
    assert kpis["orders"] == feeds["orders"]["order_id"].n_unique()
    assert kpis["units_sold"] == feeds["orders"].height
    assert kpis["units_returned"] == 0
    loaded = dict(coverage.select(pl.format("{}.{}", "feed", "field"), "rows_loaded").rows())
    assert loaded["reviews.text"] == feeds["reviews"].height
    assert loaded["returns.return_id"] == 0
    assert notes.filter(pl.col("kind") == "absent")["feed"].to_list() == [
        "carrier_scans", "products", "returns"]


def test_the_adapter_records_that_the_money_is_in_reais(adapted):
    report, _ = adapted
    assert report.notes["currency"] == "BRL"
