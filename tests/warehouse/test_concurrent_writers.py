"""Writers take turns: a second pipeline run waits for the first and nothing is lost."""

from __future__ import annotations

import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from flows.pipeline import pipeline
from flows.sources.synthetic import generate_shop
from tests.processes import start_pipeline
from warehouse import read
from warehouse.engine import reader_engine, write_session

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'w.duckdb'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A shop split into two deliveries (everything but reviews; the reviews), and the whole."""
    whole = tmp_path_factory.mktemp("whole")
    generate_shop(3000, seed=31).write(whole)
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    for path in whole.glob("*.parquet"):
        shutil.copy(path, (second if path.stem == "reviews" else first) / path.name)
    return first, second, whole


def contents(url: str) -> tuple[dict[str, int], dict]:
    """Row counts of the data layers (audit aside) and the KPIs."""
    with reader_engine(url).connect() as conn:
        counts = read.runs.table_row_counts(conn)
        return {k: v for k, v in counts.items() if not k.startswith("audit.")}, \
            read.kpis.kpis(conn)


def runs_and_files(url: str) -> tuple[list[str], list[tuple[str, str]]]:
    with reader_engine(url).connect() as conn:
        runs = [r[0] for r in conn.execute(sa.text("SELECT status FROM audit.runs")).all()]
        files = [tuple(r) for r in conn.execute(sa.text(
            "SELECT file_name, status FROM audit.files ORDER BY file_name")).all()]
    return runs, files


def test_two_pipeline_runs_started_together_both_land(store, deliveries, tmp_path):
    first, second, whole = deliveries
    runs = [start_pipeline(first, store), start_pipeline(second, store)]
    # read both logs at once: a writer blocked on a full stderr pipe would hold the lock forever
    with ThreadPoolExecutor(max_workers=2) as pool:
        logs = list(pool.map(lambda proc: proc.communicate(timeout=600)[1], runs))
    assert [proc.returncode for proc in runs] == [0, 0], logs
    reference = f"duckdb:///{tmp_path / 'reference.duckdb'}"
    pipeline(source=whole, db=reference)
    assert contents(store) == contents(reference)
    statuses, files = runs_and_files(store)
    assert statuses == ["succeeded", "succeeded"]
    assert sorted(name for name, status in files if status == "loaded") == sorted(
        p.name for p in whole.glob("*.parquet"))


def test_a_second_writer_waits_for_the_first_and_says_so(store, deliveries):
    first, _, _ = deliveries
    release = threading.Event()
    holding = threading.Event()

    def hold_the_warehouse() -> None:
        with write_session(store) as conn:
            conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS audit")
            holding.set()
            release.wait(timeout=300)

    holder = threading.Thread(target=hold_the_warehouse)
    holder.start()
    assert holding.wait(timeout=60)
    proc = start_pipeline(first, store)
    waited = []
    assert proc.stderr is not None
    for line in proc.stderr:
        waited.append(line)
        if "waiting for" in line:
            break
    release.set()
    holder.join(timeout=60)
    rest = proc.communicate(timeout=600)[1]
    said = " ".join("".join(waited).split())
    assert "waiting for" in said and "to finish writing" in said, said + rest
    assert proc.returncode == 0, rest
    statuses, _ = runs_and_files(store)
    assert statuses == ["succeeded"]


def test_a_run_that_gives_up_waiting_says_why_without_a_traceback(deliveries, tmp_path,
                                                                    monkeypatch):
    from typer.testing import CliRunner

    from flows.cli import app

    monkeypatch.setenv("RETURNLENS_WRITER_WAIT_SECONDS", "0.5")
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with write_session(url):
            holding.set()
            release.wait(timeout=120)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(timeout=60)
    try:
        result = CliRunner().invoke(app, ["pipeline", "--source", str(deliveries[0]),
                                          "--db", url])
    finally:
        release.set()
        holder.join()
    said = " ".join(result.output.split())
    assert result.exit_code == 2, said
    assert "still being written" in said and "Traceback" not in said
