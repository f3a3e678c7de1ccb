"""Product judgements as pure functions on polars frames, shared by the dashboard, the models
and the CLI.

- Rates of small groups are judged with empirical-Bayes (beta-binomial) shrinkage, so a SKU
  with 3 sales and 2 returns is pulled towards its category instead of heading a ranking.
- A young order cohort is still collecting returns: its completeness is read off the return-lag
  curve of the latest cohorts that have finished returning.
- A SKU is returned more lately when its return rate on order lines rose between two cohorts
  of orders in a one-sided two-proportion test, adjusted for the many SKUs tested.
- A carrier got worse in a region when a window's NPR rate beats the baseline before it in a
  two-proportion z-test with a threshold strict enough for the many windows tested.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
from scipy import special, stats

MIN_PRIOR_STRENGTH = 2.0
MAX_PRIOR_STRENGTH = 100_000.0


def wilson_interval(successes: np.ndarray, trials: np.ndarray,
                    z: float = 1.96) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of successes/trials (NaN where there are no trials)."""
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def rate_with_interval(frame: pl.DataFrame, successes: str, trials: str,
                       min_trials: int = 20) -> pl.DataFrame:
    """Adds rate, rate_low and rate_high (95 % Wilson interval) of successes / trials, all null
    on rows with fewer than `min_trials` trials: a week of 3 attempts reads 0 % or 100 % and
    says nothing, so it is left out rather than drawn as a spike."""
    low, high = wilson_interval(frame[successes].to_numpy(), frame[trials].to_numpy())
    enough = pl.col(trials) >= min_trials
    return frame.with_columns(
        rate=pl.when(enough).then(pl.col(successes) / pl.col(trials)),
        rate_low=pl.when(enough).then(pl.Series(low, dtype=pl.Float64)),
        rate_high=pl.when(enough).then(pl.Series(high, dtype=pl.Float64)),
    )


