"""Build staging → core → marts from the raw layer with the portable SQL in warehouse/sql/."""

from __future__ import annotations

from importlib import resources

from sqlalchemy.engine import Connection

from warehouse.contract import FEEDS

LAYERS = ("staging", "core", "marts")


def _statements(layer: str) -> list[str]:
    files = sorted(p for p in resources.files("warehouse.sql").iterdir()
                   if p.name.endswith(f"_{layer}.sql"))
    text = "\n".join(p.read_text(encoding="utf-8") for p in files)
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def _coverage_statements() -> list[str]:
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
    statements = _statements(layer)
    if layer == "marts":
        statements += _coverage_statements()
    for statement in statements:
        conn.exec_driver_sql(statement)
    return len(statements)
