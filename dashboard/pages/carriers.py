"""Carriers: reverse-pickup performance — NPR rates, failure reasons, attempts, pickup and
return-cycle times, and a carrier × region scorecard that flags where a carrier got worse."""

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
    notice,
    page_header,
    priced_frame,
    send_csv,
    table_card,
)
from dashboard.filters import choice, text_value, to_filters
from models import stats
from warehouse import read
from warehouse.contract import FAILURE_REASONS, code_label
from warehouse.read.filters import Filters

dash.register_page(__name__, path="/carriers", name="Carriers", order=3,
                   title="ReturnLens · Carriers")

WINDOW_WEEKS, BASELINE_WEEKS = 6, 26
MIN_PICKUPS = 30  # a carrier with fewer pickups in a region is not ranked there
RECOMMENDATION_MONEY = ("cost_saved", "cost_saved_low", "cost_saved_high")
TABLES = ("scorecard", "recommendation", "summary")  # the page's CSV downloads
MEASURES = {"pickup_tat_days": "Pickup TAT (request → picked up)",
            "request_to_warehouse_days": "Request → warehouse",
            "cycle_days": "Return cycle (request → refund)"}
MEASURE_HEADERS = {"pickup_tat_days": "TAT", "request_to_warehouse_days": "To warehouse",
                   "cycle_days": "Cycle"}
# A week of 3 attempts reads 0 % or 100 %: the trend leaves out periods with fewer attempts,
# and draws longer periods when too many weeks are that thin (see trend_periods).
MIN_PERIOD_ATTEMPTS = 20
PERIOD_WEEKS = (1, 2, 4, 13)
MIN_TREND_WEEKS = 3  # fewer weeks of attempts (a 'last 7 days' range, say) draw no trend
PERIODS_SHOWN = 0.8  # the share of a panel's periods with attempts that should be drawn
# The z of what the flag speaks of sits beside the flag, where the eye is; the CSV keeps both
# windows' z.
SCORECARD_COLUMNS = (
    Col("carrier", "Carrier"), Col("region_label", "Region", "wrap"), Col("flag", "Flag"),
    Col("flag_z", "z", "z"),
    Col("attempts", "Attempts", "int"), Col("npr_rate", "NPR", "pct"),
    Col("first_attempt_npr", "1st-attempt NPR", "pct"),
    Col("recent_npr", f"Last {WINDOW_WEEKS} wk", "pct"), Col("baseline_npr", "Before", "pct"),
    Col("recent_change_pp", "Change", "pp"),
    Col("worst_from", "Worst window from", "date"), Col("worst_to", "to", "date"),
    Col("worst_npr", "1st-attempt NPR then", "pct"),
    Col("worst_baseline_npr", "before", "pct"), Col("worst_change_pp", "Change", "pp"),
)


