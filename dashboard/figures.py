"""Pure figure builders: make_<x>_figure(frame, ...) → plotly Figure, no data access."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Collection, Iterable
from datetime import date, timedelta
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import polars as pl

from models.feature_names import FEATURE_LABELS
from warehouse.contract import code_label

PALETTE = ("#2563eb", "#f97316", "#10b981", "#e11d48", "#8b5cf6", "#0891b2", "#ca8a04",
           "#64748b", "#db2777", "#65a30d")
COST_COLOURS = {
    "refund_amount": "#2563eb", "return_shipping_cost": "#f97316",
    "handling_cost": "#8b5cf6", "exchange_cost": "#0891b2",
    "restocking_fee": "#10b981", "recovered_value": "#65a30d", "net_cost": "#111827",
}
COST_LABELS = {
    "refund_amount": "Refunds", "return_shipping_cost": "Reverse shipping",
    "handling_cost": "Handling", "exchange_cost": "Exchange replacements",
    "restocking_fee": "Restocking fees kept", "recovered_value": "Value recovered",
    "net_cost": "Net cost",
}
# Carriers take PALETTE's colours; what a carrier's bar is split by (failure reasons, attempts
# made) takes neutral shades instead, so it never reads as another carrier.
NEUTRALS = ("#1e293b", "#64748b", "#a8a29e", "#cbd5e1", "#78716c", "#475569")
NOT_PICKED_UP = "#0f172a"
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# the rates' colour scale, as validation spells a named scale out (see _figure)
RATE_SCALE = [list(stop) for stop in go.Heatmap(colorscale="YlOrRd").colorscale]


TEMPLATE = "returnlens"


# the top margin of a figure with text above its plot (a label, a top axis): the modebar,
# drawn over the figure's top right, hid such text at the house margin of 30 px
CLEAR_OF_MODEBAR = 64


def _register_template() -> None:
    """Make a lean plotly_white the default template of every figure.

    plotly_white carries styles for every trace type; a figure built with it spends most of
    its time copying and validating that template (about 10 ms a figure). This one keeps
    plotly_white's layout and the styles of the trace types we draw, plus the house defaults.
    """
    white = pio.templates["plotly_white"]
    template = go.layout.Template(layout=white.layout)
    template.layout.update(colorway=PALETTE, hovermode="closest",
                           margin={"l": 50, "r": 20, "t": 30, "b": 40},
                           legend={"orientation": "h", "y": -0.18})
    template.data.bar = white.data.bar
    template.data.heatmap = [go.Heatmap(colorbar=white.data.heatmap[0].colorbar)]
    pio.templates[TEMPLATE] = template
    pio.templates.default = TEMPLATE


_register_template()


def _figure(traces: list[dict[str, Any]], layout: dict[str, Any]) -> go.Figure:
    """A figure from plotly's JSON as it is, unvalidated: built through plotly's API
    (add_trace, update_layout) a figure costs ~10 ms of validation and copying, whatever its
    size, and a cold page draws four to six. The JSON is written as validation would leave it
    (titles as {"text": …}, colour scales as lists); tests/dashboard/test_figures.py holds
    every figure built so to what plotly validates it into."""
    return go.Figure(data=traces, layout=layout, _validate=False)


def _style(fig: go.Figure, **layout: object) -> go.Figure:
    if layout:
        fig.update_layout(**layout)
    return fig


MONTH_BAR_MS = 24 * 86_400_000  # a month's bar: 24 days wide on a time axis


def _month_xaxis(months: list[date | str]) -> dict[str, Any]:
    """A time axis of whole months: ticks read 'Mar 2025' (never milliseconds or fortnights),
    and a lone month gets half a month either side instead of a zoom into milliseconds."""
    days = [m if isinstance(m, date) else date.fromisoformat(str(m)[:10])
            for m in months if m is not None]
    if not days:
        return {}
    first, last = min(days), max(days)
    span = (last.year - first.year) * 12 + last.month - first.month
    return {"tickformat": "%b %Y", "dtick": "M1" if span <= 12 else "M3",
            "range": [first - timedelta(days=16), last + timedelta(days=16)]}


def _month_axis(fig: go.Figure, months: list[date | str]) -> None:
    """`_month_xaxis` on `fig`, with bars a month wide (plotly sizes them by the gap between
    points: a lone month's bar was a millisecond wide, so invisible)."""
    if axis := _month_xaxis(months):
        fig.update_xaxes(**axis)
        fig.update_traces(width=MONTH_BAR_MS, selector={"type": "bar"})


EMPTY_LINE_CHARS = 60  # a half-page card holds ~75 characters of the message's size


def empty_figure(message: str) -> go.Figure:
    """A blank figure that states why there is nothing to plot, on lines that fit a half-page
    card (plotly does not wrap: a longer line was cut at both edges)."""
    fig = go.Figure()
    lines = textwrap.wrap(message, EMPTY_LINE_CHARS, break_long_words=False) or [message]
    fig.add_annotation(text="<br>".join(lines), showarrow=False, x=0.5, y=0.5, xref="paper",
                       yref="paper", font={"size": 14, "color": "#64748b"})
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _style(fig)


def make_return_rate_figure(trend: pl.DataFrame, title: str = "") -> go.Figure:
    """Return rate by order month; immature cohorts hollow, with their expected final rate."""
    if trend.is_empty():
        return empty_figure("No orders for the current filters")
    mature = trend.filter(~pl.col("immature"))
    young = trend.filter(pl.col("immature"))
    traces: list[dict[str, Any]] = [
        {"type": "scatter", "x": trend["order_month"].to_list(),
         "y": trend["return_rate"].to_list(), "mode": "lines", "line": {"color": PALETTE[0]},
         "name": "Return rate (units)", "showlegend": False, "hoverinfo": "skip"},
        {"type": "scatter", "x": mature["order_month"].to_list(),
         "y": mature["return_rate"].to_list(), "mode": "markers",
         "marker": {"color": PALETTE[0], "size": 8}, "name": "Return rate (complete cohort)"}]
    if young.height:
        expected = young.filter(pl.col("expected_final_rate").is_not_null())
        traces += [
            {"type": "scatter", "x": young["order_month"].to_list(),
             "y": young["return_rate"].to_list(), "mode": "markers",
             "name": "Return rate so far (returns still arriving)",
             "marker": {"color": "white", "size": 9,
                        "line": {"color": PALETTE[0], "width": 2}}},
            {"type": "scatter", "x": expected["order_month"].to_list(),
             "y": expected["expected_final_rate"].to_list(), "mode": "markers+lines",
             "line": {"dash": "dot", "color": PALETTE[1]},
             "marker": {"symbol": "diamond", "color": PALETTE[1]},
             "name": "Expected final rate (from the return-lag curve)"}]
    layout: dict[str, Any] = {
        # '.1~%': 0.5% reads as such (not 0% or 1%), 12% as 12%
        "yaxis": {"tickformat": ".1~%", "rangemode": "tozero",
                  "title": {"text": "returned / sold units"}},
        "xaxis": _month_xaxis(trend["order_month"].to_list())}
    if title:
        layout["title"] = {"text": title}
    return _figure(traces, layout)


def make_net_cost_figure(trend: pl.DataFrame, currency: str) -> go.Figure:
    """Net return cost by order month in `currency` (immature months still growing)."""
    if trend.is_empty():
        return empty_figure("No orders for the current filters")
    colours = [("#cbd5e1" if immature else COST_COLOURS["net_cost"])
               for immature in trend["immature"].to_list()]
    fig = go.Figure(go.Bar(x=trend["order_month"].to_list(),
                           y=trend["net_return_cost"].to_list(), marker_color=colours,
                           name="Net return cost",
                           hovertemplate=f"%{{x|%b %Y}}: {currency} %{{y:,.0f}}<extra></extra>"))
    fig.update_yaxes(title=f"net return cost ({currency})", tickformat=",.0f")
    _month_axis(fig, trend["order_month"].to_list())
    return _style(fig, showlegend=False)


def make_cohort_heatmap_figure(grid: pl.DataFrame, label: str,
                               immature: dict[date, float] | None = None,
                               order: list[str] | None = None) -> go.Figure:
    """Return rate per `label` value (rows, top down in `order` when given, else the
    largest seller first) and order month (columns).

    `immature` maps the order months still collecting returns to the expected share of their
    returns in so far: those columns are washed out under a dashed frame and say so on hover,
    as the trend line draws them hollow, so a young cohort's low rate does not read as an
    improvement.
    """
    if grid.is_empty():
        return empty_figure("No orders for the current filters")
    immature = immature or {}
    keys = order or grid.group_by("key").agg(
        pl.col("units_sold").sum()).sort(["units_sold", "key"],
                                         descending=[True, False])["key"].to_list()
    months = sorted(grid["order_month"].unique().to_list())
    cell = {(r["key"], r["order_month"]): r for r in grid.iter_rows(named=True)}
    z, text = [], []
    for key in keys:
        z_row, t_row = [], []
        for m in months:
            r = cell.get((key, m))
            rate = r["units_returned"] / r["units_sold"] if r and r["units_sold"] else None
            z_row.append(rate)
            shown = f"{r['units_returned']:,} of {r['units_sold']:,}" if r else "no sales"
            if m in immature:
                shown += (f"; returns still arriving, about {immature[m]:.0%} in: "
                          "this rate will rise")
            t_row.append(shown)
        z.append(z_row)
        text.append(t_row)
    heatmap = {
        "type": "heatmap", "z": z, "x": [m.strftime("%b %Y") for m in months], "y": keys,
        "text": text, "colorscale": RATE_SCALE, "zmin": 0,
        "zmax": max([v for row in z for v in row if v is not None], default=0) or 1,
        "colorbar": {"tickformat": ".1~%", "title": {"text": "rate"}},
        "hovertemplate": f"{label} %{{y}}<br>%{{x}}: %{{z:.1%}} (%{{text}})<extra></extra>"}
    # every row named: plotly labels every other one once rows are dense, which leaves a
    # size or a product unnamed
    layout: dict[str, Any] = {
        "yaxis": {"autorange": "reversed", "type": "category", "title": {"text": label},
                  "dtick": 1, "tickfont": {"size": 10 if len(keys) > 15 else 12}},
        "xaxis": {"type": "category"}}
    young = [i for i, m in enumerate(months) if m in immature]
    if young:
        # category axis: column i spans i ± 0.5; the young months are the latest, contiguous
        layout["shapes"] = [{
            "type": "rect", "xref": "x", "yref": "paper", "x0": min(young) - 0.5,
            "x1": max(young) + 0.5, "y0": 0, "y1": 1, "fillcolor": "white", "opacity": 0.55,
            "line": {"color": "#334155", "width": 1.5, "dash": "dash"}, "layer": "above"}]
        layout["annotations"] = [{
            "x": (min(young) + max(young)) / 2, "y": 1, "xref": "x", "yref": "paper",
            "yanchor": "bottom", "showarrow": False,
            "font": {"size": 11, "color": "#334155"}, "text": "returns still arriving"}]
        layout["margin"] = {"t": CLEAR_OF_MODEBAR}
    return _figure([heatmap], layout)


def make_pareto_figure(reasons: pl.DataFrame, key: str = "reason_code",
                       value: str = "units_returned") -> go.Figure:
    """Bars per reason (largest on top) with the cumulative share line on the top axis.

    Lying down, so every reason reads in full: standing, ten reasons on a half-page card had
    to be turned or cut, and ran into one another."""
    if reasons.is_empty() or not reasons[value].sum():
        return empty_figure("No return reasons for the current selection")
    names = [code_label(str(code)) for code in reasons[key]]
    traces = [
        {"type": "bar", "y": names, "x": reasons[value].to_list(), "name": "Units returned",
         "orientation": "h", "marker": {"color": PALETTE[0]},
         "hovertemplate": "%{y}: %{x:,} units returned<extra></extra>"},
        {"type": "scatter", "y": names, "x": reasons["cumulative_share"].to_list(),
         "name": "Cumulative share", "xaxis": "x2", "mode": "lines+markers",
         "line": {"color": PALETTE[1]},
         "hovertemplate": "%{y} and above: %{x:.0%} of units<extra></extra>"}]
    # the axis title names both series: a legend, or a title on the top axis, sat under the
    # modebar
    return _figure(traces, {
        "yaxis": {"type": "category", "autorange": "reversed"}, "showlegend": False,
        "margin": {"t": CLEAR_OF_MODEBAR},
        "xaxis": {"title": {"text": "units returned (bars); top axis: cumulative share (line)"}},
        "xaxis2": {"overlaying": "x", "side": "top", "range": [0, 1.05], "dtick": 0.25,
                   "tickformat": ".0%", "showgrid": False}})


FUNNEL_POINTS_MAX = 2_000  # SKUs within the limits drawn one by one; more are shaded by count


def make_funnel_figure(skus: pl.DataFrame, z: float = 3.0) -> go.Figure:
    """Funnel plot: returned/expected units per SKU against expected units (category rate).

    The control limits are 1 ± z/√expected (Poisson): a SKU above the upper curve is returned
    more than its category explains, however many it sold. Every SKU outside the limits or
    flagged by the shrinkage test is a point; when more than FUNNEL_POINTS_MAX SKUs lie
    within the limits they are shaded by count instead (a browser draws 10k SVG points in
    seconds, and they overlap into a blob anyway).
    """
    data = skus.filter(pl.col("expected_returns") > 0).with_columns(
        within=(pl.col("ratio") <= 1 + z / pl.col("expected_returns").sqrt())
        & (pl.col("ratio") >= 1 - z / pl.col("expected_returns").sqrt()) & ~pl.col("flagged"))
    if data.is_empty():
        return empty_figure("No SKUs with sales for the current filters")
    within = data.filter(pl.col("within"))
    shaded = within.height > FUNNEL_POINTS_MAX
    traces: list[dict[str, Any]] = []
    if shaded:
        traces.append(_density(within, f"{within.height:,} SKUs within the limits (shaded)"))
    for part, name, colour in (
            (within if not shaded else within.clear(), "SKU within the limits", "#94a3b8"),
            (data.filter(~pl.col("within") & ~pl.col("flagged")), "SKU outside the limits",
             "#64748b"),
            (data.filter(pl.col("flagged")), "SKU above its category", PALETTE[3])):
        if part.is_empty():
            continue
        traces.append({
            "type": "scatter", "mode": "markers", "name": name,
            "x": part["expected_returns"].round(3).to_numpy(),
            "y": part["ratio"].round(3).to_numpy(),
            "marker": {"color": colour, "size": 6, "opacity": 0.75},
            "text": part["sku"].to_list(),
            "customdata": part.select("units_sold", "units_returned").to_numpy(),
            "hovertemplate": "%{text}<br>returned/expected %{y:.2f}<br>expected %{x:.1f}, "
                             "sold %{customdata[0]}, returned %{customdata[1]}<extra></extra>"})
    top = float(data["expected_returns"].max())
    xs = [0.5 * (top / 0.5) ** (i / 60) for i in range(61)] if top > 0.5 else [top]
    for sign in (1, -1):
        traces.append({"type": "scatter", "x": xs,
                       "y": [max(1 + sign * z / x ** 0.5, 0) for x in xs], "mode": "lines",
                       "line": {"color": "#334155", "dash": "dash", "width": 1},
                       "name": f"±{z:g}σ limits", "showlegend": sign > 0, "hoverinfo": "skip"})
    line = {"type": "line", "xref": "x domain", "x0": 0, "x1": 1, "yref": "y", "y0": 1, "y1": 1,
            "line": {"color": "#334155", "width": 1}}
    return _figure(traces, {
        "shapes": [line],
        "xaxis": {"type": "log",
                  "title": {"text": "expected returned units (units sold × category rate)"}},
        "yaxis": {"title": {"text": "returned / expected"}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "margin": {"t": 60}})


def _density(points: pl.DataFrame, name: str,
             bins: tuple[int, int] = (48, 32)) -> dict[str, Any]:
    """SKU counts on a grid of log-spaced expected returns × ratio (empty cells blank)."""
    x = points["expected_returns"].to_numpy()
    y = points["ratio"].to_numpy()
    low, high = np.log10(x.min()), np.log10(x.max())
    x_edges = np.logspace(low, high if high > low else low + 1, bins[0] + 1)
    y_edges = np.linspace(0, max(float(y.max()), 1e-9), bins[1] + 1)
    counts, _, _ = np.histogram2d(x, y, bins=(x_edges, y_edges))
    return {"type": "heatmap", "x": x_edges.round(4), "y": y_edges.round(4),
            "z": np.where(counts.T > 0, counts.T, np.nan),
            "colorscale": [[0, "#e2e8f0"], [1, "#334155"]], "showscale": False, "name": name,
            "showlegend": True,
            "hovertemplate": "%{z:.0f} SKUs within the limits<extra></extra>"}


def make_cost_by_month_figure(costs: pl.DataFrame, currency: str,
                              not_recorded: Collection[str] = ()) -> go.Figure:
    """Cost components per month the returns were requested (credits below zero), net line;
    components the source does not record (`not_recorded`) are left out, not drawn as 0."""
    if costs.is_empty():
        return empty_figure("No returns requested in the selected dates")
    x = costs["requested_month"].to_list()
    fig = go.Figure()
    hover = f"%{{x|%b %Y}}: {currency} %{{y:,.0f}}"
    for c in ("refund_amount", "return_shipping_cost", "handling_cost", "exchange_cost"):
        if c not in not_recorded:
            fig.add_bar(x=x, y=costs[c].to_list(), name=COST_LABELS[c],
                        marker_color=COST_COLOURS[c], hovertemplate=hover)
    for c in ("recovered_value",):
        if c not in not_recorded:
            fig.add_bar(x=x, y=(-costs[c]).to_list(), name=f"− {COST_LABELS[c]}",
                        marker_color=COST_COLOURS[c], hovertemplate=hover)
    fig.add_scatter(x=x, y=costs["net_cost"].to_list(), name="Net cost", mode="lines+markers",
                    line={"color": COST_COLOURS["net_cost"], "width": 3}, hovertemplate=hover)
    fig.update_yaxes(tickformat=",.0f", title=currency)
    _month_axis(fig, x)
    return _style(fig, barmode="relative")


def make_cost_breakdown_figure(costs: pl.DataFrame, dimension: str, currency: str) -> go.Figure:
    """Net cost in `currency` per value of `dimension`, with cost per return on hover."""
    if costs.is_empty():
        return empty_figure("No returns requested in the selected dates")
    data = costs.sort("net_cost")
    per_return = (data["net_cost"] / data["returns"]).to_list()
    fig = go.Figure(go.Bar(
        y=[code_label(str(v)) if v is not None else "not recorded" for v in data[dimension]],
        x=data["net_cost"].to_list(), orientation="h",
        marker_color=COST_COLOURS["net_cost"], customdata=per_return,
        hovertemplate=f"%{{y}}: {currency} %{{x:,.0f}} ({currency} %{{customdata:,.2f}} per "
                      "return)<extra></extra>"))
    fig.update_xaxes(title=f"net cost ({currency})", tickformat=",.0f")
    fig.update_yaxes(type="category")
    return _style(fig, showlegend=False)


def make_waterfall_figure(totals: dict[str, float], currency: str,
                          not_recorded: Collection[str] = ()) -> go.Figure:
    """Gross refunds → − restocking fees → + shipping, handling, exchanges → − recovered → net.

    Floating bars (each from the running total before the step to the one after it), drawn
    as one bar trace so the dashboard's partial plotly.js bundle (no waterfall trace) can
    show it; customdata holds each step's signed amount and the running total after it.
    `recovered_value` is that of customer returns: an RTO's net cost is its shipping and
    handling only (warehouse/sql/20_core.sql), so the steps add up to `net_cost`. A step whose
    amount the source does not record (its totals key in `not_recorded`) is left out rather
    than drawn as a 0 step.
    """
    steps = [(label, amount) for key, label, amount in (
        ("refund_amount", "Gross refunds", totals["refund_amount"] + totals["restocking_fee"]),
        ("restocking_fee", "− Restocking fees", -totals["restocking_fee"]),
        ("return_shipping_cost", "+ Reverse shipping", totals["return_shipping_cost"]),
        ("handling_cost", "+ Handling", totals["handling_cost"]),
        ("exchange_cost", "+ Exchange replacements", totals["exchange_cost"]),
        ("recovered_value", "− Value recovered", -totals["recovered_value"]),
    ) if key not in not_recorded]
    labels, bases, heights, colours, custom = [], [], [], [], []
    running = 0.0
    for i, (label, amount) in enumerate(steps):
        before, running = running, running + amount
        labels.append(label)
        bases.append(min(before, running))
        heights.append(abs(amount))
        colours.append("#111827" if i == 0 else "#f97316" if amount >= 0 else "#10b981")
        custom.append((amount, running))
    labels.append("Net cost")
    bases.append(min(0.0, running))
    heights.append(abs(running))
    colours.append("#111827")
    custom.append((running, running))
    fig = go.Figure(go.Bar(
        x=labels, y=heights, base=bases, marker_color=colours, customdata=custom,
        text=[f"{amount:+,.0f}" if 0 < i < len(steps) else f"{amount:,.0f}"
              for i, (amount, _) in enumerate(custom)], textposition="outside",
        hovertemplate=f"%{{x}}: {currency} %{{customdata[0]:,.0f}}<br>running total "
                      f"{currency} %{{customdata[1]:,.0f}}<extra></extra>"))
    fig.update_yaxes(tickformat=",.0f", title=currency)
    return _style(fig, showlegend=False)


def make_recovery_figure(by_disposition: pl.DataFrame, currency: str) -> go.Figure:
    """Original value of returned units and the value recovered (`currency`), per disposition."""
    if by_disposition.is_empty():
        return empty_figure("No returns requested in the selected dates")
    x = by_disposition["disposition"].to_list()
    fig = go.Figure()
    hover = f"%{{x}}: {currency} %{{y:,.0f}}"
    fig.add_bar(x=x, y=by_disposition["original_value"].to_list(), name="Original value",
                marker_color="#cbd5e1", hovertemplate=hover)
    fig.add_bar(x=x, y=by_disposition["recovered_value"].to_list(), name="Value recovered",
                marker_color=COST_COLOURS["recovered_value"],
                text=[f"{r:.0%}" if r is not None else "" for r in
                      by_disposition["recovery_rate"].to_list()], textposition="outside",
                hovertemplate=hover)
    fig.update_yaxes(tickformat=",.0f", title=currency)
    return _style(fig, barmode="group")


def carrier_colours(carriers: Iterable[str]) -> dict[str, str]:
    """One colour per carrier, assigned in name order over every carrier given: built from all
    the warehouse's carriers, a carrier keeps its colour on every chart and under any filter."""
    return {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(sorted(set(carriers)))}


def _translucent(colour: str, alpha: float = 0.2) -> str:
    """'#2563eb' as rgba with `alpha`, for a band drawn under its line."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def _band(part: pl.DataFrame, x: str) -> tuple[list[object], list[object]]:
    """Outline of the interval band of each run of periods that have a rate, runs separated by
    None, for a fill='toself' trace (a gap in the rate is a gap in the band too)."""
    xs: list[object] = []
    ys: list[object] = []
    runs = part.with_columns(run=pl.col("rate").is_null().cum_sum()).filter(
        pl.col("rate").is_not_null())
    for _, run in runs.group_by("run", maintain_order=True):
        xs += [*run[x].to_list(), *run[x].reverse().to_list(), None]
        ys += [*run["rate_high"].to_list(), *run["rate_low"].reverse().to_list(), None]
    return xs, ys


def _unit(*ends: float) -> list[float]:
    """Domain ends clipped to [0, 1]: the bottom row's sum of gaps and heights comes to -6e-17."""
    return [min(1.0, max(0.0, round(end, 9))) for end in ends]


def _grid(panels: int, cols: int, h_gap: float = 0.03,
          v_gap: float = 0.12) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Axis suffix, x-axis and y-axis layout of each panel of a small-multiples grid, row by
    row from the top, every axis sharing the first panel's range (make_subplots' "all"), laid
    out as plain data: make_subplots and add_trace(row=, col=) cost ~100 ms for 5 panels."""
    rows = math.ceil(panels / cols)
    v_gap = v_gap if rows > 1 else 0.0
    width, height = (1 - h_gap * (cols - 1)) / cols, (1 - v_gap * (rows - 1)) / rows
    grid = []
    for i in range(panels):
        row, col = divmod(i, cols)
        suffix = str(i + 1) if i else ""
        left, top = col * (width + h_gap), 1 - row * (height + v_gap)
        x: dict[str, Any] = {"domain": _unit(left, left + width), "anchor": f"y{suffix}"}
        y: dict[str, Any] = {"domain": _unit(top - height, top), "anchor": f"x{suffix}"}
        if i:
            x["matches"], y["matches"] = "x", "y"
        if col:
            y["showticklabels"] = False
        grid.append((suffix, x, y))
    return grid


def make_npr_trend_figure(periods: pl.DataFrame, colours: dict[str, str], period_weeks: int,
                          min_attempts: int) -> go.Figure:
    """NPR rate per period in small multiples, one panel per `panel` (a carrier, or a region
    of one carrier) in its carrier's colour, with the 95 % interval as a band; periods with
    fewer than `min_attempts` attempts have no rate (see stats.rate_with_interval) and are
    gaps, where one line per carrier in one chart would show spikes to 0 % and 100 %."""
    if periods.is_empty():
        return empty_figure("No pickup attempts for the current filters")
    panels = periods["panel"].unique(maintain_order=True).to_list()
    cols = min(len(panels), 5)
    rows = math.ceil(len(panels) / cols)
    every = f"{period_weeks} weeks" if period_weeks > 1 else "week"
    top = periods["rate_high"].max()
    days = (periods["period"].max() - periods["period"].min()).days
    ticks = "%d %b" if days < 120 else "%b %y"  # a few weeks' ticks all read 'Dec 25'
    y_axis = {"tickformat": ".1~%", "range": [0, min(1.0, 1.05 * (top or 0.1))], "nticks": 4}
    layout: dict[str, Any] = {"annotations": [], "height": 150 + 170 * rows,
                              "margin": {"l": 60, "r": 10, "t": 50, "b": 30}}
    traces: list[dict[str, Any]] = []
    # days as ISO text, as they go to the browser: plotly deep-copies every trace it is
    # given, and a date object costs ~10 µs a copy (a third of this figure's time)
    parts = periods.sort("period").with_columns(pl.col("period").dt.to_string("%Y-%m-%d")
                                                ).group_by("panel", maintain_order=True)
    for (suffix, x, y), (panel, part) in zip(_grid(len(panels), cols), parts, strict=True):
        layout[f"xaxis{suffix}"] = {**x, "showticklabels": True, "nticks": 4,
                                    "tickformat": ticks}
        layout[f"yaxis{suffix}"] = {**y, **y_axis}
        layout["annotations"].append({  # the panel's title, centred above it
            "text": str(panel[0]), "showarrow": False, "xref": "paper", "yref": "paper",
            "x": sum(x["domain"]) / 2, "y": y["domain"][1], "xanchor": "center",
            "yanchor": "bottom", "font": {"size": 12}})
        axes = {"xaxis": f"x{suffix}", "yaxis": f"y{suffix}"}
        colour = colours.get(part["carrier"][0], PALETTE[7])
        band_x, band_y = _band(part, "period")
        if band_x:
            traces.append({"type": "scatter", **axes, "x": band_x, "y": band_y, "mode": "lines",
                           "fill": "toself", "fillcolor": _translucent(colour),
                           "line": {"width": 0}, "hoverinfo": "skip", "showlegend": False})
        else:
            layout["annotations"].append({
                "text": f"under {min_attempts} attempts<br>in every {every}", "showarrow": False,
                "x": 0.5, "y": 0.5, "xref": f"x{suffix} domain", "yref": f"y{suffix} domain",
                "font": {"color": "#64748b", "size": 12}})
        traces.append({
            "type": "scatter", **axes, "x": part["period"].to_list(),
            "y": part["rate"].to_list(), "mode": "lines+markers",
            "line": {"color": colour, "width": 1.5}, "marker": {"color": colour, "size": 3},
            "name": str(panel[0]), "showlegend": False,
            "customdata": list(zip(part["attempts"].to_list(), part["rate_low"].to_list(),
                                   part["rate_high"].to_list(), strict=True)),
            "hovertemplate": "%{x|%d %b %Y}: %{y:.1%} (95 %: %{customdata[1]:.1%} – "
                             "%{customdata[2]:.1%}) of %{customdata[0]:,} attempts"})
    layout["yaxis"]["title"] = {"text": f"NPR per {every}"}
    return _figure(traces, layout)


def make_npr_heatmap_figure(pairs: pl.DataFrame) -> go.Figure:
    """NPR rate per region (rows, named by `region_label`) and carrier (columns): the region
    names read level down the side, where across the bottom they had to be turned and ran
    into one another."""
    if pairs.is_empty():
        return empty_figure("No pickup attempts for the current filters")
    carriers = sorted(pairs["carrier"].unique().to_list())
    regions = sorted(pairs["region_label"].unique().to_list())
    cell = {(r["carrier"], r["region_label"]): r for r in pairs.iter_rows(named=True)}
    z = [[cell[(c, g)]["npr_rate"] if (c, g) in cell else None for c in carriers]
         for g in regions]
    text = [[f"{cell[(c, g)]['attempts']:,} attempts" if (c, g) in cell else "" for c in carriers]
            for g in regions]
    return _figure([{
        "type": "heatmap", "z": z, "x": carriers, "y": regions, "text": text,
        "colorscale": RATE_SCALE, "zmin": 0, "colorbar": {"tickformat": ".1~%"},
        "hovertemplate": "%{x} in %{y}: %{z:.1%} (%{text})<extra></extra>"}], {
        "xaxis": {"type": "category"},
        "yaxis": {"type": "category", "autorange": "reversed", "tickfont": {"size": 11}}})


def make_failure_reasons_figure(reasons: pl.DataFrame, by: str = "carrier") -> go.Figure:
    """Failed attempts of each reason as a share of all attempts, per `by` (carrier or
    region), stacked: a bar's height is its NPR rate, split by why pickups failed."""
    if reasons.is_empty() or not reasons["failed"].sum():
        return empty_figure("No failed pickup attempts for the current filters")
    rated = reasons.with_columns(rate=pl.col("failed") / pl.col("attempts"))
    traces = [{
        "type": "bar", "x": part[by].to_list(), "y": part["rate"].to_list(),
        "name": str(reason[0]), "marker": {"color": NEUTRALS[i % len(NEUTRALS)]},
        "customdata": part.select("failed", "attempts").rows(),
        "hovertemplate": "%{x}: %{y:.1%} of attempts (%{customdata[0]:,} of "
                         "%{customdata[1]:,})"}
        for i, (reason, part) in enumerate(rated.group_by("reason", maintain_order=True))]
    return _figure(traces, {
        "xaxis": {"type": "category"}, "barmode": "stack",
        "yaxis": {"tickformat": ".1~%", "title": {"text": "share of attempts failed"}}})


def make_attempts_figure(attempts: pl.DataFrame) -> go.Figure:
    """Share of each carrier's pickups by attempts made (picked up or given up)."""
    if attempts.is_empty():
        return empty_figure("No reverse pickups for the current filters")
    traces = []
    for i, (label, part) in enumerate(attempts.group_by("outcome", maintain_order=True)):
        colour = NOT_PICKED_UP if label[0] == "not picked up" else NEUTRALS[i % len(NEUTRALS)]
        traces.append({
            "type": "bar", "x": part["carrier"].to_list(), "y": part["share"].to_list(),
            "name": str(label[0]), "marker": {"color": colour},
            "customdata": part["pickups"].to_list(),
            "hovertemplate": "%{x}: %{y:.1%} (%{customdata} pickups)<extra></extra>"})
    return _figure(traces, {
        "xaxis": {"type": "category"}, "barmode": "stack",
        "yaxis": {"tickformat": ".1~%", "title": {"text": "share of pickups"}}})


def make_time_histogram_figure(histogram: pl.DataFrame, label: str,
                               colours: dict[str, str]) -> go.Figure:
    """Distribution of a time in days per carrier (share of the carrier's pickups per bin)."""
    if histogram.is_empty():
        return empty_figure("No reverse pickups with this time for the current filters")
    traces = [{
        "type": "scatter", "x": part["bin_start"].to_list(),
        "y": (part["pickups"] / part["pickups"].sum()).to_list(), "mode": "lines",
        "line": {"shape": "hv", "color": colours.get(carrier[0], PALETTE[7])},
        "name": str(carrier[0])}
        for carrier, part in histogram.group_by("carrier", maintain_order=True)]
    return _figure(traces, {
        "xaxis": {"title": {"text": f"{label} (days)"}},
        "yaxis": {"tickformat": ".1~%", "title": {"text": "share of pickups"}}})


def make_weekday_figure(weekdays: pl.DataFrame, colours: dict[str, str]) -> go.Figure:
    """NPR rate per carrier and weekday."""
    if weekdays.is_empty():
        return empty_figure("No pickup attempts for the current filters")
    traces = [{
        "type": "bar", "x": [WEEKDAYS[d - 1] for d in part["weekday"].to_list()],
        "y": part["npr_rate"].to_list(), "name": str(carrier[0]),
        "marker": {"color": colours.get(carrier[0], PALETTE[7])}}
        for carrier, part in weekdays.sort("weekday").group_by("carrier", maintain_order=True)]
    return _figure(traces, {"barmode": "group",
                            "yaxis": {"tickformat": ".0%", "title": {"text": "NPR rate"}}})


def make_coverage_figure(coverage: pl.DataFrame) -> go.Figure:
    """Share of loaded rows that carry a value, per feed (rows) and field."""
    if coverage.is_empty():
        return empty_figure("No feeds loaded")
    fig = go.Figure()
    data = coverage.with_columns(label=pl.col("feed") + "." + pl.col("field"))
    fig.add_bar(y=data["label"].to_list(), x=data["share_with_value"].to_list(),
                orientation="h", marker_color=[
                    "#e11d48" if (s or 0) == 0 else "#f59e0b" if (s or 0) < 0.5 else "#10b981"
                    for s in data["share_with_value"].to_list()],
                customdata=list(zip(data["rows_with_value"].to_list(),
                                    data["rows_loaded"].to_list(), strict=True)),
                hovertemplate="%{y}: %{x:.1%} (%{customdata[0]:,} of %{customdata[1]:,})"
                              "<extra></extra>")
    fig.update_xaxes(tickformat=".0%", range=[0, 1.02], title="rows with a value")
    fig.update_yaxes(autorange="reversed", type="category")
    return _style(fig, showlegend=False, height=max(400, 16 * data.height))


def make_policy_waterfall_figure(steps: list[tuple[str, float]], start: tuple[str, float],
                                 end: tuple[str, float], currency: str) -> go.Figure:
    """Baseline net cost → the change in each money column → the scenario's net cost.

    Floating bars in one bar trace, as make_waterfall_figure (the served plotly.js bundle has
    no waterfall trace); rises in cost orange, savings green, the two totals dark.
    """
    labels, bases, heights, colours, custom = [start[0]], [min(0.0, start[1])], \
        [abs(start[1])], ["#111827"], [(start[1], start[1])]
    running = start[1]
    for label, amount in steps:
        before, running = running, running + amount
        labels.append(label)
        bases.append(min(before, running))
        heights.append(abs(amount))
        colours.append("#f97316" if amount >= 0 else "#10b981")
        custom.append((amount, running))
    labels.append(end[0])
    bases.append(min(0.0, end[1]))
    heights.append(abs(end[1]))
    colours.append("#111827")
    custom.append((end[1], end[1]))
    last = len(labels) - 1
    fig = go.Figure(go.Bar(
        x=labels, y=heights, base=bases, marker_color=colours, customdata=custom,
        text=[f"{a:,.0f}" if i in (0, last) else f"{a:+,.0f}"
              for i, (a, _) in enumerate(custom)], textposition="outside", cliponaxis=False,
        hovertemplate=f"%{{x}}: {currency} %{{customdata[0]:,.2f}}<br>running total "
                      f"{currency} %{{customdata[1]:,.2f}}<extra></extra>"))
    fig.update_yaxes(tickformat=",.0f", title_text=f"Net return cost ({currency})")
    return _style(fig, showlegend=False)


def make_tornado_figure(sensitivity: pl.DataFrame, point: float, currency: str) -> go.Figure:
    """Scenario net cost as each input moves over its range, the others at their point:
    one horizontal floating bar per input, widest swing on top, the point as a line."""
    if sensitivity.is_empty():
        return empty_figure("No inputs to vary.")
    rows = sensitivity.sort("swing")
    fig = go.Figure(go.Bar(
        y=rows["label"].to_list(), x=(rows["net_cost_high"] - rows["net_cost_low"]).to_list(),
        base=rows["net_cost_low"].to_list(), orientation="h", marker_color=PALETTE[0],
        customdata=list(zip(rows["net_cost_low"].to_list(), rows["net_cost_high"].to_list(),
                            rows["range"].to_list(), strict=True)),
        hovertemplate=f"%{{y}}<br>{currency} %{{customdata[0]:,.0f}} to "
                      f"%{{customdata[1]:,.0f}}<br>over %{{customdata[2]}}<extra></extra>"))
    fig.add_vline(x=point, line_dash="dash", line_color="#111827",
                  annotation_text="point estimate", annotation_position="top")
    fig.update_xaxes(tickformat=",.0f", title_text=f"Scenario net return cost ({currency})")
    return _style(fig, showlegend=False,
                  margin={"l": 290, "r": 20, "t": CLEAR_OF_MODEBAR, "b": 40})


def make_estimates_figure(rows: list[dict[str, float]], metric_label: str) -> go.Figure:
    """Baseline, naive truncation and simulator (with its 80% interval) side by side."""
    names = [r["name"] for r in rows]
    values = [r["value"] for r in rows]
    plus = [r.get("high", r["value"]) - r["value"] for r in rows]
    minus = [r["value"] - r.get("low", r["value"]) for r in rows]
    fig = go.Figure(go.Bar(
        x=names, y=values, marker_color=[PALETTE[7], PALETTE[1], PALETTE[0]][: len(rows)],
        error_y={"type": "data", "array": plus, "arrayminus": minus, "visible": True},
        text=[f"{v:,.0f}" for v in values], textposition="inside",
        hovertemplate="%{x}: %{y:,.0f}<extra></extra>"))
    fig.update_yaxes(tickformat=",.0f", title_text=metric_label)
    return _style(fig, showlegend=False)


def make_saved_scenarios_figure(saved: pl.DataFrame, currency: str) -> go.Figure:
    """Net return cost of each saved scenario with its 80% interval, against its baseline."""
    if saved.is_empty():
        return empty_figure("No saved scenarios yet: simulate one and save it.")
    fig = go.Figure()
    fig.add_bar(x=saved["name"].to_list(), y=saved["net_cost_point"].to_list(),
                name="scenario", marker_color=PALETTE[0],
                error_y={"type": "data", "visible": True,
                         "array": (saved["net_cost_high"] - saved["net_cost_point"]).to_list(),
                         "arrayminus": (saved["net_cost_point"]
                                        - saved["net_cost_low"]).to_list()},
                hovertemplate=f"%{{x}}: {currency} %{{y:,.0f}}<extra>scenario</extra>")
    fig.add_scatter(x=saved["name"].to_list(), y=saved["net_cost_baseline"].to_list(),
                    mode="markers", name="baseline (what happened)",
                    marker={"symbol": "line-ew-open", "size": 28, "color": "#111827",
                            "line": {"width": 3}},
                    hovertemplate=f"%{{x}}: {currency} %{{y:,.0f}}<extra>baseline</extra>")
    fig.update_yaxes(tickformat=",.0f", title_text=f"Net return cost ({currency})")
    return _style(fig)


def make_calibration_figure(calibration: pl.DataFrame) -> go.Figure:
    """Predicted against observed return rate per score bin of the test period."""
    if calibration.is_empty():
        return empty_figure("No model trained yet")
    top = max(calibration["mean_predicted"].max(), calibration["observed_rate"].max()) * 1.05
    fig = go.Figure()
    fig.add_scatter(x=[0, top], y=[0, top], mode="lines", name="Perfect calibration",
                    line={"dash": "dot", "color": "#94a3b8"}, hoverinfo="skip")
    fig.add_scatter(x=calibration["mean_predicted"].to_list(),
                    y=calibration["observed_rate"].to_list(), mode="lines+markers",
                    name="Model (test period)", marker={"color": PALETTE[0], "size": 8},
                    customdata=calibration["lines"].to_list(),
                    hovertemplate="predicted %{x:.1%} · observed %{y:.1%} · "
                                  "%{customdata:,} lines<extra></extra>")
    fig.update_xaxes(title="predicted return probability", tickformat=".0%")
    fig.update_yaxes(title="observed return rate", tickformat=".0%")
    return _style(fig)


def make_importance_figure(importances: pl.DataFrame, top: int = 15) -> go.Figure:
    """Permutation importance (drop in test ROC-AUC) of the most important features."""
    if importances.is_empty():
        return empty_figure("No model trained yet")
    shown = importances.sort("importance", descending=True).head(top).reverse()
    names = [FEATURE_LABELS.get(f, f) for f in shown["feature"]]
    fig = go.Figure(go.Bar(x=shown["importance"].to_list(), y=names,
                           orientation="h", marker_color=PALETTE[0],
                           error_x={"array": shown["importance_std"].to_list()},
                           hovertemplate="%{y}: ROC-AUC −%{x:.4f}<extra></extra>"))
    fig.update_xaxes(title="drop in test ROC-AUC when shuffled")
    return _style(fig, showlegend=False, margin={"l": 290})


def make_reserve_figure(reserve: pl.DataFrame) -> go.Figure:
    """Units expected back at each month end with the 95 % interval, beside what came back."""
    if reserve.is_empty():
        return empty_figure("No reserve computed yet")
    fig = go.Figure()
    # month ends as labels on a category axis: one point on a date axis gets millisecond ticks
    x = [f"{d:%d %b %Y}" for d in reserve["as_of"].to_list()]
    expected = reserve["expected_units"]
    fig.add_scatter(x=x, y=expected.to_list(), mode="lines+markers",
                    name="Expected units still to come back (95 % interval)",
                    marker={"color": PALETTE[0]},
                    error_y={"type": "data", "visible": True,
                             "array": (reserve["units_high"] - expected).to_list(),
                             "arrayminus": (expected - reserve["units_low"]).to_list()},
                    hovertemplate="%{x}: %{y:,.0f} units expected<extra></extra>")
    if "actual_units" in reserve.columns:
        done = reserve.with_row_index("i").filter(pl.col("actual_units").is_not_null())
        fig.add_scatter(x=[x[i] for i in done["i"].to_list()], y=done["actual_units"].to_list(),
                        mode="markers", name="Units that then came back",
                        marker={"color": PALETTE[1], "symbol": "diamond", "size": 9},
                        hovertemplate="%{x}: %{y:,.0f} units came back<extra></extra>")
    fig.update_xaxes(type="category")
    fig.update_yaxes(title="units", tickformat=",.0f", rangemode="tozero")
    return _style(fig)
