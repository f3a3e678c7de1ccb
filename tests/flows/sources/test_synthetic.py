"""The synthetic shop: deterministic, contract-shaped, and carrying the signals it promises."""

from datetime import timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.sources.synthetic import generate_shop
from warehouse.contract import FEEDS


@pytest.fixture(scope="module")
def shop():
    return generate_shop(40_000, seed=5)


@pytest.fixture(scope="module")
def lines(shop):
    """Order lines with their category, payment, returned units and true probability."""
    f = shop.feeds
    returned = (f["returns"].filter(pl.col("return_type") == "customer_return")
                .group_by("order_id", "line_id").agg(returned=pl.col("quantity").sum()))
    return (f["orders"].join(f["products"].select("sku", "category", "vendor_id"), on="sku")
            .join(returned, on=["order_id", "line_id"], how="left")
            .join(shop.truth["return_probability"], on=["order_id", "line_id"])
            .with_columns(pl.col("returned").fill_null(0)))


def test_same_seed_gives_identical_feeds():
    a, b = generate_shop(500, seed=3), generate_shop(500, seed=3)
    for name in a.feeds:
        assert_frame_equal(a.feeds[name], b.feeds[name])
    for name in a.truth:
        assert_frame_equal(a.truth[name], b.truth[name])


def test_another_seed_gives_another_shop():
    assert not generate_shop(500, seed=3).feeds["orders"].equals(
        generate_shop(500, seed=4).feeds["orders"])


def test_every_feed_has_the_contract_schema(shop):
    for name, frame in shop.feeds.items():
        assert frame.schema == FEEDS[name].schema, name


def test_natural_keys_are_unique(shop):
    for name, frame in shop.feeds.items():
        assert frame.select(FEEDS[name].key).is_duplicated().sum() == 0, name


def test_truth_holds_the_planted_answers(shop):
    assert set(shop.truth) >= {"return_probability", "defective_vendors", "carrier_incidents",
                               "abusers"}
    assert shop.truth["return_probability"].height == shop.feeds["orders"].height
    assert set(shop.truth["abusers"]["kind"]) == {"serial_returner", "wardrobing", "empty_box",
                                                  "pickup_claim"}


def test_write_keeps_truth_apart_from_the_feeds(shop, tmp_path):
    shop.write(tmp_path, "csv")
    assert (tmp_path / "orders.csv").exists()
    assert (tmp_path / "_truth" / "return_probability.parquet").exists()
    assert not (tmp_path / "return_probability.csv").exists()


def test_apparel_and_shoes_return_more_than_electronics_more_than_home(lines):
    rate = dict(lines.group_by("category").agg(pl.col("returned").sum() / pl.col("quantity")
                                               .sum()).iter_rows())
    assert min(rate["apparel"], rate["shoes"]) > rate["electronics"] > rate["home"]


def test_overall_unit_return_rate_is_in_the_usual_ecommerce_range(lines):
    rate = lines["returned"].sum() / lines["quantity"].sum()
    assert 0.10 < rate < 0.30


def test_realised_returns_follow_the_true_probability(lines):
    by_decile = (lines.filter(pl.col("delivered_at").is_not_null()
                              & (pl.col("ordered_at") < pl.datetime(2025, 10, 1)))
                 .with_columns(decile=pl.col("p_return").qcut(5, labels=list("abcde")))
                 .group_by("decile").agg(pl.col("p_return").mean(), (pl.col("returned") > 0)
                                         .mean().alias("observed")).sort("decile"))
    assert by_decile["observed"].is_sorted()
    for p, observed in by_decile.select("p_return", "observed").iter_rows():
        assert abs(p - observed) < 0.04


def test_cash_on_delivery_lines_carry_higher_return_probability(lines):
    delivered = lines.filter(pl.col("delivered_at").is_not_null())
    p = dict(delivered.group_by(pl.col("payment_method") == "cod")
             .agg(pl.col("p_return").mean()).iter_rows())
    assert p[True] > p[False] * 1.2


def test_bracketed_sizes_are_returned_more(lines):
    bracketed = lines.with_columns(product=pl.col("sku").str.split("-").list.first()).with_columns(
        bracket=pl.len().over("order_id", "product") > 1)
    rate = dict(bracketed.group_by("bracket").agg(pl.col("returned").sum()
                                                 / pl.col("quantity").sum()).iter_rows())
    assert rate[True] > 2 * rate[False]


