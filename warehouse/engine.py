"""The single DuckDB/PostgreSQL switch: engines, and the build-then-publish write session.

Writers never change what readers see until a pipeline run is complete:
- DuckDB (one writer XOR many readers across processes): the run writes into a copy of the
  warehouse file and publishes it with an atomic rename; readers keep the file they opened.
- PostgreSQL: the whole run is one transaction.
A run killed half-way therefore leaves the previous warehouse untouched.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url

from warehouse.settings import Settings


def dialect_of(url: str) -> str:
    """'duckdb' or 'postgresql'; anything else is refused with the URL forms we accept."""
    name = make_url(url).get_backend_name()
    if name not in ("duckdb", "postgresql"):
        raise ValueError(
            f"unsupported database URL {url!r}: use duckdb:///path/to/file.duckdb or "
            "postgresql+psycopg://user@host:port/db"
        )
    return name


def duckdb_path(url: str) -> Path:
    """The file behind a duckdb:/// URL."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise ValueError(f"{url!r}: the DuckDB warehouse must be a file, e.g. duckdb:///data/w.duckdb")
    return Path(database)


def _duckdb_engine(path: Path, read_only: bool = False,
                   memory_limit: str | None = None) -> Engine:
    config = {"memory_limit": memory_limit} if memory_limit else {}
    return sa.create_engine(f"duckdb:///{path}",
                            connect_args={"read_only": read_only, "config": config},
                            poolclass=sa.pool.NullPool)


def reader_engine(url: str) -> Engine:
    """An engine for reading: read-only for DuckDB, so readers never block the publisher."""
    if dialect_of(url) == "duckdb":
        return _duckdb_engine(duckdb_path(url), read_only=True)
    return sa.create_engine(url, poolclass=sa.pool.NullPool)


def warehouse_exists(url: str) -> bool:
    """Whether a pipeline has published a warehouse at `url` yet."""
    if dialect_of(url) == "duckdb":
        return duckdb_path(url).exists()
    with sa.create_engine(url, poolclass=sa.pool.NullPool).connect() as conn:
        return bool(conn.execute(sa.text(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'audit' AND table_name = 'runs'")).scalar())


@contextmanager
def write_session(url: str) -> Iterator[Connection]:
    """A connection whose work becomes visible all at once when the block ends without error."""
    if dialect_of(url) == "duckdb":
        live = duckdb_path(url)
        live.parent.mkdir(parents=True, exist_ok=True)
        building = live.with_name(live.name + ".building")
        for stale in (building, building.with_name(building.name + ".wal")):
            stale.unlink(missing_ok=True)  # left by a run that was killed
        if live.exists():
            shutil.copyfile(live, building)
        # DuckDB would take up to 80 % of RAM; a writer beside readers and Prefect gets a
        # bound and spills to disk beyond it
        engine = _duckdb_engine(building, memory_limit=Settings().duckdb_memory_limit)
        try:
            with engine.begin() as conn:
                yield conn
            with engine.connect() as conn:
                conn.exec_driver_sql("CHECKPOINT")
        except BaseException:
            engine.dispose()
            building.unlink(missing_ok=True)
            raise
        engine.dispose()
        fd = os.open(building, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(building, live)
    else:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            with engine.begin() as conn:
                yield conn
        finally:
            engine.dispose()


def is_duckdb(conn: Connection) -> bool:
    """Whether `conn` talks to DuckDB (bulk loads differ; SQL does not)."""
    return conn.dialect.name == "duckdb"
