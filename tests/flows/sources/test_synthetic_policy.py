"""The synthetic shop as an oracle for policy questions: the same customers and orders under any
return policy, with returns that respond to the policy's window, fee and label."""

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.sources.synthetic import PolicyFileError, generate_shop, read_policy

ORDERS = 20_000
SEED = 5


def flat(window: int, fee: float = 0.0, free: bool = True, **extra: object) -> pl.DataFrame:
    """One policy in force over the whole history."""
    return pl.DataFrame({
        "policy_id": ["P"], "effective_from": [date(2024, 1, 1)], "effective_to": [None],
        "window_days": [window], "restocking_fee_pct": [fee], "free_return_shipping": [free],
        **{k: [v] for k, v in extra.items()},
    }, schema_overrides={"effective_to": pl.Date})


def customer_returns(shop) -> pl.DataFrame:
    """Customer returns with their days from delivery to request and the line's category."""
    f = shop.feeds
    return (f["returns"].filter(pl.col("return_type") == "customer_return")
            .join(f["orders"].select("order_id", "line_id", "delivered_at"),
                  on=["order_id", "line_id"])
            .join(f["products"].select("sku", "category"), on="sku")
            .with_columns(days=(pl.col("requested_at") - pl.col("delivered_at"))
                          .dt.total_seconds() / 86_400))


@pytest.fixture(scope="module")
def shops():
    policies = {
        "30 days": flat(30), "7 days": flat(7), "90 days": flat(90),
        "30 days, 20 % fee": flat(30, fee=0.20), "30 days, paid label": flat(30, free=False),
    }
    return {name: generate_shop(ORDERS, SEED, policy) for name, policy in policies.items()}


def test_the_same_seed_under_another_policy_has_the_same_customers_and_orders(shops):
    lenient, strict = shops["30 days"], shops["7 days"]
    assert_frame_equal(lenient.feeds["orders"], strict.feeds["orders"])
    assert_frame_equal(lenient.feeds["products"], strict.feeds["products"])
    assert_frame_equal(lenient.truth["abusers"], strict.truth["abusers"])
    assert not lenient.feeds["returns"].equals(strict.feeds["returns"])


def test_the_default_history_and_a_file_stating_it_give_the_same_shop():
    default = generate_shop(3000, SEED)
    stated = generate_shop(3000, SEED, default.feeds["return_policy"])
    for name, frame in default.feeds.items():
        assert_frame_equal(stated.feeds[name], frame)


def test_a_shorter_window_leaves_a_cliff_at_the_window(shops):
    days = customer_returns(shops["7 days"])["days"]
    assert days.max() <= 7
    assert (days > 7).sum() == 0 < (customer_returns(shops["30 days"])["days"] > 7).sum()


def test_a_shorter_window_makes_late_deciders_rush_in_before_the_deadline(shops):
    def share_in_last_day_and_a_half_before_day_7(shop) -> float:
        return customer_returns(shop)["days"].is_between(5.5, 7.0).mean()

    assert (share_in_last_day_and_a_half_before_day_7(shops["7 days"])
            > 2 * share_in_last_day_and_a_half_before_day_7(shops["30 days"]))


def test_a_longer_window_lowers_returns(shops):
    assert customer_returns(shops["90 days"]).height < 0.97 * customer_returns(
        shops["30 days"]).height


def test_a_restocking_fee_deters_returns_and_is_kept_from_refunds(shops):
    free, fee = customer_returns(shops["30 days"]), customer_returns(shops["30 days, 20 % fee"])
    assert fee.height < 0.92 * free.height
    assert fee["restocking_fee"].sum() > 0 == free["restocking_fee"].sum()


def test_a_paid_return_label_deters_returns_and_the_customer_pays_for_it(shops):
    free = customer_returns(shops["30 days"])
    paid = customer_returns(shops["30 days, paid label"])
    assert paid.height < 0.95 * free.height
    not_at_fault = paid.filter(~pl.col("reason_code").is_in(
        ["defective", "damaged_in_transit", "wrong_item", "not_as_described"]))
    assert (not_at_fault["return_shipping_cost"] == 0).all()
    assert (free["return_shipping_cost"] > 0).all()


