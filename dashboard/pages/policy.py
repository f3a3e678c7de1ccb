"""Policy Lab: what a return-policy change would do to cost, volume and customers, with 80%
intervals, the naive truncation estimate beside it, and saved scenarios side by side."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import ALL, Input, Output, State, dcc, html

from dashboard import data, figures
from dashboard.callbacks import callback
from dashboard.components import (
    Col,
    frame_table,
    graph_card,
    kpi_card,
    notice,
    page_header,
    send_csv,
)
from models import policy
from warehouse import read

dash.register_page(__name__, path="/policy", name="Policy Lab", order=5,
                   title="ReturnLens · Policy Lab")

SEED = policy.SEED
YOUNG_COHORT_DAYS = 60  # orders younger than this may still be returned
ASSUMPTION_STEPS = {"label_fee_deterrence": 0.01, "exchange_uptake_per_bonus": 0.1,
                    "later_spend_fee_effect": 0.05, "fee_deterrence_prior": 0.1,
                    "window_intent_prior": 0.01, "rush_share_prior": 0.05}


def _number(label: str, input_id: str, value: float, step: float, minimum: float,
            maximum: float | None = None, unit: str | None = None) -> dbc.Col:
    group = [dbc.Input(id=input_id, type="number", value=value, step=step, min=minimum,
                       max=maximum, debounce=True)]
    if unit:
        group.append(dbc.InputGroupText(unit))
    return dbc.Col([dbc.Label(label, html_for=input_id, class_name="small mb-1"),
                    dbc.InputGroup(group, size="sm")], md=2)


def controls(categories: list[str], first: date | None, last: date | None,
             default_from: date | None, default_to: date | None) -> dbc.Card:
    """The scenario: window, fees, bonus, categories, the order period; save and export."""
    return dbc.Card(dbc.CardBody([
        dbc.Row([
            _number("Return window", "policy-window", 30, 1, 1, 365, "days"),
            _number("Restocking fee", "policy-fee", 0, 1, 0, 100, "%"),
            _number("Label fee per return", "policy-label", 0, 0.5, 0, None, data.currency()),
            _number("Exchange bonus", "policy-bonus", 0, 1, 0, 100, "% credit"),
            dbc.Col([dbc.Label("Categories (empty: all)", class_name="small mb-1"),
                     dcc.Dropdown(id="policy-categories", multi=True, options=categories,
                                  placeholder="all categories")], md=4),
        ], class_name="g-2 mb-2"),
        dbc.Row([
            dbc.Col([dbc.Label("Orders dated (baseline period)", class_name="small mb-1"),
                     html.Div(dcc.DatePickerRange(
                         id="policy-period", min_date_allowed=first, max_date_allowed=last,
                         start_date=default_from, end_date=default_to, display_format="YYYY-MM-DD",
                         minimum_nights=0))], md=4),
            dbc.Col([dbc.Label("Save as", html_for="policy-save-name", class_name="small mb-1"),
                     dbc.InputGroup([
                         dbc.Input(id="policy-save-name", placeholder="scenario name",
                                   type="text"),
                         dbc.Button("Save scenario", id="policy-save-button",
                                    color="primary")], size="sm")], md=4),
            dbc.Col([dbc.Label("Export", class_name="small mb-1"), html.Div([
                dbc.Button("Download CSV", id="policy-export-button", size="sm",
                           color="primary", outline=True, class_name="me-2"),
                dbc.Button("Saved scenarios CSV", id="policy-export-saved-button", size="sm",
                           color="primary", outline=True)])], md=4),
        ], class_name="g-2 align-items-end"),
        html.Div(id="policy-save-status", className="small text-muted mt-2"),
        dcc.Download(id="policy-export-download"),
        dcc.Download(id="policy-export-saved-download"),
    ]), class_name="shadow-sm mb-3")


def assumptions_card() -> dbc.Card:
    """The assumptions the history cannot tell: editable defaults, ranges and sources."""
    assumptions = policy.Assumptions()
    rows = []
    for name in assumptions.names():
        a: policy.Assumption = getattr(assumptions, name)
        rows.append(html.Tr([
            html.Td(name.replace("_", " "), className="text-nowrap"),
            html.Td(dbc.Input(id={"type": "policy-assumption", "name": name}, type="number",
                              value=a.default, step=ASSUMPTION_STEPS.get(name, 0.01),
                              size="sm", debounce=True, style={"width": "7em"})),
            html.Td(f"{a.low:g} to {a.high:g}", className="text-nowrap"),
            html.Td([html.Div(a.meaning), html.Div(a.source, className="text-muted")],
                    className="small", style={"whiteSpace": "normal"}),
        ]))
    table = html.Table([html.Thead(html.Tr([html.Th(h) for h in (
        "assumption", "value", "80% range", "what it is · source")])), html.Tbody(rows)],
        className="table table-sm mb-0", style={"tableLayout": "auto", "width": "100%"})
    return dbc.Card([
        dbc.CardHeader([html.Span("Assumptions", className="fw-semibold"), html.Span(
            " · what the history cannot tell; the interval draws each over its range",
            className="small text-muted")]),
        dbc.CardBody(html.Div(table, className="table-responsive")),
    ], class_name="shadow-sm mb-3")


def layout(**_query: str) -> html.Div:
    """The Policy Lab page."""
    bounds = data.load(read.runs.data_bounds)
    default_to = None
    values = data.load(read.runs.filter_values)
    categories = values.filter(pl.col("filter") == "category")["value"].to_list()
    first = bounds["first_order_day"][0] if bounds.height else None
    last = bounds["last_order_day"][0] if bounds.height else None
    history = data.load(read.policy.policy_history)
    default_from = history["effective_from"][-1] if history.height else first
    if last is not None:  # younger cohorts are still returning: leave them out by default
        default_to = max(last - timedelta(days=YOUNG_COHORT_DAYS), first or last)
        if default_from is None or default_from > default_to:
            default_from = first
    return html.Div([
        page_header("Policy Lab", "What a return-policy change would have done to the orders "
                                  "of a period: units, money and customers, against what "
                                  "happened, with 80% intervals."),
        controls(categories, first, last, default_from, default_to),
        dcc.Loading(html.Div(id="policy-summary")),
        dbc.Row([
            dbc.Col(graph_card("policy-waterfall-graph", "Where the money moves",
                               "baseline net cost → change per cost line → scenario"), lg=7),
            dbc.Col(graph_card("policy-estimates-graph", "Units returned: three estimates",
                               "naive truncation vs simulator (80% interval)"), lg=5),
        ]),
        dbc.Card([
            dbc.CardHeader([html.Span("Baseline and scenario", className="fw-semibold"),
                            html.Span(" · baseline = what the period's orders did",
                                      className="small text-muted")]),
            dbc.CardBody(dcc.Loading(html.Div(id="policy-result-table"))),
        ], class_name="shadow-sm mb-3"),
        dbc.Row([
            dbc.Col(graph_card("policy-tornado-graph", "Sensitivity of net cost",
                               "each input over its range, the rest at their point"), lg=7),
            dbc.Col(graph_card("policy-saved-graph", "Saved scenarios",
                               "net cost with 80% interval; bar = baseline"), lg=5),
        ]),
        dbc.Card([
            dbc.CardHeader(html.Span("Saved scenarios side by side", className="fw-semibold")),
            dbc.CardBody(dcc.Loading(html.Div(id="policy-saved-table"))),
        ], class_name="shadow-sm mb-3"),
        assumptions_card(),
        html.Div(id="policy-learned-note", className="small text-muted mb-3"),
        dcc.Store(id="policy-saved-version"),
    ])


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value[:10]) if value else None


def scenario_from(window: Any, fee: Any, label: Any, bonus: Any,
                  categories: list[str] | None) -> policy.Scenario:
    """The scenario the controls describe (percent inputs become shares)."""
    return policy.Scenario(int(window or 30), float(fee or 0) / 100, float(label or 0),
                           float(bonus or 0) / 100, tuple(categories) if categories else None)


def assumptions_from(values: list[Any]) -> policy.Assumptions:
    """The default assumptions with the page's edited values."""
    base = policy.Assumptions()
    edited = {n: float(v) for n, v in zip(base.names(), values, strict=False) if v is not None}
    return base.with_defaults(edited)


