"""Risk: the return-risk model card, the abuse review queue, high-risk SKUs and customers, and
the returns reserve, as the last `returnlens train` published them."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import MATCH, Input, Output, callback_context, dcc, html

from dashboard import data, figures
from dashboard.callbacks import callback
from dashboard.components import (
    Col,
    format_value,
    frame_table,
    graph_card,
    kpi_card,
    notice,
    page_header,
    priced,
    priced_frame,
    send_csv,
    table_card,
)
from warehouse import read

dash.register_page(__name__, path="/risk", name="Risk", order=5, title="ReturnLens · Risk")

QUEUE_ROWS = 200
NO_MODEL = ("No model trained yet: run `returnlens train` (it builds the features, trains and "
            "judges the return-risk model, backtests the reserve, scores abuse and publishes "
            "everything this page shows).")
MODEL_NAMES = {"gradient_boosting_calibrated": "Gradient boosting, calibrated (the model)",
               "blend_calibrated": "Gradient boosting blended with a logistic regression, "
                                   "calibrated (the model)",
               "logistic": "Logistic regression (baseline)",
               "category_rate": "Category return rate (baseline)",
               "overall_rate": "Overall return rate (baseline)"}
METRIC_COLUMNS = (Col("model_name", "Model"), Col("roc_auc", "ROC-AUC", "score"),
                  Col("pr_auc", "PR-AUC", "score"), Col("brier", "Brier score", "score"),
                  Col("lines_test", "Test lines", "int"))
QUEUE_COLUMNS = (Col("rank", "Rank", "int"), Col("customer_id", "Customer"),
                 Col("score", "Abuse score", "num"), Col("kinds", "Suspected", "codes"),
                 Col("reasons", "Why", "wrap"))
SKU_COLUMNS = (Col("sku", "SKU"), Col("product_name", "Product", "wrap"),
               Col("category", "Category", "wrap"),
               Col("open_lines", "Open lines", "int"),
               Col("mean_p_return", "Mean return probability", "pct"),
               Col("expected_units", "Units expected back", "num"),
               Col("expected_refund", "Refunds expected", "money"))
CUSTOMER_COLUMNS = (Col("customer_id", "Customer"), Col("open_lines", "Open lines", "int"),
                    Col("mean_p_return", "Mean return probability", "pct"),
                    Col("expected_units", "Units expected back", "num"),
                    Col("expected_refund", "Refunds expected", "money"),
                    Col("prior_lines", "Lines before latest order", "int"),
                    Col("prior_returns", "Returns before latest order", "int"))
NO_SINGLE_KIND = "None alone: the signals together"
# lines beside units: where a few lines hold most units (wholesale), the lines are what the
# model predicts well and the units swing with the largest lines (docs/models.md)
RESERVE_COLUMNS = (Col("as_of", "As of", "date"), Col("kind", "Kind"),
                   Col("open_lines", "Open lines", "int"),
                   Col("expected_lines", "Lines expected back", "num"),
                   Col("actual_lines", "Lines that came back", "int"),
                   Col("expected_units", "Units expected back", "num"),
                   Col("units_low", "Units, 95 % low", "num"),
                   Col("units_high", "Units, 95 % high", "num"),
                   Col("actual_units", "Units that came back", "int"),
                   Col("expected_refund", "Refunds expected", "money"))


def layout(**_query: str) -> html.Div:
    """The Risk page (the global filters do not apply: the model scores the whole shop)."""
    return html.Div([
        page_header("Risk", "Which order lines will come back, what finance should reserve for "
                            "them, and which customers the returns desk should look at."),
        dcc.Loading(html.Div(id="risk-card")),
        dbc.Row([
            dbc.Col(graph_card("risk-calibration-graph", "Calibration on the test period",
                               "predicted against observed, ten equal-count bins"), lg=6),
            dbc.Col(graph_card("risk-importance-graph", "What the model looks at",
                               "permutation importance on the test period"), lg=6),
        ]),
        table_card("risk", "metrics", "The model against its baselines",
                   "test period, newest order days"),
        table_card("risk", "abuse", "Abuse review queue",
                   "customers by abuse score, with the reasons in words"),
        dbc.Row([
            dbc.Col(table_card("risk", "skus", "High-risk SKUs",
                               "open lines, by mean return probability"), lg=6),
            dbc.Col(table_card("risk", "customers", "High-risk customers",
                               "open lines, by units expected back"), lg=6),
        ]),
        graph_card("risk-reserve-graph", "Returns reserve by month end",
                   "units still to come back from lines inside their window; the 95 % "
                   "interval holds the lines' own noise and the model's backtest error"),
        table_card("risk", "reserve", "Returns reserve",
                   "backtest month ends (model trained at each) and now"),
    ])


def metrics_table() -> pl.DataFrame:
    """The model and baselines on the test period, with readable names."""
    frame = data.load(read.risk.risk_table, "risk_metrics", None)
    if frame.is_empty():
        return frame
    return frame.with_columns(model_name=pl.col("model").replace_strict(
        MODEL_NAMES, default=pl.col("model")))


def review_queue() -> pl.DataFrame:
    """The abuse review queue (highest score first)."""
    return data.load(read.abuse.review_queue, QUEUE_ROWS)


TABLES = {
    "metrics": metrics_table,
    "abuse": review_queue,
    "skus": lambda: data.load(read.risk.risk_table, "risk_skus", None),
    "customers": lambda: data.load(read.risk.risk_table, "risk_customers", None),
    "reserve": lambda: data.load(read.risk.risk_table, "risk_reserve", None),
}


def _kpis(card: dict[str, Any], reserve: pl.DataFrame) -> dbc.Row:
    risk = card["metrics"].get("return_risk", {})
    backtest = card["metrics"].get("reserve", {})
    current = reserve.filter(pl.col("kind") == "current") if reserve.height else reserve
    now = (f"{current['expected_units'][0]:,.0f} units "
           f"({current['units_low'][0]:,.0f}–{current['units_high'][0]:,.0f}, 95 %)"
           ) if current.height else "–"
    mape = backtest.get("backtest_mape")
    cards = [
        ("roc-auc", "ROC-AUC (test)", format_value(risk.get("roc_auc"), "score")),
        ("baseline", "Best baseline ROC-AUC", format_value(risk.get("baseline_roc_auc"), "score")),
        ("pr-auc", "PR-AUC (test)", format_value(risk.get("pr_auc"), "score")),
        ("brier", "Brier score (test)", format_value(risk.get("brier"), "score")),
        ("reserve", "Units still to come back", now),
        ("mape", "Reserve backtest error (MAPE)", format_value(mape, "pct")),
    ]
    return dbc.Row([dbc.Col(kpi_card(label, value, card_id=f"risk-kpi-{key}"), xs=6, md=4,
                            xl=True, class_name="mb-2") for key, label, value in cards],
                   class_name="g-2")


def blend_text(judged: float | None, scoring: float | None) -> str:
    """What the model is made of, in words: the boosting alone or its blend with a logistic
    regression (the weights the validation period chose, for the judged and the saved model)."""
    def mix(weight: float) -> str:
        if weight >= 1.0:
            return "gradient boosting alone"
        if weight <= 0.0:
            return "logistic regression alone"
        return f"{weight:.0%} gradient boosting, {1 - weight:.0%} logistic regression"

    if judged is None:
        return ""
    text = f"The model is {mix(judged)}"
    if scoring is not None and scoring != judged:
        text += f" (the saved model, refitted on every labelled line: {mix(scoring)})"
    return text + ": the mix that ranked the validation period best."


def model_card(card: dict[str, Any] | None, reserve: pl.DataFrame) -> html.Div:
    """Headline figures and where the model came from; or how to train one."""
    if card is None:
        return html.Div([notice(NO_MODEL, "warning"), html.Div(id="risk-card-loaded")])
    params = card["params"]
    risk = card["metrics"].get("return_risk", {})
    published = card["published_at"]
    source = (f"Model {params.get('version', '–')}, published "
              f"{published:%Y-%m-%d %H:%M} UTC from pipeline run {card['snapshot'] or '–'}; "
              f"trained on orders from {risk.get('train_from', '–')}, tested on "
              f"{risk.get('test_from', '–')} to {risk.get('test_to', '–')} "
              f"({format_value(risk.get('lines_test'), 'int')} lines, seed "
              f"{params.get('seed', '–')}).")
    source += " " + blend_text(risk.get("blend_weight"), risk.get("scoring_blend_weight"))
    if params.get("scored_only"):
        source += " Open lines re-scored by `returnlens score`."
    return html.Div([_kpis(card, reserve), html.Div(source, className="small text-muted mb-3"),
                     html.Div(id="risk-card-loaded")])


@callback(
    Output("risk-card", "children"),
    Output("risk-calibration-graph", "figure"),
    Output("risk-importance-graph", "figure"),
    Output("risk-metrics-table", "children"),
    Output("risk-reserve-graph", "figure"),
    Output("risk-reserve-table", "children"),
    Input("app-location", "pathname"),
)
def update_model(_pathname: str | None) -> tuple[Any, ...]:
    """The model card, its calibration and importances, and the reserve."""
    card = data.load(read.risk.model_card)
    reserve = TABLES["reserve"]()
    if reserve.height and "actual_lines" not in reserve.columns:  # published before it kept
        reserve = reserve.with_columns(actual_lines=pl.lit(None, pl.Float64))  # its lines
    if card is None:
        empty = figures.empty_figure("No model trained yet: run `returnlens train`")
        return model_card(None, reserve), empty, empty, notice(NO_MODEL), empty, notice(NO_MODEL)
    calibration = data.load(read.risk.risk_table, "risk_calibration", None)
    importances = data.load(read.risk.risk_table, "risk_importances", None)
    return (model_card(card, reserve), figures.make_calibration_figure(calibration),
            figures.make_importance_figure(importances),
            frame_table(metrics_table(), METRIC_COLUMNS),
            figures.make_reserve_figure(reserve),
            frame_table(reserve, priced(RESERVE_COLUMNS, data.currency()), max_rows=24))


@callback(
    Output("risk-abuse-table", "children"),
    Output("risk-skus-table", "children"),
    Output("risk-customers-table", "children"),
    Input("app-location", "pathname"),
)
def update_lists(_pathname: str | None) -> tuple[Any, ...]:
    """The abuse review queue and the high-risk SKUs and customers."""
    queue = review_queue()
    if "kinds" in queue.columns:  # a customer ranked by the signals together, none clear alone
        queue = queue.with_columns(kinds=pl.when(pl.col("kinds").fill_null("") == "")
                                   .then(pl.lit(NO_SINGLE_KIND)).otherwise("kinds"))
    skus, customers = TABLES["skus"](), TABLES["customers"]()
    return (
        frame_table(queue, [c for c in QUEUE_COLUMNS if c.name in queue.columns])
        if queue.height else notice("No abuse scores yet: run `returnlens train`."),
        frame_table(skus, priced(SKU_COLUMNS, data.currency())) if skus.height
        else notice(NO_MODEL),
        frame_table(customers, priced(CUSTOMER_COLUMNS, data.currency())) if customers.height
        else notice(NO_MODEL),
    )


@callback(
    Output({"type": "risk-export-download", "table": MATCH}, "data"),
    Input({"type": "risk-export-button", "table": MATCH}, "n_clicks"),
    prevent_initial_call=True,
)
def export_table(_clicks: int) -> dict[str, Any]:
    """Every row of a Risk table as CSV."""
    name = callback_context.triggered_id["table"]
    return send_csv(priced_frame(TABLES[name](), ("expected_refund",), data.currency()),
                    f"returnlens-risk-{name}.csv")
