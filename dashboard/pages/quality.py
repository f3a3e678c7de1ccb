"""Data quality: the latest pipeline runs, their files, quarantined rows, and field coverage."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import MATCH, Input, Output, callback_context, dcc, html

from dashboard import auth, data, figures
from dashboard.callbacks import callback
from dashboard.components import (
    Col,
    format_value,
    frame_table,
    graph_card,
    kpi_card,
    notice,
    page_header,
    send_csv,
    table_card,
)
from dashboard.filters import choice
from warehouse import read

dash.register_page(__name__, path="/quality", name="Data quality", order=4,
                   title="ReturnLens · Data quality")


def layout(**_query: str) -> html.Div:
    """The Data quality page (the global filters do not apply to it)."""
    return html.Div([
        page_header("Data quality", "What the pipeline loaded, what it quarantined and why, "
                                    "and which fields the loaded source carries."),
        dcc.Loading(html.Div(id="quality-summary")),
        html.Div(id="quality-gaps"),
        table_card("quality", "runs", "Latest pipeline runs"),
        table_card("quality", "files", "Files of the latest runs"),
        table_card("quality", "expectations", "Failed expectations of the latest run",
                   "Great Expectations results per file; severity says what a failure does"),
        dbc.Row([
            dbc.Col(table_card("quality", "quarantine-summary", "Quarantined rows by rule"),
                    lg=5),
            dbc.Col(table_card("quality", "quarantine", "Quarantined rows",
                               "the 1,000 most recent"), lg=7),
        ]),
        dbc.Row([
            dbc.Col(graph_card("quality-coverage-graph", "Coverage by feed and field",
                               "share of loaded rows with a value", height=900), lg=6),
            dbc.Col(table_card("quality", "coverage", "Coverage"), lg=6),
        ]),
    ])


def coverage() -> pl.DataFrame:
    """Rows loaded and rows with a value per feed and field, in contract order."""
    return data.load(read.quality.data_coverage).with_columns(
        pl.col("share_with_value").fill_null(0.0))


def quarantined_rows() -> pl.DataFrame:
    """The 1,000 most recent quarantined rows; the original record, and the message of a
    customer field, hidden from roles that do not see customer data."""
    rows = data.load(read.quality.quarantined_rows, None, 1000)
    if auth.can_see_customer_data():
        return rows
    personal = pl.struct("feed", "field").is_in(
        [{"feed": f, "field": c} for f, c in auth.CUSTOMER_FIELDS])
    return auth.mask_customer_data(rows, ("record",)).with_columns(
        message=pl.when(personal).then(pl.lit(auth.MASK)).otherwise("message"))


def recent_runs() -> pl.DataFrame:
    """The latest pipeline runs, newest first (the source's folder, not its server path)."""
    return data.load(read.runs.recent_runs, 20).with_columns(
        source=pl.col("source").str.replace(r"^.*[/\\]", ""))


def failed_expectations(runs: pl.DataFrame | None = None) -> pl.DataFrame:
    """The latest run's Great Expectations results that did not pass, with an example each
    (hidden for customer fields from roles that do not see customer data)."""
    runs = recent_runs() if runs is None else runs
    failed = data.load(read.quality.validation_results,
                       "" if runs.is_empty() else runs["run_id"][0])
    if auth.can_see_customer_data():
        return failed
    personal = pl.struct(feed="feed", field="column_name").is_in(
        [{"feed": f, "field": c} for f, c in auth.CUSTOMER_FIELDS])
    return failed.with_columns(example=pl.when(personal).then(pl.lit(auth.MASK))
                               .otherwise("example"))


TABLES = {
    "runs": recent_runs,
    "expectations": failed_expectations,
    "files": lambda: data.load(read.quality.recent_files, 5),
    "quarantine-summary": lambda: data.load(read.quality.quarantine_by_run),
    "quarantine": quarantined_rows,
    "coverage": coverage,
}


def run_status(latest: dict[str, Any], rejected: list[str]) -> list[Any]:
    """A loud statement when the latest run did not load every file it was given."""
    if not rejected:
        return []
    loaded = "nothing was loaded" if latest["status"] == "failed" else "the other files loaded"
    return [notice(f"The latest run {latest['status']}: {len(rejected)} file(s) rejected whole "
                   f"({', '.join(rejected)}); {loaded}. See 'Files of the latest runs'.",
                   "danger")]


def expectations_notice(rejected: list[str]) -> Any:
    """What an empty list of failed expectations means: every check passed only if every
    file was read; a file rejected whole was never checked."""
    if rejected:
        return notice(f"No expectation was checked on {', '.join(rejected)}: rejected whole "
                      "before validation (see 'Files of the latest runs').", "danger")
    return notice("Every expectation passed in the latest run.")


def gaps(cov: pl.DataFrame) -> list[Any]:
    """Plain statements of the feeds and fields the loaded source does not carry."""
    absent = cov.group_by("feed", maintain_order=True).agg(pl.col("rows_loaded").max()).filter(
        pl.col("rows_loaded") == 0)["feed"].to_list()
    empty = cov.filter((pl.col("rows_loaded") > 0) & (pl.col("rows_with_value") == 0))
    out = []
    if absent:
        out.append(notice("Feeds with no rows loaded: " + ", ".join(absent)
                          + ". Views built on them say so.", "warning"))
    if empty.height:
        out.append(notice("Fields that no loaded row fills: " + ", ".join(
            f"{f}.{c}" for f, c in empty.select("feed", "field").iter_rows()) + ".", "warning"))
    return out


@callback(
    Output("quality-summary", "children"),
    Output("quality-gaps", "children"),
    Output("quality-runs-table", "children"),
    Output("quality-files-table", "children"),
    Output("quality-expectations-table", "children"),
    Output("quality-quarantine-summary-table", "children"),
    Output("quality-quarantine-table", "children"),
    Output("quality-coverage-graph", "figure"),
    Output("quality-coverage-table", "children"),
    Input("app-location", "pathname"),
)
def update_quality(_pathname: str | None) -> tuple[Any, ...]:
    """Everything on the page: runs, files, quarantine and coverage."""
    runs = TABLES["runs"]()
    if runs.is_empty():
        return (notice("No pipeline run has been recorded yet.", "warning"), None, None, None,
                None, None, None, figures.empty_figure("No feeds loaded"), None)
    latest = runs.row(0, named=True)
    cards = dbc.Row([dbc.Col(kpi_card(label, format_value(latest[key], kind),
                                      card_id=f"quality-kpi-{key.replace('_', '-')}"),
                             xs=6, md=3, xl=True, class_name="mb-2")
                     for key, label, kind in (
                         ("run_id", "Latest run", "text"), ("finished_at", "Finished", "date"),
                         ("files_loaded", "Files loaded", "int"),
                         ("files_rejected", "Files rejected", "int"),
                         ("rows_read", "Rows read", "int"), ("rows_loaded", "Rows loaded", "int"),
                         ("rows_quarantined", "Rows quarantined", "int"),
                         ("duplicates", "Duplicates", "int"))], class_name="g-2")
    cov = coverage()
    quarantine = TABLES["quarantine"]()
    failed = failed_expectations(runs)
    files = TABLES["files"]()
    rejected = files.filter(pl.col("run_id") == latest["run_id"],
                            pl.col("status") == "rejected")["file_name"].to_list()
    return (
        [*run_status(latest, rejected), cards], gaps(cov),
        frame_table(runs, (Col("run_id", "Run"), Col("started_at", "Started", "date"),
                           Col("source", "Source"), Col("source_kind", "Kind"),
                           Col("status", "Status"), Col("files_seen", "Files", "int"),
                           Col("rows_read", "Read", "int"), Col("rows_loaded", "Loaded", "int"),
                           Col("rows_quarantined", "Quarantined", "int"),
                           Col("duplicates", "Duplicates", "int"))),
        frame_table(files, (
            Col("run_id", "Run"), Col("feed", "Feed"), Col("file_name", "File"),
            Col("status", "Status"), Col("rows_read", "Read", "int"),
            Col("rows_loaded", "Loaded", "int"), Col("rows_quarantined", "Quarantined", "int"),
            Col("duplicates", "Duplicates", "int"), Col("message", "Message", "wrap")),
            max_rows=50),
        frame_table(failed, (
            Col("feed", "Feed"), Col("file_name", "File"), Col("rule", "Rule"),
            Col("column_name", "Column"), Col("severity", "Severity"),
            Col("unexpected_count", "Failing rows", "int"),
            Col("element_count", "Rows checked", "int"), Col("example", "Example", "wrap")))
        if failed.height else expectations_notice(rejected),
        frame_table(TABLES["quarantine-summary"](), (
            Col("run_id", "Run"), Col("feed", "Feed"), Col("field", "Field"),
            Col("rule", "Rule"), Col("rows_quarantined", "Rows", "int"))),
        frame_table(quarantine, (
            Col("feed", "Feed"), Col("file_name", "File"), Col("row_number", "Row", "int"),
            Col("field", "Field"), Col("rule", "Rule"), Col("status", "Status"),
            Col("message", "Message", "wrap")))
        if quarantine.height else notice("No rows were quarantined."),
        figures.make_coverage_figure(cov),
        frame_table(cov, (Col("feed", "Feed"), Col("field", "Field"),
                          Col("rows_loaded", "Rows", "int"),
                          Col("rows_with_value", "With a value", "int"),
                          Col("share_with_value", "Share", "pct")), max_rows=100),
    )


@callback(
    Output({"type": "quality-export-download", "table": MATCH}, "data"),
    Input({"type": "quality-export-button", "table": MATCH}, "n_clicks"),
    prevent_initial_call=True,
)
def export_table(_clicks: int) -> dict[str, Any]:
    """Every row of a Data quality table as CSV."""
    name = choice(callback_context.triggered_id["table"], TABLES, "table")
    return send_csv(TABLES[name](), f"returnlens-quality-{name}.csv")
