"""The tables and metrics a training run publishes as output "risk": line scores, high-risk SKUs
and customers, the model card (metrics, calibration, importances) and the reserve."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import polars as pl
from sklearn.calibration import CalibratedClassifierCV

from models import reserve, return_risk

TOP_ROWS = 200
MIN_SKU_LINES = 5
RESERVE_COLUMNS = ("as_of", "open_lines", "expected_lines", "expected_units", "units_low",
                   "units_high", "expected_refund", "refund_low", "refund_high")
FRAUD_NOTE = ("no abuse labels without --truth: the abuse scores are rules and anomaly signals; "
              "precision and recall need a synthetic shop's _truth/ folder")


def line_scores(prepared: pl.DataFrame, model: CalibratedClassifierCV,
                cut: datetime) -> pl.DataFrame:
    """Every line still inside its return window at `cut`: its return probability, the chance it
    still comes back after `cut`, and the units and refund that would bring."""
    known = return_risk.label_as_of(prepared, cut)
    labelled = known.filter(pl.col("labelled"))
    open_lines = known.filter(~pl.col("labelled") & ~pl.col("rto_by_cut"))
    p = return_risk.predict(model, open_lines)
    not_yet = ~open_lines["returned_by_cut"].to_numpy()
    q = np.zeros(open_lines.height)
    pending = open_lines.filter(pl.col("returned_by_cut").not_())
    q[not_yet] = reserve.still_to_come(pending, p[not_yet], reserve.lag_curves(labelled), cut)
    units_per_return, refund_per_value = reserve.return_sizes(labelled)
    return open_lines.select(
        "order_id", "line_id", "customer_id", "sku", "product_name", "category", "ordered_at",
        "quantity", "net_value", "window_closes_at", "returned_by_cut",
    ).with_columns(
        p_return=pl.Series(p, dtype=pl.Float64),
        p_still_to_come=pl.Series(q, dtype=pl.Float64),
    ).with_columns(
        expected_units=pl.col("p_still_to_come") * pl.col("quantity") * units_per_return,
        expected_refund=pl.col("p_still_to_come") * pl.col("net_value") * refund_per_value,
    ).sort("p_return", descending=True)


def high_risk_skus(scores: pl.DataFrame) -> pl.DataFrame:
    """SKUs of the open lines ranked by mean return probability (at least MIN_SKU_LINES)."""
    return scores.group_by("sku").agg(
        product_name=pl.col("product_name").first(), category=pl.col("category").first(),
        open_lines=pl.len(), mean_p_return=pl.col("p_return").mean(),
        expected_units=pl.col("expected_units").sum(),
        expected_refund=pl.col("expected_refund").sum(),
    ).filter(pl.col("open_lines") >= MIN_SKU_LINES) \
        .sort(["mean_p_return", "sku"], descending=[True, False]).head(TOP_ROWS)


def high_risk_customers(scores: pl.DataFrame, prepared: pl.DataFrame) -> pl.DataFrame:
    """Customers with the most units expected back from their open lines, with their history."""
    history = prepared.sort("ordered_at").group_by("customer_id").agg(
        prior_lines=pl.col("cust_prior_lines").last(),
        prior_returns=pl.col("cust_prior_returns").last(),
    )
    return scores.group_by("customer_id").agg(
        open_lines=pl.len(), mean_p_return=pl.col("p_return").mean(),
        expected_units=pl.col("expected_units").sum(),
        expected_refund=pl.col("expected_refund").sum(),
    ).join(history, on="customer_id", how="left") \
        .sort(["expected_units", "customer_id"], descending=[True, False]).head(TOP_ROWS)


def model_metrics(judged: return_risk.Trained) -> pl.DataFrame:
    """The model and each baseline on the test period: ROC-AUC, PR-AUC and Brier score."""
    name = ("gradient_boosting_calibrated" if judged.metrics["blend_weight"] == 1.0
            else "blend_calibrated")
    rows = [{"model": name, **{k: judged.metrics[k] for k in ("roc_auc", "pr_auc", "brier")}}]
    rows += [{"model": name, **values} for name, values in judged.baselines.items()]
    return pl.DataFrame(rows).with_columns(lines_test=pl.lit(judged.metrics["lines_test"]))


def summary_metrics(judged: return_risk.Trained, scorer: return_risk.Trained,
                    backtest: pl.DataFrame) -> dict[str, Any]:
    """The run's headline figures, nested as the CLI's --json prints them; `blend_weight` is
    the judged model's, `scoring_blend_weight` that of the model saved to score with."""
    keep = ("roc_auc", "pr_auc", "brier", "baseline_roc_auc", "best_baseline", "lines_train",
            "lines_valid", "lines_test", "return_rate_test", "train_from", "test_from",
            "test_to", "blend_weight")
    risk = {k: judged.metrics[k] for k in keep}
    risk["baselines"] = judged.baselines
    risk["scoring_blend_weight"] = scorer.metrics["blend_weight"]
    found = {"backtest_mape": None, "cuts": 0}
    if not backtest.is_empty():
        found = {"backtest_mape": float(backtest["units_ape"].mean()),
                 "refund_backtest_mape": float(backtest["refund_ape"].mean()),
                 "interval_coverage": float(backtest["inside_interval"].mean()),
                 "cuts": backtest.height}
    return {"return_risk": risk, "reserve": found,
            "fraud": {"precision_at_1pct": None, "recall_at_1pct": None,
                      "rules_only_precision_at_1pct": None, "note": FRAUD_NOTE}}