def test_rto_comes_from_failed_deliveries_mostly_cash_on_delivery(shop):
    rto = shop.feeds["returns"].filter(pl.col("return_type") == "rto").join(
        shop.feeds["orders"], on=["order_id", "line_id"])
    assert rto.height > 0
    assert rto["delivered_at"].null_count() == rto.height
    assert (rto["payment_method"] == "cod").mean() > 0.8


def test_reason_texts_come_in_five_languages_and_mostly_match_the_code(shop):
    texts = shop.feeds["returns"].filter(pl.col("reason_text").is_not_null())
    assert texts.filter(pl.col("reason_text").str.contains("[가-힣]")).height > 0  # Korean
    assert texts.filter(pl.col("reason_text").str.contains("[а-яА-Я]")).height > 0  # Russian
    assert texts.filter(pl.col("reason_text").str.contains("[一-鿿]")).height > 0  # Chinese
    assert texts.filter(pl.col("reason_text").str.contains("(?i)ukuran|rusak|barang")).height > 0
    too_small = texts.filter(pl.col("reason_code") == "size_too_small")["reason_text"]
    says_small = too_small.str.contains(
        "(?i)small|tight|kecil|sempit|маломер|маленьк|тесно|작아|작게|꽉|小|紧")
    assert 0.7 < says_small.mean() < 1.0  # agrees most of the time, not always


def test_defective_vendor_returns_jump_after_the_defect_start(shop, lines):
    for vendor_id, start in shop.truth["defective_vendors"].iter_rows():
        own = lines.filter(pl.col("vendor_id") == vendor_id)
        before = own.filter(pl.col("ordered_at").dt.date() < start - timedelta(days=30))
        after = own.filter(pl.col("ordered_at").dt.date() >= start)
        assert after["returned"].sum() / after["quantity"].sum() > 2 * (
            before["returned"].sum() / before["quantity"].sum())


def test_defective_vendor_is_rated_lower_after_the_defect_start(shop):
    reviews = shop.feeds["reviews"].join(shop.feeds["products"].select("sku", "vendor_id"),
                                         on="sku")
    for vendor_id, start in shop.truth["defective_vendors"].iter_rows():
        own = reviews.filter(pl.col("vendor_id") == vendor_id)
        before = own.filter(pl.col("reviewed_at").dt.date() < start)["rating"].mean()
        after = own.filter(pl.col("reviewed_at").dt.date() > start + timedelta(days=14))
        assert after["rating"].mean() < before - 1.0


def test_degraded_carrier_region_fails_pickups_far_more_during_the_incident(shop):
    carrier, region, start, end = shop.truth["carrier_incidents"].row(0)
    attempts = shop.feeds["carrier_scans"].filter(
        pl.col("event_code").is_in(["picked_up", "pickup_failed"])
        & (pl.col("carrier") == carrier) & (pl.col("region") == region))
    during = attempts.filter(pl.col("event_at").dt.date().is_between(start, end))
    outside = attempts.filter(~pl.col("event_at").dt.date().is_between(
        start - timedelta(days=7), end + timedelta(days=7)))

    def npr(frame: pl.DataFrame) -> float:
        return (frame["event_code"] == "pickup_failed").mean()

    assert npr(during) > npr(outside) + 0.2


def test_policy_window_leaves_a_cliff_in_days_to_return(shop):
    returns = shop.feeds["returns"].filter(pl.col("return_type") == "customer_return").join(
        shop.feeds["orders"].select("order_id", "line_id", "ordered_at", "delivered_at"),
        on=["order_id", "line_id"])
    days = returns.with_columns(
        days=(pl.col("requested_at") - pl.col("delivered_at")).dt.total_days(),
        window=pl.when(pl.col("ordered_at") >= pl.datetime(2025, 4, 1)).then(14).otherwise(30))
    assert (days["days"] > days["window"]).sum() == 0
    late = days.filter(pl.col("window") == 14)
    just_before = late.filter(pl.col("days").is_between(12, 13)).height
    just_after_window_equivalent = late.filter(pl.col("days").is_between(10, 11)).height
    assert just_before > just_after_window_equivalent  # the rush before the deadline


def test_nothing_happens_after_the_export_date(shop):
    limit = pl.datetime(2025, 12, 31)
    assert shop.feeds["returns"].filter(pl.col("requested_at") > limit).height == 0
    assert shop.feeds["carrier_scans"].filter(pl.col("event_at") > limit).height == 0
    assert shop.feeds["reviews"].filter(pl.col("reviewed_at") > limit).height == 0