def run(window: Any, fee: Any, label: Any, bonus: Any, categories: list[str] | None,
        start: str | None, end: str | None, assumption_values: list[Any]) -> policy.Result:
    """The scenario simulated on the running app's warehouse (learned history cached)."""
    learned = policy.learned_for(data.database_url(), seed=SEED)
    return policy.simulate(learned, scenario_from(window, fee, label, bonus, categories),
                           _date(start), _date(end), assumptions_from(assumption_values),
                           seed=SEED)


def _fmt(row: dict[str, Any], key: str) -> str:
    value = row[key]
    return f"{value:,.0f}"


def result_table(result: policy.Result) -> html.Div:
    """One row per metric: baseline, scenario, 80% interval, change, naive truncation."""
    rows = []
    for r in result.table.to_dicts():
        unit = f" ({data.currency()})" if r["money"] else ""
        rows.append({
            "metric": r["label"] + unit, "baseline": _fmt(r, "baseline"),
            "scenario": _fmt(r, "point"),
            "interval": f"{_fmt(r, 'low')} – {_fmt(r, 'high')}",
            "change": f"{r['change']:+,.0f}", "naive": _fmt(r, "naive"),
        })
    return frame_table(pl.DataFrame(rows), (
        Col("metric", "Metric", "wrap"),
        Col("baseline", "Baseline (happened)", "wrap"), Col("scenario", "Scenario", "wrap"),
        Col("interval", "80% interval", "wrap"), Col("change", "Change", "wrap"),
        Col("naive", "Naive truncation", "wrap")), max_rows=20)


