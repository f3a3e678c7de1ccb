"""Vendors: whose products come back as defects, since when and why, with the evidence pack.

Everything here is read from the published vendor tables (`returnlens vendors` or the
vendors flow writes them); the page computes nothing statistical itself.
"""

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
    RowLink,
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
from models import vendors as vendor_model
from models.evidence import CAUSE_LABELS, evidence_pack, trend_figure
from warehouse import read
from warehouse.contract import CODE_LABELS

dash.register_page(__name__, path="/vendors", name="Vendors", order=2,
                   title="ReturnLens · Vendors")

MONEY_NAMES = ("defect_cost", "excess_defect_cost")  # CSV headers carry the currency
VENDOR_LINK = RowLink("vendors-selected-click", "vendor_id")
RANKING_COLUMNS = (
    Col("vendor_label", "Vendor", "wrap"), Col("category", "Category"), Col("flag", "Flagged"),
    Col("defect_label", "Defect rate (95%)"),
    Col("category_defect_rate", "Category", "pct"), Col("order_lines", "Order lines", "int"),
    Col("defect_cost", "Defect cost", "money"),
    Col("excess_defect_cost", "Above category", "money"),
    Col("low_rating_share", "Low ratings", "pct"),
    Col("cause_disagreement_rate", "Comment ≠ reason", "pct"),
)
SKU_COLUMNS = (
    Col("sku", "SKU"), Col("size", "Size"), Col("order_lines", "Order lines", "int"),
    Col("defect_lines", "Defect lines", "int"), Col("defect_rate", "Defect rate", "pct"),
    Col("defect_interval", "95% interval"),
    Col("returns", "Returns", "int"), Col("defect_cost", "Defect cost", "money"),
    Col("top_cause", "Most common comment cause"),
)
COMMENT_COLUMNS = (
    Col("feedback_date", "Date", "date"), Col("source", "Source"),
    Col("language", "Language", "code"), Col("sku", "SKU"),
    Col("text", "What the customer wrote", "wrap"),
    Col("cause", "Classified cause"), Col("text_confidence", "Confidence", "pct"),
    Col("picked", "Reason picked / rating"), Col("condition", "Inspection", "code"),
)


def layout(**_query: str) -> html.Div:
    """The Vendors page."""
    return html.Div([
        page_header("Vendors", "Which vendors' products come back as defects, since when, and "
                               "why in the customers' words — with an evidence pack to send."),
        dcc.Store(id="vendors-selected-click"),  # written by a click on a vendor in the ranking
        html.Div(id="vendors-notes"),
        dcc.Loading(html.Div(id="vendors-kpis")),
        table_card("vendors", "ranking", "Vendor ranking",
                   "defect-related returns per order line against the rest of the category; "
                   "flagged beyond the category's spread at a family-wise 1% level"),
        dbc.Card([
            dbc.CardHeader(dbc.Row([
                dbc.Col(html.Span("Vendor", className="fw-semibold"), width="auto"),
                dbc.Col(dcc.Dropdown(id="vendors-vendor-dropdown", clearable=False,
                                     placeholder="Pick a vendor"), md=5),
                dbc.Col(dbc.Button("Download evidence pack (HTML)", id="vendors-pack-button",
                                   size="sm", color="primary"), width="auto"),
            ], align="center")),
            dbc.CardBody([
                dcc.Loading(html.Div(id="vendors-detail")),
                dcc.Download(id="vendors-pack-download"),
            ]),
        ], class_name="shadow-sm mb-3"),
        graph_card("vendors-trend-graph", "Defect rate by order month",
                   "order lines with a defect return; the dotted line is the change date"),
        table_card("vendors", "skus", "SKUs of the vendor", "most defect lines first"),
        table_card("vendors", "comments", "What customers wrote",
                   "defect comments and low reviews in the customer's language, with the "
                   "classifier's cause"),
    ])


def published() -> dict[str, Any] | None:
    """The latest vendor publication, if the vendor tables exist."""
    return data.load(read.vendors.publication)


def _percent(column: str) -> pl.Expr:
    """A rate in percent to one decimal, never -0.0 (a rounding error below zero)."""
    rounded = (pl.col(column) * 100).round(1)
    return pl.when(rounded == 0).then(pl.lit(0.0)).otherwise(rounded)


def _interval() -> pl.Expr:
    """'low–high%' of a defect-rate interval, for a table cell."""
    return pl.format("{}–{}%", _percent("defect_rate_low"), _percent("defect_rate_high"))


def rate_with_interval() -> pl.Expr:
    """'rate% (low–high%)', for a table cell."""
    return pl.format("{}% ({})", _percent("defect_rate"), _interval())


