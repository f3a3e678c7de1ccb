"""The judged figure: on 200k-order synthetic shops, every planted defective vendor is flagged
with a change date within 14 days, and no other vendor is flagged at the default level."""

from pathlib import Path

import polars as pl
import pytest

from flows.sources.synthetic import write_shop
from models.vendors import change_date_error_days, outputs_from_warehouse
from warehouse.engine import reader_engine

ORDERS = 200_000


@pytest.fixture(scope="module", params=[3, 7])
def scored_shop(request, prefect_harness, tmp_path_factory) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A 200k-order shop of one seed, loaded by the pipeline and scored."""
    from flows.pipeline import pipeline

    root = tmp_path_factory.mktemp(f"vendors_seed{request.param}")
    write_shop(ORDERS, request.param, root / "shop")
    url = f"duckdb:///{root / 'w.duckdb'}"
    pipeline(source=root / "shop", db=url)
    with reader_engine(url).connect() as conn:
        card = outputs_from_warehouse(conn)["vendors_scorecard"]
    truth = pl.read_parquet(Path(root / "shop" / "_truth" / "defective_vendors.parquet"))
    return card, truth


def test_every_planted_defective_vendor_is_flagged_within_14_days(scored_shop):
    card, truth = scored_shop
    found = change_date_error_days(card, truth)
    assert found["flagged"].all(), found
    assert (found["error_days"].abs() <= 14).all(), found


def test_no_other_vendor_is_flagged_at_the_default_level(scored_shop):
    card, truth = scored_shop
    planted = truth["vendor_id"].to_list()
    others = card.filter(pl.col("flagged") & ~pl.col("vendor_id").is_in(planted))
    assert others.is_empty(), others.select("vendor_id", "category", "p_excess", "change_p_value")
