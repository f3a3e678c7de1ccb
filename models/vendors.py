"""Vendor quality scorecards: which vendors' products come back broken, and since when.

A return counts as a vendor defect when any of three witnesses says so: the reason code the
customer picked (defective, not as described), the cause the text classifier reads in the
customer's comment (defect, not as described: "arrived broken" filed under "changed mind" is a
defect), or the inspection condition (defective). Transit damage, late delivery and wrong items
are the carrier's or the warehouse's, not the vendor's, and are left out.

Order lines are the trials: a line with any defect return is one event, so a wholesale line of
50 units weighs as much as a line of one and cannot make an interval tiny.

A vendor is flagged at family-wise level `alpha` (Bonferroni over every vendor and category
tested) when either
- its weekly defect rate rose at a change point (binomial likelihood-ratio test of one rate
  against a rate before and a higher rate after, divided by the series' estimated
  over-dispersion and Bonferroni-corrected over the candidate weeks) and after that week it
  is above its category beyond the spread of the category's other vendors (beta-binomial
  tail); or
- over the whole period it is above its category beyond that spread.
The change date is the day, within the winning week and its neighbours, that maximises the
same likelihood ratio on daily counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
from scipy import stats
from sqlalchemy.engine import Connection

from models.stats import beta_prior, wilson_interval
from models.text_cause import VENDOR_DEFECT_CAUSES, classify, reconcile
from warehouse.contract import DEFECT_REASONS
from warehouse.read import quality as quality_reads
from warehouse.read import vendors as vendor_reads

ALPHA = 0.01
# inspection conditions that fault the vendor: "damaged" is left out, a carrier can cause it
VENDOR_DEFECT_CONDITIONS = ("defective",)
LOW_RATING = 2  # a review of 1 or 2 stars is a low rating
MIN_SEGMENT_WEEKS = 4
REFINE_DAYS = 10


def _with_text_causes(frame: pl.DataFrame, text_column: str) -> pl.DataFrame:
    """Classify each distinct text once and join the causes back (comments repeat a lot)."""
    texts = frame.select(pl.col(text_column)).drop_nulls().unique(maintain_order=True)
    causes = pl.concat([texts, classify(texts[text_column].to_list())], how="horizontal")
    return frame.join(causes, on=text_column, how="left")


def classify_returns(returns: pl.DataFrame) -> pl.DataFrame:
    """Returns with the text cause of their comment, the picked cause, whether they disagree,
    and whether the return counts as a vendor defect (and which witness said so)."""
    frame = reconcile(_with_text_causes(returns, "reason_text"))
    by_code = pl.col("reason_code").is_in(DEFECT_REASONS).fill_null(False)
    by_text = pl.col("text_cause").is_in(VENDOR_DEFECT_CAUSES).fill_null(False)
    by_inspection = pl.col("condition").is_in(VENDOR_DEFECT_CONDITIONS).fill_null(False)
    return frame.with_columns(
        defect_by_code=by_code,
        defect_by_text=by_text,
        defect_by_inspection=by_inspection,
        is_defect=by_code | by_text | by_inspection,
    )


def classify_reviews(reviews: pl.DataFrame) -> pl.DataFrame:
    """Reviews with the text cause of their text and whether the rating is low."""
    return _with_text_causes(reviews, "review_text").with_columns(
        low_rating=pl.col("rating") <= LOW_RATING,
    )


def defect_lines_daily(returns: pl.DataFrame) -> pl.DataFrame:
    """Order lines with at least one defect return, per vendor, category and order day."""
    per_line = (returns.group_by("order_id", "line_id", "vendor_id", "category")
                .agg(pl.col("order_date").first(), pl.col("is_defect").any()))
    return (per_line.filter(pl.col("is_defect"))
            .group_by("vendor_id", "category", "order_date")
            .agg(defect_lines=pl.len().cast(pl.Int64)))


def _loglik(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Binomial log-likelihood at the maximum-likelihood rate k/n (0 where n is 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(n > 0, k / np.where(n > 0, n, 1), 0.0)
        a = np.where(k > 0, k * np.log(np.where(p > 0, p, 1)), 0.0)
        b = np.where(n - k > 0, (n - k) * np.log(np.where(p < 1, 1 - p, 1)), 0.0)
    return a + b


def _increase_lr(k: np.ndarray, n: np.ndarray, min_segment: int) -> tuple[np.ndarray, np.ndarray]:
    """Likelihood ratio of a rise at each split s (segments [:s] and [s:]); 0 where it falls."""
    ck, cn = np.cumsum(k), np.cumsum(n)
    splits = np.arange(min_segment, len(k) - min_segment + 1)
    if len(splits) == 0:
        return splits, np.zeros(0)
    k1, n1 = ck[splits - 1], cn[splits - 1]
    k2, n2 = ck[-1] - k1, cn[-1] - n1
    lr = 2 * (_loglik(k1, n1) + _loglik(k2, n2) - _loglik(ck[-1:], cn[-1:]))
    with np.errstate(divide="ignore", invalid="ignore"):
        rises = (n1 > 0) & (n2 > 0) & (k2 / np.where(n2 > 0, n2, 1) > k1 / np.where(n1 > 0, n1, 1))
    return splits, np.where(rises, np.maximum(lr, 0.0), 0.0)


@dataclass(frozen=True)
class ChangePoint:
    """The most likely rise in a weekly series and how surely it is one."""

    split: int  # index of the first week after the change
    lr: float  # likelihood ratio over the dispersion
    dispersion: float
    p_value: float  # Bonferroni over the candidate splits
    rate_before: float
    rate_after: float


def change_point(events: np.ndarray, trials: np.ndarray,
                 min_segment: int = MIN_SEGMENT_WEEKS) -> ChangePoint | None:
    """The single rise in events/trials that maximises the binomial likelihood ratio, or None."""
    k = np.asarray(events, dtype=float)
    n = np.asarray(trials, dtype=float)
    splits, lr = _increase_lr(k, n, min_segment)
    if len(splits) == 0 or lr.max() <= 0:
        return None
    best = int(np.argmax(lr))
    s = int(splits[best])
    p1 = k[:s].sum() / n[:s].sum()
    p2 = k[s:].sum() / n[s:].sum()
    expected_rate = np.where(np.arange(len(k)) < s, p1, p2)
    mask = (n > 0) & (expected_rate > 0) & (expected_rate < 1)
    pearson = np.sum((k[mask] - n[mask] * expected_rate[mask]) ** 2
                     / (n[mask] * expected_rate[mask] * (1 - expected_rate[mask])))
    dispersion = max(1.0, float(pearson / max(int(mask.sum()) - 2, 1)))
    statistic = float(lr[best]) / dispersion
    p_value = min(1.0, len(splits) * float(stats.chi2.sf(statistic, 1)))
    return ChangePoint(s, statistic, dispersion, p_value, float(p1), float(p2))


def _refine_day(daily: pl.DataFrame, around: date) -> date:
    """The day near `around` where a rise best splits the daily events/lines."""
    days = daily.sort("order_date")
    k = days["defect_lines"].to_numpy().astype(float)
    n = days["order_lines"].to_numpy().astype(float)
    splits, lr = _increase_lr(k, n, 1)
    dates = days["order_date"].to_list()
    window = np.array([abs((dates[s] - around).days) <= REFINE_DAYS for s in splits], dtype=bool)
    if not window.any() or lr[window].max() <= 0:
        return around
    return dates[int(splits[window][np.argmax(lr[window])])]


def _week_start(column: str) -> pl.Expr:
    return pl.col(column).dt.truncate("1w")


def daily_counts(lines_daily: pl.DataFrame, returns: pl.DataFrame) -> pl.DataFrame:
    """Order lines and defect lines per vendor, category and order day (zeros filled)."""
    return (lines_daily.join(defect_lines_daily(returns),
                             on=["vendor_id", "category", "order_date"], how="left")
            .with_columns(pl.col("defect_lines").fill_null(0)))


def _weekly(daily: pl.DataFrame, weeks: list[date]) -> pl.DataFrame:
    """One vendor's weekly lines and defect lines over every week of the data (zeros filled)."""
    per_week = (daily.group_by(_week_start("order_date").alias("week"))
                .agg(pl.col("order_lines").sum(), pl.col("defect_lines").sum()))
    return (pl.DataFrame({"week": weeks}, schema={"week": pl.Date})
            .join(per_week, on="week", how="left").fill_null(0).sort("week"))


