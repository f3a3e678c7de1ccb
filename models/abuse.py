"""Return abuse: a score per customer and per return, learned without labels, with reasons.

Design. The warehouse counts, per customer, the events a returns desk already treats as
suspicious (warehouse/abuse_signals.py): lines returned against what the customer's category mix
would bring back, returns found used, returns found as an empty box or a different item,
pickups that failed "customer not available" after the refund was issued, and refunds whose item
never reached the warehouse. A raw count is a poor score: a customer with one return that came
back used has a 100% "wardrobing rate" and is almost certainly honest, while a customer with 9
used returns out of 11 is not. So each signal is judged against the whole customer base by
empirical Bayes: the spread of the true rates among all customers is fitted (a beta prior for a
share of returns, a gamma prior for returned lines against expected) and each customer gets the
probability that an ordinary customer, with the same number of chances, would show at least as
many events (a beta-binomial or negative-binomial upper tail). One event in one chance is never
surprising; nine in eleven is. The per-signal tail probabilities are combined with Fisher's
method into one evidence figure E = -log10(p) and the 0-1 score is E / (E + E_flag): 0.5 at the
flag threshold, approaching 1 as the evidence grows. A kind (serial_returner, wardrobing, ...)
fires when its own signal is past the kind threshold on at least two events, and every flag
carries the counts behind it in words.

The rules-only baseline is the desk's hand rules on raw counts (half the orders returned, two
used returns, any empty box, any failed pickup after a refund, any refund never received),
ranked by how many fired; it is kept beside the score so the model is always judged against it.
Nothing here reads labels; `evaluate_abuse` compares a ranking with the synthetic shop's truth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
from scipy import stats as sps
from sqlalchemy.engine import Connection

from models.stats import MAX_PRIOR_STRENGTH, beta_prior
from warehouse import abuse_signals

KINDS = ("serial_returner", "wardrobing", "empty_box_or_switch", "pickup_claim",
         "refund_before_receipt")
FLAG_EVIDENCE = 3.0
"""Combined evidence (-log10 of Fisher's p) at which a customer is flagged (score 0.5)."""
KIND_EVIDENCE = 3.0
"""A kind fires when its own tail probability is below 10^-3 ..."""
KIND_MIN_EVENTS = 2
"""... on at least this many events, so one event never fires a kind on its own."""
TOP_SHARE = 0.01
TRIM_ROUNDS = 10
TRIM_EVIDENCE = 2.0
"""Customers past 10^-2 on a signal (on 2+ events) are left out of the next fit."""


@dataclass(frozen=True)
class _Signal:
    """A signal: the kind it evidences and the columns of its event and chance counts."""

    kind: str
    events: str
    chances: str


SIGNALS = (
    _Signal("serial_returner", "returned_lines", "expected_returned_lines"),
    _Signal("wardrobing", "used_returns", "inspected_returns"),
    _Signal("empty_box_or_switch", "empty_or_wrong_returns", "inspected_returns"),
    _Signal("pickup_claim", "returns_with_failed_pickup_after_refund", "pickup_returns"),
    _Signal("refund_before_receipt", "refunds_not_received", "refunded_returns"),
)


def _words(kind: str, stale_days: int) -> pl.Expr:
    """The counts behind one signal, in words, for every customer."""
    c = pl.col
    if kind == "serial_returner":
        return pl.format("{} of {} orders returned ({} lines back where {} were expected)",
                         c("returned_orders"), c("orders"), c("returned_lines"),
                         c("expected_returned_lines").round(1))
    if kind == "wardrobing":
        return pl.format("{} of {} returns found used at inspection",
                         c("used_returns"), c("inspected_returns"))
    if kind == "empty_box_or_switch":
        return pl.format("{} of {} returns came back as an empty box or a different item",
                         c("empty_or_wrong_returns"), c("inspected_returns"))
    if kind == "pickup_claim":
        return pl.format("{} of {} pickups failed 'customer not available' after the refund "
                         "was issued", c("returns_with_failed_pickup_after_refund"),
                         c("pickup_returns"))
    return pl.format(f"{{}} of {{}} refunds went out for items the warehouse had not received "
                     f"{stale_days} days later", c("refunds_not_received"),
                     c("refunded_returns"))


RETURN_WORDS = {
    "wardrobing": "found used at inspection",
    "empty_box_or_switch": "came back as an empty box or a different item",
    "pickup_claim": "pickup failed 'customer not available' after the refund was issued",
    "refund_before_receipt": "refunded, item not received by the warehouse",
}
RETURN_EVENTS = {"wardrobing": "used", "empty_box_or_switch": "empty_or_wrong",
                 "pickup_claim": "failed_pickups_after_refund",
                 "refund_before_receipt": "refund_not_received"}


def _gamma_shape(k: np.ndarray, e: np.ndarray) -> float:
    """Method-of-moments shape s of Gamma(s, s) ratios to expectation behind Poisson counts."""
    excess = float(np.sum((k - e) ** 2 - k))
    return 1.0 / max(excess / max(float(np.sum(e**2)), 1e-9), 1.0 / MAX_PRIOR_STRENGTH)


def _finite(log_tail: np.ndarray, log_point: np.ndarray) -> np.ndarray:
    """The log tail, or where it underflows the log of its first term (a bound just above it)."""
    return np.where(np.isfinite(log_tail), log_tail, log_point)


def _ratio_log10_tail(k: np.ndarray, e: np.ndarray, shape: float) -> np.ndarray:
    out = np.zeros(len(k))
    idx = np.flatnonzero((e > 0) & (k > 0))
    p = shape / (shape + e[idx])
    with np.errstate(divide="ignore", invalid="ignore"):
        out[idx] = _finite(sps.nbinom.logsf(k[idx] - 1, shape, p),
                           sps.nbinom.logpmf(k[idx], shape, p)) / math.log(10)
    return out


def _share_log10_tail(k: np.ndarray, n: np.ndarray, prior: tuple[float, float]) -> np.ndarray:
    """log10 P(K >= k) under Beta-binomial(n, prior), computed once per distinct (k, n)."""
    out = np.zeros(len(k))
    idx = np.flatnonzero((n > 0) & (k > 0))
    pairs, inverse = np.unique(np.column_stack([k[idx], n[idx]]), axis=0, return_inverse=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        tails = _finite(sps.betabinom.logsf(pairs[:, 0] - 1, pairs[:, 1], *prior),
                        sps.betabinom.logpmf(pairs[:, 0], pairs[:, 1], *prior))
    out[idx] = tails[inverse.ravel()] / math.log(10)
    return out


def _signal_tail(signal: _Signal, events: np.ndarray, chances: np.ndarray) -> np.ndarray:
    """log10 P(K >= k) of each customer's count under the population of ordinary customers.

    Shares of returns (used, empty, claimed, unreceived) get a beta-binomial population, lines
    returned against expected a gamma-Poisson one, both fitted by the method of moments. The
    fit is trimmed: customers with two or more events whose count is already improbable
    (below 10^-2) are left out and the fit repeated, so a few hundred abusers do not widen what
    counts as ordinary (they would, and then hide behind the width they made). Customers with a
    single event always stay in, or a rare event's base rate would collapse towards zero.
    """
    k, n = events.astype(float), chances.astype(float)
    ordinary = np.ones(len(k), dtype=bool)
    for _ in range(TRIM_ROUNDS):
        if signal.kind == "serial_returner":
            shape = _gamma_shape(k[ordinary & (n > 0)], n[ordinary & (n > 0)])
            tail = _ratio_log10_tail(k, n, shape)
        else:
            prior = beta_prior(k[ordinary], n[ordinary])
            tail = _share_log10_tail(k, n, prior)
        trimmed = (tail > -TRIM_EVIDENCE) | (k < KIND_MIN_EVENTS)
        if np.array_equal(trimmed, ordinary):
            break
        ordinary = trimmed
    return tail


def _evidence(log10_tails: np.ndarray) -> np.ndarray:
    """Fisher's combination of per-signal tails (columns) as -log10 of the combined p."""
    statistic = -2.0 * math.log(10) * log10_tails.sum(axis=1)
    # no event at all gives p = 1: evidence 0, never the -0.0 of rounding
    return np.maximum(-sps.chi2.logsf(statistic, 2 * log10_tails.shape[1]) / math.log(10), 0.0)


def _score(evidence: np.ndarray) -> np.ndarray:
    return evidence / (evidence + FLAG_EVIDENCE)


def score_customers(signals: pl.DataFrame, stale_days: int = abuse_signals.STALE_DAYS
                    ) -> pl.DataFrame:
    """Score every customer who returned anything in `signals` (one row per customer).

    `signals` holds every customer (those without returns too: they shape the priors); the
    result holds only those with returns, ranked, with the kinds that fired and the reasons.
    """
    scored = (signals["returns"] > 0).to_numpy()
    tails = np.column_stack([
        _signal_tail(s, signals[s.events].to_numpy(), signals[s.chances].to_numpy())
        for s in SIGNALS
    ])
    evidence = _evidence(tails)
    frame = signals.with_columns(
        pl.Series(f"evidence_{s.kind}", -tails[:, i]) for i, s in enumerate(SIGNALS)
    ).with_columns(
        evidence=pl.Series(evidence), score=pl.Series(_score(evidence)),
    ).filter(pl.Series(scored))
    fired = [
        pl.when((pl.col(f"evidence_{s.kind}") >= KIND_EVIDENCE)
                & (pl.col(s.events) >= KIND_MIN_EVENTS)).then(pl.lit(s.kind))
        for s in SIGNALS
    ]
    frame = frame.with_columns(
        kinds=pl.concat_str(fired, separator=",", ignore_nulls=True),
        flagged=pl.col("evidence") >= FLAG_EVIDENCE,
    )
    frame = frame.join(_reasons(frame, stale_days), on="customer_id", how="left")
    frame = frame.sort(["evidence", "customer_id"], descending=[True, False]).with_columns(
        rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
    rules = rules_only(frame)
    return frame.join(rules, on="customer_id", how="left").select(
        "customer_id", "score", "rank", "flagged", "kinds", "reasons", "evidence",
        *[f"evidence_{s.kind}" for s in SIGNALS],
        *[c for c in signals.columns if c != "customer_id"],
        "rules_fired", "rules_rank",
    )


def _reasons(frame: pl.DataFrame, stale_days: int) -> pl.DataFrame:
    """customer_id and the counts behind the customer's score in words, strongest signal first.

    Every signal whose kind fired is said; when none fired, the strongest signal with an event
    is, so a flag never comes without its reasons.
    """
    long = pl.concat([
        frame.select(
            "customer_id", order=pl.lit(i), evidence=pl.col(f"evidence_{s.kind}"),
            words=_words(s.kind, stale_days),
            fired=pl.col("kinds").str.split(",").list.contains(s.kind),
            seen=pl.col(s.events) > 0)
        for i, s in enumerate(SIGNALS)
    ]).filter("seen").sort(["customer_id", "evidence", "order"],
                           descending=[False, True, False])
    said = long.group_by("customer_id").agg(
        fired=pl.col("words").filter("fired").str.join("; "),
        strongest=pl.col("words").first())
    return frame.select("customer_id").join(said, on="customer_id", how="left").select(
        "customer_id",
        reasons=pl.when(pl.col("fired") != "").then("fired")
        .otherwise(pl.col("strongest")).fill_null(""))


def rules_only(customers: pl.DataFrame) -> pl.DataFrame:
    """The desk's hand rules on raw counts, ranked by how many fired (the baseline).

    Rules: at least half of 3+ orders returned; 2+ returns used; any empty box or different
    item; any pickup failed 'customer not available' after the refund; any refund whose item
    had not arrived. Ties go to the customer with more suspicious events.
    """
    rules = [
        (pl.col("returned_orders") >= 3) & (pl.col("returned_orders") * 2 >= pl.col("orders")),
        pl.col("used_returns") >= 2,
        pl.col("empty_or_wrong_returns") >= 1,
        pl.col("returns_with_failed_pickup_after_refund") >= 1,
        pl.col("refunds_not_received") >= 1,
    ]
    events = (pl.col("returned_orders") + pl.col("used_returns")
              + pl.col("empty_or_wrong_returns") + pl.col("returns_with_failed_pickup_after_refund")
              + pl.col("refunds_not_received"))
    return (
        customers.select(
            "customer_id",
            rules_fired=pl.sum_horizontal([r.cast(pl.Int64) for r in rules]),
            rule_events=events,
        )
        .sort(["rules_fired", "rule_events", "customer_id"], descending=[True, True, False])
        .select("customer_id", "rules_fired",
                rules_rank=pl.int_range(1, pl.len() + 1, dtype=pl.Int64))
    )


def score_returns(returns: pl.DataFrame, customers: pl.DataFrame) -> pl.DataFrame:
    """Score each return by the customer's evidence on the signals this return shows.

    Every return counts towards serial returning; a used, empty or switched, claimed or
    unreceived return also carries its customer's evidence for that kind.
    """
    kinds = [s.kind for s in SIGNALS]
    joined = returns.join(
        customers.select("customer_id", *[f"evidence_{k}" for k in kinds]),
        on="customer_id", how="inner",
    )
    shows = {"serial_returner": pl.lit(True)} | {
        k: pl.col(RETURN_EVENTS[k]) > 0 for k in RETURN_EVENTS}
    tails = np.column_stack([
        joined.select(pl.when(shows[k]).then(-pl.col(f"evidence_{k}")).otherwise(0.0))
        .to_series().to_numpy()
        for k in kinds
    ])
    evidence = _evidence(tails)
    said = [pl.when(pl.col(RETURN_EVENTS[k]) > 0).then(pl.lit(RETURN_WORDS[k]))
            for k in RETURN_EVENTS]
    customer_reasons = customers.select("customer_id", customer_reasons="reasons")
    return (
        joined.with_columns(evidence=pl.Series(evidence), score=pl.Series(_score(evidence)),
                            events=pl.concat_str(said, separator="; ", ignore_nulls=True))
        .join(customer_reasons, on="customer_id", how="left")
        .with_columns(reasons=pl.when(pl.col("events") != "")
                      .then(pl.format("{}; customer: {}", "events", "customer_reasons"))
                      .otherwise(pl.format("customer: {}", "customer_reasons")))
        .sort(["evidence", "return_id"], descending=[True, False])
        .select("return_id", "customer_id", "score", "reasons", "evidence", "order_id",
                "line_id", "requested_at", "condition", "refund_amount")
    )


def build_abuse(conn: Connection, as_of: datetime | None = None) -> dict[str, pl.DataFrame]:
    """Score customers and returns for abuse as of `as_of` (default: the latest event).

    Returns the frames "abuse_customers" and "abuse_returns", ready for warehouse.derived.
    """
    when = as_of or abuse_signals.latest_event(conn)
    if when is None:
        raise ValueError("the warehouse holds no orders or returns to score for abuse")
    customers = score_customers(abuse_signals.customer_signals(conn, when))
    returns = score_returns(abuse_signals.return_signals(conn, when), customers)
    return {"abuse_customers": customers, "abuse_returns": returns}


def _top_metrics(customers: pl.DataFrame, rank: str, abusers: pl.Series,
                 share: float) -> tuple[float, float]:
    top = max(1, math.ceil(share * customers.height))
    hits = customers.filter(pl.col(rank) <= top)["customer_id"].is_in(abusers.implode()).sum()
    total = customers["customer_id"].is_in(abusers.implode()).sum()
    return hits / top, (hits / total if total else float("nan"))


def evaluate_abuse(customers: pl.DataFrame, truth_dir: Path) -> dict[str, float]:
    """Precision and recall of the top 1% of scored customers against the planted abusers.

    Recall is over the abusers among the scored customers (those who returned anything).
    Reads `truth_dir / "abusers.parquet"`: for evaluation only.
    """
    abusers = pl.read_parquet(Path(truth_dir) / "abusers.parquet")["customer_id"]
    precision, recall = _top_metrics(customers, "rank", abusers, TOP_SHARE)
    rules_precision, rules_recall = _top_metrics(customers, "rules_rank", abusers, TOP_SHARE)
    flagged = customers.filter(pl.col("flagged"))
    flag_hits = flagged["customer_id"].is_in(abusers.implode()).sum()
    scored_abusers = customers["customer_id"].is_in(abusers.implode()).sum()
    return {
        "precision_at_1pct": precision, "recall_at_1pct": recall,
        "rules_only_precision_at_1pct": rules_precision,
        "rules_only_recall_at_1pct": rules_recall,
        "flagged": float(flagged.height),
        "flagged_precision": flag_hits / flagged.height if flagged.height else float("nan"),
        "flagged_recall": flag_hits / scored_abusers if scored_abusers else float("nan"),
        "scored_customers": float(customers.height),
        "scored_abusers": float(scored_abusers),
    }
