"""How fast the Policy Lab answers: the first scenario (learning the history) and the ones after.

    .venv/bin/python bench/policy_bench.py --lines 1000000 --out data/policy_bench

Generates and loads a synthetic shop of about --lines order lines (once; reused after), then
times, in a fresh process each: learning the history (cold cache), and `returnlens simulate`
answering from the cached history. In-process scenarios after the first are timed too. Wall time
and CPU time are both printed: on a shared machine the wall time depends on the neighbours.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models import policy  # noqa: E402

CLI = str(ROOT / ".venv" / "bin" / "returnlens")
LINES_PER_ORDER = 1.6
SCENARIOS = (
    policy.Scenario(7, 0.10), policy.Scenario(30, 0.0), policy.Scenario(60, 0.2, 3.0),
    policy.Scenario(21, 0.05, 0.0, 0.1), policy.Scenario(14, 0.15, categories=("apparel",)),
)


def build(out: Path, lines: int) -> str:
    """A loaded synthetic shop of about `lines` order lines; its warehouse URL."""
    url = f"duckdb:///{(out / 'warehouse.duckdb').resolve()}"
    if not (out / "loaded").exists():
        orders = int(lines / LINES_PER_ORDER)
        env = {**os.environ, "PREFECT_HOME": str((out / ".prefect").resolve()),
               "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "1800"}
        if not (out / "generated").exists():
            subprocess.run([CLI, "generate", "--orders", str(orders), "--out",
                            str(out / "shop")], check=True, capture_output=True, env=env)
            (out / "generated").touch()
        subprocess.run([CLI, "pipeline", "--db", url, "--source", str(out / "shop")],
                       check=True, capture_output=True, env=env)
        (out / "loaded").touch()
    return url


def timed(fn):  # noqa: ANN001, ANN201 - a tiny local helper
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "policy_bench")
    args = parser.parse_args()
    out = args.out / str(args.lines)
    out.mkdir(parents=True, exist_ok=True)
    url = build(out, args.lines)
    cache = out / "cache"
    for old in cache.glob("*.pickle"):
        old.unlink()
    learned, wall, cpu = timed(lambda: policy.learned_for(url, cache_dir=cache))
    report = {"lines": args.lines, "returns": learned.lines.height,
              "first_scenario_learn_s": {"wall": round(wall, 2), "cpu": round(cpu, 2)}}
    runs = []
    for scenario in SCENARIOS:
        _, wall, cpu = timed(lambda s=scenario: policy.simulate(learned, s))
        runs.append({"scenario": scenario.label(), "wall_s": round(wall, 3),
                     "cpu_s": round(cpu, 3)})
    report["in_process_scenarios"] = runs
    # a new process, the history cached on disk: what `returnlens simulate` costs a script
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c",
         "import time, sys; t = time.perf_counter(); c = time.process_time();"
         "from pathlib import Path; from models import policy;"
         f"l = policy.learned_for({url!r}, cache_dir=Path({str(cache)!r}));"
         "r = policy.simulate(l, policy.Scenario(7, 0.1));"
         "print(round(time.perf_counter() - t, 3), round(time.process_time() - c, 3))"],
        check=True, capture_output=True, text=True, cwd=ROOT)
    wall, cpu = (float(v) for v in done.stdout.split())
    report["new_process_cached"] = {"load_and_simulate_wall_s": wall,
                                    "load_and_simulate_cpu_s": cpu,
                                    "process_wall_s_with_imports": round(
                                        time.perf_counter() - started, 2)}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
