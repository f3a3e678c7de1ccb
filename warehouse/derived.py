"""The write path for derived outputs: model scores, simulations and flags, in the `models` schema.

An output (say "risk") is a set of tables whose names start with the output's name
("risk_line_scores", "risk_skus", ...). `publish` replaces those tables and records the
publication in `models.outputs` (parameters, metrics and the pipeline run the output was derived
from), all visible at once: a reader sees the previous publication or the new one, never half.
It never touches the pipeline's layers, so it costs what the output weighs (engine.py says
where the `models` schema lives on each store).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse.engine import derived_session, is_duckdb
from warehouse.load import create_table, insert_frame, utcnow

OUTPUTS = pl.Schema({
    "output": pl.String(), "output_run_id": pl.String(), "published_at": pl.Datetime("us"),
    "tables": pl.String(), "params": pl.String(), "metrics": pl.String(),
    "snapshot": pl.String(),
})
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


def _qualified(conn: Connection, table: str) -> str:
    """`table` as the derived store's writer names it (DuckDB: its own file's main schema)."""
    return table if is_duckdb(conn) else f"models.{table}"


def _check_names(output: str, tables: Mapping[str, pl.DataFrame]) -> None:
    if not _NAME.match(output):
        raise ValueError(f"output name {output!r}: use lower-case letters, digits and _")
    if not tables:
        raise ValueError(f"output {output!r}: nothing to publish")
    for name in tables:
        if not _NAME.match(name) or not name.startswith(f"{output}_") or name == "outputs":
            raise ValueError(f"table {name!r} of output {output!r}: table names start with "
                             f"'{output}_' and use lower-case letters, digits and _")


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` in types every store takes: small ints and floats widened, categoricals as text."""
    casts = {}
    for name, dtype in frame.schema.items():
        if dtype.is_integer():
            casts[name] = pl.Int64
        elif dtype.is_float():
            casts[name] = pl.Float64
        elif dtype in (pl.Categorical, pl.Enum) or isinstance(dtype, (pl.Categorical, pl.Enum)):
            casts[name] = pl.String
        elif isinstance(dtype, pl.Datetime):
            casts[name] = pl.Datetime("us")
    return frame.cast(casts) if casts else frame  # type: ignore[arg-type]


def publish(url: str, output: str, tables: Mapping[str, pl.DataFrame], *,
            params: Mapping[str, Any] | None = None, metrics: Mapping[str, Any] | None = None,
            snapshot: str | None = None) -> str:
    """Replace the tables of `output` and record the publication; returns its output run id.

    `params` and `metrics` are stored as JSON; `snapshot` names the warehouse state the output
    was derived from (the latest pipeline run id).
    """
    _check_names(output, tables)
    run_id = uuid.uuid4().hex[:12]
    with derived_session(url) as conn:
        outputs = _qualified(conn, "outputs")
        create_table(conn, outputs, OUTPUTS)
        for name, frame in tables.items():
            target = _qualified(conn, name)
            plain = _plain(frame)
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {target}")
            create_table(conn, target, plain.schema)
            insert_frame(conn, target, plain)
        insert_frame(conn, outputs, pl.DataFrame([{
            "output": output, "output_run_id": run_id, "published_at": utcnow(),
            "tables": ",".join(tables), "params": json.dumps(dict(params or {}), default=str),
            "metrics": json.dumps(dict(metrics or {}), default=str), "snapshot": snapshot,
        }], schema=OUTPUTS))
    return run_id


def has_outputs(conn: Connection) -> bool:
    """Whether anything has been published to the derived store this reader sees."""
    if is_duckdb(conn):
        sql = ("SELECT COUNT(*) FROM information_schema.tables "
               "WHERE table_catalog = 'models' AND table_name = 'outputs'")
    else:
        sql = ("SELECT COUNT(*) FROM information_schema.tables "
               "WHERE table_schema = 'models' AND table_name = 'outputs'")
    return bool(conn.execute(sa.text(sql)).scalar())


def is_published(conn: Connection, output: str, table: str) -> bool:
    """Whether `table` is among the tables of the latest publication of `output`."""
    found = latest_output(conn, output)
    return found is not None and table in found["tables"]


def latest_output(conn: Connection, output: str) -> dict[str, Any] | None:
    """The latest publication of `output` (params and metrics parsed), or None if never."""
    if not has_outputs(conn):
        return None
    row = conn.execute(sa.text(
        "SELECT output, output_run_id, published_at, tables, params, metrics, snapshot "
        "FROM models.outputs WHERE output = :output ORDER BY published_at DESC LIMIT 1"),
        {"output": output}).mappings().first()
    if row is None:
        return None
    found = dict(row)
    found["tables"] = found["tables"].split(",") if found["tables"] else []
    found["params"] = json.loads(found["params"] or "{}")
    found["metrics"] = json.loads(found["metrics"] or "{}")
    return found
