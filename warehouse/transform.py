"""Build staging → core → marts from the raw layer with the portable SQL in warehouse/sql/."""

from __future__ import annotations

from importlib import resources

from sqlalchemy.engine import Connection

LAYERS = ("staging", "core", "marts")


def _statements(layer: str) -> list[str]:
    files = sorted(p for p in resources.files("warehouse.sql").iterdir()
                   if p.name.endswith(f"_{layer}.sql"))
    text = "\n".join(p.read_text(encoding="utf-8") for p in files)
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def build_layer(conn: Connection, layer: str) -> int:
    """Rebuild every table and view of `layer`; returns how many statements ran."""
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; layers are {', '.join(LAYERS)}")
    statements = _statements(layer)
    for statement in statements:
        conn.exec_driver_sql(statement)
    return len(statements)
