"""What every read module shares: bound-parameter reads into polars and the filter clauses.

Column names used in SQL text come from constants in the read modules, never from a caller;
values are always bound parameters.
"""

from __future__ import annotations

import warnings

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse.read.filters import EARLIEST, LATEST, Filters


def read_frame(conn: Connection, sql: str, params: dict[str, object] | None = None) -> pl.DataFrame:
    """Run `sql` with bound parameters (tuples expand into IN lists) and return a polars frame."""
    params = dict(params or {})
    statement = sa.text(sql)
    expanding = [k for k, v in params.items() if isinstance(v, tuple)]
    if expanding:
        statement = statement.bindparams(*(sa.bindparam(k, expanding=True) for k in expanding))
    with warnings.catch_warnings():
        # polars notes that DuckDB's DB-API Arrow output costs a copy; it is small here
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
        # PostgreSQL rows arrive as Python values: infer types from all of them, or a column
        # whose first hundred values are empty fails on the first value that is not
        frame = pl.read_database(statement, conn, execute_options={"parameters": params},
                                 infer_schema_length=None)
    # SUMs come back as DECIMAL (DuckDB HUGEINT, PostgreSQL NUMERIC): make them plain numbers
    return frame.with_columns(
        pl.col(name).cast(pl.Int64 if dtype.scale == 0 else pl.Float64)  # type: ignore[union-attr]
        for name, dtype in frame.schema.items() if isinstance(dtype, pl.Decimal)
    )


def segment_sql(filters: Filters, params: dict[str, object], region_column: str = "ship_region",
                 category: bool = True, channel: bool = True) -> str:
    """AND-clauses for the segment filters a mart carries; binds their values into `params`."""
    clauses = []
    if category and filters.categories:
        clauses.append("category IN :categories")
        params["categories"] = tuple(filters.categories)
    if channel and filters.channels:
        clauses.append("channel IN :channels")
        params["channels"] = tuple(filters.channels)
    if region_column and filters.regions:
        clauses.append(f"{region_column} IN :regions")
        params["regions"] = tuple(filters.regions)
    return "".join(f" AND {c}" for c in clauses)



def month_params(filters: Filters) -> dict[str, object]:
    """The filter's month range as bound parameters month_from / month_to."""
    return {"month_from": filters.month_from or EARLIEST, "month_to": filters.month_to or LATEST}


def day_params(filters: Filters) -> dict[str, object]:
    """The filter's day range as bound parameters date_from / date_to."""
    return {"date_from": filters.date_from, "date_to": filters.date_to}
