"""The training flow: features from the warehouse, the return-risk model judged on a time split,
the returns reserve and its backtest, the abuse scores; a versioned model on disk and every
output published to the warehouse's `models` schema.

Orchestration only: the work is in `warehouse.features` (SQL) and `models/` (the statistics).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from models import registry, reserve, return_risk, risk_outputs
from warehouse import derived, read
from warehouse.engine import reader_engine, warehouse_exists
from warehouse.features import line_features
from warehouse.settings import Settings, database_url

log = logging.getLogger("returnlens")

BACKTEST_CUTS = 6


@dataclass
class TrainSummary:
    """What a training run produced: metrics (the CLI's --json), the model folder, the outputs."""

    metrics: dict[str, Any]
    model_dir: Path
    version: str
    snapshot: str | None
    published: dict[str, str]


@task(cache_policy=NO_CACHE)
def build_features(url: str) -> tuple[pl.DataFrame, str | None]:
    """Every order line's point-in-time features (SQL in the warehouse) and the data snapshot."""
    with reader_engine(url).connect() as conn:
        features = line_features(conn)
        snapshot = read.runs.latest_run_id(conn)
    if features.is_empty():
        raise ValueError(f"the warehouse at {url} has no order lines; run the pipeline first")
    return return_risk.prepare(features), snapshot


@task(cache_policy=NO_CACHE)
def evaluate_return_risk(prepared: pl.DataFrame, cut: datetime,
                         params: return_risk.Params) -> return_risk.Trained:
    """Train on the old lines, calibrate on the next, judge on the newest, beside baselines."""
    return return_risk.train(prepared, cut, params)


@task(cache_policy=NO_CACHE)
def train_scoring_model(prepared: pl.DataFrame, cut: datetime,
                        params: return_risk.Params) -> return_risk.Trained:
    """The model that scores open lines: every labelled line, the newest ones for calibration."""
    return return_risk.fit_latest(prepared, cut, params)


@task(cache_policy=NO_CACHE)
def backtest_reserve(prepared: pl.DataFrame, params: return_risk.Params,
                     cuts: int) -> pl.DataFrame:
    """Cut the history at month ends, retrain at each, predict the reserve, compare."""
    found = reserve.month_end_cuts(prepared, cuts)
    if not found:
        return pl.DataFrame()
    return reserve.backtest(prepared, params, found)


@task(cache_policy=NO_CACHE)
def score_abuse(url: str) -> dict[str, pl.DataFrame]:
    """Abuse scores per customer and per return (rules and anomaly signals, no labels)."""
    from models import abuse

    with reader_engine(url).connect() as conn:
        return abuse.build_abuse(conn)


@task(cache_policy=NO_CACHE)
def publish_outputs(url: str, output: str, tables: dict[str, pl.DataFrame],
                    params: dict[str, Any], metrics: dict[str, Any],
                    snapshot: str | None) -> str:
    """Write one output's tables to the models schema, all at once."""
    return derived.publish(url, output, tables, params=params, metrics=metrics,
                           snapshot=snapshot)


def _truth_metrics(truth: Path, trained: return_risk.Trained,
                   customers: pl.DataFrame) -> dict[str, Any]:
    """Bayes ceiling of the test lines and the abuse precision, from a synthetic `_truth/`."""
    from models import abuse

    found = return_risk.bayes_roc_auc(trained.test_scores,
                                      pl.read_parquet(truth / "return_probability.parquet"))
    fraud = abuse.evaluate_abuse(customers, truth)
    return {"bayes_roc_auc": found, "fraud": fraud}


@flow(name="returnlens-train", log_prints=False)
def train(db: str | None = None, seed: int = 7, truth: Path | None = None,
          test_from: date | None = None, backtest_cuts: int = BACKTEST_CUTS,
          models_dir: Path | None = None) -> TrainSummary:
    """Build features, train and judge the return-risk model, backtest the reserve, score abuse,
    save the model and publish every output."""
    url = database_url(db)
    if not warehouse_exists(url):
        raise ValueError(f"no warehouse at {url}: run `returnlens pipeline --source DIR` first")
    params = return_risk.Params(seed=seed, test_from=test_from)
    prepared, snapshot = build_features(url)
    cut = return_risk.snapshot_time(prepared)
    judged = evaluate_return_risk(prepared, cut, params)
    scorer = train_scoring_model(prepared, cut, params)
    backtest = backtest_reserve(prepared, params, backtest_cuts)
    abuse_tables = score_abuse(url)

    version = registry.new_version(snapshot, seed)
    metrics = risk_outputs.summary_metrics(judged, scorer, backtest)
    truth_found = _truth_metrics(truth, judged, abuse_tables["abuse_customers"]) if truth else None
    metrics = risk_outputs.with_truth(metrics, truth_found)
    folder = registry.save(models_dir or Settings().data_dir / "models", version, scorer.model, {
        "trained_at": datetime.now().isoformat(timespec="seconds"), "snapshot": snapshot,
        "cut": cut.isoformat(), "params": params.as_dict(), "metrics": metrics,
        "scoring_lines": scorer.metrics,
    })
    tables = risk_outputs.risk_tables(prepared, judged, scorer, backtest, cut, version)
    published = {
        "risk": publish_outputs(url, "risk", tables, {**params.as_dict(), "version": version,
                                                      "model_dir": str(folder)},
                                metrics, snapshot),
        "abuse": publish_outputs(url, "abuse", abuse_tables, {"seed": seed},
                                 metrics["fraud"],
                                 snapshot),
    }
    log.info("trained return-risk model %s on snapshot %s", version, snapshot)
    return TrainSummary(metrics, folder, version, snapshot, published)


@flow(name="returnlens-score", log_prints=False)
def score(db: str | None = None, models_dir: Path | None = None) -> dict[str, Any]:
    """Score the open order lines with the latest saved model and publish their scores."""
    url = database_url(db)
    folder = registry.latest(models_dir or Settings().data_dir / "models")
    if folder is None:
        raise FileNotFoundError("no saved model: run `returnlens train` first")
    model, metadata = registry.load(folder)
    prepared, snapshot = build_features(url)
    cut = return_risk.snapshot_time(prepared)
    with reader_engine(url).connect() as conn:
        trained = read.risk.model_card(conn)
        kept = {t: read.risk.risk_table(conn, t) for t in risk_outputs.CARD_TABLES} \
            if trained else {}
        reserve_rows = read.risk.risk_table(conn, "risk_reserve") if trained else pl.DataFrame()
    backtest_rows = reserve_rows.filter(pl.col("kind") == "backtest").drop("kind") \
        if not reserve_rows.is_empty() else reserve_rows
    tables = risk_outputs.scoring_tables(prepared, model, cut, backtest_rows)
    lines = tables["risk_line_scores"]
    publish_outputs(url, "risk", {**tables, **{t: f for t, f in kept.items() if f.width}},
                    {**metadata["params"], "version": metadata["version"],
                     "model_dir": str(folder), "scored_only": True},
                    metadata["metrics"], snapshot)
    return {"version": metadata["version"], "snapshot": snapshot, "lines_scored": lines.height,
            "expected_units": float(lines["expected_units"].sum()),
            "as_of": cut.isoformat()}