def summary(result: policy.Result) -> dbc.Row:
    """Headline cards: net cost and units, baseline against scenario with its interval."""
    net, units = result.metric("net_cost"), result.metric("units_returned")
    fees, people = result.metric("fee_revenue"), result.metric("customers_affected")
    c = data.currency()
    cards = [
        ("net-cost-baseline", "Net return cost, baseline", f"{c} {net['baseline']:,.0f}", None),
        ("net-cost-scenario", "Net return cost, scenario", f"{c} {net['point']:,.0f}",
         f"80%: {c} {net['low']:,.0f} – {net['high']:,.0f}"),
        ("units-baseline", "Units returned, baseline", f"{units['baseline']:,.0f}", None),
        ("units-scenario", "Units returned, scenario", f"{units['point']:,.0f}",
         f"80%: {units['low']:,.0f} – {units['high']:,.0f}"),
        ("fees", "Fee revenue, scenario", f"{c} {fees['point']:,.0f}",
         f"baseline {c} {fees['baseline']:,.0f}"),
        ("customers", "Customers whose return terms change", f"{people['point']:,.0f}",
         "of those who returned in the period"),
    ]
    return dbc.Row([dbc.Col(kpi_card(title, value, delta=delta, card_id=f"policy-kpi-{key}"),
                            xs=6, md=4, xl=True, class_name="mb-2")
                    for key, title, value, delta in cards], class_name="g-2")


def waterfall_steps(result: policy.Result) -> list[tuple[str, float]]:
    """The change in each money line, signed as it moves net cost (the rest: label fees paid
    on top of an exchange)."""
    t = {r["metric"]: r for r in result.table.to_dicts()}
    steps = [
        ("Refunds (after fees)", t["refunds"]["point"] - t["refunds"]["baseline"]),
        ("Reverse logistics", t["reverse_logistics"]["point"]
         - t["reverse_logistics"]["baseline"]),
        ("Exchange cost", t["exchange_cost"]["point"] - t["exchange_cost"]["baseline"]),
        ("− Recovered value", -(t["recovered_value"]["point"]
                                - t["recovered_value"]["baseline"])),
    ]
    rest = (t["net_cost"]["point"] - t["net_cost"]["baseline"]) - sum(a for _, a in steps)
    if abs(rest) >= 0.005:
        steps.append(("− Label fees paid on exchanges", rest))
    return steps