def _bb_sf(k: float, n: float, a: float, b: float) -> float:
    """P(K >= k) for K ~ BetaBinomial(n, a, b): how surprising k events are for the group."""
    if n <= 0:
        return 1.0
    return float(stats.betabinom.sf(int(k) - 1, int(n), a, b))


# what a defect can be told by: a reason, a comment, an inspection result
DEFECT_EVIDENCE = ("reason_code", "reason_text", "condition")


def unrankable_reason(source_notes: pl.DataFrame, coverage: pl.DataFrame) -> str | None:
    """Why no vendor can be ranked, if none can, from the warehouse's source notes and data
    coverage (warehouse.read.quality): the source names no vendors (every product carries one
    placeholder), or records nothing a defect could be told by. A ranking then shows
    placeholders, or defect rates of 0.0 % that mean 'not recorded'."""
    if quality_reads.defaulted(source_notes, "products.vendor_id"):
        return ("The loaded source names no vendors (every product carries the same "
                "placeholder), so there is no vendor to rank or to send evidence to.")
    if all(quality_reads.lacks(coverage, "returns", field) for field in DEFECT_EVIDENCE):
        return ("The loaded source records no return reasons, comments or inspection results, "
                "so no return can be told to be a defect: defect rates are not recorded.")
    return None


