"""How close can a return-risk model get to the Bayes ceiling knowing only the past?

    .venv/bin/python bench/knowable_ceiling.py --db duckdb:///data/big/wh.duckdb \
        --orders 620000 --shop-seed 3

Evaluation only: it re-runs the synthetic generator (same orders and seed as the shop in the
warehouse) to read its internals, which product code never does. The Bayes ceiling of issue 10
is the ROC-AUC of each line's true return probability, which contains each customer's personal
propensity (normal, sd 0.5 in log-odds): something no model can see at ordering time, only
infer from the customer's returns so far. This script computes, on the model's own test lines:

- the Bayes ceiling (true probabilities);
- a **knowable ceiling**: the generator's own formula with everything it knows about the line
  (category, price, size and fit, delivery, vendor defect, abuse kind, policy) except the
  customer's propensity, which is averaged over its posterior given what the shop had seen of
  that customer before the order (which of their latest 500 earlier delivered lines they had
  asked to return by then, and which not yet). It knows more than any model can (true product
  fit, the abuse kind, the defect), so it is an upper bound of what a model of past data
  reaches;
- the same formula with the propensity at its prior (what is knowable of a first-time buyer);
- the trained model (`models.return_risk`, as `returnlens train` judges it);
- what more information would buy the model: its score stacked (a logistic regression fitted
  on the test lines themselves, in-sample, so optimistic) with the posterior-mean propensity
  above, then with the true abuse kind, product fit and vendor defect of every customer with
  an earlier line, then of every customer. Where even the second falls short of the bar of
  issue 10 (0.02 under the Bayes ceiling), no model of order-time data can meet it.
"""

from __future__ import annotations

import argparse
from unittest import mock

import numpy as np
import polars as pl
from scipy import stats
from scipy.special import logit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from flows.sources.synthetic import propensity, simulate, slices
from flows.sources.synthetic.catalogue import SERIAL, WARDROBING
from models import return_risk
from warehouse.engine import reader_engine
from warehouse.features import line_features

PROPENSITY_MEAN, PROPENSITY_SD = -0.1, 0.5  # flows/sources/synthetic/catalogue.py `customers`
TARGET_CHUNK = 2_000  # test lines whose earlier lines are paired at once
HISTORY_LINES = 500


