"""The evidence pack: one vendor's quality case as a single self-contained HTML file.

Everything the file needs is inside it: the plotly library is embedded once, the figures are
inline, there are no links to fetch, so it opens offline and can be mailed to the vendor. All
customer text is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import date

import plotly.graph_objects as go
import polars as pl
from plotly.offline import get_plotlyjs

from models.corpus import CAUSES

CAUSE_LABELS = {
    "defect": "defect / broken",
    "damaged": "damaged in transit",
    "wrong_item": "wrong item",
    "not_as_described": "not as described",
    "size_fit": "size / fit",
    "late": "late / not received",
    "changed_mind": "changed mind",
    "other": "other",
    "not recorded": "not recorded",
}
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans","Noto Sans CJK SC",sans-serif;
margin:2rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:1px solid #ddd}table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #eee;padding:.3rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right;white-space:nowrap}.flag{color:#b00020;font-weight:600}
.ok{color:#2e7d32;font-weight:600}.kpis{display:flex;gap:1rem;flex-wrap:wrap}
.kpi{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:200px}
.kpi b{display:block;font-size:1.3rem}.muted{color:#666;font-size:.85rem}
"""


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _money(value: float | None, currency: str) -> str:
    return "–" if value is None else f"{value:,.2f} {html.escape(currency)}"


def _cell(value: object, numeric: bool = False) -> str:
    text = "–" if value is None else html.escape(str(value))
    return f'<td class="n">{text}</td>' if numeric else f"<td>{text}</td>"