def scorecard(daily: pl.DataFrame, returns: pl.DataFrame, reviews: pl.DataFrame,
              alpha: float = ALPHA) -> pl.DataFrame:
    """One row per vendor and category: defect rate against the category with an interval,
    the change point and its date, the flag, low ratings, review causes and defect cost."""
    weeks = (pl.date_range(daily["order_date"].min(), daily["order_date"].max(), "1w",
                           eager=True).dt.truncate("1w").unique().sort().to_list())
    totals = (daily.group_by("vendor_id", "category")
              .agg(order_lines=pl.col("order_lines").sum(),
                   defect_lines=pl.col("defect_lines").sum(),
                   units_sold=pl.col("units_sold").sum(),
                   sold_value=pl.col("sold_value").sum())
              .sort("vendor_id", "category"))
    tested = totals.height
    rows = []
    for vendor in totals.iter_rows(named=True):
        vid, cat = vendor["vendor_id"], vendor["category"]
        others = totals.filter((pl.col("category") == cat) & (pl.col("vendor_id") != vid))
        a, b = beta_prior(others["defect_lines"].to_numpy(), others["order_lines"].to_numpy())
        k, n = vendor["defect_lines"], vendor["order_lines"]
        p_excess = _bb_sf(k, n, a, b) if others.height else 1.0
        own = daily.filter((pl.col("vendor_id") == vid) & (pl.col("category") == cat))
        weekly = _weekly(own, weeks)
        cp = change_point(weekly["defect_lines"].to_numpy(), weekly["order_lines"].to_numpy())
        change_date: date | None = None
        p_after = 1.0
        if cp is not None:
            after = weekly[cp.split:]
            k_after, n_after = after["defect_lines"].sum(), after["order_lines"].sum()
            p_after = _bb_sf(k_after, n_after, a, b) if others.height else 1.0
        change_found = cp is not None and cp.p_value * tested < alpha
        rose_above = change_found and p_after * tested < alpha
        above_all_along = p_excess * tested < alpha
        if change_found and cp is not None:
            change_date = _refine_day(own.group_by("order_date").agg(
                pl.col("order_lines").sum(), pl.col("defect_lines").sum()),
                weekly["week"][cp.split])
        rows.append({
            "vendor_id": vid,
            "category": cat,
            "category_defect_rate": (others["defect_lines"].sum() / others["order_lines"].sum()
                                     if others.height else None),
            "p_excess": p_excess,
            "change_p_value": cp.p_value if cp else None,
            "change_lr": cp.lr if cp else None,
            "dispersion": cp.dispersion if cp else None,
            "rate_before_change": cp.rate_before if change_found and cp else None,
            "rate_after_change": cp.rate_after if change_found and cp else None,
            "p_after_change": p_after if change_found else None,
            "change_date": change_date,
            "flagged": bool(rose_above or above_all_along),
        })
    # typed, not inferred: where no vendor has a change point these columns are all empty,
    # and an untyped empty column cannot be published (Online Retail II's one vendor a category)
    optional = {"change_date": pl.Date} | dict.fromkeys(
        ("category_defect_rate", "change_p_value", "change_lr", "dispersion",
         "rate_before_change", "rate_after_change", "p_after_change"), pl.Float64)
    scored = totals.join(pl.DataFrame(rows, schema_overrides=optional),
                         on=["vendor_id", "category"], how="left")
    low, high = wilson_interval(scored["defect_lines"].to_numpy(), scored["order_lines"].to_numpy())
    scored = scored.with_columns(
        defect_rate=pl.col("defect_lines") / pl.col("order_lines"),
        defect_rate_low=pl.Series(low),
        defect_rate_high=pl.Series(high),
        vendors_tested=pl.lit(tested),
        alpha=pl.lit(alpha),
    )
    return (scored.join(_return_summary(returns), on=["vendor_id", "category"], how="left")
            .join(_review_summary(reviews), on=["vendor_id", "category"], how="left")
            .with_columns(
                excess_defect_cost=pl.when(pl.col("defect_rate") > 0).then(
                    pl.col("defect_cost") * (1 - pl.col("category_defect_rate")
                                             / pl.col("defect_rate")).clip(0, 1)).otherwise(0.0),
            )
            .sort(["flagged", "p_excess"], descending=[True, False]))


