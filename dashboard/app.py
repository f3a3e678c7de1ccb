"""The ReturnLens dashboard: a Dash multi-page app over the warehouse's marts.

`create_app(db_url)` builds the app; the pages live in dashboard/pages/ and read the warehouse
only through dashboard.data (cached calls of the read layer, warehouse.read). The global filters
sit above every page and live in the URL's query string, so any view can be shared. With a
users file, sign-in is required and each role sees only its pages (dashboard.auth); with
allowed hosts, other Host headers get a 400 (dashboard.serving).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import ALL, Input, Output, State, callback_context, dcc, html, no_update
from dash._callback import GLOBAL_CALLBACK_LIST, GLOBAL_CALLBACK_MAP

from dashboard import auth, data, serving
from dashboard.components import ALL_DATES, CUSTOM_RANGE, date_options, filter_bar
from dashboard.filters import (
    KEYS,
    SEGMENTS,
    checked_page_query,
    checked_state,
    choice,
    empty_state,
    ordered,
    page_query_id,
    parse_query,
    preset_range,
    to_query,
)
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


def _days(bounds: pl.DataFrame) -> tuple[date, date] | None:
    """The first and the last day with any data."""
    if bounds.is_empty():
        return None
    days = [d for d in bounds.row(0) if d is not None]
    return (min(days), max(days)) if days else None


def _filter_options() -> tuple[tuple[date, date] | None, dict[str, list[Any]]]:
    days = _days(data.load(read.runs.data_bounds))
    values = data.load(read.runs.filter_values)
    options: dict[str, list[Any]] = {
        k: values.filter(pl.col("filter") == k)["value"].to_list() for k in SEGMENTS}
    regions = data.with_region_names(pl.DataFrame({"region": options["region"]},
                                                  schema={"region": pl.String}))
    options["region"] = [{"label": label, "value": code} for code, label in regions.sort(
        "region_label").select("region", "region_label").iter_rows()]  # in the names' order
    return days, options


def _page_key(page: dict[str, Any]) -> str:
    return page["module"].rsplit(".", 1)[-1]


def nav_link_id(page: str) -> dict[str, str]:
    """The id of the navigation link to the page whose module is `page` (e.g. 'carriers')."""
    return {"type": "nav-link", "page": page}


def _navbar() -> dbc.Navbar:
    """Links to the pages the signed-in role may open, and who is signed in."""
    role = auth.current_role()
    pages = [p for p in dash.page_registry.values() if auth.may_open(role, p["path"])]
    links = [dbc.NavItem(dbc.NavLink(page["name"], href=page["relative_path"],
                                     id=nav_link_id(_page_key(page))))
             for page in pages]
    account: list[Any] = []
    if role is not None:
        account = [html.Span(f"{auth.current_user_name()} · {role}", id="nav-user",
                             className="navbar-text small me-2"),
                   html.Form(html.Button("Sign out", id="nav-sign-out", type="submit",
                                         className="btn btn-outline-light btn-sm"),
                             method="POST", action=auth.LOGOUT_PATH, className="d-inline")]
    return dbc.Navbar(dbc.Container([
        dbc.NavbarBrand("ReturnLens", href=pages[0]["relative_path"] if pages else "/"),
        dbc.Nav(links, navbar=True, class_name="me-auto"),
        html.Div(account, className="d-flex align-items-center"),
    ], fluid=True), color="dark", dark=True, class_name="py-1")


def _layout() -> html.Div:
    days, values = _filter_options()
    return html.Div([
        dcc.Location(id="app-location"),
        dcc.Store(id="filters-store"),
        html.Div(id="app-query", hidden=True),
        html.Div(id="app-url-sync", hidden=True),
        _navbar(),
        html.Div(dbc.Container(filter_bar(days, values), fluid=True), className="filter-bar"),
        dbc.Container(dash.page_container, fluid=True, class_name="py-3"),
    ])


def _register_callbacks(app: dash.Dash) -> None:
    filter_ids = [f"filter-{k}-dropdown" for k in KEYS]
    paths = {_page_key(p): p["relative_path"] for p in dash.page_registry.values()}

    @app.callback(
        [Output(i, "value") for i in filter_ids]
        + [Output("filters-store", "data"), Output("filter-preset-dropdown", "value")]
        + [Output(f"filter-{k}-dropdown", "options") for k in ("from", "to")]
        + [Output("filter-preset-dropdown", "placeholder")],
        Input("app-location", "search"),
        [Input(i, "value") for i in filter_ids],
        Input("filter-reset-button", "n_clicks"),
        Input("filter-preset-dropdown", "value"),
        State("filters-store", "data"),
        [State(i, "options") for i in filter_ids],
        State("filter-preset-dropdown", "options"),
    )
    def sync_filters(search: str | None, *args: Any) -> list[Any]:
        """URL → filter widgets on load and navigation; widgets → store on every change; a
        ready-made range → the from and to widgets, which then offer its days beside the
        months. The range shown is the one the dates match."""
        n = len(filter_ids)
        values, preset, current = args[:n], args[n + 1], args[n + 2]  # args[n]: reset clicks
        options, presets = args[n + 3:2 * n + 3], {o["value"] for o in args[2 * n + 3]}
        months = [o["value"] for o in options[0] if len(o["value"]) == 7]
        trigger = callback_context.triggered_id

        def shown(state: dict[str, Any]) -> list[Any]:
            matching = f"{state['from']}/{state['to']}"
            return [state[k] for k in KEYS] + [
                state, matching if matching in presets else None,
                date_options(months, state["from"]), date_options(months, state["to"]),
                ALL_DATES if state["from"] is None and state["to"] is None else CUSTOM_RANGE]

        def from_widgets() -> dict[str, Any]:
            state = checked_state(dict(zip(KEYS, values, strict=True)))
            return {**state, **{k: sorted(state[k] or []) for k in SEGMENTS}}

        if trigger == "filter-reset-button":
            return shown(empty_state())
        if trigger == "filter-preset-dropdown":
            state = from_widgets()
            state["from"], state["to"] = preset_range(choice(preset, presets, "range")) \
                if preset is not None else (None, None)
            return shown(state)
        if trigger in (None, "app-location"):
            allowed = {k: {o if isinstance(o, str) else o["value"] for o in opts}
                       for k, opts in zip(SEGMENTS, options[2:], strict=True)}
            state = parse_query(search, set(months), allowed)
            if state == current:
                return [no_update] * (n + 5)
            return shown(state)
        state = from_widgets()
        if (put_right := ordered(state)) != state:
            return shown(put_right)
        return [no_update] * n + shown(state)[n:]

    @app.callback(
        Output(nav_link_id(ALL), "href"),
        Output(nav_link_id(ALL), "active"),
        Output("app-query", "children"),
        Input("filters-store", "data"),
        Input("app-location", "pathname"),
        Input(page_query_id(ALL), "data"),
    )
    def update_nav(state: dict[str, Any] | None, pathname: str | None,
                   page_params: list[Any]) -> tuple[Any, ...]:
        """Navigation keeps the filters; the current page's link is highlighted; the address
        shows the filters and the page's own view (its drill-down)."""
        filters = checked_state(state) if state is not None else None
        query = to_query(filters)
        view = {k: v for params in page_params for k, v in checked_page_query(params).items()}
        shown = [paths[o["id"]["page"]] for o in callback_context.outputs_list[0]]
        return ([p + query for p in shown], [p == (pathname or "/") for p in shown],
                to_query(filters, view))

    app.clientside_callback(_REPLACE_URL, Output("app-url-sync", "children"),
                            Input("app-query", "children"), prevent_initial_call=True)


def create_app(db_url: str, users: auth.UsersFile | None = None,
               allowed_hosts: Iterable[str] | None = None) -> dash.Dash:
    """The dashboard over the warehouse at `db_url` (a SQLAlchemy URL); sign-in required when
    `users` is given, Host headers checked when `allowed_hosts` is."""
    # Page modules register their callbacks with dash.callback each time an app imports them;
    # drop what an earlier app in this process registered but never served.
    GLOBAL_CALLBACK_LIST.clear()
    GLOBAL_CALLBACK_MAP.clear()
    app = dash.Dash("dashboard", use_pages=True, title="ReturnLens")
    app.server.config[data.CONFIG_KEY] = db_url
    app.layout = _layout
    _register_callbacks(app)
    serving.set_up_before_serving(app)
    serving.harden(app, allowed_hosts)
    if users is not None:
        auth.install(app, users)
    return app

