"""Products: return rates from category down to SKU and size by order cohort, why they come
back, which SKUs and vendors are returned more than their category explains, and what
customers said."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import ALL, MATCH, Input, Output, State, callback_context, dcc, html

from dashboard import auth, data, figures
from dashboard.callbacks import callback
from dashboard.components import (
    NO_REASONS,
    Col,
    RowLink,
    frame_table,
    graph_card,
    notice,
    page_header,
    send_csv,
    table_card,
)
from dashboard.filters import (
    BadInput,
    choice,
    drill_param,
    page_query_id,
    parse_drill,
    text_value,
    to_filters,
)
from models import stats
from warehouse import read
from warehouse.read.filters import Filters

dash.register_page(__name__, path="/products", name="Products", order=1,
                   title="ReturnLens · Products")

EMPTY_DRILL: dict[str, str | None] = {"category": None, "product_id": None, "sku": None}
GROUPS = ("drill", "size", "vendor_id")  # the group radio's values
GROUP_PARAMS = {"size": "size", "vendor_id": "vendor"}  # the group in the URL (?group=size)
DRILL_LINK = RowLink("products-drill-click", "link")  # a table's names drill down ("level:key")
LEVEL_LABELS = {"category": "Category", "product_id": "Product", "sku": "SKU", "size": "Size",
                "vendor_id": "Vendor"}
RATE_COLUMNS = (Col("units_sold", "Units sold", "int"), Col("units_returned", "Returned", "int"),
                Col("return_rate", "Return rate", "pct"), Col("ci_low", "95% CI from", "pct"),
                Col("ci_high", "to", "pct"))
EXCESS_COLUMNS = (Col("group_rate", "Category rate", "pct"),
                  Col("shrunk_rate", "Shrunk rate", "pct"), Col("lower", "95% from", "pct"),
                  Col("upper", "to", "pct"), Col("prob_above", "P(above category)", "pct"))


def view_from_query(query: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The drill-down and grouping a URL asks for (?drill=sku:P00012-M&group=size): what the
    warehouse does not know, or the page does not offer, is dropped, as the filters drop
    values they do not offer."""
    group = next((g for g, word in GROUP_PARAMS.items() if word == query.get("group")), "drill")
    asked = parse_drill(query.get("drill"))
    if asked is None:
        return EMPTY_DRILL, group
    try:
        return resolve_drill(EMPTY_DRILL, *asked), group
    except BadInput:
        return EMPTY_DRILL, group


def view_to_query(drill_state: dict[str, Any], group: str) -> dict[str, str]:
    """The URL parameters of a drill-down and grouping (the deepest level only)."""
    params = {"group": GROUP_PARAMS[group]} if group in GROUP_PARAMS else {}
    level = next((k for k in ("sku", "product_id", "category") if drill_state.get(k)), None)
    return {**(drill_param(level, drill_state[level]) if level else {}), **params}