def test_refund_never_exceeds_what_was_paid_for_the_line(shop):
    joined = shop.feeds["returns"].join(shop.feeds["orders"], on=["order_id", "line_id"])
    paid = joined["unit_price"] * joined["quantity_right"] - joined["discount_amount"]
    assert (joined["refund_amount"] <= paid + 0.01).all()


def test_abusers_return_much_more_than_other_customers(shop, lines):
    abusers = shop.truth["abusers"].filter(pl.col("kind") == "serial_returner")
    flagged = lines.with_columns(abuser=pl.col("customer_id").is_in(abusers["customer_id"]))
    rate = dict(flagged.group_by("abuser").agg(pl.col("returned").sum()
                                               / pl.col("quantity").sum()).iter_rows())
    assert rate[True] > 2 * rate[False]


def test_empty_box_abusers_are_found_at_inspection(shop):
    abusers = shop.truth["abusers"].filter(pl.col("kind") == "empty_box")["customer_id"]
    inspected = shop.feeds["returns"].join(
        shop.feeds["orders"].select("order_id", "line_id", "customer_id"),
        on=["order_id", "line_id"]).filter(pl.col("condition").is_not_null())
    theirs = inspected.filter(pl.col("customer_id").is_in(abusers))
    others = inspected.filter(~pl.col("customer_id").is_in(abusers))
    odd = ["empty_box", "wrong_item"]
    assert theirs["condition"].is_in(odd).mean() > 10 * others["condition"].is_in(odd).mean()


def test_orders_grow_over_time_and_peak_on_promotion_days(shop):
    daily = shop.feeds["orders"].group_by(pl.col("ordered_at").dt.date().alias("d")).agg(
        pl.col("order_id").n_unique().alias("n"))
    first = daily.filter(pl.col("d").dt.year() == 2024)["n"].sum()
    second = daily.filter(pl.col("d").dt.year() == 2025)["n"].sum()
    assert second > 1.2 * first
    singles_day = daily.filter((pl.col("d").dt.month() == 11) & (pl.col("d").dt.day() == 11))
    assert singles_day["n"].mean() > 1.8 * daily["n"].median()


@pytest.mark.parametrize("file_format", ["parquet", "csv"])
def test_writing_slice_by_slice_gives_the_same_files_as_the_whole_shop(tmp_path, monkeypatch,
                                                                       file_format):
    from flows.sources import synthetic

    monkeypatch.setattr(synthetic, "CHUNK_ORDERS", 700)  # several slices
    whole = synthetic.generate_shop(3000, seed=8)
    synthetic.write_shop(3000, 8, tmp_path, file_format)
    for name, frame in whole.feeds.items():
        path = tmp_path / f"{name}.{file_format}"
        written = (pl.read_parquet(path) if file_format == "parquet"
                   else pl.read_csv(path, schema=frame.schema))
        assert_frame_equal(written, frame)
    assert_frame_equal(pl.read_parquet(tmp_path / "_truth" / "return_probability.parquet"),
                       whole.truth["return_probability"])


def test_identifiers_stay_unique_across_slices(monkeypatch):
    from flows.sources import synthetic

    monkeypatch.setattr(synthetic, "CHUNK_ORDERS", 700)
    sliced = synthetic.generate_shop(3000, seed=8)
    assert sliced.feeds["orders"]["order_id"].n_unique() == 3000
    for name in ("returns", "carrier_scans", "reviews"):
        key = FEEDS[name].key
        assert sliced.feeds[name].select(key).is_duplicated().sum() == 0


def test_a_last_slice_of_late_orders_without_returns_scans_or_reviews_is_generated(monkeypatch):
    import numpy as np

    from flows.sources import synthetic
    from flows.sources.synthetic.demand import orders_per_day

    per_day = orders_per_day(np.random.default_rng([5, 1]), 3000)
    monkeypatch.setattr(synthetic, "CHUNK_ORDERS", int(per_day[:-3].sum()))  # last 3 days alone
    last = list(synthetic.simulate(3000, seed=5))[-1]
    assert last.feeds["orders"].height > 0
    for name in ("returns", "carrier_scans", "reviews"):
        assert last.feeds[name].height == 0, name
        assert last.feeds[name].schema == FEEDS[name].schema, name
    assert last.truth["return_probability"].height == last.feeds["orders"].height