def line_components(n_orders: int, seed: int) -> pl.DataFrame:
    """Every line of the shop with its true probability split into the customer's propensity
    and the rest, and what the shop could see of it (order, delivery, return request days)."""
    recorded: list[dict[str, np.ndarray]] = []

    def recording_decide(world, rng, demand):  # noqa: ANN001, ANN202
        found = propensity.decide(world, rng, demand)  # the same draws as the shop's
        lines = demand.lines
        own = world.customers.propensity[lines.customer]
        abuse = world.customers.abuse[lines.customer]
        multi_size = lines.n_sizes > 1
        extreme = multi_size & ((lines.size == 0) | (lines.size == lines.n_sizes - 1))
        logit = propensity.intent_logit(world, demand) + propensity.policy_logit(
            found.terms, lines.defect_active)
        in_window = stats.gamma.cdf(found.terms.window, propensity.LAG_SHAPE,
                                    scale=propensity.LAG_SCALE)
        factor = in_window + propensity.rush_share(found.terms.window) * (1 - in_window)
        recorded.append({
            "customer": lines.customer, "day": lines.day, "delivered": lines.delivered,
            "window": found.terms.window.astype(float), "logit_wo_propensity": logit - own,
            "propensity": own, "factor": np.where(np.isnan(lines.delivered), 0.0, factor),
            "returned": found.returned, "request_day": found.request_day,
            # the terms of intent_logit a model can only infer: abuse kind, fit, defect
            "serial": abuse == SERIAL, "wardrobing": (abuse == WARDROBING) & multi_size,
            "claims": abuse >= 2, "fit": (lines.fit != 0) & multi_size, "extreme": extreme,
            "defect": lines.defect_active,
        })
        return found

    parts = []
    with mock.patch.object(slices, "decide", recording_decide):
        for shop in simulate(n_orders, seed):
            truth = shop.truth["return_probability"]
            parts.append(truth.hstack(pl.DataFrame(recorded[-1])))
    frame = pl.concat(parts)
    rebuilt = _sigmoid(frame["logit_wo_propensity"].to_numpy() + frame["propensity"].to_numpy()) \
        * frame["factor"].to_numpy()
    if not np.allclose(rebuilt, frame["p_return"].to_numpy()):
        raise RuntimeError("the generator's formula changed: update this script")
    return frame


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def knowable_probabilities(lines: pl.DataFrame, targets: pl.DataFrame,
                           grid_points: int = 41
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per target line: the true formula with the customer's propensity averaged over its
    posterior given their earlier delivered lines (returned before the order, or not yet; the
    latest HISTORY_LINES of them), the same at its prior (no history), and the posterior's
    mean propensity."""
    grid = np.linspace(PROPENSITY_MEAN - 4 * PROPENSITY_SD, PROPENSITY_MEAN + 4 * PROPENSITY_SD,
                       grid_points)
    log_prior = stats.norm.logpdf(grid, PROPENSITY_MEAN, PROPENSITY_SD)
    lines = lines.with_columns(rank=pl.col("day").rank("ordinal").over("customer"))
    targets = targets.join(lines.select("order_id", "line_id", "rank"),
                           on=["order_id", "line_id"], maintain_order="left").with_row_index(
        "target")
    earlier = lines.filter(pl.col("factor") > 0).select(
        "customer", "rank", "delivered", "window", "logit_wo_propensity", "factor",
        returned_at=pl.when(pl.col("returned")).then(pl.col("request_day")))
    loglik = np.zeros((targets.height, grid_points))
    for start in range(0, targets.height, TARGET_CHUNK):
        # each test line against its customer's HISTORY_LINES latest earlier lines: a buyer
        # with 80,000 lines would pair with all of them, and 500 already pin the propensity
        chunk = targets.slice(start, TARGET_CHUNK).select(
            "target", "customer", t="day", offset=pl.int_ranges(1, HISTORY_LINES + 1),
            base="rank").explode("offset").with_columns(
            rank=pl.col("base") - pl.col("offset")).join(
            earlier, on=["customer", "rank"]).filter(pl.col("delivered") < pl.col("t"))
        if chunk.is_empty():
            continue
        since = (chunk["t"] - chunk["delivered"]).to_numpy()
        factor = chunk["factor"].to_numpy()
        # chance an intended return is requested within `since` days of delivery
        seen_share = np.where(since >= chunk["window"].to_numpy(), 1.0, np.minimum(
            1.0, stats.gamma.cdf(since, propensity.LAG_SHAPE, scale=propensity.LAG_SCALE)
            / factor))
        p = _sigmoid(chunk["logit_wo_propensity"].to_numpy()[:, None] + grid[None, :]) \
            * factor[:, None]
        returned = (chunk["returned_at"].fill_null(np.inf) < chunk["t"]).to_numpy()
        ll = np.where(returned[:, None], np.log(p), np.log1p(-p * seen_share[:, None]))
        np.add.at(loglik, chunk["target"].to_numpy(), ll)
    log_post = loglik + log_prior
    post = np.exp(log_post - log_post.max(axis=1, keepdims=True))
    post /= post.sum(axis=1, keepdims=True)
    prior = np.exp(log_prior - log_prior.max())
    prior /= prior.sum()
    own = _sigmoid(targets["logit_wo_propensity"].to_numpy()[:, None] + grid[None, :]) \
        * targets["factor"].to_numpy()[:, None]
    return (own * post).sum(axis=1), own @ prior, post @ grid


INFERRED_TERMS = ("serial", "wardrobing", "claims", "fit", "extreme", "defect")


def stacked_auc(y: np.ndarray, columns: list[np.ndarray]) -> float:
    """ROC-AUC of a logistic regression on `columns`, fitted and judged on the same lines: an
    optimistic figure of what the columns together could rank."""
    x = np.column_stack(columns)
    return float(roc_auc_score(y, LogisticRegression(max_iter=1000).fit(x, y)
                               .decision_function(x)))


def information_budget(targets: pl.DataFrame) -> list[tuple[str, float]]:
    """The model's ROC-AUC with more and more of what it can only infer handed to it."""
    y = targets["label"].to_numpy()
    score = logit(np.clip(targets["score"].to_numpy(), 1e-9, 1 - 1e-9))
    posterior = targets["posterior_propensity"].to_numpy()
    seen = (targets["cust_prior_lines"].to_numpy() > 0).astype(float)
    terms = [targets[t].to_numpy().astype(float) for t in INFERRED_TERMS]
    return [
        ("model", float(roc_auc_score(y, score))),
        ("+ posterior propensity", stacked_auc(y, [score, posterior])),
        ("+ abuse kind, fit, defect of customers seen before",
         stacked_auc(y, [score, posterior, *(t * seen for t in terms)])),
        ("+ the same of every customer", stacked_auc(y, [score, posterior, *terms])),
    ]


def main() -> None:
    """Train as `returnlens train` judges, then compare the model with both ceilings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="the warehouse of the synthetic shop")
    parser.add_argument("--orders", type=int, required=True, help="the shop's --orders")
    parser.add_argument("--shop-seed", type=int, required=True, help="the shop's --seed")
    parser.add_argument("--seed", type=int, default=7, help="the model's seed")
    args = parser.parse_args()

    with reader_engine(args.db).connect() as conn:
        prepared = return_risk.prepare(line_features(conn))
    judged = return_risk.train(prepared, return_risk.snapshot_time(prepared),
                               return_risk.Params(seed=args.seed))
    history = prepared.select("order_id", "line_id", "cust_prior_lines")
    test = judged.test_scores.join(history, on=["order_id", "line_id"])
    lines = line_components(args.orders, args.shop_seed)
    targets = test.join(lines, on=["order_id", "line_id"], how="inner")
    if targets.height != test.height:
        raise ValueError(f"{targets.height} of {test.height} test lines found in the "
                         "regenerated shop: are --orders and --shop-seed the warehouse's shop?")
    knowable, first_time, posterior = knowable_probabilities(lines, targets)
    targets = targets.with_columns(knowable=pl.Series(knowable),
                                   first_time=pl.Series(first_time),
                                   posterior_propensity=pl.Series(posterior))
    rows = [("all test lines", targets)] + [
        (name, targets.filter(cond)) for name, cond in (
            ("no earlier line", pl.col("cust_prior_lines") == 0),
            ("1-3 earlier lines", pl.col("cust_prior_lines").is_between(1, 3)),
            ("4+ earlier lines", pl.col("cust_prior_lines") >= 4))]
    print(f"{'test lines':<20}{'lines':>9}{'Bayes':>8}{'knowable':>10}{'prior only':>12}"
          f"{'model':>8}{'Bayes-model':>13}{'knowable-model':>16}")
    for name, part in rows:
        y = part["label"].to_numpy()
        auc = {c: roc_auc_score(y, part[c].to_numpy())
               for c in ("p_return", "knowable", "first_time", "score")}
        print(f"{name:<20}{part.height:>9,}{auc['p_return']:>8.4f}{auc['knowable']:>10.4f}"
              f"{auc['first_time']:>12.4f}{auc['score']:>8.4f}"
              f"{auc['p_return'] - auc['score']:>13.4f}{auc['knowable'] - auc['score']:>16.4f}")
    bayes = roc_auc_score(targets["label"].to_numpy(), targets["p_return"].to_numpy())
    print(f"\n{'all test lines, stacked in-sample':<52}{'ROC-AUC':>9}{'Bayes-it':>10}")
    for name, auc_ in information_budget(targets):
        print(f"{name:<52}{auc_:>9.4f}{bayes - auc_:>10.4f}")


if __name__ == "__main__":
    main()