@callback(
    Output("policy-summary", "children"),
    Output("policy-waterfall-graph", "figure"),
    Output("policy-estimates-graph", "figure"),
    Output("policy-result-table", "children"),
    Output("policy-tornado-graph", "figure"),
    Output("policy-learned-note", "children"),
    Input("policy-window", "value"),
    Input("policy-fee", "value"),
    Input("policy-label", "value"),
    Input("policy-bonus", "value"),
    Input("policy-categories", "value"),
    Input("policy-period", "start_date"),
    Input("policy-period", "end_date"),
    Input({"type": "policy-assumption", "name": ALL}, "value"),
)
def update_policy(window: Any, fee: Any, label: Any, bonus: Any,
                  categories: list[str] | None, start: str | None, end: str | None,
                  assumption_values: list[Any]) -> tuple[Any, ...]:
    """Simulate the scenario and draw every view of it."""
    try:
        result = run(window, fee, label, bonus, categories, start, end, assumption_values)
    except ValueError as error:  # said once, in the banner; the views point to it
        nothing = "Nothing to simulate: see the message above"
        empty = figures.empty_figure(nothing)
        return notice(str(error), "warning"), empty, empty, notice(f"{nothing}."), empty, None
    c = data.currency()
    net = result.metric("net_cost")
    waterfall = figures.make_policy_waterfall_figure(
        waterfall_steps(result), ("Baseline net cost", net["baseline"]),
        ("Scenario net cost", net["point"]), c)
    units = result.metric("units_returned")
    estimates = figures.make_estimates_figure([
        {"name": "Baseline (happened)", "value": units["baseline"]},
        {"name": "Naive: cut at the window", "value": units["naive"]},
        {"name": "Simulator", "value": units["point"], "low": units["low"],
         "high": units["high"]}], "Units returned")
    tornado = figures.make_tornado_figure(result.sensitivity, net["point"], c)
    note = (f"Learned from the warehouse's whole history (seed {SEED}); "
            f"{result.units_sold:,} units sold in the period. The naive estimate cuts the "
            "days-to-return curve at the new window and moves nothing else; the simulator "
            "lets late deciders rush in before a deadline and lets the window and fees move "
            "intent (docs/policy-lab.md).")
    return summary(result), waterfall, estimates, result_table(result), tornado, note


def saved_frame() -> pl.DataFrame:
    """The saved scenarios as published (empty before any was saved)."""
    return data.load(read.policy.saved_scenarios)


def saved_table(saved: pl.DataFrame) -> html.Div:
    """Saved scenarios side by side, one row each."""
    if saved.is_empty():
        return notice("No saved scenarios yet: name the current scenario and save it.")
    c = data.currency()
    shown = saved.with_columns(
        pl.format("{} days", pl.col("window_days")).alias("window"),
        (pl.col("restocking_fee_pct") * 100).round(1).cast(pl.String).add("%").alias("fee"),
        pl.when(pl.col("categories") == "").then(pl.lit("all"))
        .otherwise(pl.col("categories")).alias("scope"),
        pl.format("{} – {}", pl.col("net_cost_low").round(0), pl.col("net_cost_high").round(0))
        .alias("net_interval"),
        pl.format("{} – {}", pl.col("units_returned_low").round(0),
                  pl.col("units_returned_high").round(0)).alias("units_interval"),
    )
    return frame_table(shown, (
        Col("name", "Scenario"), Col("window", "Window"), Col("fee", "Restocking fee"),
        Col("label_fee", f"Label fee ({c})", "money"),
        Col("exchange_bonus", "Exchange bonus", "pct"), Col("scope", "Categories"),
        Col("date_from", "Orders from", "date"), Col("date_to", "to", "date"),
        Col("net_cost_baseline", f"Net cost, baseline ({c})", "money"),
        Col("net_cost_point", f"Net cost, scenario ({c})", "money"),
        Col("net_interval", f"80% interval ({c})"),
        Col("units_returned_point", "Units returned", "int"),
        Col("units_interval", "80% interval"),
        Col("fee_revenue_point", f"Fee revenue ({c})", "money"),
        Col("customers_affected_point", "Customers affected", "int")), max_rows=50)


