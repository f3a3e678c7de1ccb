"""The single DuckDB/PostgreSQL switch: engines, the writer lock and the build-then-publish
write sessions.

Writers never change what readers see until their work is complete:
- DuckDB (one writer XOR many readers across processes): a session writes into a copy of its
  file and publishes it with an atomic rename; readers keep the file they opened.
- PostgreSQL: the whole session is one transaction.
A session killed half-way therefore leaves the previous warehouse untouched.

Writers take turns: a second writer of the same store waits for the first (it says so) and
then builds on what the first published, so two runs started together both land.

Derived outputs (model scores, simulations, flags: the `models` schema) are written apart from
the pipeline's layers, so publishing them costs what they weigh, not what the warehouse weighs.
On PostgreSQL they are the schema `models`; on DuckDB they live in a sibling file
`<warehouse>.models.duckdb` that every reader attaches as the catalog `models`, so the same SQL
(`SELECT ... FROM models.risk_line_scores`) reads them on both stores.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import sqlalchemy as sa
from duckdb_engine import ConnectionWrapper
from sqlalchemy.engine import Connection, Engine, make_url

from warehouse.settings import Settings

log = logging.getLogger("returnlens")


class WarehouseBusy(RuntimeError):
    """Another writer held the store for longer than this writer was willing to wait."""


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


def derived_path(url: str) -> Path:
    """The DuckDB file that holds a DuckDB warehouse's derived outputs (the `models` schema)."""
    live = duckdb_path(url)
    return live.with_name(f"{live.stem}.models.duckdb")


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


_Identity = tuple[int, int] | None


def _identity(path: Path) -> _Identity:
    """Which file is at `path` now (inode, modification time); None when there is none."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_ino, found.st_mtime_ns


_HUBS: dict[Path, tuple[int, tuple[_Identity, _Identity], duckdb.DuckDBPyConnection]] = {}
_HUBS_LOCK = threading.Lock()


def _reader_connection(live: Path, derived: Path) -> ConnectionWrapper:
    """A read-only connection to the files now at `live` and `derived`.

    Readers of one warehouse in a process share one in-memory database (the hub) that attaches
    the warehouse file as its default catalog and the derived outputs' file as `models`, so
    they share its cache. When a writer has published a new file since, the next connection
    gets a new hub on it; connections to the old hub keep reading the old file until they
    close. (A DuckDB connection to the file itself would keep seeing the file the process
    opened first for as long as any other connection stayed open: a dashboard under steady
    traffic would never see a later run or training.)
    """
    with _HUBS_LOCK:
        files = (_identity(live), _identity(derived))
        found = _HUBS.get(live)
        if found is None or found[:2] != (os.getpid(), files):
            hub = duckdb.connect(":memory:")
            hub.execute(f"ATTACH {_quoted(live)} AS warehouse (READ_ONLY)")
            if files[1] is not None:
                hub.execute(f"ATTACH {_quoted(derived)} AS models (READ_ONLY)")
            found = _HUBS[live] = (os.getpid(), files, hub)
        cursor = found[2].cursor()
    cursor.execute("USE warehouse")
    return ConnectionWrapper(cursor)


def reader_engine(url: str) -> Engine:
    """An engine for reading: read-only for DuckDB, so readers never block the publisher, and
    each new connection sees the latest published warehouse and derived outputs.

    On DuckDB the derived outputs' file, when there is one, is the catalog `models`.
    """
    if dialect_of(url) != "duckdb":
        return sa.create_engine(url, poolclass=sa.pool.NullPool)
    live, derived = duckdb_path(url), derived_path(url)
    return sa.create_engine("duckdb:///:memory:", poolclass=sa.pool.NullPool,
                            creator=lambda: _reader_connection(live, derived))


@contextmanager
def _file_lock(lock_path: Path, what: str) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path`; wait (and say so) while another process holds it."""
    wait = Settings().writer_wait_seconds
    with open(lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            log.warning("waiting for %s to finish writing %s", holder, what)
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise WarehouseBusy(
                            f"{what} is still being written by {holder} after {wait:.0f} s; "
                            "try again when it has finished (or raise "
                            "RETURNLENS_WRITER_WAIT_SECONDS)") from None
                    time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)