def test_a_zero_day_window_accepts_no_customer_returns():
    shop = generate_shop(3000, SEED, flat(0))
    types = set(shop.feeds["returns"]["return_type"])
    assert types == {"rto"}
    assert shop.truth["return_probability"]["p_return"].max() == 0


def test_a_category_policy_applies_to_that_category_only(shops):
    rows = pl.concat([flat(30), flat(7, category="apparel").with_columns(policy_id=pl.lit("A"))],
                     how="diagonal")
    shop = generate_shop(ORDERS, SEED, rows)
    returns = customer_returns(shop)
    assert returns.filter(pl.col("category") == "apparel")["days"].max() <= 7
    keys = ["order_id", "line_id"]
    others = returns.filter(pl.col("category") != "apparel").select(keys).sort(keys)
    base = customer_returns(shops["30 days"])
    assert others.equals(base.filter(pl.col("category") != "apparel").select(keys).sort(keys))
    assert shop.feeds["return_policy"]["policy_id"].to_list() == ["P"]  # the contract has no
    assert shop.truth["return_policy"].height == 2  # category; the truth keeps both rows


def test_a_csv_and_a_parquet_policy_file_read_the_same(tmp_path):
    rows = pl.concat([flat(30).with_columns(effective_to=pl.lit(date(2024, 12, 31))),
                      flat(14, fee=0.1).with_columns(policy_id=pl.lit("Q"),
                                                     effective_from=pl.lit(date(2025, 1, 1)))])
    rows.write_csv(tmp_path / "policy.csv")
    rows.write_parquet(tmp_path / "policy.parquet")
    assert_frame_equal(read_policy(tmp_path / "policy.csv"),
                       read_policy(tmp_path / "policy.parquet"))
    assert read_policy(tmp_path / "policy.csv")["window_days"].to_list() == [30, 14]


def write_policy(tmp_path, body: str):
    path = tmp_path / "policy.csv"
    path.write_text(body)
    return path


HEADER = ("policy_id,effective_from,effective_to,window_days,restocking_fee_pct,"
          "free_return_shipping\n")


def test_a_policy_file_without_a_column_is_refused_naming_it(tmp_path):
    path = write_policy(tmp_path, "policy_id,effective_from,window_days\nP,2024-01-01,30\n")
    with pytest.raises(PolicyFileError, match=r"policy\.csv: missing column\(s\) effective_to, "
                                              r"restocking_fee_pct, free_return_shipping"):
        read_policy(path)


def test_overlapping_policy_periods_are_refused_naming_the_row_and_field(tmp_path):
    path = write_policy(tmp_path, HEADER + "A,2024-01-01,2024-12-31,30,0,true\n"
                                           "B,2024-06-01,,14,0.1,true\n")
    with pytest.raises(PolicyFileError, match=r"policy\.csv, row 2, field effective_from: "
                                              r"2024-06-01 overlaps policy 'A' \(row 1"):
        read_policy(path)


def test_a_negative_window_is_refused_naming_the_row_and_field(tmp_path):
    path = write_policy(tmp_path, HEADER + "A,2024-01-01,,-5,0,true\n")
    with pytest.raises(PolicyFileError, match=r"policy\.csv, row 1, field window_days: '-5'"):
        read_policy(path)


def test_a_fee_above_one_and_a_bad_date_are_refused(tmp_path):
    with pytest.raises(PolicyFileError, match=r"row 1, field restocking_fee_pct: '10'"):
        read_policy(write_policy(tmp_path, HEADER + "A,2024-01-01,,30,10,true\n"))
    with pytest.raises(PolicyFileError, match=r"row 1, field effective_from: '01/01/2024'"):
        read_policy(write_policy(tmp_path, HEADER + "A,01/01/2024,,30,0,true\n"))


def test_a_history_with_a_gap_is_refused_naming_the_first_uncovered_day(tmp_path):
    rows = flat(30).with_columns(effective_from=pl.lit(date(2024, 2, 1)))
    with pytest.raises(PolicyFileError, match="no policy covers apparel orders on 2024-01-01"):
        generate_shop(3000, SEED, rows)