def layout(**query: Any) -> html.Div:
    """The Products page (filters come from the global filter bar; the drill-down and grouping
    from the URL's own parameters, so a copied address opens the same view)."""
    drill_state, group = view_from_query(query)
    return html.Div([
        page_header("Products", "Which categories, products, SKUs and sizes come back, why, "
                                "and which are returned more than their category explains."),
        dcc.Store(id="products-drill-store", data=drill_state),
        dcc.Store(id=page_query_id("products"), data=view_to_query(drill_state, group)),
        dcc.Store(id="products-drill-click"),  # written by a click on a name in a table
        dbc.Row(dbc.Col(dcc.Dropdown(
            id="products-search-dropdown", options=[], searchable=True, clearable=True,
            placeholder="Find a SKU: type its code or the product's name"), md=6),
            class_name="mb-2"),
        dbc.Row([
            dbc.Col(html.Div(id="products-breadcrumb"), md=8),
            dbc.Col(dbc.RadioItems(
                id="products-group-radio", inline=True, value=group,
                options=[{"label": label, "value": value} for label, value in zip(
                    ("drill level", "by size", "by vendor"), GROUPS, strict=True)]),
                md=4, class_name="text-md-end"),
        ], class_name="mb-2 align-items-center"),
        dbc.Row([
            dbc.Col(graph_card("products-cohort-graph", "Return rate by order cohort",
                               "units returned / sold; dashed frame = returns still arriving",
                               height=420), lg=7),
            dbc.Col(graph_card("products-trend-graph", "Return rate of the selection",
                               "hollow = returns still arriving", height=420), lg=5),
        ]),
        table_card("products", "level", "Return rates at this level",
                   "click a name to drill down"),
        dbc.Row([
            dbc.Col(graph_card("products-pareto-graph", "Why they come back",
                               "customer returns by reason"), lg=5),
            dbc.Col(graph_card("products-funnel-graph", "SKUs against their category",
                               "funnel plot; red = above its category (95% empirical Bayes)"),
                    lg=7),
        ]),
        table_card("products", "outliers", "SKUs returned more than their category explains",
                   "shrunk towards the category (beta-binomial), ranked by how surely"),
        # one above the other: side by side, their last columns were cut off at 1440 px
        table_card("products", "defect-skus", "Defect-reason ranking: SKUs",
                   "defective or not as described, vs category"),
        table_card("products", "defect-vendors", "Defect-reason ranking: vendors"),
        table_card("products", "cohorts", "Order cohorts of the selection",
                   "recent cohorts are still collecting returns"),
        table_card("products", "feedback", "What customers said",
                   "return comments (with inspection result) and reviews of the SKU"),
    ])


def drill_filters(filters: Filters, drill: dict[str, Any]) -> Filters:
    """The global filters narrowed to the drilled-into category."""
    if drill.get("category"):
        return replace(filters, categories=(drill["category"],))
    return filters


def drill_level(drill: dict[str, Any], group: str) -> str:
    """The level the cohort views are grouped by."""
    if group != "drill":
        return group
    if drill.get("sku") or drill.get("product_id"):
        return "sku"
    return "product_id" if drill.get("category") else "category"


def with_rates(frame: pl.DataFrame) -> pl.DataFrame:
    """Adds return_rate and its 95% Wilson interval."""
    low, high = stats.wilson_interval(frame["units_returned"].to_numpy(),
                                      frame["units_sold"].to_numpy())
    return frame.with_columns(
        return_rate=pl.when(pl.col("units_sold") > 0)
        .then(pl.col("units_returned") / pl.col("units_sold")),
        ci_low=pl.Series(low), ci_high=pl.Series(high))


def cohort_grid(filters: Filters, drill: dict[str, Any], group: str) -> pl.DataFrame:
    """Units sold and returned per level value and order month for the selection."""
    return data.load(read.products.returns_by_cohort, drill_filters(filters, drill),
                     drill_level(drill, group), drill.get("product_id"), drill.get("sku"))


SIZE_COLUMNS = ("category", "size_system", "size", "size_order")  # what a size row carries


def level_table(filters: Filters, drill: dict[str, Any], group: str) -> pl.DataFrame:
    """One row per level value: units, return rate with its interval; sizes in their order
    within their category and size system, other levels largest first."""
    grid = cohort_grid(filters, drill, group)
    by = ["key", *SIZE_COLUMNS] if group == "size" else ["key"]
    totals = with_rates(grid.group_by(by).agg(pl.col("units_sold", "units_returned").sum()))
    if group == "size":
        return totals.sort("category", "size_system", "size_order", "size", nulls_last=True)
    return totals.sort(["units_sold", "key"], descending=[True, False])


def cohort_table(filters: Filters, drill: dict[str, Any]) -> pl.DataFrame:
    """The selection per order month: rate so far, completeness and expected final rate."""
    grid = cohort_grid(filters, drill, "drill")
    monthly = grid.group_by("order_month").agg(
        pl.col("units_sold", "units_returned").sum()).sort("order_month")
    if monthly.is_empty():
        return monthly.with_columns(
            return_rate=pl.lit(None, pl.Float64), completeness=pl.lit(None, pl.Float64),
            immature=pl.lit(None, pl.Boolean), expected_final_rate=pl.lit(None, pl.Float64))
    as_of = data.load(read.runs.data_bounds)["last_order_day"][0]
    completeness = stats.cohort_completeness(
        data.load(read.products.return_lag, drill_filters(filters, drill)),
        monthly["order_month"].to_list(), as_of)
    return stats.expected_final_rate(monthly.join(completeness, on="order_month", how="left"))