def layout(**_query: str) -> html.Div:
    """The Carriers page (filters come from the global filter bar)."""
    return html.Div([
        page_header("Carriers", "How carriers perform on reverse pickups: non-pickup reports "
                                "(NPR), attempts, and how long returns take."),
        html.Div(id="carriers-notes"),
        dcc.Loading(html.Div(id="carriers-kpis")),
        table_card("carriers", "scorecard", "Carrier × region scorecard",
                   f"first-attempt NPR of {WINDOW_WEEKS}-week windows against up to "
                   f"{BASELINE_WEEKS} weeks before (two-proportion z-test); flagged at z ≥ 4; "
                   "z is the flagged window's (the worst window's when not flagged)"),
        table_card("carriers", "recommendation", "Which carrier for each region?",
                   f"first-attempt pickup success of carriers with at least {MIN_PICKUPS} "
                   "pickups in these dates, and what moving the worst one's pickups to the "
                   "best would have saved; 'move volume' when the difference in success is "
                   "clear (its 95 % interval lies above zero)"),
        html.Div([
            html.H5("By carrier", className="mb-1"),
            dbc.Row([
                dbc.Col(html.Label("Carrier", htmlFor="carriers-carrier-dropdown",
                                   className="fw-semibold"), width="auto"),
                dbc.Col(dcc.Dropdown(id="carriers-carrier-dropdown", placeholder="All carriers",
                                     clearable=True), md=3),
                dbc.Col(html.Span(
                    "applies to every chart and table below: all carriers side by side, or "
                    "one carrier by region; the scorecard and recommendation above follow the "
                    "filters at the top only", className="small text-muted")),
            ], align="center", class_name="g-2"),
        ], className="border-top pt-2 mb-2"),
        graph_card("carriers-npr-trend-graph", "NPR rate over time",
                   "failed attempts / attempts with its 95 % interval (band); weeks with "
                   f"fewer than {MIN_PERIOD_ATTEMPTS} attempts are left out (gaps), and "
                   "longer periods are drawn when most weeks are that thin", height=None),
        dbc.Row([
            dbc.Col(graph_card("carriers-npr-heatmap-graph", "NPR rate by carrier and region"),
                    lg=6),
            dbc.Col(graph_card("carriers-reasons-graph", "Why pickups failed",
                               "failed attempts of each reason / all attempts: the bars "
                               "add up to the NPR rate"), lg=6),
        ]),
        dbc.Row([
            dbc.Col(graph_card("carriers-weekday-graph", "NPR rate by weekday"), lg=6),
            dbc.Col(graph_card("carriers-attempts-graph", "Attempts until pickup"), lg=6),
        ]),
        dbc.RadioItems(id="carriers-measure-radio", inline=True, value="pickup_tat_days",
                       options=[{"label": v, "value": k} for k, v in MEASURES.items()]),
        dbc.Row([
            dbc.Col(graph_card("carriers-times-graph", "How long returns take",
                               "share of each carrier's pickups per half day"), lg=7),
            dbc.Col(table_card("carriers", "summary", "Per carrier",
                               "median (p50) and 90th percentile (p90) in days of the time "
                               "chosen above"), lg=5),
        ]),
    ])


def scorecard(filters: Filters) -> pl.DataFrame:
    """The carrier × region scorecard for the filters (computed once per warehouse version)."""
    return data.with_region_names(data.derive(build_scorecard, filters))


def build_scorecard(filters: Filters) -> pl.DataFrame:
    """The carrier × region scorecard for the filters.

    Changes are tested on first attempts: one per pickup, so they are independent trials,
    whereas the re-attempts of one parcel (a customer who is never in) fail together.
    """
    weekly = data.load(read.carriers.carrier_weekly, filters)
    first = weekly.select("carrier", "region", "week", attempts="first_attempts",
                          failed_attempts="first_attempts_failed")
    card = stats.npr_scorecard(first, WINDOW_WEEKS, BASELINE_WEEKS).rename({
        "attempts": "first_attempts", "failed_attempts": "first_attempts_failed",
        "npr_rate": "first_attempt_npr"})
    overall = weekly.group_by("carrier", "region").agg(
        pl.col("attempts", "failed_attempts").sum()).with_columns(
        npr_rate=pl.col("failed_attempts") / pl.col("attempts"))
    return card.join(overall, on=["carrier", "region"], how="left", maintain_order="left") \
        .with_columns(flagged=pl.col("flag").str.contains("worse"))


def recommendation(filters: Filters) -> pl.DataFrame:
    """Per region: the best and the worst carrier by first-attempt pickup success, and what
    moving the worst one's pickups to the best would have saved (models.stats)."""
    return data.with_region_names(stats.carrier_recommendation(
        data.load(read.carriers.carrier_region_pickups, filters), MIN_PICKUPS))


def _with_interval(value: float | None, low: float | None, high: float | None,
                   kind: str) -> str:
    """'95.5% (94.2% – 96.5%)': a figure with its 95 % interval in one cell."""
    return f"{format_value(value, kind)} ({format_value(low, kind)} – {format_value(high, kind)})"