def beta_prior(successes: np.ndarray, trials: np.ndarray) -> tuple[float, float]:
    """Method-of-moments Beta(alpha, beta) prior of the true rates of a group's members.

    The between-member variance is the trials-weighted variance of the observed rates less the
    binomial noise expected in it; its strength is bounded so the prior stays proper.
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    keep = n > 0
    k, n = k[keep], n[keep]
    if n.sum() == 0:
        return 1.0, 1.0
    mean = min(max(k.sum() / n.sum(), 1e-6), 1 - 1e-6)
    observed = float(np.sum(n * (k / n - mean) ** 2) / n.sum())
    noise = mean * (1 - mean) * len(n) / n.sum()
    between = max(observed - noise, mean * (1 - mean) / MAX_PRIOR_STRENGTH)
    strength = min(max(mean * (1 - mean) / between - 1, MIN_PRIOR_STRENGTH), MAX_PRIOR_STRENGTH)
    return mean * strength, (1 - mean) * strength


def excess_over_group(frame: pl.DataFrame, group: str, successes: str, trials: str,
                      level: float = 0.95) -> pl.DataFrame:
    """Each row's rate against its group's, shrunk towards the group (empirical Bayes).

    Adds group_rate, rate (raw), shrunk_rate, lower/upper (the `level` credible interval),
    prob_above (posterior probability the row's true rate exceeds its group's) and
    excess_lower = lower - group_rate, which ranks rows by how surely they exceed the group.
    A row is judged (prob_above and excess_lower set) only when it has successes and its group
    has at least two members with trials and some successes: a member with no successes is
    never above, and a lone member (or a group with none) has nothing to be above.
    """
    if frame.is_empty():
        return frame.with_columns(
            **{c: pl.lit(None, pl.Float64) for c in (
                "group_rate", "rate", "shrunk_rate", "lower", "upper", "prob_above",
                "excess_lower")})
    # groups in the order they first appear, members in theirs (as group_by would give them),
    # all judged in one pass (a polars frame per group cost ~1 ms a group)
    first_row = frame.with_row_index("_row").select(
        pl.col("_row").min().over(group).rank("dense").cast(pl.Int64) - 1)
    order = np.argsort(first_row.to_series().to_numpy(), kind="stable")
    frame = frame[order]
    code = first_row.to_series().to_numpy()[order]
    k = frame[successes].to_numpy().astype(float)
    n = frame[trials].to_numpy().astype(float)
    starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    ends = np.r_[starts[1:], len(code)]
    alpha, beta, group_rate, judged = (np.empty(len(starts)) for _ in range(4))
    for g, (start, end) in enumerate(zip(starts, ends, strict=True)):
        gk, gn = k[start:end], n[start:end]
        alpha[g], beta[g] = beta_prior(gk, gn)
        group_rate[g] = gk.sum() / gn.sum() if gn.sum() else float("nan")
        judged[g] = (gn > 0).sum() >= 2 and gk.sum() > 0
    # many members share a (group, successes, trials) triple: evaluate each once
    k_width, n_width = int(k.max()) + 1, int(n.max()) + 1
    triples, member = np.unique(
        (code * k_width + k.astype(np.int64)) * n_width + n.astype(np.int64),
        return_inverse=True)
    t_code, t_k, t_n = (triples // (k_width * n_width), triples // n_width % k_width,
                        triples % n_width)
    post_a = alpha[t_code] + t_k
    post_b = beta[t_code] + np.maximum(t_n - t_k, 0)
    tail = (1 - level) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, k / np.where(n > 0, n, 1), np.nan)
    lower = special.betaincinv(post_a, post_b, tail)[member]
    # P(rate > group) = 1 - I_g(a, b) = I_(1-g)(b, a): the same value, exactly, and scipy's
    # betainc is ~5x faster than its betaincc (a cold Products page runs it on every SKU twice)
    prob_above = special.betainc(post_b, post_a, 1 - group_rate[t_code])[member]
    row_rate = group_rate[code]
    is_judged = judged[code].astype(bool) & (k > 0)
    return frame.with_columns(
        group_rate=pl.Series(row_rate),
        rate=pl.Series(rate),
        shrunk_rate=pl.Series((post_a / (post_a + post_b))[member]),
        lower=pl.Series(lower),
        upper=pl.Series(special.betaincinv(post_a, post_b, 1 - tail)[member]),
        prob_above=pl.Series(np.where(is_judged, prob_above, np.nan)).fill_nan(None),
        excess_lower=pl.Series(np.where(is_judged, lower - row_rate, np.nan)).fill_nan(None),
    )


def excess_over_group_by_lines(frame: pl.DataFrame, group: str, successes: str,
                               units: str = "units_sold", lines: str = "order_lines",
                               level: float = 0.95) -> pl.DataFrame:
    """`excess_over_group` with order lines, not units, as the trials.

    The units of one order line are bought and returned together (a wholesale line of 400
    returned at once is one event, not 400), so units are not independent trials. The counts
    are put on the scale of order lines: trials = lines, successes = successes x lines / units
    (at least 1 when there are any), which widens intervals by the units per line. `rate`
    stays the rate on units.
    """
    scale = pl.when(pl.col(units) > 0).then(pl.col(lines) / pl.col(units)).otherwise(0.0)
    scaled = frame.with_columns(
        _trials=pl.col(lines).cast(pl.Int64),
        _successes=pl.when(pl.col(successes) > 0).then(
            pl.max_horizontal((pl.col(successes) * scale).round(), pl.lit(1.0))
            .cast(pl.Int64)).otherwise(0))
    judged = excess_over_group(scaled, group, "_successes", "_trials", level)
    return judged.with_columns(rate=pl.when(pl.col(units) > 0).then(
        pl.col(successes) / pl.col(units))).drop("_successes", "_trials")


def pareto(frame: pl.DataFrame, key: str, value: str) -> pl.DataFrame:
    """Rows sorted by `value` (largest first) with their share and cumulative share."""
    total = frame[value].sum()
    ordered = frame.sort([value, key], descending=[True, False])
    return ordered.with_columns(
        share=pl.col(value) / total if total else pl.lit(None, pl.Float64),
        cumulative_share=pl.col(value).cum_sum() / total if total else pl.lit(None, pl.Float64),
    )


def lag_horizon(lag: pl.DataFrame, quantile: float = 0.999) -> int:
    """Days from a cohort's first day by which `quantile` of all its returns have arrived."""
    if lag.is_empty() or lag["units_returned"].sum() == 0:
        return 0
    ordered = lag.group_by("days_since_cohort_start").agg(pl.col("units_returned").sum()) \
        .sort("days_since_cohort_start")
    cumulative = ordered["units_returned"].cum_sum() / ordered["units_returned"].sum()
    index = int(np.searchsorted(cumulative.to_numpy(), quantile))
    return int(ordered["days_since_cohort_start"][min(index, ordered.height - 1)]) + 1


