"""Build staging → core → marts from the raw layer with the portable SQL in warehouse/sql/."""

from __future__ import annotations

import re
from importlib import resources

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse.contract import DEFECT_CONDITIONS, DEFECT_REASONS, FAILURE_REASONS, FEEDS

LAYERS = ("staging", "core", "marts")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def _codes(values: tuple[str, ...]) -> tuple[str, ...]:
    """Contract codes, checked to be plain identifiers before they are written into SQL."""
    bad = [v for v in values if not _CODE.match(v)]
    if bad:
        raise ValueError(f"contract codes must be lower-case identifiers: {bad}")
    return values


def contract_lists() -> dict[str, str]:
    """The SQL the marts take from the data contract, by the {{name}} that stands for it."""
    return {
        "failure_reason_counts": ",\n           ".join(
            f"CAST(SUM(CASE WHEN failure_reason = '{r}' THEN 1 ELSE 0 END) AS BIGINT) "
            f"AS failed_{r}" for r in _codes(FAILURE_REASONS)),
        "defect_reasons": ", ".join(f"'{r}'" for r in _codes(DEFECT_REASONS)),
        "defect_conditions": ", ".join(f"'{c}'" for c in _codes(DEFECT_CONDITIONS)),
    }


def _render(text: str) -> str:
    """`text` with every {{name}} replaced by the contract's list; an unknown name is an error."""
    lists = contract_lists()

    def fill(match: re.Match[str]) -> str:
        if match.group(1) not in lists:
            raise KeyError(f"warehouse/sql uses {{{{{match.group(1)}}}}}, which the contract "
                           f"does not provide; known: {', '.join(lists)}")
        return lists[match.group(1)]

    return re.sub(r"\{\{(\w+)\}\}", fill, text)


def statements(layer: str) -> list[str]:
    """The SQL statements of `layer`'s files, contract lists rendered, comments dropped."""
    files = sorted(p for p in resources.files("warehouse.sql").iterdir()
                   if p.name.endswith(f"_{layer}.sql"))
    text = _render("\n".join(p.read_text(encoding="utf-8") for p in files))
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def coverage_statements() -> list[str]:
    """marts.data_coverage: per contract field, how many loaded rows carry a value.

    It is what lets every page say what the loaded source can and cannot answer (Online Retail
    II has no reasons and no carrier scans), computed from the data rather than declared.
    """
    selects = [
        f"SELECT '{feed.name}' AS feed, '{col.name}' AS field, COUNT(*) AS rows_loaded, "
        f"COUNT({col.name}) AS rows_with_value FROM raw.{feed.name}"
        for feed in FEEDS.values() for col in feed.columns
    ]
    return ["DROP TABLE IF EXISTS marts.data_coverage",
            "CREATE TABLE marts.data_coverage AS " + " UNION ALL ".join(selects)]


def build_layer(conn: Connection, layer: str) -> int:
    """Rebuild every table and view of `layer`; returns how many statements ran."""
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; layers are {', '.join(LAYERS)}")
    todo = statements(layer)
    if layer == "marts":
        todo += coverage_statements()
    for statement in todo:
        conn.exec_driver_sql(statement)
    if conn.dialect.name == "postgresql":
        _analyze(conn, layer)
    return len(todo)


def _analyze(conn: Connection, schema: str) -> None:
    """Give PostgreSQL's planner statistics of the tables just built.

    Without them it guesses a few rows a table until autovacuum comes by, and picks nested
    loops that rescan whole tables for every row (the features query took minutes, not
    seconds, on a few thousand lines).
    """
    tables = conn.execute(sa.text(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = :schema AND table_type = 'BASE TABLE' ORDER BY table_name"),
        {"schema": schema}).scalars().all()
    for table in tables:  # names read from the catalogue, quoted as identifiers
        conn.exec_driver_sql(f'ANALYZE {schema}."{table}"')
