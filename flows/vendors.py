"""The vendor-quality flow: read the vendor marts, score every vendor, publish the tables.

Scoring (text causes, scorecards, change points) is models/vendors.py; this flow only moves
frames between the warehouse and the model and publishes the result atomically through
warehouse.derived, stamped with the warehouse run it was derived from.
"""

from __future__ import annotations

import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from models.vendors import ALPHA, build_outputs, overall_disagreement
from warehouse import derived, read
from warehouse.engine import reader_engine


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def read_vendor_marts(db: str) -> dict[str, pl.DataFrame | str | None]:
    """The vendor marts as frames, and the warehouse run they reflect."""
    with reader_engine(db).connect() as conn:
        return {
            "lines_daily": read.vendors.vendor_lines_daily(conn),
            "sku_monthly": read.vendors.vendor_sku_monthly(conn),
            "returns": read.vendors.vendor_return_lines(conn),
            "reviews": read.vendors.vendor_review_texts(conn),
            "names": read.vendors.vendor_names(conn),
            "run_id": read.runs.latest_run_id(conn),
        }


@task(cache_policy=NO_CACHE)
def score_vendors(marts: dict[str, pl.DataFrame | str | None],
                  alpha: float) -> dict[str, pl.DataFrame]:
    """Every vendor-quality table from the marts."""
    frames = {k: v for k, v in marts.items() if isinstance(v, pl.DataFrame)}
    return build_outputs(frames["lines_daily"], frames["sku_monthly"], frames["returns"],
                         frames["reviews"], frames["names"], alpha)


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def publish_vendors(db: str, tables: dict[str, pl.DataFrame], alpha: float,
                    snapshot: str | None) -> str:
    """Publish the vendor tables at once; returns the output run id."""
    card = tables["vendors_scorecard"]
    metrics = {
        "vendors_scored": card.height,
        "vendors_flagged": int(card["flagged"].sum()),
        "cause_disagreement_rate": overall_disagreement(card),
    }
    return derived.publish(db, read.vendors.OUTPUT, tables, params={"alpha": alpha},
                           metrics=metrics, snapshot=snapshot)


@flow(name="returnlens-vendors", log_prints=False)
def vendors_flow(db: str, alpha: float = ALPHA) -> str:
    """Score every vendor over the warehouse at `db` and publish; returns the output run id."""
    marts = read_vendor_marts(db)
    tables = score_vendors(marts, alpha)
    run_id = marts["run_id"]
    return publish_vendors(db, tables, alpha, run_id if isinstance(run_id, str) else None)