def cohort_completeness(lag: pl.DataFrame, months: list[date], as_of: date,
                        mature_cohorts: int = 6, immature_below: float = 0.99) -> pl.DataFrame:
    """Per order month: age at `as_of`, expected share of final returns already in, immature.

    The lag curve is the cumulative share of returns by days since the cohort's first day,
    pooled over the latest `mature_cohorts` cohorts at least one horizon old (recent ones, so
    a change of return window is reflected). Without such cohorts completeness is unknown.
    """
    horizon = lag_horizon(lag)
    ages = [(as_of - m).days for m in months]
    mature = sorted({m for m, a in zip(months, ages, strict=True) if a >= horizon}
                    | {m for m in lag["order_month"].unique().to_list()
                       if (as_of - m).days >= horizon})[-mature_cohorts:]
    curve = (lag.filter(pl.col("order_month").is_in(mature))
             .group_by("days_since_cohort_start").agg(pl.col("units_returned").sum())
             .sort("days_since_cohort_start"))
    completeness: list[float | None] = []
    if curve.is_empty() or curve["units_returned"].sum() == 0:
        completeness = [1.0 if a >= horizon else None for a in ages]
    else:
        days = curve["days_since_cohort_start"].to_numpy()
        share = (curve["units_returned"].cum_sum() / curve["units_returned"].sum()).to_numpy()
        for age in ages:
            index = int(np.searchsorted(days, age, side="right")) - 1
            completeness.append(1.0 if age >= horizon else float(share[index])
                                if index >= 0 else 0.0)
    return pl.DataFrame({
        "order_month": months,
        "age_days": ages,
        "completeness": completeness,
    }, schema={"order_month": pl.Date, "age_days": pl.Int64, "completeness": pl.Float64}
    ).with_columns(
        immature=pl.col("completeness").is_null() | (pl.col("completeness") < immature_below))


def expected_final_rate(frame: pl.DataFrame, min_completeness: float = 0.05) -> pl.DataFrame:
    """Adds return_rate and expected_final_rate (rate / completeness) to a cohort frame.

    The expected final rate is at most every unit sold (a wholesale cohort 75 % returned at
    51 % complete would read 147 %), and never below the rate already seen."""
    return frame.with_columns(
        return_rate=pl.when(pl.col("units_sold") > 0)
        .then(pl.col("units_returned") / pl.col("units_sold")),
    ).with_columns(
        expected_final_rate=pl.when(pl.col("completeness") >= min_completeness)
        .then((pl.col("return_rate") / pl.col("completeness"))
              .clip(upper_bound=pl.max_horizontal(pl.col("return_rate"), pl.lit(1.0)))),
    )


def returns_in(cohorts: pl.DataFrame) -> float | None:
    """The share of a period's final returns already in: its cohorts' completeness weighted by
    units sold (None when a cohort's completeness is unknown or nothing was sold). A period
    whose returns are still arriving looks better than an older one only for that reason."""
    known = cohorts.filter(pl.col("units_sold") > 0)
    if known.is_empty() or known["completeness"].null_count():
        return None
    return float((known["completeness"] * known["units_sold"]).sum() / known["units_sold"].sum())