@callback(
    Output("policy-saved-table", "children"),
    Output("policy-saved-graph", "figure"),
    Input("policy-saved-version", "data"),
)
def update_saved(_version: Any) -> tuple[Any, ...]:
    """The saved scenarios, table and chart."""
    saved = saved_frame()
    return saved_table(saved), figures.make_saved_scenarios_figure(saved, data.currency())


@callback(
    Output("policy-save-status", "children"),
    Output("policy-saved-version", "data"),
    Input("policy-save-button", "n_clicks"),
    State("policy-save-name", "value"),
    State("policy-window", "value"),
    State("policy-fee", "value"),
    State("policy-label", "value"),
    State("policy-bonus", "value"),
    State("policy-categories", "value"),
    State("policy-period", "start_date"),
    State("policy-period", "end_date"),
    State({"type": "policy-assumption", "name": ALL}, "value"),
    prevent_initial_call=True,
)
def save(_clicks: int, name: str | None, window: Any, fee: Any, label: Any, bonus: Any,
         categories: list[str] | None, start: str | None, end: str | None,
         assumption_values: list[Any]) -> tuple[Any, ...]:
    """Publish the current scenario under its name (models.policy_scenarios)."""
    name = (name or "").strip()
    if not name:
        return "Name the scenario before saving it.", dash.no_update
    result = run(window, fee, label, bonus, categories, start, end, assumption_values)
    saved = policy.save_scenario(data.database_url(), result, name)
    return f"Saved “{name}” ({saved.height} saved scenarios).", saved.height


@callback(
    Output("policy-export-download", "data"),
    Input("policy-export-button", "n_clicks"),
    State("policy-window", "value"),
    State("policy-fee", "value"),
    State("policy-label", "value"),
    State("policy-bonus", "value"),
    State("policy-categories", "value"),
    State("policy-period", "start_date"),
    State("policy-period", "end_date"),
    State({"type": "policy-assumption", "name": ALL}, "value"),
    prevent_initial_call=True,
)
def export(_clicks: int, window: Any, fee: Any, label: Any, bonus: Any,
           categories: list[str] | None, start: str | None, end: str | None,
           assumption_values: list[Any]) -> dict[str, Any]:
    """The current scenario's table as CSV, with the scenario and period on every row."""
    result = run(window, fee, label, bonus, categories, start, end, assumption_values)
    s = result.scenario
    frame = result.table.drop("label").with_columns(
        pl.lit(s.window_days).alias("window_days"),
        pl.lit(s.restocking_fee_pct).alias("restocking_fee_pct"),
        pl.lit(s.label_fee).alias("label_fee"), pl.lit(s.exchange_bonus).alias("exchange_bonus"),
        pl.lit(", ".join(s.categories or ())).alias("categories"),
        pl.lit(start).alias("orders_from"), pl.lit(end).alias("orders_to"),
        pl.lit(data.currency()).alias("currency"))
    return send_csv(frame, "returnlens-policy-scenario.csv")


@callback(
    Output("policy-export-saved-download", "data"),
    Input("policy-export-saved-button", "n_clicks"),
    prevent_initial_call=True,
)
def export_saved(_clicks: int) -> dict[str, Any]:
    """Every saved scenario, every metric, as CSV."""
    return send_csv(saved_frame(), "returnlens-policy-saved.csv")

