"""Shared fixtures: small synthetic shops, warehouses built from them by the real Prefect
pipeline on DuckDB and on a throwaway PostgreSQL server, and a Prefect test harness; and the
tiers: markers that tell slow tests apart, and a check that the real data is where it should be."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import pytest

import flows  # noqa: F401  (quiet, offline Prefect settings before prefect is imported)
from flows.sources.synthetic import generate_shop
from tests.flows.sources.extracts import (
    ALLOW_MISSING,
    REAL_DATA,
    RETAIL_2009_2010,
    SHARED_DATA,
    require,
    write_retail_extract,
)

if TYPE_CHECKING:
    from flows.pipeline import RunSummary

SHOP_ORDERS = 40_000
SHOP_SEED = 11

# Tests that use one of these fixtures get the marker, so the fast tier never starts them.
MARK_BY_FIXTURE = {"postgres_server": "postgres", "prefect_harness": "prefect",
                   "retail_extract": "realdata", "olist_extract": "realdata"}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the costly fixtures they use."""
    for item in items:
        for fixture, marker in MARK_BY_FIXTURE.items():
            if fixture in item.fixturenames:
                item.add_marker(marker)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Refuse to run real-data tests without the real data, unless the user opted out.

    Runs once `-m` has deselected, so a tier without real-data tests never needs the data.
    """
    if not any(item.get_closest_marker("realdata") for item in session.items):
        return
    missing = [path for path in REAL_DATA if not path.exists()]
    if missing and os.environ.get(ALLOW_MISSING) != "1":
        raise pytest.UsageError(
            f"real data not found: {', '.join(map(str, missing))} absent. The public datasets are "
            f"expected in {SHARED_DATA} (RETURNLENS_SHARED_DATA; by default ../shared/data beside "
            f"the repository, see the README there). To run without them on purpose, deselect "
            f"them (-m 'not realdata') or set {ALLOW_MISSING}=1 to skip them.")


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """One temporary Prefect server for the whole test session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(scope="session")
def shop_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic shop written as Parquet feed files (with its _truth/)."""
    out = tmp_path_factory.mktemp("shop")
    generate_shop(SHOP_ORDERS, SHOP_SEED).write(out)
    return out


@pytest.fixture(scope="session")
def shop(shop_dir: Path) -> dict[str, pl.DataFrame]:
    """Every feed file of the test shop as a frame."""
    return {p.stem: pl.read_parquet(p) for p in shop_dir.glob("*.parquet")}


@pytest.fixture(scope="session")
def small_shop_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small shop (1,500 orders) for warehouses built per test module."""
    out = tmp_path_factory.mktemp("small_shop")
    generate_shop(1500, 5).write(out)
    return out


@pytest.fixture(scope="session")
def warehouse_url(shop_dir: Path, prefect_harness: None,
                  tmp_path_factory: pytest.TempPathFactory) -> str:
    """A DuckDB warehouse built from `shop_dir` by the real pipeline flow. Read it, don't write."""
    from flows.pipeline import pipeline

    url = f"duckdb:///{tmp_path_factory.mktemp('wh') / 'returnlens.duckdb'}"
    pipeline(source=shop_dir, db=url)
    return url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL prefix of a throwaway PostgreSQL cluster this session starts and stops.

    RETURNLENS_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432) uses an
    existing server instead.
    """
    existing = os.environ.get("RETURNLENS_TEST_POSTGRES_URL")
    if existing:
        yield existing.rstrip("/")
        return
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.fail("PostgreSQL server binaries not found: install them (Debian: apt-get install "
                    "postgresql) or set RETURNLENS_TEST_POSTGRES_URL to a server to use")
    root = Path(tempfile.mkdtemp(prefix="returnlens-pg-"))
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(root, "postgres")
        shutil.chown(sock, "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8"], check=True, capture_output=True)
    subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-l",
                    str(root / "log"), "-w", "-o",
                    f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={sock} "
                    "-c fsync=off", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str, request: pytest.FixtureRequest) -> str:
    """A fresh, empty database on the test PostgreSQL server, for one test."""
    import sqlalchemy as sa

    name = "t_" + "".join(ch if ch.isalnum() else "_" for ch in request.node.name.lower())[:50]
    admin = sa.create_engine(f"{postgres_server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return f"{postgres_server}/{name}"


@pytest.fixture(scope="session")
def retail_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~5,800 real Online Retail II lines (2009–2010) as one Parquet file."""
    source = require(RETAIL_2009_2010)
    return write_retail_extract(source, tmp_path_factory.mktemp("retail") / "extract.parquet")


@pytest.fixture(scope="session")
def retail_warehouse(retail_extract: Path, prefect_harness: None,
                     tmp_path_factory: pytest.TempPathFactory) -> tuple[str, RunSummary]:
    """The extract loaded by the real Prefect pipeline into DuckDB: (url, run summary)."""
    from flows.pipeline import pipeline

    root = tmp_path_factory.mktemp("retail-wh")
    url = f"duckdb:///{root / 'w.duckdb'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RETURNLENS_DATA_DIR", str(root / "data"))
        summary = pipeline(source=retail_extract, db=url, source_kind="online-retail-ii")
    return url, summary


@pytest.fixture(scope="session")
def trained_warehouse(warehouse_url: str, shop_dir: Path,
                      tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A copy of `warehouse_url` on which the training flow has run (seed 7, two backtest
    cuts, abuse judged against the shop's truth); returns its URL and the models folder."""
    from flows.train import train
    from warehouse.engine import duckdb_path

    root = tmp_path_factory.mktemp("trained")
    shutil.copyfile(duckdb_path(warehouse_url), root / "returnlens.duckdb")
    url = f"duckdb:///{root / 'returnlens.duckdb'}"
    train(db=url, seed=7, truth=shop_dir / "_truth", backtest_cuts=2,
          models_dir=root / "models")
    return url, root / "models"


@pytest.fixture(autouse=True)
def forget_the_dash_app_of_earlier_requests() -> Iterator[None]:
    """Each test sees the app it created last.

    Dash records the app that handled a request in a context variable of the calling thread
    (`dash._get_app.app_context`), and `dash.get_app()` prefers it over the app created last; a
    test that sent requests through a test client would otherwise lend its app (and its
    warehouse) to every later test in the session.
    """
    yield
    from dash._get_app import app_context

    app_context.set(None)