def two_proportion_z(k1: np.ndarray, n1: np.ndarray, k2: np.ndarray,
                     n2: np.ndarray) -> np.ndarray:
    """z of p1 - p2 with the pooled standard error (NaN where either side has no trials)."""
    k1, n1, k2, n2 = (np.asarray(a, dtype=float) for a in (k1, n1, k2, n2))
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (k1 + k2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (k1 / n1 - k2 / n2) / se
    return np.where((n1 > 0) & (n2 > 0) & (se > 0), z, np.nan)


def npr_scorecard(weekly: pl.DataFrame, window_weeks: int = 6, baseline_weeks: int = 26,
                  z_flag: float = 4.0, min_attempts: int = 30) -> pl.DataFrame:
    """Per carrier × region: NPR of the latest window vs the baseline before it, and the worst
    window of the period vs its own baseline (two-proportion z-tests).

    `weekly` has carrier, region, week, attempts, failed_attempts. The baseline is the
    `baseline_weeks` before a window, or as many as there are (at least `window_weeks`). A
    change is flagged when z ≥ `z_flag` (4 keeps the chance of any false flag small over the
    hundreds of windows and pairs tested) and both sides have at least `min_attempts` attempts.
    `flag_z` is the z of what the flag speaks of: the latest window's for "worse now", else the
    worst window's (the largest z of the period, flagged or not), so it can sit beside the flag.
    """
    schema = {
        "carrier": pl.String, "region": pl.String, "attempts": pl.Int64,
        "failed_attempts": pl.Int64, "npr_rate": pl.Float64, "recent_npr": pl.Float64,
        "baseline_npr": pl.Float64, "recent_change_pp": pl.Float64, "recent_z": pl.Float64,
        "worst_from": pl.Date, "worst_to": pl.Date, "worst_npr": pl.Float64,
        "worst_baseline_npr": pl.Float64, "worst_change_pp": pl.Float64, "worst_z": pl.Float64,
        "worst_p_value": pl.Float64, "flag": pl.String, "flag_z": pl.Float64,
    }
    if weekly.is_empty():
        return pl.DataFrame(schema=schema)
    first, last = weekly["week"].min(), weekly["week"].max()
    weeks = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    # every pair's weekly counts as one row of a pairs x weeks array, so the windows of all
    # pairs are computed at once (a loop over pairs took ~1.5 ms a pair)
    pairs = weekly.select("carrier", "region").unique(maintain_order=True).with_row_index("pair")
    cells = weekly.join(pairs, on=["carrier", "region"]).with_columns(
        slot=((pl.col("week") - first).dt.total_days() // 7))
    shape = (pairs.height, len(weeks))
    n = np.zeros((shape[0], shape[1] + 1))
    k = np.zeros((shape[0], shape[1] + 1))
    at = (cells["pair"].to_numpy(), cells["slot"].to_numpy() + 1)
    np.add.at(n, at, cells["attempts"].to_numpy())
    np.add.at(k, at, cells["failed_attempts"].to_numpy())
    n, k = n.cumsum(axis=1), k.cumsum(axis=1)
    ends = np.arange(2 * window_weeks, len(weeks) + 1)  # window = weeks[end - w : end]
    starts = np.maximum(ends - window_weeks - baseline_weeks, 0)  # baseline = [start, end - w)
    n_w, k_w = n[:, ends] - n[:, ends - window_weeks], k[:, ends] - k[:, ends - window_weeks]
    n_b, k_b = n[:, ends - window_weeks] - n[:, starts], k[:, ends - window_weeks] - k[:, starts]
    z = two_proportion_z(k_w, n_w, k_b, n_b)
    z = np.where((n_w >= min_attempts) & (n_b >= min_attempts), z, np.nan)
    rows = np.arange(shape[0])
    judged = ~np.isnan(z).all(axis=1) if len(ends) else np.zeros(shape[0], dtype=bool)
    worst = np.where(judged, np.argmax(np.where(np.isnan(z), -np.inf, z), axis=1)
                     if len(ends) else 0, 0)
    recent = len(ends) - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_w, rate_b = k_w / n_w, k_b / n_b
        total_rate = k[:, -1] / n[:, -1]

    def picked(values: np.ndarray, column: int | np.ndarray, keep: np.ndarray) -> pl.Series:
        chosen = values[rows, column] if len(ends) else np.full(shape[0], np.nan)
        return pl.Series(np.where(keep, chosen, np.nan)).fill_nan(None)

    has_recent = ~np.isnan(z[:, recent]) if len(ends) else np.zeros(shape[0], dtype=bool)
    worst_z = picked(z, worst, judged)
    card = pairs.drop("pair").with_columns(
        attempts=pl.Series(n[:, -1], dtype=pl.Int64),
        failed_attempts=pl.Series(k[:, -1], dtype=pl.Int64),
        npr_rate=pl.Series(total_rate).fill_nan(None),
        recent_npr=picked(rate_w, recent, has_recent),
        baseline_npr=picked(rate_b, recent, has_recent),
        recent_change_pp=100 * (picked(rate_w, recent, has_recent)
                                - picked(rate_b, recent, has_recent)),
        recent_z=picked(z, recent, has_recent),
        worst_from=pl.Series([weeks[ends[i] - window_weeks] if j else None
                              for i, j in zip(worst, judged, strict=True)], dtype=pl.Date),
        worst_to=pl.Series([weeks[ends[i] - 1] + timedelta(days=6) if j else None
                            for i, j in zip(worst, judged, strict=True)], dtype=pl.Date),
        worst_npr=picked(rate_w, worst, judged),
        worst_baseline_npr=picked(rate_b, worst, judged),
        worst_change_pp=100 * (picked(rate_w, worst, judged) - picked(rate_b, worst, judged)),
        worst_z=worst_z,
        worst_p_value=pl.Series(special.ndtr(-worst_z.fill_null(np.nan).to_numpy()))
        .fill_nan(None),
    )
    worse_now = pl.col("recent_z").fill_null(0) >= z_flag
    return card.with_columns(
        flag=pl.when(pl.col("worst_z").is_null()).then(pl.lit("too few attempts to judge"))
        .when(worse_now).then(pl.lit("worse now"))
        .when(pl.col("worst_z") >= z_flag).then(pl.format(
            "was worse {} – {}", pl.col("worst_from"), pl.col("worst_to")))
        .otherwise(pl.lit("")),
        flag_z=pl.when(worse_now).then("recent_z").otherwise("worst_z"),
    ).select(list(schema)).cast(schema).sort(pl.col("worst_z").fill_null(-np.inf),
                                             descending=True)


def rate_rises(frame: pl.DataFrame, successes_now: str, trials_now: str,
               successes_before: str, trials_before: str, min_trials: int = 20,
               false_discovery: float = 0.05) -> pl.DataFrame:
    """Each row's rate now against before, with a one-sided two-proportion z-test of a rise.

    Rows with fewer than `min_trials` trials on either side are left out (too few to test).
    Adds rate_before, rate_now, change_pp, z, p_value (one-sided) and q_value (Benjamini-
    Hochberg over the rows tested: many SKUs are tested at once, so a p-value below 5 % alone
    would flag one SKU in twenty by chance) and `clear`, true where q_value ≤
    `false_discovery`; sorted by z, largest rise first.
    """
    tested = frame.filter((pl.col(trials_now) >= min_trials)
                          & (pl.col(trials_before) >= min_trials))
    z = two_proportion_z(tested[successes_now].to_numpy(), tested[trials_now].to_numpy(),
                         tested[successes_before].to_numpy(), tested[trials_before].to_numpy())
    p = stats.norm.sf(z)
    q = np.full(len(p), np.nan)
    judged = ~np.isnan(p)
    if judged.any():
        q[judged] = stats.false_discovery_control(p[judged], method="bh")
    return tested.with_columns(
        rate_before=pl.col(successes_before) / pl.col(trials_before),
        rate_now=pl.col(successes_now) / pl.col(trials_now),
        z=pl.Series(z, dtype=pl.Float64).fill_nan(None),
        p_value=pl.Series(p, dtype=pl.Float64).fill_nan(None),
        q_value=pl.Series(q, dtype=pl.Float64).fill_nan(None),
    ).with_columns(
        change_pp=100 * (pl.col("rate_now") - pl.col("rate_before")),
        clear=(pl.col("q_value") <= false_discovery).fill_null(False),
    ).sort("z", descending=True, nulls_last=True)


Z_95 = 1.959964


def _mean_and_se(total: pl.Expr, total_sq: pl.Expr, n: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """Mean and its standard error from a sum, a sum of squares and a count."""
    mean = total / n
    variance = ((total_sq - n * mean * mean) / (n - 1)).clip(lower_bound=0)
    return mean, (variance / n).sqrt()


def carrier_recommendation(pickups: pl.DataFrame, min_pickups: int = 30) -> pl.DataFrame:
    """Per region: the carriers with the best and the worst first-attempt pickup success (among
    those with at least `min_pickups` pickups), their rates with 95 % Wilson intervals, and
    what moving the worst carrier's pickups to the best would have saved in that period:
    failed first attempts, days to pickup and reverse-shipping cost, each with a 95 % interval.
    `verdict` says whether the difference of the two rates is clear (its 95 % interval,
    normal approximation, lies above zero).

    `pickups` holds one row per region and carrier (warehouse.read.carriers.
    carrier_region_pickups)."""
    low, high = wilson_interval(pickups["first_attempt_pickups"].to_numpy(),
                                pickups["pickups"].to_numpy())
    days, days_se = _mean_and_se(pl.col("pickup_days"), pl.col("pickup_days_sq"),
                                 pl.col("timed_pickups"))
    cost, cost_se = _mean_and_se(pl.col("shipping_cost"), pl.col("shipping_cost_sq"),
                                 pl.col("costed_pickups"))
    rated = pickups.filter(pl.col("pickups") >= min_pickups).with_columns(
        success=pl.col("first_attempt_pickups") / pl.col("pickups"),
        success_low=pl.Series(low).filter(pickups["pickups"] >= min_pickups),
        success_high=pl.Series(high).filter(pickups["pickups"] >= min_pickups),
        days=days, days_se=days_se, cost=cost, cost_se=cost_se)
    ranked = rated.filter(pl.col("region").is_in(
        rated.group_by("region").len().filter(pl.col("len") >= 2)["region"].implode()))
    if ranked.is_empty():
        return pl.DataFrame(schema={"region": pl.String, "best_carrier": pl.String})
    order = ["region", "success", "carrier"]
    best = ranked.sort(order, descending=[False, True, False]).group_by(
        "region", maintain_order=True).first()
    worst = ranked.sort(order, descending=[False, False, True]).group_by(
        "region", maintain_order=True).first()
    pair = best.join(worst, on="region", suffix="_worst")
    p1, p2 = pl.col("success"), pl.col("success_worst")
    n1, n2 = pl.col("pickups"), pl.col("pickups_worst")
    rate_se = (p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2).sqrt()
    moved = pl.col("pickups_worst")
    return pair.select(
        "region",
        best_carrier="carrier", best_pickups="pickups", best_success="success",
        best_success_low="success_low", best_success_high="success_high",
        worst_carrier="carrier_worst", worst_pickups="pickups_worst",
        worst_success="success_worst", worst_success_low="success_low_worst",
        worst_success_high="success_high_worst",
        failed_first_attempts_saved=moved * (p1 - p2),
        failed_first_attempts_saved_low=moved * (p1 - p2 - Z_95 * rate_se),
        failed_first_attempts_saved_high=moved * (p1 - p2 + Z_95 * rate_se),
        days_saved_per_pickup=pl.col("days_worst") - pl.col("days"),
        days_saved_low=pl.col("days_worst") - pl.col("days")
        - Z_95 * (pl.col("days_se") ** 2 + pl.col("days_se_worst") ** 2).sqrt(),
        days_saved_high=pl.col("days_worst") - pl.col("days")
        + Z_95 * (pl.col("days_se") ** 2 + pl.col("days_se_worst") ** 2).sqrt(),
        cost_saved=moved * (pl.col("cost_worst") - pl.col("cost")),
        cost_saved_low=moved * (pl.col("cost_worst") - pl.col("cost") - Z_95 * (
            pl.col("cost_se") ** 2 + pl.col("cost_se_worst") ** 2).sqrt()),
        cost_saved_high=moved * (pl.col("cost_worst") - pl.col("cost") + Z_95 * (
            pl.col("cost_se") ** 2 + pl.col("cost_se_worst") ** 2).sqrt()),
        verdict=pl.when(p1 - p2 - Z_95 * rate_se > 0)
        .then(pl.lit("move volume: the difference's 95 % interval is above zero"))
        .otherwise(pl.lit("no clear difference: the difference's 95 % interval holds zero")),
    ).sort("failed_first_attempts_saved", descending=True)
