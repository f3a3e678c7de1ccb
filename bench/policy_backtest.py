"""Oracle backtest of the Policy Lab: does the simulator predict what a shop would have shown?

Generate a shop under its own policy history (30 days free until 2025-03-31, then 14 days and a
10% fee), load it, and simulate policy B on the orders after the change. Then regenerate the
same seed with `returnlens generate --policy` B (same customers and orders, returns responding
to B through the generator's own model), load that, and read what actually happened with
`returnlens kpis` over the same order dates. The simulator sees only the first warehouse.

    .venv/bin/python bench/policy_backtest.py --orders 300000 --out data/backtest

Prints one row per scenario (actual, point, 80% interval, inside?) for units returned and net
return cost, the naive truncation estimate beside them, and the planted-change check.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models import policy  # noqa: E402

CLI = str(ROOT / ".venv" / "bin" / "returnlens")
CHANGE = date(2025, 4, 1)
PERIOD = (CHANGE, date(2025, 10, 31))  # cohorts whose returns are complete by the data's end
# the planted change: the quarter before it against the old policy simulated on the one after
PLANTED_BEFORE = (date(2025, 1, 1), date(2025, 3, 31))
PLANTED_AFTER = (CHANGE, date(2025, 6, 30))


@dataclass(frozen=True)
class Case:
    """A policy B from the change on: window, restocking fee share, whether the label is free."""

    window_days: int
    fee: float
    free_label: bool = True

    @property
    def name(self) -> str:
        label = "" if self.free_label else ", paid label"
        return f"{self.window_days} d, {self.fee:.0%} fee{label}"


CASES = (
    Case(30, 0.0), Case(7, 0.10), Case(21, 0.10), Case(45, 0.10), Case(60, 0.0),
    Case(14, 0.0), Case(14, 0.20), Case(30, 0.20), Case(14, 0.10, free_label=False),
    Case(30, 0.0, free_label=False),
)
SMALL_CASES = (Case(7, 0.10), Case(30, 0.0))


def policy_file(case: Case, path: Path) -> Path:
    """The policy history of scenario B: the shop's old policy, then B from the change on."""
    pl.DataFrame({
        "policy_id": ["OLD", "B"],
        "effective_from": [date(2024, 1, 1), CHANGE],
        "effective_to": [date(2025, 3, 31), None],
        "window_days": [30, case.window_days],
        "restocking_fee_pct": [0.0, case.fee],
        "free_return_shipping": [True, case.free_label],
    }).write_csv(path)
    return path


