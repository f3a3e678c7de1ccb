"""Fixtures of the dashboard tests: the app over the test warehouse, a shop big enough for the
planted truths, and small warehouses for edge cases."""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import dash
import pytest

from tests.conftest import SHOP_ORDERS

# Below this the planted carrier incident (6 weeks in one region) is too faint to flag surely.
TRUTH_ORDERS = 60_000


@pytest.fixture
def app(warehouse_url: str) -> dash.Dash:
    """A fresh dashboard app over the test warehouse (its pages import with it)."""
    from dashboard.app import create_app

    return create_app(warehouse_url)


def page(name: str) -> ModuleType:
    """A page module of the app created last (pages can only be imported after an app)."""
    return importlib.import_module(f"dashboard.pages.{name}")


@pytest.fixture(scope="session")
def truth_shop(shop_dir: Path, warehouse_url: str, prefect_harness: None,
               tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """(shop folder, warehouse URL) of a shop of at least TRUTH_ORDERS orders."""
    if SHOP_ORDERS >= TRUTH_ORDERS:
        return shop_dir, warehouse_url
    from flows.pipeline import pipeline
    from flows.sources.synthetic import generate_shop

    out = tmp_path_factory.mktemp("truth_shop")
    generate_shop(TRUTH_ORDERS, 11).write(out)
    url = f"duckdb:///{tmp_path_factory.mktemp('truth_wh') / 'returnlens.duckdb'}"
    pipeline(source=out, db=url)
    return out, url


def variant_warehouse(shop: Path, name: str, change: Callable[[Path], None],
                      tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a warehouse loaded from a copy of the shop's feeds that `change` edits in
    place: a source with something missing, for the edge cases."""
    from flows.pipeline import pipeline

    source = tmp_path_factory.mktemp(f"{name}_shop")
    for path in shop.glob("*.parquet"):
        shutil.copy(path, source / path.name)
    change(source)
    url = f"duckdb:///{tmp_path_factory.mktemp(f'{name}_wh') / 'returnlens.duckdb'}"
    pipeline(source=source, db=url)
    return url


@pytest.fixture(scope="session")
def no_scans_warehouse_url(small_shop_dir: Path, prefect_harness: None,
                           tmp_path_factory: pytest.TempPathFactory) -> str:
    """A warehouse from a source without carrier scans (and without reviews)."""
    def drop_scans_and_reviews(source: Path) -> None:
        for feed in ("carrier_scans", "reviews"):
            (source / f"{feed}.parquet").unlink()

    return variant_warehouse(small_shop_dir, "no_scans", drop_scans_and_reviews,
                             tmp_path_factory)
