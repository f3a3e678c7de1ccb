"""Helpers to call Dash callbacks directly and read what they render."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextvars import copy_context
from typing import Any

from dash._callback_context import context_value
from dash._utils import AttributeDict


def walk(component: Any) -> Iterator[Any]:
    """Every component in a rendered tree (lists, tuples and children)."""
    if isinstance(component, list | tuple):
        for item in component:
            yield from walk(item)
        return
    if component is None or isinstance(component, str | int | float):
        return
    yield component
    yield from walk(getattr(component, "children", None))


def find(tree: Any, component_id: Any) -> Any:
    """The component with id `component_id` in `tree`."""
    for c in walk(tree):
        if getattr(c, "id", None) == component_id:
            return c
    raise KeyError(component_id)


def _is_frame_table(node: Any) -> bool:
    return type(node).__name__ == "FrameTable"


def text(tree: Any) -> str:
    """All the text in a rendered tree, space-separated (a FrameTable as its headers and cells)."""
    parts: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, str | int | float):
            parts.append(str(node))
        elif isinstance(node, list | tuple):
            for item in node:
                collect(item)
        elif _is_frame_table(node):
            parts.extend(c["label"] for c in node.columns)
            parts.extend(cell for row in node.rows for cell in row)
        elif node is not None:
            collect(getattr(node, "children", None))

    collect(tree)
    return " ".join(parts)


def table_rows(tree: Any) -> list[list[str]]:
    """The body rows of the first table in `tree`, as cell texts."""
    for c in walk(tree):
        if type(c).__name__ == "Tbody":
            return [[text(td) for td in tr.children] for tr in c.children]
        if _is_frame_table(c):
            return [list(row) for row in c.rows]
    return []


def table_links(tree: Any) -> list[tuple[str, dict[str, str]]]:
    """(first cell's text, its link) of each linked row of the first table in `tree`."""
    for c in walk(tree):
        if _is_frame_table(c):
            return [(row[0], link) for row, link in zip(c.rows, c.links or [], strict=False)]
    return []


def call_triggered(func: Callable[..., Any], trigger: Any, *args: Any,
                   value: Any = 1, prop: str = "n_clicks") -> Any:
    """Call a callback function as if the input `trigger` had fired it."""
    key = json.dumps(trigger, sort_keys=True, separators=(",", ":")) \
        if isinstance(trigger, dict) else trigger

    def run() -> Any:
        context_value.set(AttributeDict(
            triggered_inputs=[{"prop_id": f"{key}.{prop}", "value": value}]))
        return func(*args)

    return copy_context().run(run)


def table_header(tree: Any) -> list[str]:
    """The column headers of the first table in `tree`."""
    for c in walk(tree):
        if type(c).__name__ == "Thead":
            return [text(th) for th in walk(c) if type(th).__name__ == "Th"]
        if _is_frame_table(c):
            return [column["label"] for column in c.columns]
    return []
