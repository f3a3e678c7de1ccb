"""The dashboard's read layer reconciles with independent polars over the generated files."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy.engine import Connection

from tests.shop_reference import (
    DEFECTS,
    lines_enriched,
    pickup_attempts,
    returns_enriched,
)
from warehouse import read
from warehouse.engine import reader_engine
from warehouse.read.filters import ALL, Filters

MONEY = ("refund_amount", "restocking_fee", "return_shipping_cost", "handling_cost",
         "exchange_cost", "recovered_value", "net_cost")


@pytest.fixture
def conn(warehouse_url: str) -> Iterator[Connection]:
    with reader_engine(warehouse_url).connect() as c:
        yield c


def test_cohort_trend_matches_orders_and_returns_by_order_month(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    lines = lines_enriched(shop).filter(pl.col("category") == "shoes")
    returns = returns_enriched(shop).filter(pl.col("category") == "shoes",
                                            pl.col("order_month").is_not_null())
    sold = lines.group_by("order_month").agg(units_sold=pl.col("quantity").sum())
    returned = returns.filter(pl.col("return_type") == "customer_return").group_by(
        "order_month").agg(units_returned=pl.col("quantity").sum())
    cost = returns.group_by("order_month").agg(net_return_cost=pl.col("net_cost").sum())
    expected = sold.join(returned, on="order_month", how="left").join(
        cost, on="order_month", how="left").fill_null(0).sort("order_month")

    got = read.kpis.cohort_trend(conn, Filters(categories=("shoes",)))

    assert_frame_equal(got.select(expected.columns), expected, check_dtypes=False,
                       abs_tol=0.01)


def test_return_costs_by_month_match_every_money_column(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    returns = returns_enriched(shop).filter(
        pl.col("requested_at").dt.date().is_between(date(2025, 1, 1), date(2025, 6, 30)))
    expected = returns.group_by("requested_month").agg(
        pl.len().alias("returns"), *(pl.col(c).sum() for c in MONEY)).sort("requested_month")

    got = read.costs.return_costs(conn, Filters(day_from=date(2025, 1, 1),
                                           day_to=date(2025, 6, 30)), "requested_month")

    assert got["requested_month"].to_list() == [m.isoformat() for m in
                                                expected["requested_month"]]
    assert_frame_equal(got.select("returns", *MONEY), expected.select("returns", *MONEY),
                       check_dtypes=False, abs_tol=0.01)


def test_segment_filters_narrow_costs_to_channel_and_region(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    returns = returns_enriched(shop).filter(pl.col("channel") == "app",
                                            pl.col("ship_region").is_in(["ID-JK", "SG"]))

    got = read.costs.return_costs(conn, Filters(channels=("app",), regions=("ID-JK", "SG")),
                          "ship_region")

    assert dict(zip(got["ship_region"], got["returns"], strict=True)) == dict(
        returns.group_by("ship_region").len().iter_rows())


def _sku_totals(lines: pl.DataFrame, returns: pl.DataFrame) -> pl.DataFrame:
    """Per SKU: order lines, units sold, units returned by customers and of those, defects."""
    returns = returns.filter(pl.col("return_type") == "customer_return")
    return lines.group_by("sku").agg(order_lines=pl.len(),
                                     units_sold=pl.col("quantity").sum()).join(
        returns.group_by("sku").agg(
            units_returned=pl.col("quantity").sum(),
            defect_units=pl.col("quantity").filter(pl.col("reason_code").is_in(DEFECTS)).sum()),
        on="sku", how="left").fill_null(0).sort("sku")


def test_sku_totals_count_lines_sold_returned_and_defect_units(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    lines = lines_enriched(shop).filter(pl.col("order_month") >= date(2025, 5, 1))
    returns = returns_enriched(shop).filter(pl.col("order_month") >= date(2025, 5, 1))
    expected = _sku_totals(lines, returns)

    got = read.products.sku_totals(conn, Filters(day_from=date(2025, 5, 1)))

    assert_frame_equal(got.select(expected.columns), expected, check_dtypes=False)


# March 10 to May 20: two months in part, one whole
DAYS = Filters(day_from=date(2025, 3, 10), day_to=date(2025, 5, 20))


def _ordered_in_days(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("ordered_at").dt.date().is_between(DAYS.date_from, DAYS.date_to))


def test_sku_totals_over_a_day_range_count_only_the_orders_of_those_days(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    expected = _sku_totals(_ordered_in_days(lines_enriched(shop)),
                           _ordered_in_days(returns_enriched(shop)))

    got = read.products.sku_totals(conn, DAYS)

    assert_frame_equal(got.select(expected.columns), expected, check_dtypes=False)


def test_cohort_trend_over_a_day_range_shows_a_month_in_part_with_only_its_days(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    sold = _ordered_in_days(lines_enriched(shop)).group_by("order_month").agg(
        units_sold=pl.col("quantity").sum()).sort("order_month")

    got = read.kpis.cohort_trend(conn, DAYS)

    assert got["order_month"].to_list() == [date(2025, 3, 1), date(2025, 4, 1),
                                            date(2025, 5, 1)]
    assert got["units_sold"].to_list() == sold["units_sold"].to_list()


def test_return_reasons_over_a_day_range_count_the_returns_of_those_days_orders(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    returns = _ordered_in_days(returns_enriched(shop)).filter(
        pl.col("return_type") == "customer_return")

    got = read.products.return_reasons(conn, DAYS)

    assert dict(zip(got["reason_code"], got["returns"], strict=True)) == dict(
        returns.group_by("reason_code").len().iter_rows())


@pytest.mark.parametrize("defects_only", [False, True])
def test_returned_lines_by_cohort_count_lines_returned_within_the_follow_up(
        conn: Connection, shop: dict[str, pl.DataFrame], defects_only: bool) -> None:
    current, previous = ((date(2025, 3, 4), date(2025, 3, 31)),
                         (date(2025, 2, 4), date(2025, 3, 3)))
    lines = lines_enriched(shop).with_columns(order_date=pl.col("ordered_at").dt.date())
    returns = shop["returns"].filter(pl.col("return_type") == "customer_return")
    if defects_only:
        returns = returns.filter(pl.col("reason_code").is_in(DEFECTS))
    first = returns.group_by("order_id", "line_id").agg(
        requested=pl.col("requested_at").dt.date().min())
    judged = lines.join(first, on=["order_id", "line_id"], how="left").with_columns(
        returned=((pl.col("requested") - pl.col("order_date")).dt.total_days() <= 28)
        .fill_null(False))

    def cohort(window: tuple[date, date], suffix: str) -> pl.DataFrame:
        return judged.filter(pl.col("order_date").is_between(*window)).group_by("vendor_id").agg(
            pl.len().alias(f"lines_{suffix}"), pl.col("returned").sum().alias(f"returned_{suffix}"))

    expected = cohort(current, "current").join(cohort(previous, "previous"), on="vendor_id",
                                               how="full", coalesce=True).fill_null(0)

    got = read.kpis.returned_lines_by_cohort(conn, ALL, "vendor_id", current, previous, 28,
                                             defects_only)

    assert_frame_equal(got.rename({"key": "vendor_id"}).select(expected.columns).sort("vendor_id"),
                       expected.sort("vendor_id"), check_dtypes=False)


def test_sizes_are_counted_per_category_never_pooled_across_categories(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    lines = lines_enriched(shop).join(shop["products"].select("sku", "size"), on="sku")
    sold = lines.group_by("category", "size").agg(units_sold=pl.col("quantity").sum())

    grid = read.products.returns_by_cohort(conn, ALL, "size")

    got = grid.group_by("category", "size").agg(pl.col("units_sold").sum())
    assert_frame_equal(got.sort("category", "size"), sold.sort("category", "size"),
                       check_dtypes=False, check_column_order=False)
    assert grid.group_by("key").agg(pl.col("category").n_unique())["category"].max() == 1


def test_sizes_have_the_size_system_of_their_labels() -> None:
    frame = pl.DataFrame({"category": ["x"] * 7,
                          "size": ["M", "38", "ONE", "xl", "40.5", "W32", None]})

    systems = read.products.with_size_systems(frame)

    assert systems["size_system"].cast(pl.String).to_list() == [
        "letter", "numeric", "one size", "letter", "numeric", "other", "not recorded"]
    assert systems["key"][-1] == "x · not recorded"


def test_sizes_sort_small_to_large_within_their_system() -> None:
    frame = pl.DataFrame({"category": ["x"] * 9,
                          "size": ["XL", "40", "S", "XXL", "38", "XS", "M", "2XL", "9"]})

    ordered = read.products.with_size_systems(frame).sort("size_system", "size_order")

    assert ordered["size"].to_list() == ["XS", "S", "M", "XL", "XXL", "2XL", "9", "38", "40"]


def test_carrier_weekly_counts_every_attempt_and_failure_reason(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    attempts = pickup_attempts(shop)

    got = read.carriers.carrier_weekly(conn, ALL)

    assert got["attempts"].sum() == attempts.height
    failed = attempts.filter(pl.col("event_code") == "pickup_failed")
    assert got["failed_attempts"].sum() == failed.height
    for reason, n in failed.group_by("failure_reason").len().iter_rows():
        assert got[f"failed_{reason}"].sum() == n


def test_carrier_names_list_every_carrier_whatever_the_filters(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    got = read.carriers.carrier_names(conn)

    assert got["carrier"].to_list() == sorted(shop["carrier_scans"]["carrier"].unique())


def test_npr_by_period_counts_first_attempts_apart(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    firsts = pickup_attempts(shop).filter(pl.col("attempt") == 1)
    last = firsts["attempt_date"].max()
    window = ((last - timedelta(days=27), last),
              (last - timedelta(days=55), last - timedelta(days=28)))
    current = firsts.filter(pl.col("attempt_date").is_between(*window[0]))

    got = read.kpis.npr_by_period(conn, ALL, *window)

    assert got["first_attempts_current"].sum() == current.height
    assert got["first_failed_current"].sum() == current.filter(
        pl.col("event_code") == "pickup_failed").height


def test_pickup_attempts_count_each_pickup_once(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    scans = shop["carrier_scans"]

    got = read.carriers.pickup_attempts(conn, ALL)

    assert got["pickups"].sum() == scans["return_id"].n_unique()
    picked = scans.filter(pl.col("event_code") == "picked_up")["return_id"].n_unique()
    assert got.filter(pl.col("picked_up"))["pickups"].sum() == picked


def test_return_reasons_of_a_product_match_its_returns(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    returns = returns_enriched(shop).filter(pl.col("return_type") == "customer_return",
                                            pl.col("order_month").is_not_null())
    product = returns.group_by("product_id").len().sort("len", descending=True)[
        "product_id"][0]
    expected = dict(returns.filter(pl.col("product_id") == product).group_by(
        "reason_code").agg(pl.col("quantity").sum()).iter_rows())

    got = read.products.return_reasons(conn, ALL, product_id=product)

    assert dict(zip(got["reason_code"], got["units_returned"], strict=True)) == expected


def test_return_lag_holds_every_customer_return_of_a_known_order_line(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    returns = returns_enriched(shop).filter(pl.col("return_type") == "customer_return",
                                            pl.col("order_month").is_not_null())
    days = ((returns["requested_at"] - returns["order_month"].cast(pl.Datetime("us")))
            .dt.total_seconds() // 86_400).cast(pl.Int64)

    got = read.products.return_lag(conn, ALL)

    assert got["units_returned"].sum() == returns["quantity"].sum()
    assert got["days_since_cohort_start"].max() == days.max()
    assert got["days_since_cohort_start"].min() == days.min() >= 0


def test_sku_feedback_holds_the_skus_comments_and_reviews(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    comments = shop["returns"].filter(pl.col("return_type") == "customer_return",
                                      pl.col("reason_text").is_not_null())
    sku = comments.group_by("sku").len().sort("len", descending=True)["sku"][0]
    reviews = shop["reviews"].filter(pl.col("sku") == sku)

    got = read.products.sku_feedback(conn, sku)

    texts = set(got.filter(pl.col("source") == "return comment")["feedback_text"])
    assert texts == set(comments.filter(pl.col("sku") == sku)["reason_text"])
    assert got.filter(pl.col("source") == "review").height == reviews.height
    assert got["feedback_at"].is_sorted(descending=True)


def test_filter_values_offer_every_category_channel_and_region(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    values = read.runs.filter_values(conn)

    def offered(name: str) -> set[str]:
        return set(values.filter(pl.col("filter") == name)["value"])

    assert offered("category") == set(shop["products"]["category"])
    assert offered("channel") == set(shop["orders"]["channel"])
    assert offered("region") >= set(shop["orders"]["ship_region"])


def test_recovery_by_sku_adds_up_to_the_recovered_value(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    got = read.costs.recovery_by_sku(conn, ALL)

    assert got["recovered_value"].sum() == pytest.approx(
        shop["returns"]["recovered_value"].sum(), abs=0.01)
    assert got["units"].sum() == shop["returns"]["quantity"].sum()


def test_recovery_by_sku_with_a_limit_gives_the_first_rows_and_how_many_in_all(
        conn: Connection) -> None:
    every = read.costs.recovery_by_sku(conn, ALL)

    first = read.costs.recovery_by_sku(conn, ALL, 10)

    assert_frame_equal(first.drop("rows_in_all"), every.head(10))
    assert first["rows_in_all"].to_list() == [every.height] * 10
    assert "rows_in_all" not in every.columns


def test_recovery_by_disposition_adds_up_like_the_sku_rows(conn: Connection) -> None:
    every = read.costs.recovery_by_sku(conn, ALL)

    by_disposition = read.costs.recovery_by_disposition(conn, ALL)

    expected = every.group_by("disposition").agg(
        pl.col("units", "original_value", "recovered_value").sum()).sort("disposition")
    assert by_disposition["disposition"].to_list() == expected["disposition"].to_list()
    assert by_disposition["units"].to_list() == expected["units"].to_list()
    assert by_disposition["recovered_value"].to_numpy() == pytest.approx(
        expected["recovered_value"].to_numpy())


def test_unknown_dimension_is_refused(conn: Connection) -> None:
    with pytest.raises(ValueError, match="unknown dimension"):
        read.costs.return_costs(conn, ALL, "sku; DROP TABLE x")  # type: ignore[arg-type]


def test_retention_is_the_share_of_resolved_customer_returns_kept_as_exchange_or_credit(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    resolved = returns_enriched(shop).filter(
        pl.col("return_type") == "customer_return", pl.col("resolution").is_not_null(),
        pl.col("order_month").is_between(date(2025, 1, 1), date(2025, 6, 1)))
    kept = resolved.filter(pl.col("resolution").is_in(["exchange", "store_credit"]))

    got = read.kpis.retention(conn, date(2025, 1, 1), date(2025, 6, 30))

    assert (got["returns_resolved"], got["returns_retained"]) == (resolved.height, kept.height)
    assert got["exchange_share"] == pytest.approx(kept.height / resolved.height, abs=1e-6)
    assert got["value_retained"] == pytest.approx(
        (kept["quantity"] * kept["unit_price"]).sum(), abs=0.01)
    assert 0 < got["exchange_share"] < 1


def test_search_finds_a_products_skus_by_its_name_in_any_case(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    product = shop["products"].sort("sku").row(0, named=True)
    skus = shop["products"].filter(pl.col("product_id") == product["product_id"])["sku"]

    found = read.products.search_skus(conn, product["product_name"].upper())

    assert found.height and set(found["sku"]) <= set(skus)
    assert set(found["product_name"]) == {product["product_name"]}


def test_search_puts_the_exact_sku_first_and_returns_at_most_the_limit(
        conn: Connection, shop: dict[str, pl.DataFrame]) -> None:
    sku = shop["products"].sort("sku")["sku"][0]

    exact = read.products.search_skus(conn, sku.lower())
    broad = read.products.search_skus(conn, "0", limit=5)

    assert exact["sku"][0] == sku
    assert broad.height == 5


def test_search_reads_wildcards_as_plain_text(conn: Connection) -> None:
    assert read.products.search_skus(conn, "%").is_empty()
    assert read.products.search_skus(conn, "_").is_empty()
    assert read.products.search_skus(conn, "   ").is_empty()


def test_the_synthetic_shops_money_reads_as_its_generators_currency(conn: Connection) -> None:
    from flows.sources.synthetic.catalogue import CURRENCY

    assert read.runs.currency(conn) == CURRENCY == "USD"


@pytest.mark.postgres
def test_read_functions_give_the_same_answers_on_postgresql(
        small_shop_dir: Path, postgres_url: str, prefect_harness: None,
        tmp_path: Path) -> None:
    from flows.pipeline import pipeline

    duck = f"duckdb:///{tmp_path / 'w.duckdb'}"
    pipeline(source=small_shop_dir, db=duck)
    pipeline(source=small_shop_dir, db=postgres_url)
    # days that cut months in part, so both stores read the monthly and the daily marts
    f = Filters(day_from=date(2024, 6, 10), day_to=date(2025, 11, 20),
                categories=("apparel", "shoes"))
    window = ((date(2025, 12, 1), date(2025, 12, 31)), (date(2025, 11, 1), date(2025, 11, 30)))
    calls = {
        "data_bounds": lambda c: read.runs.data_bounds(c),
        "filter_values": lambda c: read.runs.filter_values(c),
        "cohort_trend": lambda c: read.kpis.cohort_trend(c, f),
        "movers": lambda c: read.kpis.returned_lines_by_cohort(c, f, "vendor_id", *window, 28,
                                                               True),
        "npr_by_period": lambda c: read.kpis.npr_by_period(c, f, *window),
        "returns_by_cohort": lambda c: read.products.returns_by_cohort(c, f, "size"),
        "sku_totals": lambda c: read.products.sku_totals(c, f),
        "return_reasons": lambda c: read.products.return_reasons(c, f),
        "return_lag": lambda c: read.products.return_lag(c, f),
        "return_costs": lambda c: read.costs.return_costs(c, f, "requested_month"),
        "recovery_by_sku": lambda c: read.costs.recovery_by_sku(c, f),
        "recovery_top": lambda c: read.costs.recovery_by_sku(c, f, 5),
        "recovery_by_disposition": lambda c: read.costs.recovery_by_disposition(c, f),
        "carrier_names": lambda c: read.carriers.carrier_names(c),
        "carrier_weekly": lambda c: read.carriers.carrier_weekly(c, f),
        "npr_by_weekday": lambda c: read.carriers.npr_by_weekday(c, f),
        "pickup_attempts": lambda c: read.carriers.pickup_attempts(c, f),
        "pickup_time_histogram": lambda c: read.carriers.pickup_time_histogram(c, f, "cycle_days"),
        "pickup_time_summary": lambda c: read.carriers.pickup_time_summary(c, f),
        "data_coverage": lambda c: read.quality.data_coverage(c),
        "vendor_names": lambda c: read.products.vendor_names(c),
        "retention": lambda c: pl.DataFrame([read.kpis.retention(c, date(2025, 1, 1))]),
        "search_skus": lambda c: read.products.search_skus(c, "a", limit=100),
        "search_wildcard": lambda c: read.products.search_skus(c, "%_"),
        "currency": lambda c: pl.DataFrame({"currency": [read.runs.currency(c)]}),
    }
    with reader_engine(duck).connect() as d, reader_engine(postgres_url).connect() as p:
        sku = read.products.sku_totals(d, ALL)["sku"][0]
        calls["sku_feedback"] = lambda c: read.products.sku_feedback(c, sku).drop("feedback_at")
        for name, call in calls.items():
            left, right = call(d), call(p)
            assert left.columns == right.columns, name
            try:
                assert_frame_equal(left.sort(left.columns), right.sort(right.columns),
                                   check_dtypes=False, abs_tol=1e-6)
            except AssertionError as exc:
                raise AssertionError(f"{name} differs between DuckDB and PostgreSQL") from exc
