"""What every read module shares: bound-parameter reads into polars and the filter clauses.

Column names used in SQL text come from constants in the read modules, never from a caller;
values are always bound parameters.
"""

from __future__ import annotations

import warnings

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse.read.filters import Filters


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



def by_order_day(monthly: str, daily: str, columns: str, filters: Filters,
                 params: dict[str, object], where: str = "") -> str:
    """A subquery of `columns` from the rows of the orders placed in the filter's days: whole
    months from the `monthly` mart (by order_month), the days of a month covered only in part
    from its `daily` twin (by order_date), so a day range costs no more than the months it
    spans. `where` (AND-clauses whose values are bound into `params`) applies to both."""
    months, parts = filters.split_months()
    selects = []
    if months is not None:
        params["whole_from"], params["whole_to"] = months
        selects.append(f"SELECT {columns} FROM {monthly} "
                       f"WHERE order_month BETWEEN :whole_from AND :whole_to {where}")
    for i, (first, last) in enumerate(parts):
        params[f"part{i}_from"], params[f"part{i}_to"] = first, last
        selects.append(f"SELECT {columns} FROM {daily} "
                       f"WHERE order_date BETWEEN :part{i}_from AND :part{i}_to {where}")
    if not selects:  # an empty range
        selects.append(f"SELECT {columns} FROM {monthly} WHERE 1 = 0")
    return "(" + " UNION ALL ".join(selects) + ")"


def day_params(filters: Filters) -> dict[str, object]:
    """The filter's day range as bound parameters date_from / date_to."""
    return {"date_from": filters.date_from, "date_to": filters.date_to}
