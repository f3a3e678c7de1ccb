"""Amounts the loaded source does not record are never shown as 0 or 0.00."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from tests.dashboard.conftest import page
from tests.dashboard.helpers import find, text

UNRECORDED = ("restocking_fee", "return_shipping_cost", "handling_cost", "recovered_value")


@pytest.fixture(scope="module")
def no_costs_url(small_shop_dir: Path, prefect_harness: None,
                 tmp_path_factory: pytest.TempPathFactory) -> str:
    """A warehouse from a shop whose returns record refunds but no other cost."""
    import shutil

    from flows.pipeline import pipeline

    source = tmp_path_factory.mktemp("no_costs_shop")
    for path in small_shop_dir.glob("*.parquet"):
        shutil.copy(path, source / path.name)
    returns = pl.read_parquet(source / "returns.parquet")
    returns.with_columns(pl.lit(None, dtype=returns.schema[c]).alias(c)
                         for c in UNRECORDED).write_parquet(source / "returns.parquet")
    url = f"duckdb:///{tmp_path_factory.mktemp('no_costs_wh') / 'returnlens.duckdb'}"
    pipeline(source=source, db=url)
    return url


def test_cost_cards_say_not_recorded_instead_of_zero(no_costs_url: str) -> None:
    from dashboard.app import create_app

    create_app(no_costs_url)
    kpis, *_ = page("costs").update_costs(
        {"from": None, "to": None, "category": [], "channel": [], "region": []})

    for key in ("restocking-fees", "shipping", "handling", "recovered"):
        shown = text(find(kpis, f"costs-kpi-{key}"))
        assert "not recorded" in shown and "0.00" not in shown, key
    assert "does not record restocking fees kept, reverse shipping, handling, value recovered" \
        in text(kpis)
    assert "not recorded" not in text(find(kpis, "costs-kpi-net-cost"))
