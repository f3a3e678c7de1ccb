"""Pipeline benchmark: wall time, peak memory and rows/s per stage, against a bare-DuckDB floor.

    .venv/bin/python bench/pipeline_bench.py                 # 100k and 1M order lines
    .venv/bin/python bench/pipeline_bench.py --lines 10000000

Each stage runs in its own process so that its peak RSS is its own:
- generate: the synthetic shop, written as Parquet;
- ingest: every feed file read, typed, validated by the quality gate (Great Expectations) and
  merged into raw tables (no Prefect); the gate's own time and rows/s per feed are printed;
- transform: staging → core → marts;
- pipeline: the real Prefect flow (ingest + transform in one write session) into a fresh
  warehouse, with the temporary Prefect server's start-up timed apart;
- floor: the same KPIs computed by bare DuckDB SQL straight over the Parquet files;
- floor_load: bare DuckDB copying the Parquet feeds into a database file, then the KPIs: what
  any persistent warehouse must at least do.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

LINES_PER_ORDER = 1.57  # measured mean of the synthetic shop

STAGES = {
    "generate": """
from flows.sources.synthetic import write_shop
rows = sum(write_shop(N_ORDERS, 1, SHOP).values())
""",
    "ingest": """
import time
from flows.conform import discover, read_batches
from flows.quality import gate, horizon_now
from warehouse import load
from warehouse.engine import write_session
from warehouse.settings import Settings
opened, horizon = Settings().shop_opened_on, horizon_now()
rows = 0
validate = {}
with write_session(URL) as conn:
    load.ensure_schema(conn)
    for source in discover(SHOP):
        load.start_staging(conn, source.feed)
        read, spent = 0, 0.0
        for batch in read_batches(source, opened, horizon):
            t = time.perf_counter()
            checked = gate(source.feed, load.lookup_parents(conn, source.feed, batch.typed),
                           batch.type_issues, opened, horizon)
            spent += time.perf_counter() - t
            read += batch.rows_read
            load.stage_rows(conn, source.feed, checked.good)
        validate[source.feed.name] = (read, spent)
        rows += load.merge_staged(conn, source.feed, source.path.name, "bench")[0]
extra["validate_s"] = round(sum(t for _, t in validate.values()), 2)
extra["validate_rows_per_s"] = {k: round(n / t) for k, (n, t) in validate.items()
                                if n > 10_000}
""",
    "transform": """
from warehouse.engine import write_session
from warehouse.transform import LAYERS, build_layer
from warehouse import read
with write_session(URL) as conn:
    for layer in LAYERS:
        build_layer(conn, layer)
    rows = read.runs.table_row_counts(conn)["core.fct_order_lines"]
""",
    "pipeline": """
import time
from prefect import flow
from flows.pipeline import pipeline

@flow
def noop() -> None:
    pass

t = time.perf_counter()
noop()
extra["prefect_startup_s"] = round(time.perf_counter() - t, 2)
t = time.perf_counter()
summary = pipeline(source=SHOP, db=URL2)
extra["flow_s"] = round(time.perf_counter() - t, 2)
rows = summary.total("rows_loaded")
""",
    "floor_load": """
import duckdb
con = duckdb.connect(str(Path(URL.removeprefix("duckdb:///")).with_name("floor.duckdb")))
for name in ("orders", "returns", "carrier_scans", "reviews", "products"):
    con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_parquet('{SHOP}/{name}.parquet')")
rows = con.sql("SELECT count(*) FROM orders").fetchall()[0][0]
con.sql('''
    SELECT count(DISTINCT o.order_id), sum(o.quantity), sum(r.quantity), sum(r.refund_amount)
    FROM orders o LEFT JOIN returns r USING (order_id, line_id)
''').fetchall()
con.close()
""",
    "floor": """
import duckdb
con = duckdb.connect()
o, r, s = (f"read_parquet('{SHOP}/{n}.parquet')" for n in ("orders", "returns", "carrier_scans"))
kpis = con.sql(f'''
    WITH ret AS (
        SELECT r.* FROM {r} r JOIN {o} o USING (order_id, line_id)
    )
    SELECT (SELECT count(DISTINCT order_id) FROM {o}),
           (SELECT sum(quantity) FROM {o}),
           (SELECT sum(quantity) FROM ret WHERE return_type = 'customer_return'),
           (SELECT sum(refund_amount) FROM ret WHERE return_type = 'customer_return'),
           (SELECT sum(quantity) FROM ret WHERE return_type = 'rto'),
           (SELECT avg(CASE WHEN event_code = 'pickup_failed' THEN 1.0 ELSE 0 END) FROM {s}
            WHERE event_code IN ('pickup_failed', 'picked_up'))
''').fetchall()
rows = con.sql(f"SELECT count(*) FROM {o}").fetchall()[0][0]
""",
}

RUNNER = """
import json, resource, sys, time
from pathlib import Path
N_ORDERS, SHOP, URL, URL2 = {n_orders}, Path({shop!r}), {url!r}, {url2!r}
extra = {{}}
t0 = time.perf_counter()
{body}
wall = time.perf_counter() - t0
print(json.dumps({{"wall_s": wall, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                  / 1024, "rows": rows, **extra}}))
"""


def run_stage(name: str, n_orders: int, shop: Path, work: Path) -> dict:
    code = RUNNER.format(n_orders=n_orders, shop=str(shop),
                         url=f"duckdb:///{work / 'bench.duckdb'}",
                         url2=f"duckdb:///{work / 'flow.duckdb'}", body=STAGES[name])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise SystemExit(f"stage {name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[100_000, 1_000_000],
                        help="order-line counts to benchmark")
    args = parser.parse_args()
    print(f"{'lines':>10} {'stage':<10} {'wall s':>8} {'peak MB':>9} {'rows':>12} "
          f"{'rows/s':>12}  notes")
    for lines in args.lines:
        with tempfile.TemporaryDirectory(prefix="rl-bench-") as tmp:
            work = Path(tmp)
            shop = work / "shop"
            n_orders = int(lines / LINES_PER_ORDER)
            results = {}
            for stage in ("generate", "floor", "floor_load", "ingest", "transform", "pipeline"):
                r = results[stage] = run_stage(stage, n_orders, shop, work)
                notes = ""
                if stage == "pipeline":
                    share = results["ingest"]["validate_s"] / r["flow_s"]
                    notes = (f"flow {r['flow_s']} s + Prefect start-up {r['prefect_startup_s']} s;"
                             f" quality gate ~{share:.0%} of the flow;"
                             f" flow / floor = {r['flow_s'] / results['floor']['wall_s']:.1f}x,"
                             f" flow / floor_load = "
                             f"{r['flow_s'] / results['floor_load']['wall_s']:.1f}x")
                if stage == "ingest":
                    notes = (f"quality gate {r['validate_s']} s of it; rows/s by feed: "
                             + ", ".join(f"{k} {v:,}" for k, v in
                                         r["validate_rows_per_s"].items()))
                if stage == "transform":
                    ingest_transform = results["ingest"]["wall_s"] + r["wall_s"]
                    notes = f"ingest+transform / floor = " \
                            f"{ingest_transform / results['floor']['wall_s']:.1f}x"
                print(f"{lines:>10,} {stage:<10} {r['wall_s']:>8.2f} {r['peak_mb']:>9.0f} "
                      f"{r['rows']:>12,} {r['rows'] / r['wall_s']:>12,.0f}  {notes}", flush=True)


if __name__ == "__main__":
    main()