def _return_summary(returns: pl.DataFrame) -> pl.DataFrame:
    """Per vendor and category: returns, defect returns, their cost and the text/code split."""
    has_text = pl.col("text_cause").is_not_null()
    return returns.group_by("vendor_id", "category").agg(
        returns=pl.len().cast(pl.Int64),
        defect_returns=pl.col("is_defect").sum().cast(pl.Int64),
        defect_returns_by_code=pl.col("defect_by_code").sum().cast(pl.Int64),
        defect_returns_by_text_only=(pl.col("defect_by_text") & ~pl.col("defect_by_code"))
        .sum().cast(pl.Int64),
        defect_returns_by_inspection=pl.col("defect_by_inspection").sum().cast(pl.Int64),
        defect_cost=pl.col("net_cost").filter(pl.col("is_defect")).sum(),
        return_cost=pl.col("net_cost").sum(),
        comments=has_text.sum().cast(pl.Int64),
        cause_disagreement_rate=pl.col("cause_disagrees").filter(has_text).mean(),
    )


def _review_summary(reviews: pl.DataFrame) -> pl.DataFrame:
    """Per vendor and category: reviews, low-rating share against the category, text causes."""
    per_vendor = reviews.group_by("vendor_id", "category").agg(
        reviews=pl.len().cast(pl.Int64),
        low_ratings=pl.col("low_rating").sum().cast(pl.Int64),
        review_texts=pl.col("text_cause").is_not_null().sum().cast(pl.Int64),
        review_defect_texts=pl.col("text_cause").is_in(VENDOR_DEFECT_CAUSES).sum()
        .cast(pl.Int64),
        top_review_cause=pl.col("text_cause").drop_nulls().mode().sort().first(),
    )
    per_category = per_vendor.group_by("category").agg(
        category_low_rating_share=pl.col("low_ratings").sum() / pl.col("reviews").sum())
    return per_vendor.join(per_category, on="category", how="left").with_columns(
        low_rating_share=pl.col("low_ratings") / pl.col("reviews"),
        review_defect_share=pl.when(pl.col("review_texts") > 0)
        .then(pl.col("review_defect_texts") / pl.col("review_texts")),
    )


def monthly_trend(daily: pl.DataFrame) -> pl.DataFrame:
    """Defect rate per vendor, category and order month, beside its category's that month."""
    monthly = (daily.group_by("vendor_id", "category",
                              pl.col("order_date").dt.truncate("1mo").alias("order_month"))
               .agg(pl.col("order_lines").sum(), pl.col("defect_lines").sum()))
    category = monthly.group_by("category", "order_month").agg(
        category_lines=pl.col("order_lines").sum(),
        category_defect_lines=pl.col("defect_lines").sum())
    low, high = wilson_interval(monthly["defect_lines"].to_numpy(),
                                monthly["order_lines"].to_numpy())
    return (monthly.with_columns(defect_rate_low=pl.Series(low), defect_rate_high=pl.Series(high))
            .join(category, on=["category", "order_month"], how="left")
            .with_columns(
                defect_rate=pl.col("defect_lines") / pl.col("order_lines"),
                category_defect_rate=(pl.col("category_defect_lines") - pl.col("defect_lines"))
                / (pl.col("category_lines") - pl.col("order_lines")),
            )
            .drop("category_lines", "category_defect_lines")
            .sort("vendor_id", "category", "order_month"))