def ranking() -> pl.DataFrame:
    """The published scorecard with a 'name (id)' label and the interval as text."""
    published = data.load(read.vendors.scorecard)
    if published.is_empty():
        return published
    return published.with_columns(
        vendor_label=pl.format("{} ({})", pl.col("vendor_name"), pl.col("vendor_id")),
        defect_interval=_interval(), defect_label=rate_with_interval(),
        flag=pl.when(~pl.col("flagged")).then(pl.lit("no"))
        .when(pl.col("change_date").is_null()).then(pl.lit("whole period"))
        .otherwise(pl.format("since {}", pl.col("change_date"))))


def vendor_tables(vendor_id: str) -> dict[str, pl.DataFrame]:
    """Every published vendor table restricted to one vendor."""
    return data.load(read.vendors.vendor_outputs, vendor_id)


def skus(vendor_id: str | None) -> pl.DataFrame:
    """The vendor's SKUs, most defect lines first."""
    if vendor_id is None or not vendor_tables(vendor_id)["vendors_skus"].width:
        return pl.DataFrame()
    return vendor_tables(vendor_id)["vendors_skus"].sort(
        ["defect_lines", "sku"], descending=[True, False]).with_columns(
        top_cause=pl.col("top_text_cause").replace_strict(CAUSE_LABELS, default=None),
        defect_interval=_interval())


def comments(vendor_id: str | None) -> pl.DataFrame:
    """The vendor's representative comments and reviews, as the table shows them."""
    if vendor_id is None or not vendor_tables(vendor_id)["vendors_comments"].width:
        return pl.DataFrame()
    return vendor_tables(vendor_id)["vendors_comments"].with_columns(
        cause=pl.col("text_cause").replace_strict(CAUSE_LABELS, default=None),
        picked=pl.coalesce(pl.col("reason_code").replace(CODE_LABELS),
                           pl.format("{} stars", pl.col("rating").cast(pl.String))),
    )


TABLES = {"ranking": lambda _v: ranking(), "skus": skus, "comments": comments}


def unrankable_reason() -> str | None:
    """Why the loaded source allows no vendor ranking, if it does not (vendors.unrankable_
    reason)."""
    return vendor_model.unrankable_reason(data.load(read.quality.source_notes),
                                          data.load(read.quality.data_coverage))


@callback(
    Output("vendors-notes", "children"),
    Output("vendors-kpis", "children"),
    Output("vendors-ranking-table", "children"),
    Output("vendors-vendor-dropdown", "options"),
    Output("vendors-vendor-dropdown", "value"),
    Input("filters-store", "data"),
    Input("vendors-selected-click", "data"),
    State("vendors-vendor-dropdown", "value"),
)
def update_ranking(_state: Any, clicked: dict[str, Any] | None,
                   current: str | None) -> tuple[Any, ...]:
    """The ranking, the headline numbers and the vendor picker (a click in the ranking picks)."""
    unrankable = unrankable_reason()
    if unrankable:  # placeholders at 0.0 % would read as vendors without defects
        message = notice(unrankable, "warning")
        return message, None, message, [], None
    publication = published()
    if publication is None:
        message = notice("No vendor scores have been published for this warehouse yet: run "
                         "`returnlens vendors` (it reads the marts, classifies the comments "
                         "and publishes the scorecards).", "warning")
        return message, None, message, [], None
    notes = [notice("Vendor scores cover the whole history; the global date and segment "
                    "filters do not apply on this page.")]
    if publication["snapshot"] != data.load(read.runs.latest_run_id):
        notes.append(notice("The warehouse has loaded data since these vendor scores were "
                            "computed; run `returnlens vendors` to score it.", "warning"))
    card = ranking()
    metrics = publication["metrics"]
    flagged = card.filter(pl.col("flagged"))
    kpis = dbc.Row([dbc.Col(kpi_card(label, value, card_id=f"vendors-kpi-{key}"), xs=6, md=3,
                            class_name="mb-2") for key, label, value in (
        ("scored", "Vendor × category pairs scored", format_value(card.height, "int")),
        ("flagged", "Flagged", format_value(flagged.height, "int")),
        ("flagged-cost", money_label("Defect cost above category at flagged vendors",
                                     data.currency()),
         format_value(flagged["excess_defect_cost"].sum(), "money")),
        ("disagreement", "Comments whose cause differs from the reason picked",
         format_value(metrics.get("cause_disagreement_rate"), "pct")),
    )], class_name="g-2")
    options = [{"label": f"{r['vendor_name']} ({r['vendor_id']}) · {r['category']}"
                         + (" · flagged" if r["flagged"] else ""), "value": r["vendor_id"]}
               for r in card.unique("vendor_id", keep="first", maintain_order=True)
               .iter_rows(named=True)]
    known = {o["value"] for o in options}
    trigger = callback_context.triggered_id
    if trigger == "vendors-selected-click" and clicked and clicked.get("value") in known:
        chosen = clicked["value"]
    elif current in known:
        chosen = current
    else:
        chosen = card["vendor_id"][0] if card.height else None
    table = frame_table(card, priced(RANKING_COLUMNS, data.currency()), max_rows=30,
                        link=VENDOR_LINK,
                        highlight="flagged")
    return notes, kpis, table, options, chosen


