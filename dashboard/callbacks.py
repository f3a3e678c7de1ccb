"""Page callbacks whose answers Dash serialises in one pass.

Dash hands a callback's answer to plotly's JSON encoder. That encoder tries orjson on the
answer first, and when anything in it is not plain JSON (a figure, a component) it walks every
element in Python instead: at 1M order lines that walk was 130–170 ms of a cold Products or
Carriers page on one machine, 10–30 ms a callback on a faster one. `callback` registers a page
function with Dash behind a wrapper that turns the figures and components of its answer into
the dicts Dash would have made of them, so orjson takes the answer whole. The function itself
comes back unchanged: tests and other callers still get figures and components.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import dash
from dash.development.base_component import Component
from plotly.basedatatypes import BaseFigure

SCALARS = (str, int, float, bool, type(None))


def plain(value: Any) -> Any:
    """`value` with every figure and component in it replaced by its JSON dict; anything else
    (no_update among it) as it was."""
    if isinstance(value, SCALARS):
        return value
    if isinstance(value, BaseFigure):
        return value.to_plotly_json()
    if isinstance(value, Component):
        return _component(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


_PROPS: dict[type, frozenset[str]] = {}


def _component(component: Component) -> dict[str, Any]:
    """What `component.to_plotly_json()` gives, made plain, at a third of its cost: that
    method tests every attribute against every wildcard prefix, ~0.03 ms a table cell."""
    kind = type(component)
    names = _PROPS.get(kind)
    if names is None:
        names = _PROPS[kind] = frozenset(component.available_properties)
    wildcards = tuple(component.available_wildcard_properties)
    props = {key: plain(value) for key, value in vars(component).items()
             if key in names or (wildcards and key.startswith(wildcards))}
    return {"props": props, "type": component._type,  # noqa: SLF001 (as to_plotly_json has it)
            "namespace": component._namespace}  # noqa: SLF001


def callback(*dependencies: Any, **options: Any) -> Callable[[Callable[..., Any]], Any]:
    """`dash.callback`, answering with plain JSON (see the module's docstring)."""
    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def answer(*args: Any, **kwargs: Any) -> Any:
            return plain(function(*args, **kwargs))

        dash.callback(*dependencies, **options)(answer)
        return function

    return register