def _pg_lock(conn: Connection, name: str, what: str) -> None:
    """Take a transaction-scoped advisory lock for `name`; wait (and say so) while it is held."""
    key = zlib.crc32(name.encode())
    if conn.execute(sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}).scalar():
        return
    log.warning("waiting for another run to finish writing %s", what)
    wait_ms = int(Settings().writer_wait_seconds * 1000)
    conn.exec_driver_sql(f"SET LOCAL lock_timeout = {wait_ms}")
    try:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    except sa.exc.OperationalError as exc:
        raise WarehouseBusy(
            f"{what} is still being written by another run after {wait_ms / 1000:.0f} s; "
            "try again when it has finished (or raise RETURNLENS_WRITER_WAIT_SECONDS)") from exc
    conn.exec_driver_sql("SET LOCAL lock_timeout = 0")


@contextmanager
def _duckdb_copy_session(live: Path) -> Iterator[Connection]:
    """Write into a copy of `live` and rename it into place when the block ends without error.

    The caller holds the file's writer lock, so the copy is never another writer's.
    """
    live.parent.mkdir(parents=True, exist_ok=True)
    building = live.with_name(live.name + ".building")
    for stale in (building, building.with_name(building.name + ".wal")):
        stale.unlink(missing_ok=True)  # left by a writer that was killed
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


def warehouse_exists(url: str) -> bool:
    """Whether a pipeline has published a warehouse at `url` yet."""
    if dialect_of(url) == "duckdb":
        return duckdb_path(url).exists()
    with sa.create_engine(url, poolclass=sa.pool.NullPool).connect() as conn:
        return bool(conn.execute(sa.text(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'audit' AND table_name = 'runs'")).scalar())


@contextmanager
def _publishing_session(url: str, live: Path, pg_lock: str, what: str,
                        pg_setup: tuple[str, ...] = ()) -> Iterator[Connection]:
    """One writer at a time, its work visible all at once: on DuckDB a locked copy of `live`
    renamed into place; on PostgreSQL one transaction under the advisory lock `pg_lock`."""
    if dialect_of(url) == "duckdb":
        live.parent.mkdir(parents=True, exist_ok=True)
        with _file_lock(live.with_name(live.name + ".lock"), f"{what} {live}"), \
                _duckdb_copy_session(live) as conn:
            yield conn
        return
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            _pg_lock(conn, pg_lock, what)
            for statement in pg_setup:
                conn.exec_driver_sql(statement)
            yield conn
    finally:
        engine.dispose()


@contextmanager
def write_session(url: str) -> Iterator[Connection]:
    """A connection to the warehouse whose work becomes visible all at once when the block ends
    without error; one writer at a time."""
    live = duckdb_path(url) if dialect_of(url) == "duckdb" else Path()
    with _publishing_session(url, live, "returnlens-warehouse", "the warehouse") as conn:
        yield conn


@contextmanager
def derived_session(url: str) -> Iterator[Connection]:
    """A connection to the derived outputs' store, published all at once; one writer at a time.

    On DuckDB it is the sibling file (tables in its `main` schema, read as `models.<table>`); on
    PostgreSQL the warehouse itself (tables in the schema `models`).
    """
    live = derived_path(url) if dialect_of(url) == "duckdb" else Path()
    with _publishing_session(url, live, "returnlens-models", "the derived outputs",
                             ("CREATE SCHEMA IF NOT EXISTS models",)) as conn:
        yield conn


def is_duckdb(conn: Connection) -> bool:
    """Whether `conn` talks to DuckDB (bulk loads differ; SQL does not)."""
    return conn.dialect.name == "duckdb"