@callback(
    Output("vendors-detail", "children"),
    Output("vendors-trend-graph", "figure"),
    Output("vendors-skus-table", "children"),
    Output("vendors-comments-table", "children"),
    Input("vendors-vendor-dropdown", "value"),
)
def update_vendor(vendor_id: str | None) -> tuple[Any, ...]:
    """One vendor's scorecard, its monthly trend, its SKUs and what its customers wrote."""
    if not vendor_id:
        why = "Pick a vendor" if published() is not None and not unrankable_reason() \
            else "No vendor to show: see the message above"
        empty = notice(f"{why}.")
        return empty, figures.empty_figure(why), empty, empty
    tables = vendor_tables(vendor_id)
    row = tables["vendors_scorecard"].sort("order_lines", descending=True).row(0, named=True)
    change = row["change_date"]
    verdict = (f"Flagged: quality turned on {change.isoformat()} "
               f"({format_value(row['rate_before_change'], 'pct')} of order lines before, "
               f"{format_value(row['rate_after_change'], 'pct')} after)."
               if row["flagged"] and change else
               "Flagged: above its category over the whole period." if row["flagged"] else
               "Not flagged at the default level.")
    detail = html.Div([
        html.P([html.Strong(f"{row['vendor_name']} ({vendor_id})"), f" · {row['category']} · ",
                html.Span(verdict, id="vendors-verdict",
                          className="text-danger" if row["flagged"] else "text-success")]),
        dbc.Row([dbc.Col(kpi_card(label, value, note), xs=6, lg=True, class_name="mb-2")
                 for label, value, note in (
            ("Defect rate", format_value(row["defect_rate"], "pct"),
             f"95% {format_value(row['defect_rate_low'], 'pct')}–"
             f"{format_value(row['defect_rate_high'], 'pct')}; category "
             f"{format_value(row['category_defect_rate'], 'pct')}"),
            ("Defect returns", format_value(row["defect_returns"], "int"),
             f"of {format_value(row['returns'], 'int')} returns"),
            (money_label("Defect cost", data.currency()),
             format_value(row["defect_cost"], "money"),
             f"above category {format_value(row['excess_defect_cost'], 'money')}"),
            ("Low ratings", format_value(row["low_rating_share"], "pct"),
             f"category {format_value(row['category_low_rating_share'], 'pct')}"),
            ("Comment ≠ reason", format_value(row["cause_disagreement_rate"], "pct"),
             f"of {format_value(row['comments'], 'int')} commented returns"),
        )], class_name="g-2"),
    ])
    monthly = tables["vendors_monthly"].filter(pl.col("category") == row["category"]) \
        .sort("order_month")
    figure = trend_figure(monthly, change)
    # the house template: plotly_white's legend stood at the top right, under the modebar
    figure.update_layout(title=None, margin={"l": 50, "r": 10, "t": 10, "b": 40})
    return (detail, figure,
            frame_table(skus(vendor_id), priced(SKU_COLUMNS, data.currency()), max_rows=20),
            frame_table(comments(vendor_id), COMMENT_COLUMNS, max_rows=20))


@callback(
    Output("vendors-pack-download", "data"),
    Input("vendors-pack-button", "n_clicks"),
    State("vendors-vendor-dropdown", "value"),
    prevent_initial_call=True,
)
def download_pack(_clicks: int, vendor_id: str | None) -> dict[str, Any] | None:
    """The chosen vendor's evidence pack as a self-contained HTML file."""
    if not vendor_id:
        return None
    return dcc.send_string(evidence_pack(vendor_id, vendor_tables(vendor_id),
                                         currency=data.currency()),
                           f"returnlens-evidence-{vendor_id}.html")


@callback(
    Output({"type": "vendors-export-download", "table": MATCH}, "data"),
    Input({"type": "vendors-export-button", "table": MATCH}, "n_clicks"),
    State("vendors-vendor-dropdown", "value"),
    prevent_initial_call=True,
)
def export_table(_clicks: int, vendor_id: str | None) -> dict[str, Any]:
    """Every row of a Vendors table as CSV."""
    name = callback_context.triggered_id["table"]
    frame = TABLES[name](vendor_id)
    return send_csv(priced_frame(frame, MONEY_NAMES, data.currency()),
                    f"returnlens-vendors-{name}.csv")
