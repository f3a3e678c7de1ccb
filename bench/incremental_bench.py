"""Incremental-run benchmark: a day's delivery of N new orders onto a big warehouse.

    .venv/bin/python bench/incremental_bench.py --shop /tmp/b1m/shop --db duckdb:////tmp/b1m/wh.duckdb
    PREFECT_API_URL=http://127.0.0.1:4200/api .venv/bin/python bench/incremental_bench.py ...

The delivery is N orders of the shop (the latest by order time) under new ids, with their
returns, carrier scans and reviews, written as new feed files in a folder of their own. Each
round copies the warehouse to a scratch file (untimed), then times `returnlens pipeline` over
the delivery as a separate process, as a scheduler would run it. With PREFECT_API_URL set the
run uses that long-lived Prefect server; without it Prefect starts its temporary server. With
--full the round before is a full load of the shop into a fresh warehouse, for comparison.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import polars as pl
import sqlalchemy as sa

RETURNLENS = Path(sys.executable).parent / "returnlens"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from warehouse.engine import reader_engine  # noqa: E402


def delivery(shop: Path, orders: int, out: Path) -> dict[str, int]:
    """Write `orders` orders of the shop under new ids, with what followed them.

    They are the latest orders placed at least 60 days before the shop's last one, so the
    delivery carries their returns, pickups and reviews as a day's files would.
    """
    lines = pl.read_parquet(shop / "orders.parquet")
    cutoff = lines["ordered_at"].max() - timedelta(days=60)
    placed = lines.group_by("order_id").agg(pl.col("ordered_at").min())
    chosen = (placed.filter(pl.col("ordered_at") <= cutoff)
              .sort("ordered_at", "order_id").tail(orders)["order_id"])
    new = pl.col("order_id").is_in(chosen.implode())
    returns = pl.read_parquet(shop / "returns.parquet").filter(new)
    scans = pl.read_parquet(shop / "carrier_scans.parquet").filter(
        pl.col("return_id").is_in(returns["return_id"].implode()))
    reviews = pl.read_parquet(shop / "reviews.parquet").filter(new)
    renamed = {
        "orders": lines.filter(new).with_columns(pl.concat_str(pl.lit("N"), "order_id")
                                                 .alias("order_id")),
        "returns": returns.with_columns(pl.concat_str(pl.lit("N"), c).alias(c)
                                        for c in ("order_id", "return_id")),
        "carrier_scans": scans.with_columns(pl.concat_str(pl.lit("N"), c).alias(c)
                                            for c in ("scan_id", "return_id")),
        "reviews": reviews.with_columns(pl.concat_str(pl.lit("N"), c).alias(c)
                                        for c in ("review_id", "order_id")),
    }
    out.mkdir(parents=True, exist_ok=True)
    for feed, frame in renamed.items():
        frame.write_parquet(out / f"{feed}_delivery.parquet")
    return {feed: frame.height for feed, frame in renamed.items()}


def timed_pipeline(source: Path, url: str) -> tuple[float, float, str]:
    """Wall seconds of `returnlens pipeline`, seconds of its run as `audit.runs` recorded it
    (gate, load, rebuild and publish, without the process's start-up), and how it rebuilt."""
    started = time.perf_counter()
    done = subprocess.run([str(RETURNLENS), "pipeline", "--source", str(source), "--db", url],
                          capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    said = " ".join(done.stderr.split())
    how = "incremental" if "incremental rebuild" in said else \
        "full" if "full rebuild" in said else "full (no plan logged)"
    with reader_engine(url).connect() as conn:
        run = conn.execute(sa.text(
            "SELECT finished_at - started_at FROM audit.runs "
            "ORDER BY started_at DESC LIMIT 1")).scalar()
    return wall, run.total_seconds(), how


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shop", type=Path, required=True, help="the shop folder loaded")
    parser.add_argument("--db", required=True, help="duckdb:/// URL of the loaded warehouse")
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--full", action="store_true", help="also time a full load")
    args = parser.parse_args()
    base = Path(args.db.removeprefix("duckdb:///"))
    prefect = os.environ.get("PREFECT_API_URL") or "temporary server per run"
    with tempfile.TemporaryDirectory(dir=base.parent) as scratch_dir:
        scratch = Path(scratch_dir)
        rows = delivery(args.shop, args.orders, scratch / "delivery")
        print(f"warehouse {base} ({base.stat().st_size / 1e6:,.0f} MB); delivery {rows}; "
              f"Prefect: {prefect}")
        if args.full:
            wall, run, how = timed_pipeline(args.shop, f"duckdb:///{scratch / 'full.duckdb'}")
            print(f"full load of the shop: {wall:.1f} s, run {run:.1f} s ({how})")
        walls = []
        for round_ in range(1, args.repeat + 1):
            target = scratch / "wh.duckdb"
            shutil.copyfile(base, target)
            for stale in scratch.glob("wh.models.duckdb"):
                stale.unlink()
            wall, run, how = timed_pipeline(scratch / "delivery", f"duckdb:///{target}")
            walls.append((wall, run))
            print(f"round {round_}: {args.orders:,} new orders in {wall:.1f} s, "
                  f"run {run:.1f} s ({how})")
        walls.sort()
        wall, run = walls[len(walls) // 2]
        print(f"median {wall:.1f} s (run {run:.1f} s), best {walls[0][0]:.1f} s")


if __name__ == "__main__":
    main()
