"""Cached access to the warehouse for the dashboard's callbacks.

Every read goes through `load(query, *args)`: a function of the read layer (warehouse.read,
one module per subject) called with an open read-only connection, its result cached per warehouse
version. The version is the DuckDB files' inode, size and modification time (the pipeline
and the derived outputs publish new files by atomic rename) or, on PostgreSQL, the latest
pipeline run and output publication; a publication therefore invalidates the cache without a
restart.

Read connections are kept open and reused while the version stays the same (opening a DuckDB
file costs ~15–30 ms). When a new version appears, every open connection is closed before a new
one is opened: DuckDB hands a new connection the database a still-open connection holds, so
otherwise a reader could keep seeing the replaced file.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

import polars as pl
from dash import get_app
from sqlalchemy.engine import Connection

from warehouse import read
from warehouse.engine import derived_path, dialect_of, duckdb_path, reader_engine

T = TypeVar("T")
CONFIG_KEY = "RETURNLENS_DATABASE_URL"
VERSION_TTL_SECONDS = 5.0


class _Readers:
    """Open read connections to one warehouse URL, all of the same warehouse version."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.version: str | None = None
        self.idle: list[Connection] = []
        self.active = 0
        self.changed = threading.Condition()

    @contextmanager
    def connect(self, version: str) -> Iterator[Connection]:
        """A connection to `version`, reopening every connection when the version changed."""
        with self.changed:
            if version != self.version:
                self.changed.wait_for(lambda: self.active == 0)
                self.close()
                self.version = version
            self.active += 1
            conn = self.idle.pop() if self.idle else None
        try:
            conn = conn or reader_engine(self.url).connect()
            yield conn
            conn.rollback()  # end the implicit read transaction before reuse
        except BaseException:
            if conn is not None:
                conn.close()
            conn = None
            raise
        finally:
            with self.changed:
                if conn is not None:
                    self.idle.append(conn)
                self.active -= 1
                self.changed.notify_all()

    def close(self) -> None:
        """Close the idle connections (callers hold the lock)."""
        while self.idle:
            self.idle.pop().close()


_readers: dict[str, _Readers] = {}
_readers_lock = threading.Lock()
_versions: dict[str, tuple[float, str]] = {}


def _readers_for(url: str) -> _Readers:
    with _readers_lock:
        return _readers.setdefault(url, _Readers(url))


def database_url() -> str:
    """The warehouse URL of the running app (set by create_app)."""
    return get_app().server.config[CONFIG_KEY]


def warehouse_version(url: str) -> str:
    """A token that changes whenever a pipeline run publishes a new warehouse."""
    if dialect_of(url) == "duckdb":
        stamps = []
        for path in (duckdb_path(url), derived_path(url)):
            try:
                st = os.stat(path)
            except FileNotFoundError:
                stamps.append("missing")
                continue
            stamps.append(f"{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
        return "/".join(stamps)
    now = time.monotonic()
    cached = _versions.get(url)
    if cached and now - cached[0] < VERSION_TTL_SECONDS:
        return cached[1]
    with reader_engine(url).connect() as conn:
        version = read.runs.warehouse_version(conn)
    _versions[url] = (now, version)
    return version


@lru_cache(maxsize=512)
def _cached(url: str, version: str, query: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    with _readers_for(url).connect(version) as conn:
        return query(conn, *args)


def load_from(url: str, query: Callable[..., T], *args: Any) -> T:
    """`query(conn, *args)` against the warehouse at `url`, cached until it is republished."""
    return _cached(url, warehouse_version(url), query, args)


def load(query: Callable[..., T], *args: Any) -> T:
    """`query(conn, *args)` against the running app's warehouse (see load_from)."""
    return load_from(database_url(), query, *args)


@lru_cache(maxsize=256)
def _derived(url: str, version: str, func: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return func(*args)


def derive(func: Callable[..., T], *args: Any) -> T:
    """`func(*args)`, a pure computation over loaded data, cached like the loads it uses."""
    url = database_url()
    return _derived(url, warehouse_version(url), func, args)


def source_lacks(feed: str, field: str | None = None) -> bool:
    """Whether the loaded source has no rows of `feed` (or no value of `feed.field`)."""
    return read.quality.lacks(load(read.quality.data_coverage), feed, field)


@dataclass(frozen=True)
class CostPart:
    """A part of the net return cost besides refunds: the returns field the source must
    record for it to mean anything, what it is in words, its Costs card and money column."""

    field: str
    words: str
    card: str
    column: str


NET_COST_PARTS = (
    CostPart("restocking_fee", "restocking fees kept", "restocking-fees", "restocking_fee"),
    CostPart("return_shipping_cost", "reverse shipping", "shipping", "return_shipping_cost"),
    CostPart("handling_cost", "handling", "handling", "handling_cost"),
    # an exchange's replacement is costed from the resolution, not a money field of its own
    CostPart("resolution", "exchange replacements", "exchanges", "exchange_cost"),
    CostPart("recovered_value", "value recovered", "recovered", "recovered_value"),
)


def unrecorded_parts() -> list[CostPart]:
    """The parts of the net return cost besides refunds that the loaded source does not record
    at all: a net cost without them must say so wherever it is shown, never show them as 0."""
    return [part for part in NET_COST_PARTS if source_lacks("returns", part.field)]


def unrecorded_cost_parts() -> list[str]:
    """The unrecorded parts of the net return cost, in words."""
    return [part.words for part in unrecorded_parts()]


def source_defaults(field: str) -> bool:
    """Whether the source's adapter filled `field` ('products.vendor_id') with one placeholder
    for every row because the source has no such thing (no vendors, no sizes)."""
    return read.quality.defaulted(load(read.quality.source_notes), field)


def with_region_names(frame: pl.DataFrame, column: str = "region") -> pl.DataFrame:
    """`frame` with `region_label` beside its region codes in `column`: 'Jawa Barat (ID-JB)',
    or the code alone where the source names no region."""
    names = load(read.carriers.region_names).rename({"region": column})
    return frame.join(names, on=column, how="left", maintain_order="left").with_columns(
        region_label=pl.when(pl.col("region_name").is_null()).then(pl.col(column))
        .otherwise(pl.format("{} ({})", "region_name", column))).drop("region_name")


def clear_cache() -> None:
    """Forget cached results and close idle connections (tests and benchmarks use it)."""
    _cached.cache_clear()
    _derived.cache_clear()
    _versions.clear()
    with _readers_lock:
        readers = list(_readers.values())
    for r in readers:
        with r.changed:
            r.changed.wait_for(lambda r=r: r.active == 0)
            r.close()
            r.version = None


def currency() -> str:
    """The ISO 4217 code of the warehouse's money (read.runs.currency), shown beside amounts."""
    return load(read.runs.currency)
