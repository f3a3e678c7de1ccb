"""Callback answers are plain JSON, the same JSON Dash would have made of them."""

from __future__ import annotations

import json

import orjson
import plotly.graph_objects as go
from dash import html, no_update
from plotly.io.json import to_json_plotly

from dashboard.callbacks import plain


def answer() -> tuple[object, ...]:
    figure = go.Figure(go.Bar(x=["a", "b"], y=[1.5, 2.0]), layout={"title": "Returns"})
    table = html.Div([html.Span("£1,204 {braces} <script>"), html.Table(html.Tr(html.Td(3)))],
                     id="t")
    return figure, table, {"rows": [1, 2]}, "text"


def test_an_answer_with_figures_and_components_serialises_with_orjson_alone() -> None:
    orjson.dumps(plain(answer()))


def test_the_plain_answer_is_the_json_dash_would_have_sent() -> None:
    assert json.loads(orjson.dumps(plain(answer()))) == json.loads(to_json_plotly(answer()))


def test_no_update_is_left_for_dash_to_see() -> None:
    assert plain((no_update, 1))[0] is no_update