def build(out: Path, orders: int, seed: int, policy_path: Path | None = None) -> str:
    """Generate a shop (under `policy_path` when given), load it; returns the warehouse URL."""
    shop = out / "shop"
    url = f"duckdb:///{(out / 'warehouse.duckdb').resolve()}"
    if not (out / "loaded").exists():
        command = [CLI, "generate", "--orders", str(orders), "--seed", str(seed), "--out",
                   str(shop)]
        if policy_path is not None:
            command += ["--policy", str(policy_path)]
        # each build its own Prefect home: parallel runs must not share one SQLite database
        # and a patient start-up of its ephemeral Prefect server on a busy machine
        env = {**os.environ, "PREFECT_HOME": str((out / ".prefect").resolve()),
               "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "1800"}
        if not (out / "generated").exists():
            subprocess.run(command, check=True, capture_output=True, env=env)
            (out / "generated").touch()
        loaded = subprocess.run([CLI, "pipeline", "--db", url, "--source", str(shop)],
                                capture_output=True, text=True, env=env)
        if loaded.returncode:
            raise RuntimeError(f"pipeline on {shop} failed: {loaded.stderr[-2000:]}")
        (out / "loaded").touch()
    return url


def kpis(url: str, period: tuple[date, date]) -> dict[str, float]:
    """`returnlens kpis --json` over the period's order dates."""
    done = subprocess.run([CLI, "kpis", "--db", url, "--from", period[0].isoformat(), "--to",
                           period[1].isoformat(), "--json"], check=True, capture_output=True,
                          text=True)
    return json.loads(done.stdout)


def label_cost(learned: policy.Learned, period: tuple[date, date]) -> float:
    """What the shop pays per return label (mean reverse shipping of a return that is not its
    fault, in the period): the fee a paid label puts on the customer."""
    lines = learned.lines.filter(
        pl.col("customer") & (pl.col("group") == policy.GROUPS.index("choice"))
        & pl.col("order_date").is_between(*period))
    return float(lines["return_shipping_cost"].mean())


def run(orders: int, seed: int, out: Path, cases: tuple[Case, ...],
        parallel: int = 4, built_only: bool = False) -> dict[str, object]:
    """The backtest: one row per case, plus the planted-change check; also returned as a dict."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    base_url = build(out / "A", orders, seed)
    learned = policy.learned_for(base_url, seed=0, cache_dir=out / "cache")
    label = label_cost(learned, PERIOD)
    def b_dir(i: int, case: Case) -> Path:
        return out / f"B{i}_{case.window_days}_{int(case.fee * 100)}_{int(case.free_label)}"

    def build_b(i: int, case: Case) -> str:
        b_dir(i, case).mkdir(parents=True, exist_ok=True)
        return build(b_dir(i, case), orders, seed, policy_file(case, b_dir(i, case)
                                                                / "policy.csv"))

    if built_only:  # evaluate the scenarios whose shops are already loaded
        cases = tuple(c for i, c in enumerate(cases) if (b_dir(i, c) / "loaded").exists())

    # the regenerated shops are independent: build them side by side
    indices = [CASES.index(c) if c in CASES else i for i, c in enumerate(cases)]
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        b_urls = list(pool.map(build_b, indices, cases))
    rows = []
    for case, b_url in zip(cases, b_urls, strict=True):
        actual = kpis(b_url, PERIOD)
        scenario = policy.Scenario(case.window_days, case.fee,
                                   0.0 if case.free_label else round(label, 2))
        result = policy.simulate(learned, scenario, *PERIOD, seed=0)
        row: dict[str, object] = {"scenario": case.name}
        for metric, key in (("units_returned", "units_returned"),
                            ("net_cost", "net_return_cost")):
            m = result.metric(metric)
            row[f"{metric}_actual"] = actual[key]
            row[f"{metric}_point"] = round(m["point"], 1)
            row[f"{metric}_low"] = round(m["low"], 1)
            row[f"{metric}_high"] = round(m["high"], 1)
            row[f"{metric}_naive"] = round(m["naive"], 1)
            row[f"{metric}_inside"] = m["low"] <= actual[key] <= m["high"]
            row[f"{metric}_error"] = round(m["point"] / actual[key] - 1, 4)
        row["window_only"] = case.fee == 0.10 and case.free_label
        rows.append(row)
    table = pl.DataFrame(rows)

    # the planted change: the old policy on the orders after it, against the months before it
    old = policy.simulate(learned, policy.Scenario(30, 0.0), *PLANTED_AFTER, seed=0)
    before = kpis(base_url, PLANTED_BEFORE)
    sold = old.units_sold
    planted = {}
    for metric, key in (("units_returned", "units_returned"), ("net_cost", "net_return_cost")):
        m = old.metric(metric)
        per_unit = before[key] / before["units_sold"]
        planted[metric] = {
            "history_before_per_unit_sold": round(per_unit, 5),
            "simulated_old_policy_after_per_unit_sold": round(m["point"] / sold, 5),
            "interval_per_unit_sold": [round(m["low"] / sold, 5), round(m["high"] / sold, 5)],
            "baseline_after_per_unit_sold": round(m["baseline"] / sold, 5),
            "inside": m["low"] / sold <= per_unit <= m["high"] / sold,
        }
    return {"orders": orders, "seed": seed, "period": [d.isoformat() for d in PERIOD],
            "label_fee_used": round(label, 2), "table": table, "planted": planted,
            "seconds": round(time.perf_counter() - started, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "backtest")
    parser.add_argument("--small", action="store_true", help="two scenarios only")
    parser.add_argument("--parallel", type=int, default=4, help="shops built at once")
    parser.add_argument("--built-only", action="store_true",
                        help="evaluate only the scenarios whose shops are already loaded")
    args = parser.parse_args()
    report = run(args.orders, args.seed, args.out / f"{args.orders}_{args.seed}",
                 SMALL_CASES if args.small else CASES, args.parallel, args.built_only)
    table: pl.DataFrame = report.pop("table")  # type: ignore[assignment]
    with pl.Config(tbl_rows=-1, tbl_cols=-1, tbl_width_chars=250, fmt_str_lengths=40):
        for metric in ("units_returned", "net_cost"):
            print(f"\n{metric}")  # noqa: T201
            print(table.select("scenario", *(c for c in table.columns  # noqa: T201
                                             if c.startswith(metric))))
    for metric in ("units_returned", "net_cost"):
        inside = int(table[f"{metric}_inside"].sum())
        print(f"{metric}: actual inside the 80% interval {inside} of {table.height}")  # noqa: T201
    window = table.filter(pl.col("window_only"))
    if window.height:
        worst = window.select(pl.col("units_returned_error", "net_cost_error").abs().max())
        print(f"window-only changes, largest point error: {worst.to_dicts()[0]}")  # noqa: T201
    print(json.dumps(report, indent=1))  # noqa: T201
    table.write_csv(args.out / f"{args.orders}_{args.seed}" / "backtest.csv")


if __name__ == "__main__":
    main()
