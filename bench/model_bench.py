"""Return-risk benchmark: training time at a warehouse's size and scoring 100k lines.

    .venv/bin/python bench/model_bench.py --db duckdb:///data/big/wh.duckdb

Prints, for the warehouse given (build one with `returnlens generate --orders 620000` and
`returnlens pipeline`: ~975k order lines):
- features: the point-in-time features in SQL (warehouse.features) and their preparation;
- train: the judged model (boosting, blended with a logistic model by the weight the
  validation period picks, Platt calibration, three baselines, permutation
  importances) and the scoring model (everything labelled), i.e. what `returnlens train` does
  before the reserve backtest;
- score: the saved model's probabilities for 100,000 prepared lines.
Wall time and this process's CPU time are both printed: on a shared machine the wall time
includes waiting for the CPU.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

from models import return_risk
from warehouse.engine import reader_engine
from warehouse.features import line_features


def _timed(label: str, func, *args):  # noqa: ANN001, ANN202
    wall, cpu = time.perf_counter(), time.process_time()
    result = func(*args)
    print(f"{label:<34} wall {time.perf_counter() - wall:7.1f} s   "
          f"cpu {time.process_time() - cpu:7.1f} s")
    return result, time.perf_counter() - wall


def main() -> None:
    """Time features, training and scoring on the warehouse at --db."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--score-lines", type=int, default=100_000)
    parser.add_argument("--truth", type=Path, help="a synthetic shop's _truth/: print the "
                        "Bayes ceiling of the test lines beside the model")
    args = parser.parse_args()
    params = return_risk.Params(seed=args.seed)

    def features() -> pl.DataFrame:
        with reader_engine(args.db).connect() as conn:
            return line_features(conn)

    raw, t_sql = _timed("features (SQL)", features)
    prepared, t_prep = _timed("features (prepare)", return_risk.prepare, raw)
    cut = return_risk.snapshot_time(prepared)
    judged, t_judged = _timed("train + judge (baselines, importances)", return_risk.train,
                              prepared, cut, params)
    scorer, t_scorer = _timed("train scoring model", return_risk.fit_latest, prepared, cut,
                              params)
    known = return_risk.label_as_of(prepared, cut)  # the delivery as known at the cut
    sample = known.sample(n=args.score_lines, with_replacement=known.height
                          < args.score_lines, seed=args.seed)
    _, t_score = _timed(f"score {args.score_lines:,} lines", scorer.predict, sample)
    total = t_sql + t_prep + t_judged + t_scorer
    print(f"\norder lines {prepared.height:,}; labelled train/valid/test "
          f"{judged.metrics['lines_train']:,}/{judged.metrics['lines_valid']:,}/"
          f"{judged.metrics['lines_test']:,}")
    print(f"training (features + judged + scoring model): {total:.1f} s wall")
    print(f"scoring {args.score_lines:,} lines: {t_score:.2f} s wall")
    print(f"boosting's weight in the blend: judged model {judged.metrics['blend_weight']:.1f}, "
          f"scoring model {scorer.metrics['blend_weight']:.1f}")
    print(f"test ROC-AUC {judged.metrics['roc_auc']:.4f}, best baseline "
          f"{judged.metrics['baseline_roc_auc']:.4f} ({judged.metrics['best_baseline']})")
    for name, found in judged.baselines.items():
        print(f"  baseline {name:<14} ROC-AUC {found['roc_auc']:.4f}")
    if args.truth:
        truth = pl.read_parquet(args.truth / "return_probability.parquet")
        print(f"Bayes ceiling (true probabilities, same test lines) "
              f"{return_risk.bayes_roc_auc(judged.test_scores, truth):.4f}")


if __name__ == "__main__":
    main()
