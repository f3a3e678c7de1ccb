"""A pipeline killed at any point leaves the previous warehouse; readers never see half a run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

from flows.pipeline import pipeline
from flows.sources.synthetic import generate_shop
from tests.processes import REPO, prefect_env, start_pipeline
from warehouse import read
from warehouse.engine import reader_engine

pytestmark = pytest.mark.usefixtures("prefect_harness")


def state(url: str) -> tuple[dict, dict]:
    """Row counts of every table and the KPIs: what a reader would see."""
    with reader_engine(url).connect() as conn:
        return read.runs.table_row_counts(conn), read.kpis.kpis(conn)


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


def run_and_kill(source: Path, url: str, marker: str) -> None:
    """Run `returnlens pipeline` and SIGKILL it as soon as its log shows `marker`."""
    proc = start_pipeline(source, url)
    seen = []
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        if marker in line:
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL, f"{marker!r} never logged:\n{''.join(seen)}"


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
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


def reads_so_far(out: Path) -> list[dict]:
    """The reads the reader process has written (whole lines only)."""
    text = out.read_text() if out.exists() else ""
    return [json.loads(line) for line in text.splitlines(keepends=True) if line.endswith("\n")]


def wait_for_reads(out: Path, until, what: str, timeout: float = 60) -> None:
    """Block until the reader's reads satisfy `until` (a handshake, not a guess of timing)."""
    deadline = time.monotonic() + timeout
    while not until(reads_so_far(out)):
        assert time.monotonic() < deadline, f"the reader never {what}"
        time.sleep(0.05)


def test_readers_see_only_the_state_before_or_after_a_run(store, shops, tmp_path):
    first, later = shops
    pipeline(source=first, db=store)
    before = state(store)[1]
    out, stop = tmp_path / "reads.jsonl", tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-m", "tests.flows.kpi_reader", store, str(out),
                               str(stop)], cwd=REPO, env=prefect_env())
    try:
        wait_for_reads(out, lambda reads: len(reads) >= 10, "read the warehouse before the run")
        add_later_files(first, later)
        pipeline(source=first, db=store)
        after = state(store)[1]
        wait_for_reads(out, lambda reads: sum(r.get("kpis") == after for r in reads) >= 10,
                       "saw the published run")
    finally:
        stop.touch()
        reader.wait(timeout=60)
    reads = reads_so_far(out)
    errors = [r["error"] for r in reads if "error" in r]
    assert not errors, errors[:3]
    seen = {json.dumps(r["kpis"], sort_keys=True) for r in reads}
    assert seen == {json.dumps(before, sort_keys=True), json.dumps(after, sort_keys=True)}
    assert pl.Series([r["kpis"]["orders"] for r in reads]).is_sorted()  # never back in time
