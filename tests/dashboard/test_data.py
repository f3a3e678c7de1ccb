"""The cache over the warehouse is invalidated when a pipeline run publishes."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from dashboard import data
from warehouse import read
from warehouse.engine import write_session


def _publish(url: str, run_id: str) -> None:
    with write_session(url) as conn:
        conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS audit")
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS audit.runs "
                             "(run_id TEXT, finished_at TIMESTAMP)")
        conn.execute(sa.text("INSERT INTO audit.runs VALUES (:r, now())"), {"r": run_id})


def test_a_published_run_invalidates_cached_results(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    _publish(url, "first")
    assert data.load_from(url, read.runs.latest_run_id) == "first"

    _publish(url, "second")

    assert data.load_from(url, read.runs.latest_run_id) == "second"


def test_results_are_cached_while_the_warehouse_is_unchanged(tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    _publish(url, "only")
    data.clear_cache()

    data.load_from(url, read.runs.latest_run_id)
    data.load_from(url, read.runs.latest_run_id)

    info = data._cached.cache_info()
    assert (info.hits, info.misses) == (1, 1)
