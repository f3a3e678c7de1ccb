"""Real-data benchmark: the full Online Retail II 2009–2010 sheet through the online-retail-ii
adapter and the real Prefect pipeline into a fresh DuckDB warehouse.

    .venv/bin/python bench/real_data_bench.py
    .venv/bin/python bench/real_data_bench.py --source path/to/online_retail_II.xlsx

Prints, each timed apart: the adapter alone (read, classify, link, write feeds), the temporary
Prefect server's start-up, the whole flow (adapter + quality gate + load + marts), and reading
the KPIs back. The target is the flow under 30 s once Prefect is up.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import flows  # noqa: F401  (quiet, offline Prefect settings before prefect is imported)
from flows.pipeline import pipeline
from flows.sources import get_adapter
from warehouse import read
from warehouse.engine import reader_engine

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = (REPO / ".." / "shared" / "data" / "online_retail_ii"
                  / "online_retail_ii_2009_2010.parquet").resolve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=DEFAULT_SOURCE,
                        help="Online Retail II file or folder (default: the 2009-2010 sheet)")
    args = parser.parse_args()
    if not args.source.exists():
        sys.exit(f"no data at {args.source}: the public datasets live in ../shared/data")

    with tempfile.TemporaryDirectory(prefix="rl-real-bench-") as tmp:
        work = Path(tmp)
        os.environ["RETURNLENS_DATA_DIR"] = str(work / "data")
        from prefect import flow

        figures: list[tuple[str, float, str]] = []
        t = time.perf_counter()
        report = get_adapter("online-retail-ii")(args.source, work / "adapter-only")
        figures.append(("adapter only", time.perf_counter() - t,
                        f"{report.notes['invoice_lines'].split()[0]} lines → "
                        f"{report.notes['sale_lines'].split(' (')[0]} sale lines; linked "
                        f"{report.notes['return_lines_linked'].split(' →')[0]}"))

        @flow
        def noop() -> None:
            """Start the temporary Prefect server, so that its start-up is timed apart."""

        t = time.perf_counter()
        noop()
        figures.append(("Prefect start-up", time.perf_counter() - t, "not part of the target"))

        url = f"duckdb:///{work / 'online_retail.duckdb'}"
        t = time.perf_counter()
        summary = pipeline(source=args.source, db=url, source_kind="online-retail-ii")
        flow_s = time.perf_counter() - t
        rows_read = summary.total("rows_read")
        figures.append(("pipeline flow", flow_s,
                        f"{rows_read:,} feed rows read, {summary.total('rows_loaded'):,} "
                        f"loaded, {summary.total('rows_quarantined'):,} quarantined; "
                        f"{rows_read / flow_s:,.0f} rows/s; target < 30 s: "
                        f"{'met' if flow_s < 30 else 'missed'}"))

        t = time.perf_counter()
        with reader_engine(url).connect() as conn:
            kpis = read.kpis.kpis(conn)
        figures.append(("read KPIs", time.perf_counter() - t,
                        f"orders {kpis['orders']:,}, units sold {kpis['units_sold']:,}, "
                        f"units returned {kpis['units_returned']:,}"))

    print(f"source: {args.source}")
    print(f"{'stage':<18} {'wall s':>8}  figures")
    for stage, seconds, note in figures:
        print(f"{stage:<18} {seconds:>8.2f}  {note}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    for f in summary.files:
        print(f"  {f.feed:<9} read {f.rows_read:>9,}  loaded {f.rows_loaded:>9,}  "
              f"quarantined {f.rows_quarantined:>7,}")


if __name__ == "__main__":
    main()