def recommendation_table(frame: pl.DataFrame, currency: str) -> Any:
    """The recommendation as a table an ops lead can act on: each figure beside its interval."""
    if frame.is_empty():
        return notice(f"No region has two carriers with {MIN_PICKUPS} or more pickups in "
                      "these dates to compare.")
    shown = [
        ("best_success", "best_success_low", "best_success_high", "pct"),
        ("worst_success", "worst_success_low", "worst_success_high", "pct"),
        ("failed_first_attempts_saved", "failed_first_attempts_saved_low",
         "failed_first_attempts_saved_high", "int"),
        ("days_saved_per_pickup", "days_saved_low", "days_saved_high", "num"),
        ("cost_saved", "cost_saved_low", "cost_saved_high", "int"),  # whole units of money
    ]
    rows = frame.with_columns(
        pl.struct(value, low, high).map_elements(
            lambda r, v=value, lo=low, hi=high, k=kind: _with_interval(r[v], r[lo], r[hi], k),
            return_dtype=pl.String).alias(f"{value}_shown")
        for value, low, high, kind in shown
    ).with_columns(verdict=pl.col("verdict").str.split(":").list.first())
    return frame_table(rows, (
        # the verdict beside its region: it is what the table is for, and it must not be the
        # column that scrolls out of sight
        Col("region_label", "Region", "wrap"), Col("verdict", "Verdict"),
        Col("best_carrier", "Best"),
        Col("best_success_shown", "1st-attempt success (95 % CI)"),
        Col("worst_carrier", "Worst"),
        Col("worst_success_shown", "1st-attempt success (95 % CI)"),
        Col("worst_pickups", "Worst's pickups", "int"),
        Col("failed_first_attempts_saved_shown", "Failed 1st attempts saved"),
        Col("days_saved_per_pickup_shown", "Days saved per pickup"),
        Col("cost_saved_shown", f"Shipping cost saved ({currency}; − = dearer)"),
    ), max_rows=40)


def summary(filters: Filters, carrier: str | None = None) -> pl.DataFrame:
    """Per carrier (or the one chosen): pickups, first-attempt success and time percentiles."""
    frame = data.load(read.carriers.pickup_time_summary, filters).with_columns(
        first_attempt_success=pl.col("first_attempt_pickups") / pl.col("pickups"))
    return frame.filter(pl.col("carrier") == carrier) if carrier else frame


def no_scans_notice() -> Any:
    """A plain statement when the loaded source has no carrier scans at all."""
    if not data.source_lacks("carrier_scans"):
        return None
    return notice("The loaded source has no carrier scans (the carrier_scans feed is empty), "
                  "so there is nothing to show about pickups. See Data quality for what was "
                  "loaded.", "warning")


NO_SCANS = "Pickup attempts are not recorded by this source (no carrier scans)"


def colours() -> dict[str, str]:
    """Each carrier's colour, from every carrier in the warehouse (not only the filtered)."""
    return figures.carrier_colours(data.load(read.carriers.carrier_names)["carrier"])


