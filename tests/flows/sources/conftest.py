"""Fixtures for the source adapters: extracts of the real datasets, and a private data folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.flows.sources.extracts import (
    OLIST,
    RETAIL_2009_2010,
    require,
    write_olist_extract,
    write_retail_extract,
)

if TYPE_CHECKING:
    from flows.pipeline import RunSummary


@pytest.fixture(scope="session")
def retail_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """~5,800 real Online Retail II lines (2009–2010) as one Parquet file."""
    source = require(RETAIL_2009_2010)
    return write_retail_extract(source, tmp_path_factory.mktemp("retail") / "extract.parquet")


@pytest.fixture(scope="session")
def olist_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Olist sample's orders that have items, and what they join to, as Kaggle CSVs."""
    return write_olist_extract(require(OLIST), tmp_path_factory.mktemp("olist"))


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


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private RETURNLENS_DATA_DIR, so adapter output never lands in the repository."""
    folder = tmp_path / "data"
    monkeypatch.setenv("RETURNLENS_DATA_DIR", str(folder))
    return folder