def with_truth(metrics: dict[str, Any], truth: dict[str, Any] | None) -> dict[str, Any]:
    """`metrics` with the figures only a synthetic shop's truth can give (when given)."""
    if truth is None:
        return metrics
    return {**metrics, "return_risk": {**metrics["return_risk"],
                                       "bayes_roc_auc": truth["bayes_roc_auc"]},
            "fraud": {**truth["fraud"], "note": "judged against _truth/abusers.parquet"}}


def scoring_tables(prepared: pl.DataFrame, model: CalibratedClassifierCV, cut: datetime,
                   backtest_rows: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The tables a model's scoring of the open lines at `cut` gives: line scores, high-risk SKUs
    and customers, and the reserve (the current row after the backtest's `backtest_rows`)."""
    scores = line_scores(prepared, model, cut)
    # the current row has no outcome yet; a reserve without backtest rows keeps the columns
    current = pl.DataFrame([{**reserve.reserve_with(model, prepared, cut), "kind": "current"}])
    reserve_rows = reserve.widened(current, reserve.model_error(backtest_rows)).with_columns(
        actual_units=pl.lit(None, pl.Float64), actual_refund=pl.lit(None, pl.Float64),
        actual_lines=pl.lit(None, pl.Float64))
    if not backtest_rows.is_empty():
        past = backtest_rows.with_columns(kind=pl.lit("backtest"))
        reserve_rows = pl.concat([past, reserve_rows], how="diagonal_relaxed")
    return {
        "risk_line_scores": scores,
        "risk_skus": high_risk_skus(scores),
        "risk_customers": high_risk_customers(scores, prepared),
        "risk_reserve": reserve_rows.sort("as_of"),
    }


def risk_tables(prepared: pl.DataFrame, judged: return_risk.Trained,
                scorer: return_risk.Trained, backtest: pl.DataFrame, cut: datetime,
                version: str) -> dict[str, pl.DataFrame]:
    """Every table of output "risk": the scoring tables and the model card."""
    past = pl.DataFrame()
    if not backtest.is_empty():
        columns = [*RESERVE_COLUMNS, "actual_units", "actual_refund", "actual_lines"]
        past = backtest.select(columns)
    return {
        **scoring_tables(prepared, scorer.model, cut, past),
        "risk_metrics": model_metrics(judged).with_columns(version=pl.lit(version)),
        "risk_calibration": judged.calibration,
        "risk_importances": judged.importances,
        "risk_reserve_backtest": backtest if not backtest.is_empty()
        else pl.DataFrame({"as_of": [], "units_ape": []},
                          schema={"as_of": pl.Datetime("us"), "units_ape": pl.Float64}),
    }


CARD_TABLES = ("risk_metrics", "risk_calibration", "risk_importances", "risk_reserve_backtest")
"""The tables a training publishes that scoring leaves as they are."""
