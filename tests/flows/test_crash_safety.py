"""A pipeline killed at any point leaves the previous warehouse; readers never see half a run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from flows.pipeline import pipeline
from flows.sources.synthetic import generate_shop
from warehouse import queries
from warehouse.engine import reader_engine

pytestmark = pytest.mark.usefixtures("prefect_harness")
REPO = Path(__file__).parents[2]


def state(url: str) -> tuple[dict, dict]:
    """Row counts of every table and the KPIs: what a reader would see."""
    with reader_engine(url).connect() as conn:
        return queries.table_row_counts(conn), queries.kpis(conn)


@pytest.fixture
def shops(tmp_path: Path) -> tuple[Path, Path]:
    """A shop, and a later delivery: the same shop's next files (new and corrected rows)."""
    first, later = tmp_path / "first", tmp_path / "later"
    generate_shop(6000, seed=21).write(first)
    generate_shop(9000, seed=22).write(later)
    for path in later.glob("*.parquet"):
        path.rename(later / f"{path.stem}_later.parquet")
    return first, later


def add_later_files(first: Path, later: Path) -> None:
    for path in later.glob("*.parquet"):
        (first / path.name).write_bytes(path.read_bytes())


def prefect_env() -> dict[str, str]:
    """Environment for a child process that uses this session's Prefect test server."""
    from prefect.settings import PREFECT_API_URL

    env = dict(os.environ, PREFECT_API_URL=str(PREFECT_API_URL.value()))
    return {k: v for k, v in env.items() if not k.startswith("RETURNLENS_")}


def run_and_kill(source: Path, url: str, marker: str) -> None:
    """Run `returnlens pipeline` and SIGKILL it as soon as its log shows `marker`."""
    exe = Path(sys.executable).parent / "returnlens"
    proc = subprocess.Popen([str(exe), "pipeline", "--source", str(source), "--db", url, "-v"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env=prefect_env(), cwd=REPO)
    seen = []
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        if marker in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL, f"{marker!r} never logged:\n{''.join(seen)}"


@pytest.fixture(params=["duckdb", "postgresql"])
def store(request, tmp_path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'w.duckdb'}"
    return request.getfixturevalue("postgres_url")


KILL_POINTS = ["loaded products_later.parquet", "loaded returns_later.parquet",
               "built core", "built marts"]


def test_a_killed_pipeline_leaves_the_warehouse_unchanged_and_a_rerun_completes_it(
        store, shops, tmp_path):
    first, later = shops
    pipeline(source=first, db=store)
    before = state(store)
    add_later_files(first, later)
    points = KILL_POINTS if store.startswith("duckdb") else KILL_POINTS[1:3]
    for marker in points:
        run_and_kill(first, store, marker)
        assert state(store) == before, f"changed by a run killed at {marker!r}"
    pipeline(source=first, db=store)
    reference = f"duckdb:///{tmp_path / 'reference.duckdb'}"
    pipeline(source=first, db=reference)
    after_counts, after_kpis = state(store)
    ref_counts, ref_kpis = state(reference)
    assert after_kpis == ref_kpis and after_kpis != before[1]
    assert {k: v for k, v in after_counts.items() if not k.startswith("audit.")} == {
        k: v for k, v in ref_counts.items() if not k.startswith("audit.")}


def test_readers_see_only_the_state_before_or_after_a_run(store, shops, tmp_path):
    first, later = shops
    pipeline(source=first, db=store)
    before = state(store)[1]
    out, stop = tmp_path / "reads.jsonl", tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-m", "tests.flows.kpi_reader", store, str(out),
                               str(stop)], cwd=REPO, env=prefect_env())
    try:
        time.sleep(2)
        add_later_files(first, later)
        pipeline(source=first, db=store)
        after = state(store)[1]
        time.sleep(1)
    finally:
        stop.touch()
        reader.wait(timeout=60)
    reads = [json.loads(line) for line in out.read_text().splitlines()]
    errors = [r["error"] for r in reads if "error" in r]
    assert not errors, errors[:3]
    seen = {json.dumps(r["kpis"], sort_keys=True) for r in reads}
    assert seen <= {json.dumps(before, sort_keys=True), json.dumps(after, sort_keys=True)}
    assert len(seen) == 2, "the reader should have seen both states"
    assert len(reads) > 20
    assert pl.Series([r["kpis"]["orders"] for r in reads]).is_sorted()  # never back in time