def judge_skus(filters: Filters, successes: str) -> pl.DataFrame:
    """Every SKU against its category (the prior is fitted per category)."""
    return stats.excess_over_group_by_lines(data.load(read.products.sku_totals, filters),
                                            "category", successes)


def sku_excess(filters: Filters, drill: dict[str, Any], successes: str) -> pl.DataFrame:
    """SKUs of the selection against their category."""
    judged = data.derive(judge_skus, filters, successes)
    for key in ("category", "product_id", "sku"):
        if drill.get(key):
            judged = judged.filter(pl.col(key) == drill[key])
    return judged


def with_vendor_names(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with `vendor_name` beside `vendor_id` (the id where the marts know no name)."""
    names = data.load(read.products.vendor_names)
    return frame.join(names, on="vendor_id", how="left").with_columns(
        vendor_name=pl.coalesce("vendor_name", "vendor_id"))


def outlier_table(filters: Filters, drill: dict[str, Any]) -> pl.DataFrame:
    """SKUs whose return rate is surely above their category's, most certain first."""
    return (with_vendor_names(sku_excess(filters, drill, "units_returned"))
            .filter(pl.col("excess_lower") > 0)
            .sort(["excess_lower", "sku"], descending=[True, False], nulls_last=True))


def defect_sku_table(filters: Filters, drill: dict[str, Any]) -> pl.DataFrame:
    """SKUs ranked by how surely their defect-reason rate exceeds their category's."""
    return (with_vendor_names(sku_excess(filters, drill, "defect_units"))
            .filter(pl.col("defect_units") > 0)
            .sort(["excess_lower", "sku"], descending=[True, False], nulls_last=True))


def defect_vendor_table(filters: Filters, drill: dict[str, Any]) -> pl.DataFrame:
    """Vendors per category ranked by how surely their defect-reason rate exceeds it (no rows
    when the source names no vendors: a placeholder is not a vendor to rank)."""
    skus = data.load(read.products.sku_totals, drill_filters(filters, drill))
    if data.source_defaults("products.vendor_id"):
        skus = skus.clear()
    vendors = skus.group_by("vendor_id", "category").agg(
        pl.col("order_lines", "units_sold", "units_returned", "defect_units").sum())
    judged = stats.excess_over_group_by_lines(vendors, "category", "defect_units")
    return (with_vendor_names(judged)
            .sort(["excess_lower", "vendor_id"], descending=[True, False], nulls_last=True))


def feedback_table(drill: dict[str, Any]) -> pl.DataFrame:
    """Return comments and reviews of the drilled-into SKU (the text hidden from roles that
    do not see customer data; no rows, with their columns, when no SKU is drilled into, so
    its download still has a header)."""
    return auth.mask_customer_data(data.load(read.products.sku_feedback, drill.get("sku") or ""),
                                   ("feedback_text",))


TABLES = {
    "level": lambda f, d, g: level_table(f, d, g),
    "outliers": lambda f, d, g: outlier_table(f, d),
    "defect-skus": lambda f, d, g: defect_sku_table(f, d),
    "defect-vendors": lambda f, d, g: defect_vendor_table(f, d),
    "cohorts": lambda f, d, g: cohort_table(f, d),
    "feedback": lambda f, d, g: feedback_table(d),
}


def checked_drill(drill: Any) -> dict[str, Any]:
    """The drill store as the page writes it ({category, product_id, sku}), or a 400."""
    if not isinstance(drill, dict) or set(drill) - set(EMPTY_DRILL):
        raise BadInput("drill: expected category, product_id and sku")
    return {k: text_value(drill.get(k), f"drill {k}") for k in EMPTY_DRILL}


def breadcrumb(drill: dict[str, Any]) -> html.Div:
    """Where the drill-down stands, each step a button back up."""
    steps = [("top", "All categories")]
    steps += [(k, drill[k]) for k in ("category", "product_id", "sku") if drill.get(k)
              and not (k == "product_id" and drill[k] == drill.get("sku"))]  # one-size: once
    items: list[Any] = []
    for i, (level, label) in enumerate(steps):
        if i:
            items.append(html.Span(" › ", className="text-muted"))
        if i == len(steps) - 1:
            items.append(html.Strong(label, id="products-drill-current"))
        else:
            items.append(dbc.Button(label, id={"type": "products-crumb", "index": level},
                                    color="link", size="sm", class_name="p-0 align-baseline"))
    return html.Div(items)


@callback(
    Output("products-drill-store", "data"),
    Input("products-drill-click", "data"),
    Input({"type": "products-crumb", "index": ALL}, "n_clicks"),
    Input("products-search-dropdown", "value"),
    State("products-drill-store", "data"),
    prevent_initial_call=True,
)
def drill(click: dict[str, Any] | None, _crumbs: list[int | None], found: str | None,
          current: dict[str, Any]) -> dict[str, Any]:
    """A click on a name goes one level down; a click on the breadcrumb goes back up; a SKU
    picked in the search lands on its drill-down."""
    if not callback_context.triggered or not callback_context.triggered[0]["value"]:
        raise dash.exceptions.PreventUpdate  # crumbs appearing or the search cleared
    trigger = callback_context.triggered_id
    current = checked_drill(current)
    if trigger == "products-search-dropdown":
        click = {"value": f"sku:{text_value(found, 'search')}"}
    elif trigger != "products-drill-click":
        keep = ("category", "product_id", "sku")
        index = trigger.get("index") if isinstance(trigger, dict) else None
        cut = keep.index(index) + 1 if index in keep else 0
        return {k: current.get(k) if i < cut else None for i, k in enumerate(keep)}
    link = text_value(click.get("value") if isinstance(click, dict) else None, "drill click")
    level, _, value = (link or "").partition(":")
    return resolve_drill(current, level, value)


def resolve_drill(current: dict[str, Any], level: str, value: str) -> dict[str, Any]:
    """The drill-down at `level` `value`, with the levels above it filled in from the
    catalogue; a level or value the warehouse does not know is a 400."""
    choice(level, ("category", "product_id", "sku"), "drill level")
    state = dict(current)
    state[level] = text_value(value, "drill value", optional=False)
    skus = data.load(read.products.sku_totals, Filters())
    rows = skus.filter(pl.col(level) == value)
    if rows.is_empty():
        raise BadInput(f"drill: no {LEVEL_LABELS[level]} {value!r}")
    if level in ("product_id", "sku"):
        row = rows.row(0, named=True)
        state["category"], state["product_id"] = row["category"], row["product_id"]
    return state


@callback(
    Output(page_query_id("products"), "data"),
    Input("products-drill-store", "data"),
    Input("products-group-radio", "value"),
    prevent_initial_call=True,
)
def update_page_query(drill_state: dict[str, Any], group: str) -> dict[str, str]:
    """The drill-down and grouping into the URL (the app shell writes it)."""
    return view_to_query(checked_drill(drill_state), choice(group, GROUPS, "group"))


def search_options(query: str) -> list[dict[str, str]]:
    """The search's choices for what was typed: 'SKU · product name · category', at most
    read.products.SEARCH_LIMIT of them."""
    found = data.load(read.products.search_skus, query)
    return [{"label": " · ".join(str(v) for v in (r["sku"], r["product_name"], r["category"])
                                 if v),
             "value": r["sku"]} for r in found.iter_rows(named=True)]


@callback(
    Output("products-search-dropdown", "options"),
    Input("products-search-dropdown", "search_value"),
    State("products-search-dropdown", "value"),
    prevent_initial_call=True,
)
def update_search(query: str | None, picked: str | None) -> list[dict[str, str]]:
    """SKUs matching what is typed, searched in the warehouse (the list stays short)."""
    query, picked = text_value(query, "search"), text_value(picked, "search")
    if not query or not query.strip():
        raise dash.exceptions.PreventUpdate  # keep the choices while nothing is typed
    options = search_options(query)
    if picked and picked not in {o["value"] for o in options}:
        options += [o for o in search_options(picked) if o["value"] == picked]
    return options


def _links(frame: pl.DataFrame, level: str) -> pl.DataFrame:
    return frame.with_columns(link=pl.lit(f"{level}:") + pl.col("key"))


@callback(
    Output("products-breadcrumb", "children"),
    Output("products-cohort-graph", "figure"),
    Output("products-trend-graph", "figure"),
    Output("products-level-table", "children"),
    Output("products-cohorts-table", "children"),
    Input("filters-store", "data"),
    Input("products-drill-store", "data"),
    Input("products-group-radio", "value"),
)
def update_cohorts(state: dict[str, Any] | None, drill_state: dict[str, Any],
                   group: str) -> tuple[Any, ...]:
    """Cohort heatmap, the selection's trend, the level table and the cohort table."""
    drill_state, group = checked_drill(drill_state), choice(group, GROUPS, "group")
    filters = to_filters(state)
    level = drill_level(drill_state, group)
    label = LEVEL_LABELS[level]
    grid = cohort_grid(filters, drill_state, group)
    cohorts = cohort_table(filters, drill_state)
    rows = level_table(filters, drill_state, group)
    drillable = group == "drill" and not drill_state.get("sku")
    keys = (Col("category", "Category"), Col("size_system", "Size system"),
            Col("size", "Size")) if group == "size" else (Col("key", label),)
    table = frame_table(_links(rows, level), (*keys, *RATE_COLUMNS),
                        link=DRILL_LINK if drillable else None, max_rows=40)
    if group == "size" and data.source_defaults("products.size"):
        table = html.Div([notice("The loaded source records no sizes: every product is one "
                                 "size, so this shows each category once."), table])
    cohort_view = frame_table(cohorts.sort("order_month", descending=True), (
        Col("order_month", "Order month", "month"), Col("units_sold", "Units sold", "int"),
        Col("units_returned", "Returned so far", "int"), Col("return_rate", "Rate so far", "pct"),
        Col("completeness", "Returns in (expected)", "pct"),
        Col("immature", "Still arriving"),
        Col("expected_final_rate", "Expected final rate", "pct")), max_rows=36)
    young = cohorts.filter(pl.col("immature").fill_null(False))
    immature = dict(zip(young["order_month"].to_list(),
                        young["completeness"].fill_null(0).to_list(), strict=True))
    shown = rows["key"].head(30)
    order = shown.to_list() if group == "size" else None  # sizes in order, not by sales
    return (breadcrumb(drill_state), figures.make_cohort_heatmap_figure(grid.filter(
        pl.col("key").is_in(shown.implode())), label, immature, order),
        figures.make_return_rate_figure(cohorts), table, cohort_view)


@callback(
    Output("products-pareto-graph", "figure"),
    Input("filters-store", "data"),
    Input("products-drill-store", "data"),
)
def update_reasons(state: dict[str, Any] | None, drill_state: dict[str, Any]) -> Any:
    """The reason Pareto of the selection."""
    drill_state = checked_drill(drill_state)
    filters = drill_filters(to_filters(state), drill_state)
    if data.source_lacks("returns", "reason_code"):
        return figures.empty_figure("The loaded source carries no return reasons")
    reasons = data.load(read.products.return_reasons, filters, drill_state.get("product_id"),
                        drill_state.get("sku"))
    return figures.make_pareto_figure(stats.pareto(reasons, "reason_code", "units_returned"))


@callback(
    Output("products-funnel-graph", "figure"),
    Output("products-outliers-table", "children"),
    Output("products-defect-skus-table", "children"),
    Output("products-defect-vendors-table", "children"),
    Input("filters-store", "data"),
    Input("products-drill-store", "data"),
)
def update_outliers(state: dict[str, Any] | None, drill_state: dict[str, Any]) -> tuple[Any, ...]:
    """SKUs and vendors against their category: funnel plot and rankings."""
    drill_state = checked_drill(drill_state)
    filters = to_filters(state)
    judged = sku_excess(filters, drill_state, "units_returned").with_columns(
        expected_returns=pl.col("units_sold") * pl.col("group_rate"),
        flagged=(pl.col("excess_lower") > 0).fill_null(False),
    ).with_columns(ratio=pl.col("units_returned") / pl.col("expected_returns"))
    # a source that names no vendors has one placeholder on every row: no column for it
    unnamed = data.source_defaults("products.vendor_id")
    vendor = () if unnamed else (Col("vendor_name", "Vendor"),)
    outliers = frame_table(
        outlier_table(filters, drill_state).with_columns(link="sku:" + pl.col("sku")),
        (Col("sku", "SKU"), Col("category", "Category"), *vendor,
         Col("units_sold", "Sold", "int"), Col("units_returned", "Returned", "int"),
         Col("rate", "Rate", "pct"), *EXCESS_COLUMNS),
        link=DRILL_LINK)
    defects = notice(NO_REASONS) if data.source_lacks("returns", "reason_code") else frame_table(
        defect_sku_table(filters, drill_state).with_columns(link="sku:" + pl.col("sku")),
        (Col("sku", "SKU"), *vendor, Col("units_sold", "Sold", "int"),
         Col("defect_units", "Defect returns", "int"), Col("rate", "Defect rate", "pct"),
         *EXCESS_COLUMNS), max_rows=15, link=DRILL_LINK)
    vendors = notice("The loaded source names no vendors, so none is ranked.") \
        if unnamed else frame_table(
        defect_vendor_table(filters, drill_state), (
            Col("vendor_name", "Vendor"), Col("category", "Category"),
            Col("units_sold", "Sold", "int"), Col("defect_units", "Defect returns", "int"),
            Col("rate", "Defect rate", "pct"), Col("group_rate", "Category", "pct"),
            Col("lower", "95% from", "pct")), max_rows=15)
    return figures.make_funnel_figure(judged), outliers, defects, vendors


@callback(
    Output("products-feedback-table", "children"),
    Input("products-drill-store", "data"),
)
def update_feedback(drill_state: dict[str, Any]) -> Any:
    """The return comments and reviews of the drilled-into SKU."""
    drill_state = checked_drill(drill_state)
    if not drill_state.get("sku"):
        return notice("Click a SKU in a table above to read its return comments and reviews.")
    if data.source_lacks("returns", "reason_text") and data.source_lacks("reviews"):
        return notice("The loaded source has neither return comments nor reviews.")
    frame = feedback_table(drill_state)
    if frame.is_empty():
        return notice(f"No return comments or reviews of {drill_state['sku']} yet.")
    return frame_table(frame, (
        Col("feedback_at", "When", "date"), Col("source", "Source"),
        Col("reason_code", "Reason", "code"), Col("condition", "Inspection", "code"),
        Col("rating", "Stars"),
        Col("language", "Language", "code"), Col("feedback_text", "Text", "wrap")),
        max_rows=50)


@callback(
    Output({"type": "products-export-download", "table": MATCH}, "data"),
    Input({"type": "products-export-button", "table": MATCH}, "n_clicks"),
    State("filters-store", "data"),
    State("products-drill-store", "data"),
    State("products-group-radio", "value"),
    prevent_initial_call=True,
)
def export_table(_clicks: int, state: dict[str, Any] | None, drill_state: dict[str, Any],
                 group: str) -> dict[str, Any]:
    """Every row of a Products table as CSV."""
    name = choice(callback_context.triggered_id["table"], TABLES, "table")
    drill_state, group = checked_drill(drill_state), choice(group, GROUPS, "group")
    frame = TABLES[name](to_filters(state), drill_state, group)
    return send_csv(frame, f"returnlens-products-{name}.csv")
