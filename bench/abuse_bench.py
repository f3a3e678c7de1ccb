"""Return-abuse benchmark: score a warehouse for abuse and judge the ranking against a synthetic
shop's planted abusers, beside the rules-only baseline.

    .venv/bin/returnlens generate --orders 640000 --seed 7 --out /tmp/abuse_shop
    .venv/bin/returnlens pipeline --source /tmp/abuse_shop --db duckdb:////tmp/abuse.duckdb
    .venv/bin/python bench/abuse_bench.py --db duckdb:////tmp/abuse.duckdb \
        --truth /tmp/abuse_shop/_truth

Prints the order lines scored, precision and recall at the top 1% of customers who returned
anything (the model and the rules-only baseline), the flagged count with its precision and
recall, per planted kind how many sit in the top 1%, and the time: the warehouse's signal
queries and the scoring apart.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from models import abuse
from warehouse import abuse_signals
from warehouse.engine import reader_engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="warehouse URL")
    parser.add_argument("--truth", type=Path, required=True,
                        help="the synthetic shop's _truth/ folder (evaluation only)")
    args = parser.parse_args()

    with reader_engine(args.db).connect() as conn:
        lines = conn.execute(sa.text("SELECT COUNT(*) FROM core.fct_order_lines")).scalar()
        start = time.perf_counter()
        as_of = abuse_signals.latest_event(conn)
        assert as_of is not None, "the warehouse is empty"
        signals = abuse_signals.customer_signals(conn, as_of)
        returns = abuse_signals.return_signals(conn, as_of)
        queried = time.perf_counter()
        customers = abuse.score_customers(signals)
        scored_returns = abuse.score_returns(returns, customers)
        done = time.perf_counter()

    metrics = abuse.evaluate_abuse(customers, args.truth)
    truth = pl.read_parquet(args.truth / "abusers.parquet")
    top = max(1, -(-customers.height // 100))
    by_kind = (customers.join(truth, on="customer_id", how="inner")
               .group_by("kind")
               .agg(scored=pl.len(), in_top_1pct=(pl.col("rank") <= top).sum(),
                    in_rules_top_1pct=(pl.col("rules_rank") <= top).sum(),
                    flagged=pl.col("flagged").sum())
               .sort("kind"))

    print(f"order lines in the warehouse:       {lines:,}")
    print(f"customers scored (returned any):    {customers.height:,} "
          f"({int(metrics['scored_abusers']):,} planted abusers among them)")
    print(f"returns scored:                     {scored_returns.height:,}")
    print(f"top 1%:                             {top:,} customers")
    print(f"model      precision@1% {metrics['precision_at_1pct']:.3f}  "
          f"recall@1% {metrics['recall_at_1pct']:.3f}")
    print(f"rules-only precision@1% {metrics['rules_only_precision_at_1pct']:.3f}  "
          f"recall@1% {metrics['rules_only_recall_at_1pct']:.3f}")
    print(f"flagged at the default threshold:   {int(metrics['flagged']):,}  "
          f"precision {metrics['flagged_precision']:.3f}  "
          f"recall {metrics['flagged_recall']:.3f}")
    print(f"recall ceiling at 1% (top / abusers scored): "
          f"{min(1.0, top / metrics['scored_abusers']):.3f}")
    with pl.Config(tbl_rows=10, tbl_hide_dataframe_shape=True):
        print(by_kind)
    print(f"time: signals in the warehouse {queried - start:.1f} s, "
          f"scoring {done - queried:.1f} s, total {done - start:.1f} s")


if __name__ == "__main__":
    main()
