"""A run that only adds rows rebuilds just the partitions it touched, and the warehouse it leaves
equals a full rebuild over the same files, table by table."""

from __future__ import annotations

import logging
import shutil
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from flows.pipeline import pipeline
from flows.sources.synthetic import generate_shop
from warehouse import incremental
from warehouse.engine import reader_engine

pytestmark = pytest.mark.usefixtures("prefect_harness")
CUT = datetime(2025, 9, 1)
EVENT_TIME = {"orders": "ordered_at", "returns": "requested_at", "carrier_scans": "event_at",
              "reviews": "reviewed_at"}


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A shop as two deliveries split in time (reference data in the first), and the whole."""
    whole = tmp_path_factory.mktemp("whole")
    generate_shop(3000, seed=41).write(whole)
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    for path in whole.glob("*.parquet"):
        frame = pl.read_parquet(path)
        if path.stem not in EVENT_TIME:
            frame.write_parquet(first / path.name)
            continue
        early = pl.col(EVENT_TIME[path.stem]) < CUT
        frame.filter(early).write_parquet(first / path.name)
        frame.filter(~early).write_parquet(second / f"{path.stem}_2025-09.parquet")
    return first, second, whole


@pytest.fixture(params=["duckdb", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'w.duckdb'}"
    return request.getfixturevalue("postgres_url")


def layer_tables(url: str) -> dict[str, pl.DataFrame]:
    """Every core and mart table, rows sorted and floats rounded, keyed 'schema.table'."""
    with reader_engine(url).connect() as conn:
        names = conn.execute(sa.text(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('core', 'marts') AND table_type = 'BASE TABLE'")).all()
        tables = {}
        for schema, name in names:
            frame = pl.read_database(sa.text(f'SELECT * FROM "{schema}"."{name}"'), conn,
                                     infer_schema_length=None)
            # the stores type sums differently (DECIMAL, HUGEINT, INTEGER): compare values
            frame = frame.with_columns(
                [pl.col(c).cast(pl.Float64).round(6) for c, t in frame.schema.items()
                 if t.is_float() or isinstance(t, pl.Decimal)]
                + [pl.col(c).cast(pl.Int64) for c, t in frame.schema.items() if t.is_integer()])
            tables[f"{schema}.{name}"] = frame.sort(frame.columns, nulls_last=True)
    return tables


def test_a_run_that_only_adds_rows_equals_a_full_rebuild(store, deliveries, tmp_path, caplog):
    first, second, whole = deliveries
    folder = tmp_path / "arrivals"
    shutil.copytree(first, folder)
    pipeline(source=folder, db=store)
    for path in second.glob("*.parquet"):
        shutil.copy(path, folder / path.name)
    with caplog.at_level(logging.INFO, logger="returnlens"):
        pipeline(source=folder, db=store)
    assert "incremental rebuild: the run added" in caplog.text
    reference = f"duckdb:///{tmp_path / 'reference.duckdb'}"
    pipeline(source=whole, db=reference)
    got, want = layer_tables(store), layer_tables(reference)
    assert sorted(got) == sorted(want)
    for name, frame in want.items():
        assert got[name].equals(frame), f"{name} differs from a full rebuild"


def test_a_run_that_loads_reference_data_rebuilds_everything(deliveries, tmp_path):
    first, _, _ = deliveries
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    pipeline(source=first, db=url)
    products = pl.read_parquet(first / "products.parquet")
    changed = tmp_path / "changed"
    changed.mkdir()
    products.with_columns(pl.col("list_price") * 2).write_parquet(changed / "products.parquet")
    with reader_engine(url).connect() as conn:
        before = incremental.row_counts(conn)
    summary = pipeline(source=changed, db=url)
    with reader_engine(url).connect() as conn:
        decision = incremental.plan(conn, summary.run_id, before)
    assert (decision.incremental, decision.reason) == (False, "the run loaded products")


def test_a_run_that_replaces_rows_rebuilds_everything(deliveries, tmp_path):
    first, _, _ = deliveries
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    pipeline(source=first, db=url)
    corrected = tmp_path / "corrected"
    corrected.mkdir()
    orders = pl.read_parquet(first / "orders.parquet").head(5)
    orders.write_parquet(corrected / "orders_fix.parquet")
    with reader_engine(url).connect() as conn:
        before = incremental.row_counts(conn)
    summary = pipeline(source=corrected, db=url)
    with reader_engine(url).connect() as conn:
        decision = incremental.plan(conn, summary.run_id, before)
    assert (decision.incremental, decision.reason) == (False, "the run replaced 5 orders rows")


def test_the_first_run_builds_everything(tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    from warehouse import load
    from warehouse.engine import write_session

    with write_session(url) as conn:
        load.ensure_schema(conn)
        decision = incremental.plan(conn, "run", incremental.row_counts(conn))
    assert (decision.incremental, decision.reason) == (False, "the layers are not built yet")
