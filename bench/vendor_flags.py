"""Vendor flags on synthetic shops: for each seed, generate a shop, load it with the pipeline,
score the vendors and print every flag beside the planted truth (evaluation only: reads the
shop's _truth/ folder).

    python bench/vendor_flags.py --orders 200000 --seeds 3 7 11 --work data/vendor_bench
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

import flows  # noqa: F401  (quiet, offline Prefect settings before prefect is imported)
from flows.pipeline import pipeline
from flows.sources.synthetic import write_shop
from models.vendors import change_date_error_days, outputs_from_warehouse
from warehouse.engine import reader_engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[3, 7, 11])
    parser.add_argument("--work", type=Path, default=Path("data/vendor_bench"))
    args = parser.parse_args()
    for seed in args.seeds:
        shop = args.work / f"shop_{args.orders}_{seed}"
        url = f"duckdb:///{args.work / f'w_{args.orders}_{seed}.duckdb'}"
        if not (shop / "orders.parquet").exists():
            write_shop(args.orders, seed, shop)
            pipeline(source=shop, db=url)
        started = time.perf_counter()
        with reader_engine(url).connect() as conn:
            card = outputs_from_warehouse(conn)["vendors_scorecard"]
        scored = time.perf_counter() - started
        truth = pl.read_parquet(shop / "_truth" / "defective_vendors.parquet")
        found = change_date_error_days(card, truth)
        planted = truth["vendor_id"].to_list()
        others = card.filter(pl.col("flagged") & ~pl.col("vendor_id").is_in(planted))
        runner_up = card.filter(~pl.col("flagged")).sort("p_excess").row(0, named=True)
        print(f"seed {seed}: {card.height} vendor-category pairs scored in {scored:.1f} s")
        for row in found.iter_rows(named=True):
            print(f"  planted {row['vendor_id']} from {row['defect_start']}: flagged "
                  f"{row['flagged']}, change date {row['change_date']}, error "
                  f"{row['error_days']} days")
        print(f"  other vendors flagged: {others['vendor_id'].to_list() or 'none'}; most "
              f"suspect unflagged {runner_up['vendor_id']} p_excess {runner_up['p_excess']:.4f}"
              f" (threshold {card['alpha'][0] / card.height:.1e})")


if __name__ == "__main__":
    main()