def sku_breakdown(sku_monthly: pl.DataFrame, returns: pl.DataFrame) -> pl.DataFrame:
    """Per vendor and SKU: order lines, defect lines and rate with an interval, returns, the
    defect cost and the most frequent text cause of its comments."""
    lines = sku_monthly.group_by("vendor_id", "category", "sku", "product_id", "size").agg(
        pl.col("order_lines").sum(), pl.col("units_sold").sum(), pl.col("sold_value").sum())
    per_line = (returns.group_by("order_id", "line_id", "sku")
                .agg(pl.col("is_defect").any()))
    defect_lines = (per_line.filter(pl.col("is_defect")).group_by("sku")
                    .agg(defect_lines=pl.len().cast(pl.Int64)))
    per_return = returns.group_by("sku").agg(
        returns=pl.len().cast(pl.Int64),
        defect_cost=pl.col("net_cost").filter(pl.col("is_defect")).sum(),
        top_text_cause=pl.col("text_cause").drop_nulls().mode().sort().first(),
    )
    out = (lines.join(defect_lines, on="sku", how="left").join(per_return, on="sku", how="left")
           .with_columns(pl.col("defect_lines", "returns").fill_null(0),
                         pl.col("defect_cost").fill_null(0.0)))
    low, high = wilson_interval(out["defect_lines"].to_numpy(), out["order_lines"].to_numpy())
    return (out.with_columns(defect_rate=pl.col("defect_lines") / pl.col("order_lines"),
                             defect_rate_low=pl.Series(low), defect_rate_high=pl.Series(high))
            .sort(["vendor_id", "defect_lines", "sku"], descending=[False, True, False]))


def cause_mix(returns: pl.DataFrame, reviews: pl.DataFrame) -> pl.DataFrame:
    """Counts per vendor of each cause as picked (reason code) and as read in comments and
    reviews, so the two can be shown side by side."""
    picked = (returns.filter(pl.col("reason_cause").is_not_null())
              .group_by("vendor_id", pl.col("reason_cause").alias("cause"))
              .agg(count=pl.len().cast(pl.Int64)).with_columns(source=pl.lit("reason code")))
    read = (returns.filter(pl.col("text_cause").is_not_null())
            .group_by("vendor_id", pl.col("text_cause").alias("cause"))
            .agg(count=pl.len().cast(pl.Int64)).with_columns(source=pl.lit("return comment")))
    reviewed = (reviews.filter(pl.col("text_cause").is_not_null())
                .group_by("vendor_id", pl.col("text_cause").alias("cause"))
                .agg(count=pl.len().cast(pl.Int64)).with_columns(source=pl.lit("review")))
    return (pl.concat([picked, read, reviewed], how="diagonal")
            .select("vendor_id", "source", "cause", "count")
            .sort("vendor_id", "source", "count", descending=[False, False, True]))


def representative_comments(returns: pl.DataFrame, reviews: pl.DataFrame,
                            per_vendor: int = 12) -> pl.DataFrame:
    """Each vendor's defect comments and low reviews in the customer's own words: those the
    classifier reads as a defect first, most confident and newest first."""
    comments = (returns.filter(pl.col("is_defect") & pl.col("reason_text").is_not_null())
                .select("vendor_id", "sku", pl.col("requested_date").alias("feedback_date"),
                        pl.lit("return comment").alias("source"),
                        pl.col("reason_text").alias("text"), "text_cause", "text_confidence",
                        "reason_code", "condition",
                        pl.lit(None, pl.Int64).alias("rating"),
                        pl.lit(None, pl.String).alias("language")))
    low_reviews = (reviews.filter(pl.col("low_rating") & pl.col("review_text").is_not_null())
                   .select("vendor_id", "sku", pl.col("review_date").alias("feedback_date"),
                           pl.lit("review").alias("source"), pl.col("review_text").alias("text"),
                           "text_cause", "text_confidence",
                           pl.lit(None, pl.String).alias("reason_code"),
                           pl.lit(None, pl.String).alias("condition"),
                           pl.col("rating").cast(pl.Int64), "language"))
    both = pl.concat([comments, low_reviews], how="vertical_relaxed").unique(
        ["vendor_id", "source", "text"], keep="first", maintain_order=True)
    return (both.with_columns(reads_as_defect=pl.col("text_cause").is_in(VENDOR_DEFECT_CAUSES))
            .sort(["vendor_id", "reads_as_defect", "text_confidence", "feedback_date"],
                  descending=[False, True, True, True], nulls_last=True)
            .group_by("vendor_id", maintain_order=True).head(per_vendor)
            .drop("reads_as_defect"))