def trend_periods(weekly: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """NPR per `panel` and period with its 95 % interval (models.stats.rate_with_interval),
    every period of every panel present so a missing one is a gap, and the period's weeks.

    The period is the shortest of PERIOD_WEEKS in which PERIODS_SHOWN of the panels' periods
    with attempts have at least MIN_PERIOD_ATTEMPTS: a small shop's weeks are too thin to
    draw, and a panel of gaps says less than a line of 4-week periods.
    """
    first = weekly["week"].min()
    for weeks in PERIOD_WEEKS:
        periods = weekly.with_columns(period=pl.col("week").dt.offset_by(
            pl.format("-{}d", (pl.col("week") - first).dt.total_days() % (7 * weeks))))
        sums = periods.group_by("panel", "carrier", "period").agg(
            pl.col("attempts", "failed_attempts").sum())
        if (sums["attempts"] >= MIN_PERIOD_ATTEMPTS).mean() >= PERIODS_SHOWN:
            break
    starts = pl.date_range(first, sums["period"].max(), f"{7 * weeks}d", eager=True)
    grid = weekly.select("panel", "carrier").unique(maintain_order=True).join(
        pl.DataFrame({"period": starts}), how="cross").join(
        sums, on=["panel", "carrier", "period"], how="left").with_columns(
        pl.col("attempts", "failed_attempts").fill_null(0))
    return stats.rate_with_interval(grid, "failed_attempts", "attempts",
                                    MIN_PERIOD_ATTEMPTS), weeks


@callback(
    Output("carriers-notes", "children"),
    Output("carriers-kpis", "children"),
    Output("carriers-scorecard-table", "children"),
    Output("carriers-recommendation-table", "children"),
    Output("carriers-carrier-dropdown", "options"),
    Input("filters-store", "data"),
)
def update_carriers(state: dict[str, Any] | None) -> tuple[Any, ...]:
    """Headline pickup numbers, the scorecard, the recommendation and the carriers to pick."""
    filters = to_filters(state)
    notes = [no_scans_notice()]
    if filters.categories or filters.channels:
        notes.append(notice("Carrier scans carry carrier and region only: the category and "
                            "channel filters do not apply on this page."))
    weekly = data.load(read.carriers.carrier_weekly, filters)
    attempts = int(weekly["attempts"].sum())
    failed = int(weekly["failed_attempts"].sum())
    first = int(weekly["first_attempts"].sum())
    first_failed = int(weekly["first_attempts_failed"].sum())
    outcomes = data.load(read.carriers.pickup_attempts, filters)  # counts only: no time percentiles
    pickups = int(outcomes["pickups"].sum())
    never = int(outcomes.filter(~pl.col("picked_up"))["pickups"].sum())
    # a source without carrier scans has recorded no pickups: "not recorded", never 0 or –
    lacking = data.source_lacks("carrier_scans")
    cards = dbc.Row([dbc.Col(kpi_card(label, "not recorded" if lacking else value,
                                      "by this source" if lacking else None,
                                      card_id=f"carriers-kpi-{key}"), xs=6, md=4,
                             xl=True, class_name="mb-2") for key, label, value in (
        ("attempts", "Pickup attempts", format_value(attempts, "int")),
        ("npr-rate", "NPR rate", format_value(failed / attempts if attempts else None, "pct")),
        ("first-attempt", "First-attempt pickup success",
         format_value(1 - first_failed / first if first else None, "pct")),
        ("pickups", "Reverse pickups requested", format_value(pickups, "int")),
        ("not-picked-up", "Not picked up (yet)",
         format_value(never / pickups if pickups else None, "pct")),
    )], class_name="g-2")
    carriers = sorted(weekly["carrier"].unique().to_list())
    # "was worse" without its dates: the worst window's columns carry them, and the dates
    # in the flag pushed the table's last columns out of a 1440 px page
    if lacking:
        return notes, cards, notice(f"{NO_SCANS}."), notice(f"{NO_SCANS}."), carriers
    card = scorecard(filters).with_columns(pl.col("flag").str.replace(r" \d{4}-.*$", ""))
    return (notes, cards, frame_table(card, SCORECARD_COLUMNS, max_rows=40, highlight="flagged"),
            recommendation_table(recommendation(filters), data.currency()), carriers)


@callback(
    Output("carriers-npr-trend-graph", "figure"),
    Output("carriers-npr-heatmap-graph", "figure"),
    Output("carriers-reasons-graph", "figure"),
    Output("carriers-weekday-graph", "figure"),
    Input("filters-store", "data"),
    Input("carriers-carrier-dropdown", "value"),
)
def update_charts(state: dict[str, Any] | None, carrier: str | None) -> tuple[Any, ...]:
    """NPR over time, by region, by reason and by weekday: per carrier, or for one carrier
    per region."""
    filters, carrier = to_filters(state), text_value(carrier, "carrier")
    if data.source_lacks("carrier_scans"):
        return tuple(figures.empty_figure(NO_SCANS) for _ in range(4))
    weekly = data.load(read.carriers.carrier_weekly, filters)
    weekdays = data.load(read.carriers.npr_by_weekday, filters)
    by = "carrier"
    if carrier:
        weekly = data.with_region_names(weekly.filter(pl.col("carrier") == carrier))
        weekdays = weekdays.filter(pl.col("carrier") == carrier)
        by = "region_label"
    pairs = weekly.group_by("carrier", "region").agg(
        pl.col("attempts", "failed_attempts").sum()).with_columns(
        npr_rate=pl.col("failed_attempts") / pl.col("attempts"))
    reasons = weekly.group_by(by).agg(
        pl.col("attempts", *(f"failed_{r}" for r in FAILURE_REASONS)).sum()).unpivot(
        index=[by, "attempts"], variable_name="reason", value_name="failed").with_columns(
        pl.col("reason").str.strip_prefix("failed_").map_elements(
            code_label, return_dtype=pl.String)).sort("reason", by)
    weeks_seen = weekly["week"].n_unique()
    if not weeks_seen:
        trend = figures.empty_figure("No pickup attempts for the current filters")
    elif weeks_seen < MIN_TREND_WEEKS:
        trend = figures.empty_figure(
            f"A trend needs pickup attempts in at least {MIN_TREND_WEEKS} weeks; these dates "
            f"hold {weeks_seen}. Choose a longer range: the charts below cover these dates.")
    else:
        periods, weeks = trend_periods(weekly.with_columns(panel=pl.col(by)).group_by(
            "panel", "carrier", "week").agg(pl.col("attempts", "failed_attempts").sum()).sort(
            "panel", "week"))
        trend = figures.make_npr_trend_figure(periods, colours(), weeks, MIN_PERIOD_ATTEMPTS)
    return (trend, figures.make_npr_heatmap_figure(data.with_region_names(pairs)),
            figures.make_failure_reasons_figure(reasons, by),
            figures.make_weekday_figure(weekdays.with_columns(
                npr_rate=pl.col("failed_attempts") / pl.col("attempts")), colours()))


@callback(
    Output("carriers-attempts-graph", "figure"),
    Output("carriers-times-graph", "figure"),
    Output("carriers-summary-table", "children"),
    Input("filters-store", "data"),
    Input("carriers-carrier-dropdown", "value"),
    Input("carriers-measure-radio", "value"),
)
def update_times(state: dict[str, Any] | None, carrier: str | None,
                 measure: str) -> tuple[Any, ...]:
    """Attempts until pickup, the distribution of a time, and per-carrier percentiles of it,
    for every carrier or the one chosen."""
    filters, carrier = to_filters(state), text_value(carrier, "carrier")
    measure = choice(measure, MEASURES, "measure")
    if data.source_lacks("carrier_scans"):
        return figures.empty_figure(NO_SCANS), figures.empty_figure(NO_SCANS), notice(
            f"{NO_SCANS}.")
    attempts = data.load(read.carriers.pickup_attempts, filters).with_columns(
        outcome=pl.when(pl.col("picked_up"))
        .then(pl.format("picked up at attempt {}", pl.col("attempts")))
        .otherwise(pl.lit("not picked up"))).group_by("carrier", "outcome").agg(
        pl.col("pickups").sum()).with_columns(
        share=pl.col("pickups") / pl.col("pickups").sum().over("carrier")).sort(
        "outcome", "carrier")
    histogram = data.load(read.carriers.pickup_time_histogram, filters, measure, 0.5)
    if carrier:
        attempts = attempts.filter(pl.col("carrier") == carrier)
        histogram = histogram.filter(pl.col("carrier") == carrier)
    table = frame_table(summary(filters, carrier), (
        Col("carrier", "Carrier"), Col("pickups", "Pickups", "int"),
        Col("first_attempt_success", "1st-attempt success", "pct"),
        Col(f"{measure}_p50", f"{MEASURE_HEADERS[measure]} p50", "num"),
        Col(f"{measure}_p90", "p90", "num")))
    return (figures.make_attempts_figure(attempts),
            figures.make_time_histogram_figure(histogram, MEASURES[measure], colours()), table)


@callback(
    Output({"type": "carriers-export-download", "table": MATCH}, "data"),
    Input({"type": "carriers-export-button", "table": MATCH}, "n_clicks"),
    State("filters-store", "data"),
    State("carriers-carrier-dropdown", "value"),
    prevent_initial_call=True,
)
def export_table(_clicks: int, state: dict[str, Any] | None,
                 carrier: str | None) -> dict[str, Any]:
    """Every row of a Carriers table as CSV (the per-carrier one for the carrier chosen)."""
    name = choice(callback_context.triggered_id["table"], TABLES, "table")
    filters = to_filters(state)
    if name == "summary":
        frame = summary(filters, text_value(carrier, "carrier"))
    elif name == "recommendation":
        frame = priced_frame(recommendation(filters), RECOMMENDATION_MONEY, data.currency())
    else:
        frame = scorecard(filters)
    return send_csv(frame, f"returnlens-carriers-{name}.csv")
