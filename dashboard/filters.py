"""The global filters as they travel: URL query string ⇄ store data ⇄ warehouse Filters."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qs, urlencode

from dash.exceptions import PreventUpdate

from warehouse.read.filters import Filters

SEGMENTS = ("category", "channel", "region")
KEYS = ("from", "to", *SEGMENTS)


def empty_state() -> dict[str, Any]:
    """No filter set: every month, category, channel and region."""
    return {"from": None, "to": None, **{k: [] for k in SEGMENTS}}


def parse_query(search: str | None, months: set[str] | None = None,
                values: dict[str, set[str]] | None = None) -> dict[str, Any]:
    """Filter state from a query string like ?from=2025-01&category=apparel,shoes.

    Months and values not offered (when `months`/`values` are given) are dropped, and a
    reversed month range is put the right way round.
    """
    query = parse_qs((search or "").lstrip("?"))
    state = empty_state()
    for key in ("from", "to"):
        value = (query.get(key) or [None])[0]
        if value and (months is None or value in months):
            state[key] = value
    if state["from"] and state["to"] and state["from"] > state["to"]:
        state["from"], state["to"] = state["to"], state["from"]
    for key in SEGMENTS:
        items = [v for raw in query.get(key, []) for v in raw.split(",") if v]
        allowed = (values or {}).get(key)
        state[key] = sorted({v for v in items if allowed is None or v in allowed})
    return state


def to_query(state: dict[str, Any] | None) -> str:
    """The query string ('?…', or '' when nothing is filtered) that encodes `state`."""
    if not state:
        return ""
    pairs = [(k, state[k]) for k in ("from", "to") if state.get(k)]
    pairs += [(k, ",".join(state[k])) for k in SEGMENTS if state.get(k)]
    return f"?{urlencode(pairs)}" if pairs else ""


def _month(value: str | None) -> date | None:
    return date.fromisoformat(f"{value}-01") if value else None


def to_filters(state: dict[str, Any] | None) -> Filters:
    """Warehouse Filters from store data; stops the callback while the store is not set yet."""
    if state is None:
        raise PreventUpdate
    return Filters(
        month_from=_month(state.get("from")), month_to=_month(state.get("to")),
        categories=tuple(state.get("category") or ()), channels=tuple(state.get("channel") or ()),
        regions=tuple(state.get("region") or ()),
    )