def change_date_error_days(flags: pl.DataFrame, truth: pl.DataFrame) -> pl.DataFrame:
    """Evaluation only: each planted defective vendor's flag and change-date error in days."""
    per_vendor = flags.group_by("vendor_id").agg(pl.col("flagged").any(),
                                                 pl.col("change_date").min())
    return truth.join(per_vendor, on="vendor_id", how="left").with_columns(
        pl.col("flagged").fill_null(False),
        error_days=(pl.col("change_date") - pl.col("defect_start")).dt.total_days(),
    )



def inspection_outcomes(returns: pl.DataFrame) -> pl.DataFrame:
    """Per vendor and order month: returns by the condition inspection found."""
    return (returns.with_columns(pl.col("condition").fill_null("not inspected"))
            .group_by("vendor_id", "order_month", "condition")
            .agg(returns=pl.len().cast(pl.Int64))
            .sort("vendor_id", "order_month", "condition"))


def causes_by_month(returns: pl.DataFrame) -> pl.DataFrame:
    """Per vendor and order month: returns by root cause, the comment's where the customer
    wrote one and the picked reason's otherwise."""
    return (returns.with_columns(
        cause=pl.coalesce("text_cause", "reason_cause").fill_null("not recorded"))
        .group_by("vendor_id", "order_month", "cause")
        .agg(returns=pl.len().cast(pl.Int64))
        .sort("vendor_id", "order_month", "cause"))


def sku_months(returns: pl.DataFrame) -> pl.DataFrame:
    """Per vendor, SKU and order month: returns and defect returns."""
    return (returns.group_by("vendor_id", "sku", "order_month")
            .agg(returns=pl.len().cast(pl.Int64),
                 defect_returns=pl.col("is_defect").sum().cast(pl.Int64))
            .sort("vendor_id", "sku", "order_month"))


def build_outputs(lines_daily: pl.DataFrame, sku_monthly: pl.DataFrame, returns: pl.DataFrame,
                  reviews: pl.DataFrame, names: pl.DataFrame,
                  alpha: float = ALPHA) -> dict[str, pl.DataFrame]:
    """Every vendor-quality table from the marts' frames, keyed by its published name."""
    classified = classify_returns(returns)
    read_reviews = classify_reviews(reviews)
    daily = daily_counts(lines_daily, classified)
    card = scorecard(daily, classified, read_reviews, alpha)
    card = card.join(names, on="vendor_id", how="left").with_columns(
        pl.col("vendor_name").fill_null(pl.col("vendor_id")))
    return {
        "vendors_scorecard": card,
        "vendors_monthly": monthly_trend(daily),
        "vendors_skus": sku_breakdown(sku_monthly, classified),
        "vendors_comments": representative_comments(classified, read_reviews),
        "vendors_causes": cause_mix(classified, read_reviews),
        "vendors_cause_months": causes_by_month(classified),
        "vendors_inspection": inspection_outcomes(classified),
        "vendors_sku_months": sku_months(classified),
    }


def outputs_from_warehouse(conn: Connection, alpha: float = ALPHA) -> dict[str, pl.DataFrame]:
    """Read the vendor marts and build every vendor-quality table."""
    return build_outputs(vendor_reads.vendor_lines_daily(conn),
                         vendor_reads.vendor_sku_monthly(conn),
                         vendor_reads.vendor_return_lines(conn),
                         vendor_reads.vendor_review_texts(conn),
                         vendor_reads.vendor_names(conn), alpha)



def overall_disagreement(card: pl.DataFrame) -> float | None:
    """Share of all commented returns whose text cause differs from the picked reason's."""
    known = card.filter(pl.col("cause_disagreement_rate").is_not_null() & (pl.col("comments") > 0))
    if known.is_empty():
        return None
    return float((known["cause_disagreement_rate"] * known["comments"]).sum()
                 / known["comments"].sum())
