"""Fixtures for the source adapters: the Olist extract and a private data folder (the Online
Retail II extract and its warehouse are in tests/conftest.py: the dashboard tests use them too)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.flows.sources.extracts import OLIST, require, write_olist_extract


@pytest.fixture(scope="session")
def olist_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Olist sample's orders that have items, and what they join to, as Kaggle CSVs."""
    return write_olist_extract(require(OLIST), tmp_path_factory.mktemp("olist"))


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private RETURNLENS_DATA_DIR, so adapter output never lands in the repository."""
    folder = tmp_path / "data"
    monkeypatch.setenv("RETURNLENS_DATA_DIR", str(folder))
    return folder
