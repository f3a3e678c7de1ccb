"""Overview: headline KPIs against the previous period, trends, and what moved most lately."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from typing import Any

import dash
import dash_bootstrap_components as dbc
import polars as pl
from dash import MATCH, Input, Output, State, dcc, html

from dashboard import data, figures
from dashboard.callbacks import callback
from dashboard.components import (
    NO_REASONS,
    Col,
    PageLink,
    format_value,
    frame_table,
    graph_card,
    kpi_card,
    money_label,
    notice,
    page_header,
    send_csv,
    table_card,
)
from dashboard.filters import choice, drill_param, page_href, to_filters
from models import stats
from warehouse import read
from warehouse.read.filters import Filters

dash.register_page(__name__, path="/", name="Overview", order=0,
                   title="ReturnLens · Overview")

# key, label, kind, whether a rise is bad news
KPIS = (
    ("orders", "Orders", "int", False),
    ("units_sold", "Units sold", "int", False),
    ("units_returned", "Units returned", "int", True),
    ("return_rate_units", "Return rate (units)", "pct", True),
    ("return_rate_value", "Return rate (value)", "pct", True),
    ("refund_value", "Refunds", "money", True),
    ("net_return_cost", "Net return cost", "money", True),
    ("rto_units", "RTO units", "int", True),
    ("npr_rate", "NPR rate", "pct", True),
)
# read.kpis.retention: share of customer returns kept as an exchange or store credit, and the
# sale value they kept (a rise is good news)
RETENTION_KPIS = (
    ("exchange_share", "Exchanged or credited", "pct", False),
    ("value_retained", "Revenue retained", "money", False),
)
# KPI → the (feed, field)s the source must carry for the KPI to be measured at all: a source
# without deliveries or returns records no failed deliveries (RTO), one without scans no
# pickups, one without returns no returns; without a resolution it cannot tell an exchange
# from a refund.
RETURNS = ("returns", None)
RECORDED_BY: dict[str, tuple[tuple[str, str | None], ...]] = {
    "units_returned": (RETURNS,), "return_rate_units": (RETURNS,),
    "return_rate_value": (RETURNS,), "refund_value": (RETURNS,),
    "net_return_cost": (RETURNS,), "rto_units": (RETURNS, ("orders", "delivered_at")),
    "npr_rate": (("carrier_scans", None),), "exchange_share": (("returns", "resolution"),),
    "value_retained": (("returns", "resolution"),),
}
RISE_COLUMNS = (Col("rate_before", "Rate before", "pct"), Col("rate_now", "Rate now", "pct"),
                Col("change_pp", "Change", "pp"), Col("lines_current", "Lines now", "int"),
                Col("q_value", "p (adjusted)", "p"))
MOVER_COLUMNS = {
    "sku-movers": (Col("key", "SKU"), Col("category", "Category"), *RISE_COLUMNS),
    # the card's note says these are defect-return rates: longer headers push a column out
    # of the half-width card at 1440 px
    "vendor-movers": (Col("vendor_name", "Vendor"), Col("category", "Category"),
                      Col("rate_before", "Before", "pct"), Col("rate_now", "Now", "pct"),
                      *RISE_COLUMNS[2:]),
    "carrier-movers": (Col("carrier", "Carrier"), Col("rate_before", "Before", "pct"),
                       Col("rate_now", "Now", "pct"), Col("change_pp", "Change", "pp"),
                       Col("first_attempts_current", "1st attempts now", "int"),
                       Col("q_value", "p (adjusted)", "p")),
}
MOVER_LINKS = {"sku-movers": PageLink("href")}
# Returns are counted up to this many days after ordering in both cohorts compared: by then
# 98 % of the synthetic shop's customer returns are requested, and a cohort younger than this
# would look better only because its returns are still arriving.
FOLLOW_UP_DAYS = 28
MIN_LINES = 20  # order lines in each cohort for a rate to be tested at all
MIN_FIRST_ATTEMPTS = 20  # a carrier's first pickup attempts in each period to be tested

PERIODS = (7, 28)  # days of the "top problems" windows and cohorts
# KPIs counted from returns, which rise as a period's late returns arrive: compared with the
# previous period only once this share of the period's returns is in (models.stats.returns_in)
RETURN_KPIS = frozenset({"units_returned", "return_rate_units", "return_rate_value",
                         "refund_value", "net_return_cost", "value_retained"})
COMPARE_FROM = 0.98

def layout(**_query: str) -> html.Div:
    """The Overview page (filters come from the global filter bar)."""
    return html.Div([
        page_header("Overview", "How many orders come back, what it costs, and what changed."),
        dcc.Loading(html.Div(id="overview-kpis")),
        html.Div(id="overview-notes"),
        dbc.Row([
            dbc.Col(graph_card("overview-return-rate-graph", "Return rate by order month",
                               "cohorts by order date; hollow = returns still arriving"), lg=6),
            dbc.Col(graph_card("overview-net-cost-graph", "Net return cost by order month",
                               "grey = returns still arriving"), lg=6),
        ]),
        html.H5("Top problems", className="mt-2"),
        dbc.RadioItems(id="overview-period-radio", inline=True, value=7,
                       options=[{"label": f"{d}-day periods", "value": d} for d in PERIODS]),
        html.Div(id="overview-period-text", className="small text-muted mb-2"),
        dbc.Row([
            dbc.Col(table_card("overview", "sku-movers", "SKUs returned more",
                               "return rate on order lines, clear rises only"), lg=6),
            dbc.Col([table_card("overview", "vendor-movers", "Vendors with more defect returns",
                                "rate of lines returned defective or not as described, "
                                "clear rises only"),
                     table_card("overview", "carrier-movers", "Carriers failing more pickups",
                                "NPR of first pickup attempts, clear rises only")], lg=6),
        ]),
    ])


def period_bounds(filters: Filters) -> tuple[date, date] | None:
    """First and last order day the KPIs cover: the filter range within the data."""
    bounds = data.load(read.runs.data_bounds).row(0, named=True)
    if bounds["first_order_day"] is None:
        return None
    return (max(filters.date_from, bounds["first_order_day"]),
            min(filters.date_to, bounds["last_order_day"]))


def previous_period(start: date, end: date, in_days: bool = False) -> tuple[date, date]:
    """The period of the same length immediately before: as many whole months before the
    month of `start`, or with `in_days` (a range of days, 'last 7 days' say) as many days
    before `start`."""
    if in_days:
        return start - timedelta(days=(end - start).days + 1), start - timedelta(days=1)
    first = start.replace(day=1)
    months = (end.year - first.year) * 12 + end.month - first.month + 1
    year, month = divmod(first.year * 12 + first.month - 1 - months, 12)
    return date(year, month + 1, 1), first - timedelta(days=1)


def comparison_period(start: date, end: date, first_day: date,
                      in_days: bool = False) -> tuple[date, date] | None:
    """The previous period of the same length (see `previous_period`), when the data covers
    all of it: a period the data covers only in part would compare a whole period with a
    fragment."""
    before = previous_period(start, end, in_days)
    return before if before[0] >= (first_day if in_days else first_day.replace(day=1)) \
        else None


def in_days(filters: Filters) -> bool:
    """Whether the filter's range is days rather than whole months (a day filter compares
    with the days before it, a month filter with the months before it)."""
    return bool(filters.split_months()[1])


def unrecorded_kpis() -> set[str]:
    """The KPIs the loaded source does not record at all (shown as such, never as 0)."""
    return {key for key, needs in RECORDED_BY.items()
            if any(data.source_lacks(feed, field) for feed, field in needs)}


def kpi_cards(current: dict[str, Any], previous: dict[str, Any] | None,
              currency: str, unrecorded: Collection[str] = (),
              arriving: float | None = None) -> dbc.Row:
    """One card per KPI with its change against the previous period; money says its
    currency, and a KPI the source does not record says so. With `arriving` (the share of
    the period's returns in, below COMPARE_FROM) the KPIs counted from returns are not
    compared: a fall would only be returns not yet made."""
    cards = []
    for key, label, kind, rise_is_bad in (*KPIS, *RETENTION_KPIS):
        value, before = current[key], (previous or {}).get(key)
        title = money_label(label, currency) if kind == "money" else label
        if key in unrecorded:
            cards.append(dbc.Col(kpi_card(title, "not recorded", "by this source", None,
                                          card_id=f"overview-kpi-{key.replace('_', '-')}"),
                                 xs=6, md=4, lg=3, xl=2, class_name="mb-2"))
            continue
        delta = "no complete earlier period" if value is not None \
            else "no data in the source"
        worse = None
        if value is not None and before and arriving is not None and key in RETURN_KPIS:
            delta = f"not compared: {arriving:.0%} of returns in"
        elif value is not None and before:
            change = value - before
            if kind == "pct":
                delta = f"{100 * change:+.1f} pp vs previous period"
            else:
                delta = f"{change / before:+.1%} vs previous period"
            worse = None if change == 0 else (change > 0) == rise_is_bad
        cards.append(dbc.Col(kpi_card(title, format_value(value, kind), delta, worse,
                                      card_id=f"overview-kpi-{key.replace('_', '-')}"),
                             xs=6, md=4, lg=3, xl=2, class_name="mb-2"))
    return dbc.Row(cards, class_name="g-2")


def cohort_trend(filters: Filters) -> pl.DataFrame:
    """The filtered cohorts by order month with their completeness and expected final rate."""
    trend = data.load(read.kpis.cohort_trend, filters)
    bounds = data.load(read.runs.data_bounds).row(0, named=True)
    if trend.is_empty():
        return trend.with_columns(
            age_days=pl.lit(None, pl.Int64), completeness=pl.lit(None, pl.Float64),
            immature=pl.lit(None, pl.Boolean), return_rate=pl.lit(None, pl.Float64),
            expected_final_rate=pl.lit(None, pl.Float64))
    completeness = stats.cohort_completeness(
        data.load(read.products.return_lag, filters), trend["order_month"].to_list(),
        bounds["last_order_day"])
    return stats.expected_final_rate(trend.join(completeness, on="order_month", how="left"))


@callback(
    Output("overview-kpis", "children"),
    Output("overview-notes", "children"),
    Output("overview-return-rate-graph", "figure"),
    Output("overview-net-cost-graph", "figure"),
    Input("filters-store", "data"),
)
def update_overview(state: dict[str, Any] | None) -> tuple[Any, ...]:
    """KPIs with period-over-period change, and the monthly trends, for the filters."""
    filters = to_filters(state)
    period = period_bounds(filters)
    if period is None:
        message = notice("The warehouse has no orders yet: load a source with "
                         "`returnlens pipeline`.", "warning")
        empty = figures.empty_figure("No orders loaded")
        return message, None, empty, empty
    first_day = data.load(read.runs.data_bounds).row(0, named=True)["first_order_day"]
    before = comparison_period(*period, first_day, in_days(filters))
    current = {**data.load(read.kpis.kpis, *period), **data.load(read.kpis.retention, *period)}
    earlier = {**data.load(read.kpis.kpis, *before), **data.load(read.kpis.retention, *before)} \
        if before else None
    currency = data.currency()
    compared = (f"compared with the previous period, {before[0]} – {before[1]}" if before else
                f"not compared: the data starts on {first_day}, so no earlier period of this "
                "length is complete; choose a later or shorter range to compare")
    notes = [html.Div(f"KPIs cover orders placed {period[0]} – {period[1]}, {compared}; "
                      "NPR by pickup-attempt date.", className="small text-muted mb-2")]
    missing = data.unrecorded_cost_parts()
    if missing:
        notes.append(notice("Net return cost leaves out what the loaded source does not "
                            "record: " + ", ".join(missing) + " (see Costs).", "warning"))
    if filters.has_segments:
        notes.append(notice("Headline KPIs are for the whole shop in the selected dates; the "
                            "category, channel and region filters apply to the charts and "
                            "tables below."))
    trend = cohort_trend(filters)
    share_in = stats.returns_in(trend)
    arriving = share_in if earlier and share_in is not None and share_in < COMPARE_FROM \
        else None
    if arriving is not None:
        notes.append(notice(
            f"About {arriving:.0%} of these orders' returns are in, so the KPIs counted from "
            "returns are not compared with the previous period: they would look better only "
            "because the rest has not arrived yet."))
    young = trend.filter(pl.col("immature"))
    if young.height:
        notes.append(notice(
            f"{young.height} recent order month(s) are still collecting returns ("
            + ", ".join(f"{m:%Y-%m} {c:.0%} complete" for m, c in
                        zip(young["order_month"], young["completeness"].fill_null(0),
                            strict=True))
            + "): their return rate will rise."))
    return (kpi_cards(current, earlier if earlier and earlier["orders"] else None, currency,
                      unrecorded_kpis(), arriving), notes,
            figures.make_return_rate_figure(trend), figures.make_net_cost_figure(trend, currency))


def mover_windows(filters: Filters, days: int) -> tuple[tuple[date, date], tuple[date, date]]:
    """The latest `days` days with returns (within the filters) and the `days` before them."""
    bounds = data.load(read.runs.data_bounds).row(0, named=True)
    last = min(bounds["last_request_day"] or filters.date_to, filters.date_to)
    current = (last - timedelta(days=days - 1), last)
    return current, (current[0] - timedelta(days=days), current[0] - timedelta(days=1))


def cohort_windows(filters: Filters, days: int) -> tuple[tuple[date, date], tuple[date, date]]:
    """The latest `days` order days (within the filters) whose FOLLOW_UP_DAYS after ordering
    the returns data covers, and the `days` before them."""
    bounds = data.load(read.runs.data_bounds).row(0, named=True)
    covered = (bounds["last_request_day"] or filters.date_to) - timedelta(days=FOLLOW_UP_DAYS)
    last = min(covered, filters.date_to)
    current = (last - timedelta(days=days - 1), last)
    return current, (current[0] - timedelta(days=days), current[0] - timedelta(days=1))


def rate_rises(filters: Filters, days: int, key: read.kpis.MoverKey,
               defects_only: bool = False) -> pl.DataFrame:
    """Per SKU or vendor, the cohorts' return rates on order lines and the test of a rise."""
    current, previous = cohort_windows(filters, days)
    lines = data.load(read.kpis.returned_lines_by_cohort, filters, key, current, previous,
                      FOLLOW_UP_DAYS, defects_only)
    return stats.rate_rises(lines, "returned_current", "lines_current", "returned_previous",
                            "lines_previous", min_trials=MIN_LINES)


def npr_rises(filters: Filters, days: int) -> pl.DataFrame:
    """Per carrier, the NPR of first pickup attempts in the latest `days` days against the
    days before, and the test of a rise. First attempts, one per pickup, are independent
    trials; a parcel's re-attempts fail together (a customer who is never in)."""
    current, previous = mover_windows(filters, days)
    npr = data.load(read.kpis.npr_by_period, filters, current, previous)
    return stats.rate_rises(npr, "first_failed_current", "first_attempts_current",
                            "first_failed_previous", "first_attempts_previous",
                            min_trials=MIN_FIRST_ATTEMPTS)


def mover_table(name: str, state: dict[str, Any] | None, days: int) -> pl.DataFrame:
    """The frame behind one of the 'top problems' tables: SKUs and vendors whose return rate
    clearly rose, carriers whose first-attempt NPR clearly rose."""
    filters = to_filters(state)
    if name == "carrier-movers":
        return npr_rises(filters, days).filter("clear")
    if name == "vendor-movers":
        names = data.load(read.products.vendor_names)
        rises = rate_rises(filters, days, "vendor_id", True).filter("clear")
        if data.source_defaults("products.vendor_id"):  # a placeholder is not a vendor
            rises = rises.clear()
        return rises.join(
            names, left_on="key", right_on="vendor_id", how="left").with_columns(
            vendor_name=pl.coalesce("vendor_name", "key"))
    skus = rate_rises(filters, days, "sku").filter("clear")
    return skus.with_columns(href=pl.Series([
        page_href("/products", state, drill_param("sku", sku)) for sku in skus["key"]],
        dtype=pl.String))


def no_rises(name: str, filters: Filters, days: int) -> html.Div:
    """What a 'returned more' or 'failing more' table says when no rate rose clearly."""
    if name == "carrier-movers":
        if data.source_lacks("carrier_scans"):
            return notice("The loaded source has no carrier scans, so no pickups to compare.")
        return notice(f"No carrier's first-attempt NPR rose clearly: "
                      f"{npr_rises(filters, days).height:,} tested (at least "
                      f"{MIN_FIRST_ATTEMPTS} first attempts in both periods).")
    if name == "vendor-movers" and data.source_defaults("products.vendor_id"):
        return notice("The loaded source names no vendors, so none is compared.")
    if name == "vendor-movers" and data.source_lacks("returns", "reason_code"):
        return notice(NO_REASONS)
    what = "SKU's return rate" if name == "sku-movers" else "vendor's defect-return rate"
    tested = rate_rises(filters, days, "sku" if name == "sku-movers" else "vendor_id",
                        name == "vendor-movers").height
    return notice(f"No {what} rose clearly: {tested:,} tested (at least {MIN_LINES} order "
                  "lines in both cohorts).")


@callback(
    Output("overview-sku-movers-table", "children"),
    Output("overview-vendor-movers-table", "children"),
    Output("overview-carrier-movers-table", "children"),
    Output("overview-period-text", "children"),
    Input("filters-store", "data"),
    Input("overview-period-radio", "value"),
)
def update_movers(state: dict[str, Any] | None, days: int) -> tuple[Any, ...]:
    """What rose in the latest 7 or 28 days against the days before."""
    filters, days = to_filters(state), choice(days, PERIODS, "period")
    tables = []
    for name, columns in MOVER_COLUMNS.items():
        frame = mover_table(name, state, days)
        tables.append(no_rises(name, filters, days) if frame.is_empty() else
                      frame_table(frame, columns, max_rows=10, link=MOVER_LINKS.get(name)))
    cohort, before = cohort_windows(filters, days)
    current, previous = mover_windows(filters, days)
    text = (f"SKUs and vendors: order lines placed {cohort[0]} – {cohort[1]} returned within "
            f"{FOLLOW_UP_DAYS} days of ordering, against those placed {before[0]} – "
            f"{before[1]}; a rise is listed when a one-sided two-proportion test finds it clear "
            f"(5 % false discoveries over all tested). Carriers: first pickup attempts "
            f"{current[0]} – {current[1]}, against {previous[0]} – {previous[1]}, by the "
            "same test.")
    return (*tables, text)


@callback(
    Output({"type": "overview-export-download", "table": MATCH}, "data"),
    Input({"type": "overview-export-button", "table": MATCH}, "n_clicks"),
    State("filters-store", "data"),
    State("overview-period-radio", "value"),
    prevent_initial_call=True,
)
def export_table(_clicks: int, state: dict[str, Any] | None, days: int) -> dict[str, Any]:
    """Every row of a 'top problems' table as CSV."""
    name = choice(dash.callback_context.triggered_id["table"], MOVER_COLUMNS, "table")
    days = choice(days, PERIODS, "period")
    return send_csv(mover_table(name, state, days).drop("href", strict=False),
                    f"returnlens-{name}.csv")
