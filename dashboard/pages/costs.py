"""Costs: what returns cost by month, category, channel and reason, from gross refunds to net."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import MATCH, Input, Output, State, callback_context, dcc, html

from dashboard import data, figures
from dashboard.callbacks import callback
from dashboard.components import (
    Col,
    format_value,
    frame_table,
    graph_card,
    kpi_card,
    money_label,
    notice,
    page_header,
    priced,
    priced_frame,
    send_csv,
    table_card,
)
from dashboard.filters import choice, to_filters
from warehouse import read
from warehouse.read.filters import Filters

dash.register_page(__name__, path="/costs", name="Costs", order=2, title="ReturnLens · Costs")

RECOVERY_ROWS_SHOWN = 25
CODED = {"reason_code", "return_type", "resolution", "disposition"}  # shown in words
DIMENSIONS = {"category": "Category", "channel": "Channel", "reason_code": "Reason",
              "disposition": "Disposition", "ship_region": "Region",
              "return_type": "Return type", "resolution": "Resolution"}
MONEY = (Col("refund_amount", "Refunds", "money"),
         Col("restocking_fee", "Restocking fees", "money"),
         Col("return_shipping_cost", "Reverse shipping", "money"),
         Col("handling_cost", "Handling", "money"),
         Col("exchange_cost", "Exchange replacements", "money"),
         Col("recovered_value", "Value recovered", "money"), Col("net_cost", "Net cost", "money"),
         Col("cost_per_return", "Net cost / return", "money"))


def layout(**_query: str) -> html.Div:
    """The Costs page (filters come from the global filter bar)."""
    return html.Div([
        page_header("Costs", "What returns cost, by the month they were requested: refunds, "
                             "reverse shipping, handling, fees kept, value recovered, net loss."),
        dcc.Loading(html.Div(id="costs-kpis")),
        dbc.Row([
            dbc.Col(graph_card("costs-waterfall-graph", "From gross refunds to net cost",
                               "value recovered on customer returns"), lg=6),
            dbc.Col(graph_card("costs-month-graph", "Cost of returns by month requested",
                               "credits below zero"), lg=6),
        ]),
        table_card("costs", "by-month", "Cost of returns by month requested"),
        dbc.Row([
            dbc.Col(html.Span("Break down by", className="me-2 small text-muted"), width="auto"),
            dbc.Col(dbc.RadioItems(id="costs-dimension-radio", inline=True, value="category",
                                   options=[{"label": v, "value": k}
                                            for k, v in DIMENSIONS.items()])),
        ], class_name="align-items-center mb-2"),
        dbc.Row([
            # the table takes the full width: nine money columns with their currency do not
            # fit beside a chart at 1440 px
            dbc.Col(graph_card("costs-breakdown-graph", "Net cost by segment"), lg=12),
            dbc.Col(table_card("costs", "breakdown", "Cost of returns by segment"), lg=12),
        ]),
        dbc.Row([
            dbc.Col(graph_card("costs-recovery-graph", "Value recovered by disposition",
                               "labels: recovery rate of the original price"), lg=5),
            dbc.Col(table_card("costs", "recovery", "Value recovered by SKU × reason × "
                                                     "disposition"), lg=7),
        ]),
    ])


def with_cost_per_return(frame: pl.DataFrame) -> pl.DataFrame:
    """Adds net cost per return."""
    return frame.with_columns(cost_per_return=pl.when(pl.col("returns") > 0)
                              .then(pl.col("net_cost") / pl.col("returns")))


def cost_table(filters: Filters, by: str) -> pl.DataFrame:
    """Returns, units and money per value of `by` (a COST_DIMENSIONS name)."""
    return with_cost_per_return(data.load(read.costs.return_costs, filters, by))


def waterfall_totals(filters: Filters) -> dict[str, float]:
    """The money columns summed over the filters; recovered value of customer returns only."""
    by_type = data.load(read.costs.return_costs, filters, "return_type")
    totals = {c: float(by_type[c].sum()) for c in read.costs.MONEY_COLUMNS}
    customer = by_type.filter(pl.col("return_type") == "customer_return")
    totals["recovered_value"] = float(customer["recovered_value"].sum())
    totals["rto_recovered_value"] = float(
        by_type.filter(pl.col("return_type") == "rto")["recovered_value"].sum())
    totals["returns"] = float(by_type["returns"].sum())
    return totals


def with_recovery_rate(frame: pl.DataFrame) -> pl.DataFrame:
    """Adds recovered / original value (empty where nothing had a value)."""
    return frame.with_columns(recovery_rate=pl.when(pl.col("original_value") > 0)
                              .then(pl.col("recovered_value") / pl.col("original_value")))


def recovery_table(filters: Filters, limit: int | None = None) -> pl.DataFrame:
    """Recovered value per SKU × reason × disposition (the first `limit` rows), with its rate."""
    return with_recovery_rate(data.load(read.costs.recovery_by_sku, filters, limit))


TABLES = {
    "by-month": lambda f, by: cost_table(f, "requested_month"),
    "breakdown": lambda f, by: cost_table(f, by),
    "recovery": lambda f, by: recovery_table(f),
}


NOT_RECORDED = "not recorded"
# Every money column of the Costs tables: their CSV headers carry the currency.
MONEY_NAMES = (*read.costs.MONEY_COLUMNS, "cost_per_return", "original_value")


def unrecorded() -> list[str]:
    """The cost cards whose field the loaded source does not record at all."""
    return [part.card for part in data.unrecorded_parts()]


def unrecorded_columns() -> set[str]:
    """The money columns the loaded source does not record (left out, never shown as 0)."""
    return {part.column for part in data.unrecorded_parts()}


def money_columns(currency: str) -> tuple[Col, ...]:
    """The money columns of the Costs tables the source records, headed with the currency."""
    missing = unrecorded_columns()
    return priced(tuple(c for c in MONEY if c.name not in missing), currency)


def csv_of(frame: pl.DataFrame, filename: str) -> dict[str, Any]:
    """A Costs table as CSV: unrecorded columns left out, money headers with the currency."""
    frame = frame.drop(unrecorded_columns() & set(frame.columns))
    return send_csv(priced_frame(frame, MONEY_NAMES, data.currency()), filename)


def kpi_row(totals: dict[str, float], currency: str) -> list[Any]:
    """Headline money of the selection in `currency`; an amount the source does not record
    says so instead of showing 0.00, and a banner says what the net cost leaves out."""
    per_return = totals["net_cost"] / totals["returns"] if totals["returns"] else None
    missing = unrecorded()
    cards = [
        ("returns", "Returns", format_value(totals["returns"], "int")),
        ("gross-refunds", "Gross refunds",
         format_value(totals["refund_amount"] + totals["restocking_fee"], "money")),
        ("restocking-fees", "Restocking fees kept", format_value(totals["restocking_fee"],
                                                                  "money")),
        ("shipping", "Reverse shipping", format_value(totals["return_shipping_cost"], "money")),
        ("handling", "Handling", format_value(totals["handling_cost"], "money")),
        ("exchanges", "Exchange replacements", format_value(totals["exchange_cost"], "money")),
        ("recovered", "Value recovered", format_value(totals["recovered_value"], "money")),
        ("net-cost", "Net cost", format_value(totals["net_cost"], "money")),
        ("cost-per-return", "Net cost / return", format_value(per_return, "money")),
    ]
    row = dbc.Row([dbc.Col(kpi_card(label if key == "returns" else money_label(label, currency),
                                    NOT_RECORDED if key in missing else value,
                                    card_id=f"costs-kpi-{key}"),
                           xs=6, md=4, xl=True, class_name="mb-2")
                   for key, label, value in cards], class_name="g-2")
    if not missing:
        return [row]
    labels = {key: label for key, label, _ in cards}
    return [notice("The loaded source does not record " + ", ".join(
        labels[k].lower() for k in missing) + ": net cost here leaves them out.", "warning"), row]


@callback(
    Output("costs-kpis", "children"),
    Output("costs-waterfall-graph", "figure"),
    Output("costs-month-graph", "figure"),
    Output("costs-by-month-table", "children"),
    Input("filters-store", "data"),
)
def update_costs(state: dict[str, Any] | None) -> tuple[Any, ...]:
    """Headline money, the waterfall and the monthly costs."""
    filters = to_filters(state)
    totals = waterfall_totals(filters)
    if not totals["returns"]:
        message = "The loaded source has no returns." if data.source_lacks("returns") else \
            "No returns were requested in the selected dates and segments."
        empty = figures.empty_figure(message)
        return notice(message), empty, empty, None
    monthly = cost_table(filters, "requested_month")
    currency, missing = data.currency(), unrecorded_columns()
    note = html.Div(
        f"RTO parcels came back with goods worth {currency} "
        f"{format_value(totals['rto_recovered_value'], 'money')}; an RTO's net cost is its "
        "shipping and handling, so that value is not netted off.",
        className="small text-muted mb-2") if totals["rto_recovered_value"] else None
    return ([*kpi_row(totals, currency), note],
            figures.make_waterfall_figure(totals, currency, missing),
            figures.make_cost_by_month_figure(monthly, currency, missing),
            frame_table(monthly, (Col("requested_month", "Month", "month"),
                                  Col("returns", "Returns", "int"), *money_columns(currency)),
                        max_rows=36))


@callback(
    Output("costs-breakdown-graph", "figure"),
    Output("costs-breakdown-table", "children"),
    Input("filters-store", "data"),
    Input("costs-dimension-radio", "value"),
)
def update_breakdown(state: dict[str, Any] | None, by: str) -> tuple[Any, ...]:
    """Cost of returns per segment of the chosen dimension."""
    by = choice(by, DIMENSIONS, "break down by")
    frame = cost_table(to_filters(state), by)
    if by == "ship_region":
        frame = data.with_region_names(frame, by).with_columns(
            pl.col("region_label").alias(by)).drop("region_label")
    currency = data.currency()
    return (figures.make_cost_breakdown_figure(frame, by, currency),
            frame_table(frame.sort("net_cost", descending=True),
                        (Col(by, DIMENSIONS[by], "code" if by in CODED else "text"),
                         Col("returns", "Returns", "int"), *money_columns(currency))))


@callback(
    Output("costs-recovery-graph", "figure"),
    Output("costs-recovery-table", "children"),
    Input("filters-store", "data"),
)
def update_recovery(state: dict[str, Any] | None) -> tuple[Any, ...]:
    """Value recovered by disposition, and by SKU × reason × disposition."""
    if "recovered" in unrecorded():
        message = "The loaded source does not record the value recovered from returns."
        return figures.empty_figure(message), notice(message)
    filters, currency = to_filters(state), data.currency()
    by_disposition = with_recovery_rate(data.load(read.costs.recovery_by_disposition, filters))
    top = recovery_table(filters, RECOVERY_ROWS_SHOWN)  # of hundreds of thousands at 10M
    return figures.make_recovery_figure(by_disposition, currency), frame_table(top, priced((
        Col("sku", "SKU"), Col("reason_code", "Reason", "code"),
        Col("disposition", "Disposition", "code"),
        Col("units", "Units", "int"), Col("original_value", "Original value", "money"),
        Col("recovered_value", "Recovered", "money"), Col("recovery_rate", "Rate", "pct")),
        currency),
        max_rows=RECOVERY_ROWS_SHOWN, total=int(top["rows_in_all"][0]) if top.height else 0)


@callback(
    Output({"type": "costs-export-download", "table": MATCH}, "data"),
    Input({"type": "costs-export-button", "table": MATCH}, "n_clicks"),
    State("filters-store", "data"),
    State("costs-dimension-radio", "value"),
    prevent_initial_call=True,
)
def export_table(_clicks: int, state: dict[str, Any] | None, by: str) -> dict[str, Any]:
    """Every row of a Costs table as CSV."""
    name = choice(callback_context.triggered_id["table"], TABLES, "table")
    by = choice(by, DIMENSIONS, "break down by")
    return csv_of(TABLES[name](to_filters(state), by), f"returnlens-costs-{name}.csv")
