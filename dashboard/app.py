"""The ReturnLens dashboard: a Dash multi-page app over the warehouse's marts.

`create_app(db_url)` builds the app; the pages live in dashboard/pages/ and read the warehouse
only through dashboard.data (cached calls of warehouse.dashboard_queries). The global filters
sit above every page and live in the URL's query string, so any view can be shared.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import Input, Output, State, callback_context, dcc, html, no_update
from dash._callback import GLOBAL_CALLBACK_LIST, GLOBAL_CALLBACK_MAP

from dashboard import data
from dashboard.components import filter_bar
from dashboard.filters import KEYS, SEGMENTS, empty_state, parse_query, to_query
from warehouse import read

# Clientside: show the filters in the address bar without a reload or a page re-render.
_REPLACE_URL = """
function(query) {
    const url = window.location.pathname + (query || "");
    if (url !== window.location.pathname + window.location.search) {
        window.history.replaceState(window.history.state, "", url);
    }
    return window.dash_clientside.no_update;
}
"""


def _months(bounds: pl.DataFrame) -> list[date]:
    """Every month from the first to the last day with any data."""
    if bounds.is_empty():
        return []
    days = [d for d in bounds.row(0) if d is not None]
    if not days:
        return []
    first, last = min(days).replace(day=1), max(days).replace(day=1)
    months, m = [], first
    while m <= last:
        months.append(m)
        m = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    return months


def _filter_options() -> tuple[list[date], dict[str, list[str]]]:
    months = _months(data.load(read.runs.data_bounds))
    values = data.load(read.runs.filter_values)
    return months, {k: values.filter(pl.col("filter") == k)["value"].to_list() for k in SEGMENTS}


def _navbar() -> dbc.Navbar:
    links = [dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"],
                                     id=f"nav-link-{page['module'].rsplit('.', 1)[-1]}"))
             for page in dash.page_registry.values()]
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand("ReturnLens", href="/"),
        dbc.Nav(links, navbar=True, class_name="me-auto"),
    ], fluid=True), color="dark", dark=True, class_name="py-1")


def _layout() -> html.Div:
    months, values = _filter_options()
    return html.Div([
        dcc.Location(id="app-location"),
        dcc.Store(id="filters-store"),
        html.Div(id="app-query", hidden=True),
        html.Div(id="app-url-sync", hidden=True),
        _navbar(),
        html.Div(dbc.Container(filter_bar(months, values), fluid=True), className="filter-bar"),
        dbc.Container(dash.page_container, fluid=True, class_name="py-3"),
    ])


def _register_callbacks(app: dash.Dash) -> None:
    filter_ids = [f"filter-{k}-dropdown" for k in KEYS]
    nav_ids = [f"nav-link-{p['module'].rsplit('.', 1)[-1]}" for p in dash.page_registry.values()]
    paths = [p["relative_path"] for p in dash.page_registry.values()]

    @app.callback(
        [Output(i, "value") for i in filter_ids] + [Output("filters-store", "data")],
        Input("app-location", "search"),
        [Input(i, "value") for i in filter_ids],
        Input("filter-reset-button", "n_clicks"),
        State("filters-store", "data"),
        [State(i, "options") for i in filter_ids],
    )
    def sync_filters(search: str | None, *args: Any) -> list[Any]:
        """URL → filter widgets on load and navigation; widgets → store on every change."""
        n = len(filter_ids)
        values, current, options = args[:n], args[n + 1], args[n + 2:]  # args[n]: reset clicks
        trigger = callback_context.triggered_id
        if trigger == "filter-reset-button":
            state = empty_state()
        elif trigger in (None, "app-location"):
            months = {o["value"] for o in options[0]}
            allowed = {k: {o if isinstance(o, str) else o["value"] for o in opts}
                       for k, opts in zip(SEGMENTS, options[2:], strict=True)}
            state = parse_query(search, months, allowed)
            if state == current:
                return [no_update] * (n + 1)
        else:
            state = dict(zip(KEYS, values, strict=True))
            state = {**state, **{k: sorted(state[k] or []) for k in SEGMENTS}}
            if state["from"] and state["to"] and state["from"] > state["to"]:
                state["from"], state["to"] = state["to"], state["from"]
                return [state[k] for k in KEYS] + [state]
            return [no_update] * n + [state]
        return [state[k] for k in KEYS] + [state]

    @app.callback(
        [Output(i, "href") for i in nav_ids] + [Output(i, "active") for i in nav_ids]
        + [Output("app-query", "children")],
        Input("filters-store", "data"),
        Input("app-location", "pathname"),
    )
    def update_nav(state: dict[str, Any] | None, pathname: str | None) -> list[Any]:
        """Navigation keeps the filters; the current page's link is highlighted."""
        query = to_query(state)
        return [p + query for p in paths] + [p == (pathname or "/") for p in paths] + [query]

    app.clientside_callback(_REPLACE_URL, Output("app-url-sync", "children"),
                            Input("app-query", "children"), prevent_initial_call=True)


def create_app(db_url: str) -> dash.Dash:
    """The dashboard over the warehouse at `db_url` (a SQLAlchemy URL)."""
    # Page modules register their callbacks with dash.callback each time an app imports them;
    # drop what an earlier app in this process registered but never served.
    GLOBAL_CALLBACK_LIST.clear()
    GLOBAL_CALLBACK_MAP.clear()
    app = dash.Dash("dashboard", use_pages=True, title="ReturnLens")
    app.server.config[data.CONFIG_KEY] = db_url
    app.layout = _layout
    _register_callbacks(app)
    return app

