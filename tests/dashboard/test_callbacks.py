"""Callback answers are plain JSON, the same JSON Dash would have made of them, and orjson
takes a page's answers whole (else plotly's encoder walks them element by element)."""

from __future__ import annotations

import json

import dash
import orjson
import plotly.graph_objects as go
import pytest
from dash import html, no_update
from plotly.io.json import to_json_plotly

from dashboard.callbacks import plain
from tests.dashboard.conftest import page

ALL = {"from": None, "to": None, "category": [], "channel": [], "region": []}


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


OPENING_ANSWERS = {  # what a page's callbacks answer when it opens, by name
    "overview": lambda p: (p.update_overview(ALL), p.update_movers(ALL, 28)),
    "products": lambda p: (p.update_cohorts(ALL, p.EMPTY_DRILL, "drill"),
                           p.update_reasons(ALL, p.EMPTY_DRILL),
                           p.update_outliers(ALL, p.EMPTY_DRILL)),
    "costs": lambda p: (p.update_costs(ALL), p.update_breakdown(ALL, "category"),
                        p.update_recovery(ALL)),
    "carriers": lambda p: (p.update_carriers(ALL), p.update_charts(ALL, None),
                           p.update_times(ALL, None, "pickup_tat_days")),
}


@pytest.mark.parametrize("name", list(OPENING_ANSWERS))
def test_a_page_opening_answers_in_json_orjson_takes_whole(app: dash.Dash, name: str) -> None:
    answers = OPENING_ANSWERS[name](page(name))

    orjson.dumps(plain(answers), option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
