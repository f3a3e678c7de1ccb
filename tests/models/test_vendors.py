"""Vendor scorecards: the change point, the flag's strictness, trials and the defect witnesses."""

from datetime import date, timedelta

import numpy as np
import polars as pl

from models.vendors import (
    change_point,
    classify_returns,
    daily_counts,
    representative_comments,
    scorecard,
)

START = date(2024, 1, 1)


def _returns(rows: list[dict]) -> pl.DataFrame:
    base = {"return_id": "R", "order_id": "O", "line_id": 1, "vendor_id": "V1",
            "category": "home", "sku": "S1", "product_id": "P1", "order_date": START,
            "order_month": START, "requested_date": START, "quantity": 1,
            "reason_code": "changed_mind", "reason_text": None, "condition": "new",
            "disposition": "restock", "refund_amount": 10.0, "recovered_value": 0.0,
            "net_cost": 10.0}
    return pl.DataFrame([{**base, **row} for row in rows])


def _shop(vendors: dict[str, tuple[float, float, int | None, int]], days: int = 560,
          seed: int = 1) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Daily lines and classified-looking returns for vendors of one category:
    name -> (base rate, rate after the change, change day or None, lines per day)."""
    rng = np.random.default_rng(seed)
    lines, events = [], []
    for vendor, (base, after, change, per_day) in vendors.items():
        for d in range(days):
            n = int(rng.poisson(per_day))
            rate = after if change is not None and d >= change else base
            k = int(rng.binomial(n, rate))
            day = START + timedelta(days=d)
            lines.append({"vendor_id": vendor, "category": "home", "order_date": day,
                          "order_lines": n, "units_sold": n, "sold_value": 10.0 * n})
            events += [{"order_id": f"{vendor}-{d}-{i}", "line_id": 1, "vendor_id": vendor,
                        "category": "home", "order_date": day, "is_defect": True}
                       for i in range(k)]
    return pl.DataFrame(lines), pl.DataFrame(events, schema={
        "order_id": pl.String, "line_id": pl.Int64, "vendor_id": pl.String,
        "category": pl.String, "order_date": pl.Date, "is_defect": pl.Boolean})


def _summary_inputs(events: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    returns = events.with_columns(
        net_cost=pl.lit(10.0), text_cause=pl.lit(None, pl.String),
        cause_disagrees=pl.lit(None, pl.Boolean), defect_by_code=pl.col("is_defect"),
        defect_by_text=pl.lit(False), defect_by_inspection=pl.lit(False))
    reviews = pl.DataFrame({"vendor_id": ["V1"], "category": ["home"], "low_rating": [False],
                            "text_cause": ["other"]})
    return returns, reviews


def test_change_point_dates_a_planted_rise_to_its_week():
    rng = np.random.default_rng(3)
    trials = rng.poisson(200, 100)
    events = rng.binomial(trials, np.where(np.arange(100) >= 60, 0.08, 0.03))
    found = change_point(events, trials)
    assert found is not None
    assert abs(found.split - 60) <= 1
    assert found.p_value < 1e-10


def test_change_point_of_a_steady_series_is_not_significant():
    rng = np.random.default_rng(4)
    trials = rng.poisson(200, 100)
    found = change_point(rng.binomial(trials, 0.03), trials)
    assert found is None or found.p_value > 0.01


def test_overdispersed_weeks_do_not_make_a_change_significant():
    rng = np.random.default_rng(5)
    trials = rng.poisson(500, 100)
    rates = np.clip(rng.normal(0.03, 0.012, 100), 0.001, None)  # week-to-week wobble, no change
    found = change_point(rng.binomial(trials, rates), trials)
    assert found is None or found.p_value > 0.01
    assert found is None or found.dispersion > 1.5


def test_vendor_whose_defects_rose_is_flagged_with_its_change_date():
    lines, events = _shop({"V1": (0.03, 0.12, 400, 40),
                           **{f"V{i}": (0.03, 0.03, None, 30) for i in range(2, 12)}})
    returns, reviews = _summary_inputs(events)
    card = scorecard(daily_counts(lines, returns), returns, reviews)
    flagged = card.filter(pl.col("flagged"))
    assert flagged["vendor_id"].to_list() == ["V1"]
    assert abs((flagged["change_date"][0] - (START + timedelta(days=400))).days) <= 14


def test_vendors_without_any_change_point_still_have_typed_change_columns():
    lines, events = _shop({"V1": (0.0, 0.0, None, 30), "V2": (0.0, 0.0, None, 30)}, days=60)
    returns, reviews = _summary_inputs(events)

    card = scorecard(daily_counts(lines, returns), returns, reviews)

    assert card["change_p_value"].null_count() == card.height
    assert pl.Null not in card.schema.dtypes()


def test_small_vendor_with_a_few_unlucky_returns_is_not_flagged():
    lines, events = _shop({"V1": (0.10, 0.10, None, 0.05),  # ~28 lines, a few defects
                           **{f"V{i}": (0.03, 0.03, None, 30) for i in range(2, 12)}})
    returns, reviews = _summary_inputs(events)
    card = scorecard(daily_counts(lines, returns), returns, reviews)
    assert not card.filter(pl.col("vendor_id") == "V1")["flagged"][0]


def test_wholesale_quantities_do_not_narrow_the_interval():
    lines, events = _shop({"V1": (0.05, 0.05, None, 2), "V2": (0.05, 0.05, None, 2)})
    wholesale = lines.with_columns(
        units_sold=pl.when(pl.col("vendor_id") == "V1").then(pl.col("units_sold") * 50)
        .otherwise(pl.col("units_sold")))
    returns, reviews = _summary_inputs(events)
    plain = scorecard(daily_counts(lines, returns), returns, reviews)
    bulk = scorecard(daily_counts(wholesale, returns), returns, reviews)
    width = (pl.col("defect_rate_high") - pl.col("defect_rate_low"))
    assert (plain.filter(pl.col("vendor_id") == "V1").select(width).item()
            == bulk.filter(pl.col("vendor_id") == "V1").select(width).item())


def test_a_broken_item_filed_as_changed_mind_is_a_defect_by_its_comment():
    returns = classify_returns(_returns([
        {"reason_code": "changed_mind", "reason_text": "stopped working after two days, faulty"},
        {"reason_code": "changed_mind", "reason_text": "I changed my mind, no longer need it"},
    ]))
    assert returns["is_defect"].to_list() == [True, False]
    assert returns["defect_by_text"].to_list() == [True, False]
    assert returns["cause_disagrees"].to_list() == [True, False]


def test_inspection_finding_a_defect_counts_even_without_a_defect_reason():
    returns = classify_returns(_returns([{"reason_code": "size_too_small",
                                          "condition": "defective"}]))
    assert returns["is_defect"].to_list() == [True]
    assert returns["defect_by_inspection"].to_list() == [True]


def test_representative_comments_put_those_read_as_defects_first():
    returns = classify_returns(_returns([
        {"return_id": "R1", "reason_code": "size_too_large", "condition": "defective",
         "reason_text": "way too big, runs a size large"},
        {"return_id": "R2", "reason_code": "defective",
         "reason_text": "stopped working after two days, faulty"},
    ]))
    reviews = pl.DataFrame(schema={"vendor_id": pl.String, "sku": pl.String,
                                   "review_date": pl.Date, "review_text": pl.String,
                                   "text_cause": pl.String, "text_confidence": pl.Float64,
                                   "rating": pl.Int64, "language": pl.String,
                                   "low_rating": pl.Boolean})
    shown = representative_comments(returns, reviews)
    assert shown["text"].to_list()[0] == "stopped working after two days, faulty"


def test_no_vendor_is_ranked_without_vendors_or_without_anything_to_tell_a_defect_by():
    from models.vendors import unrankable_reason

    def coverage(with_value: int) -> pl.DataFrame:
        return pl.DataFrame({"feed": ["returns"] * 3,
                             "field": ["reason_code", "reason_text", "condition"],
                             "rows_loaded": [10] * 3, "rows_with_value": [with_value] * 3})

    placeholder = pl.DataFrame({"note": ["default:products.vendor_id"]})
    named = pl.DataFrame({"note": ["currency"]})

    assert "names no vendors" in unrankable_reason(placeholder, coverage(10))
    assert "defect rates are not recorded" in unrankable_reason(named, coverage(0))
    assert unrankable_reason(named, coverage(10)) is None