def _table(headers: list[str], rows: list[list[tuple[object, bool]]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(_cell(v, n) for v, n in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _figure(fig: go.Figure, div_id: str) -> str:
    fig.update_layout(template="plotly_white", height=360, margin={"l": 60, "r": 20, "t": 40,
                                                                   "b": 40})
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


def trend_figure(monthly: pl.DataFrame, change_date: date | None) -> go.Figure:
    """The vendor's monthly defect rate with its interval, against its category."""
    months = monthly["order_month"].to_list()
    fig = go.Figure([
        go.Scatter(x=months + months[::-1],
                   y=(monthly["defect_rate_high"] * 100).to_list()
                   + (monthly["defect_rate_low"] * 100).to_list()[::-1],
                   fill="toself", line={"width": 0}, fillcolor="rgba(178,0,32,0.15)",
                   name="vendor 95% interval", hoverinfo="skip"),
        go.Scatter(x=months, y=(monthly["defect_rate"] * 100).to_list(), name="vendor",
                   line={"color": "#b00020"}, mode="lines+markers"),
        go.Scatter(x=months, y=(monthly["category_defect_rate"] * 100).to_list(),
                   name="rest of category", line={"color": "#555", "dash": "dash"}),
    ])
    if change_date is not None:
        fig.add_vline(x=change_date.isoformat(), line_dash="dot", line_color="#b00020")
        fig.add_annotation(x=change_date.isoformat(), y=1, yref="paper", showarrow=False,
                           text=f"change {change_date.isoformat()}", xanchor="left")
    fig.update_layout(title="Order lines returned as defects, by order month (%)",
                      yaxis_title="% of order lines", xaxis_title="order month")
    return fig


def causes_figure(cause_months: pl.DataFrame) -> go.Figure:
    """Returns per order month stacked by root cause."""
    fig = go.Figure()
    for cause in [*CAUSES, "not recorded"]:
        part = cause_months.filter(pl.col("cause") == cause).sort("order_month")
        if part.height:
            fig.add_bar(x=part["order_month"].to_list(), y=part["returns"].to_list(),
                        name=CAUSE_LABELS[cause])
    fig.update_layout(barmode="stack", title="Returns by root cause and order month",
                      yaxis_title="returns", xaxis_title="order month")
    return fig


def sku_heatmap(skus: pl.DataFrame, sku_months: pl.DataFrame, top: int = 15) -> go.Figure:
    """Defect returns per SKU and month for the SKUs with the most defect lines."""
    leaders = skus.sort("defect_lines", descending=True).head(top)["sku"].to_list()
    grid = (sku_months.filter(pl.col("sku").is_in(leaders))
            .pivot(on="order_month", index="sku", values="defect_returns", sort_columns=True)
            .fill_null(0))
    months = [c for c in grid.columns if c != "sku"]
    fig = go.Figure(go.Heatmap(z=grid.select(months).to_numpy(), x=months,
                               y=grid["sku"].to_list(), colorscale="Reds",
                               colorbar={"title": "defect returns"}))
    fig.update_layout(title=f"Defect returns by SKU and order month (top {len(leaders)} SKUs)")
    return fig


def evidence_pack(vendor_id: str, outputs: Mapping[str, pl.DataFrame],
                  currency: str = "(shop currency)") -> str:
    """The evidence pack of one vendor as a self-contained HTML document."""
    card = outputs["vendors_scorecard"].filter(pl.col("vendor_id") == vendor_id)
    if card.is_empty():
        raise ValueError(f"vendor {vendor_id!r} has no scorecard: no order lines of its "
                         "products are in the warehouse")
    row = card.sort("order_lines", descending=True).row(0, named=True)
    name = row.get("vendor_name") or vendor_id

    def mine(key: str) -> pl.DataFrame:
        return outputs[key].filter(pl.col("vendor_id") == vendor_id)

    monthly = mine("vendors_monthly").filter(pl.col("category") == row["category"])
    skus = mine("vendors_skus")
    comments = mine("vendors_comments")
    cause_months = mine("vendors_cause_months")
    inspection = mine("vendors_inspection")
    causes = mine("vendors_causes")
    sku_months = mine("vendors_sku_months")
    change = row["change_date"]
    verdict = (f'<span class="flag">Flagged</span>: defect rate above the category beyond the '
               f"spread of its other vendors (family-wise level {row['alpha']:g}, "
               f"{row['vendors_tested']} vendors tested)"
               if row["flagged"] else
               '<span class="ok">Not flagged</span> at the default level')
    change_text = (f"Quality turned on <b>{change.isoformat()}</b>: "
                   f"{_pct(row['rate_before_change'])} of order lines before, "
                   f"{_pct(row['rate_after_change'])} after."
                   if change else "No significant change point in the weekly defect rate.")
    kpis = [
        ("Defect rate (order lines)",
         f"{_pct(row['defect_rate'])}",
         f"95% interval {_pct(row['defect_rate_low'])}–{_pct(row['defect_rate_high'])}; "
         f"rest of {row['category']}: {_pct(row['category_defect_rate'])}"),
        ("Defect returns", f"{row['defect_returns'] or 0:,}",
         f"of {row['returns'] or 0:,} returns; {row['order_lines']:,} order lines"),
        ("Cost of defect returns", _money(row["defect_cost"], currency),
         f"above the category rate: {_money(row['excess_defect_cost'], currency)}"),
        ("Low ratings (1–2 stars)", _pct(row["low_rating_share"]),
         f"of {row['reviews'] or 0:,} reviews; category {_pct(row['category_low_rating_share'])}"),
        ("Comment vs picked reason", _pct(row["cause_disagreement_rate"]),
         "of commented returns where the comment's cause differs from the reason picked"),
    ]
    kpi_html = "".join(f'<div class="kpi">{html.escape(t)}<b>{html.escape(v)}</b>'
                       f'<span class="muted">{html.escape(d)}</span></div>'
                       for t, v, d in kpis)
    sku_rows = [[(r["sku"], False), (r["size"], False), (r["order_lines"], True),
                 (r["defect_lines"], True), (_pct(r["defect_rate"]), True),
                 (f"{_pct(r['defect_rate_low'])}–{_pct(r['defect_rate_high'])}", True),
                 (r["returns"], True), (f"{r['defect_cost']:,.2f}", True),
                 (CAUSE_LABELS.get(r["top_text_cause"] or "", r["top_text_cause"]), False)]
                for r in skus.head(25).iter_rows(named=True)]
    condition_totals = (inspection.group_by("condition").agg(pl.col("returns").sum())
                        .sort("returns", descending=True))
    inspection_rows = [[(r["condition"], False), (r["returns"], True)]
                       for r in condition_totals.iter_rows(named=True)]
    mix = (causes.pivot(on="source", index="cause", values="count").fill_null(0)
           if causes.height else pl.DataFrame({"cause": []}))
    sources = [s for s in ("reason code", "return comment", "review") if s in mix.columns]
    mix_rows = [[(CAUSE_LABELS.get(r["cause"], r["cause"]), False)]
                + [(r[s], True) for s in sources] for r in mix.iter_rows(named=True)]
    comment_rows = [[(r["feedback_date"], False), (r["source"], False),
                     (r["language"] or "", False), (r["sku"], False), (r["text"], False),
                     (CAUSE_LABELS.get(r["text_cause"] or "", r["text_cause"]), False),
                     (_pct(r["text_confidence"]), True),
                     (r["reason_code"] or (f"{r['rating']} stars" if r["rating"] else ""), False),
                     (r["condition"] or "", False)]
                    for r in comments.iter_rows(named=True)]
    figures = [
        _figure(trend_figure(monthly, change), "pack-trend"),
        _figure(causes_figure(cause_months), "pack-causes"),
    ]
    if skus.height and sku_months.height:
        figures.append(_figure(sku_heatmap(skus, sku_months), "pack-skus"))
    title = f"Quality evidence: {name} ({vendor_id})"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>{STYLE}</style><script type="text/javascript">{get_plotlyjs()}</script></head>
<body>
<h1>{html.escape(title)}</h1>
<p class="muted">Category {html.escape(str(row['category']))}. Rates count order lines (a line
with any defect return is one event). A return is a defect when the picked reason, the
customer's comment read by the text classifier, or the inspection says so.</p>
<p>{verdict}. {change_text}</p>
<div class="kpis">{kpi_html}</div>
<h2>When it started</h2>{figures[0]}
<h2>Why customers return it</h2>{figures[1]}
<h3>Causes as picked and as written</h3>
{_table(["root cause", *sources], mix_rows)}
<h2>Which SKUs</h2>{figures[2] if len(figures) > 2 else ""}
{_table(["SKU", "size", "order lines", "defect lines", "defect rate", "95% interval",
         "returns", f"defect cost {currency}", "most common comment cause"], sku_rows)}
<h2>What inspection found</h2>
{_table(["condition at inspection", "returns"], inspection_rows)}
<h2>What customers wrote</h2>
<p class="muted">In the customer's own language; the cause is the text classifier's reading
with its confidence.</p>
{_table(["date", "source", "language", "SKU", "text", "classified cause", "confidence",
         "reason picked / rating", "inspection"], comment_rows)}
</body></html>
"""
