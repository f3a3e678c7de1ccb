"""Reusable pieces of the dashboard's layout: filter bar, cards, tables, notices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import dash_bootstrap_components as dbc
import polars as pl
from dash import dcc, html
from dash.development.base_component import Component

from dashboard.filters import month_range, range_presets
from warehouse.contract import code_label

Kind = Literal["text", "wrap", "int", "money", "pct", "pp", "num", "date", "z", "code",
               "codes", "month", "p", "score"]


WHOLE_MONEY_FROM = 100_000  # amounts from here on show no decimals
# what the ready-made range dropdown says with no range chosen: no dates, or dates of its own
ALL_DATES, CUSTOM_RANGE = "All dates", "Custom range"


@dataclass(frozen=True)
class Col:
    """A table column: frame column, header label and how to format its values."""

    name: str
    label: str
    kind: Kind = "text"


def format_value(value: Any, kind: Kind) -> str:
    """One value as the dashboard shows it; empty for missing values."""
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    # rounded, never truncated; "z" (Python 3.11) shows a value that rounds to zero as 0.00,
    # not -0.00
    if kind == "int":
        return f"{round(value):,}"
    if kind == "money":
        # cents matter on a refund, not on a six-figure sum
        return f"{value:z,.0f}" if abs(value) >= WHOLE_MONEY_FROM else f"{value:z,.2f}"
    if kind == "pct":
        return f"{100 * value:z.1f}%"
    if kind == "pp":
        return f"{value:+z.1f} pp"
    if kind == "num":
        return f"{value:z,.2f}"
    if kind == "z":
        return f"{value:z.1f}"
    if kind == "score":  # a model metric: ROC-AUCs that differ in the third decimal must show it
        return f"{value:.4f}"
    if kind == "p":  # a p-value: its size matters, not its digits below a thousandth
        return "< 0.001" if value < 0.001 else f"{value:.3f}"
    if kind == "month":
        if isinstance(value, str):  # some marts carry months as ISO text
            try:
                value = date.fromisoformat(value[:10])
            except ValueError:
                return value
        return value.strftime("%b %Y") if isinstance(value, date) else str(value)
    if kind == "code":
        return code_label(str(value))
    if kind == "codes":  # a comma-separated list of codes
        return ", ".join(code_label(code) for code in str(value).split(",") if code)
    if kind == "date":
        if isinstance(value, datetime):
            return value.strftime("%Y-%m-%d %H:%M")
        return value.isoformat() if isinstance(value, date) else str(value)
    return str(value)


def money_label(label: str, currency: str) -> str:
    """A money figure's label with its currency: 'Net cost (GBP)'."""
    return f"{label} ({currency})"


def priced(columns: Sequence[Col], currency: str) -> tuple[Col, ...]:
    """`columns` with the currency in the header of every money column."""
    return tuple(Col(c.name, money_label(c.label, currency), c.kind) if c.kind == "money"
                 else c for c in columns)


def priced_frame(frame: pl.DataFrame, money: Sequence[str], currency: str) -> pl.DataFrame:
    """`frame` for a CSV: each money column in `money` named with its currency
    (net_cost → net_cost_gbp), so a file opened alone still says what its amounts are."""
    suffix = currency.lower()
    return frame.rename({c: f"{c}_{suffix}" for c in money if c in frame.columns})


def month_label(month: date) -> str:
    """'2025-03' for the month starting 2025-03-01."""
    return month.strftime("%Y-%m")


def date_options(months: Sequence[str], chosen: str | None) -> list[dict[str, str]]:
    """A from or to filter's options: the months with data ('YYYY-MM'), and the day
    `chosen` when it is one ('YYYY-MM-DD', set by a ready-made range or the URL), in order."""
    values = sorted({*months, *([chosen] if chosen and len(chosen) > 7 else [])})
    return [{"label": v, "value": v} for v in values]


def filter_bar(days: tuple[date, date] | None, values: dict[str, Sequence[Any]]) -> dbc.Row:
    """The global filters: a ready-made range (days or months) or a from and to month,
    category, channel and region (all kept in the URL; a ready-made range as the dates it
    sets). `days` are the first and last day with data; `values` holds each segment filter's
    options: values, or {'label', 'value'} dicts where a code has a name."""
    months = [month_label(m) for m in month_range(*days)] if days else []
    month_options = date_options(months, None)
    first, last = days or (None, None)

    def multi(name: str, label: str) -> dbc.Col:
        return dbc.Col(dcc.Dropdown(
            id=f"filter-{name}-dropdown", options=list(values.get(name, ())), multi=True,
            placeholder=f"All {label}"), md=3, lg=2)

    return dbc.Row([
        dbc.Col(dcc.Dropdown(id="filter-preset-dropdown", options=range_presets(first, last),
                             placeholder=ALL_DATES, clearable=True, searchable=False),
                md=3, lg=2),
        dbc.Col(dcc.Dropdown(id="filter-from-dropdown", options=month_options,
                             placeholder="From", clearable=True), md=3, lg=True),
        dbc.Col(dcc.Dropdown(id="filter-to-dropdown", options=month_options,
                             placeholder="To", clearable=True), md=3, lg=True),
        multi("category", "categories"),
        multi("channel", "channels"),
        multi("region", "regions"),
        dbc.Col(dbc.Button("Reset", id="filter-reset-button", color="secondary",
                           outline=True, size="sm"), md=3, lg="auto", class_name="d-flex"),
    ], class_name="g-2 py-2 align-items-center")


def kpi_card(title: str, value: str, delta: str | None = None, worse: bool | None = None,
             card_id: str | None = None) -> dbc.Card:
    """A headline number with its change against the previous period."""
    colour = "text-muted" if worse is None else ("text-danger" if worse else "text-success")
    body = [html.Div(title, className="small text-muted text-uppercase"),
            html.Div(value, className="fs-4 fw-semibold kpi-value")]
    if delta is not None:
        body.append(html.Div(delta, className=f"small {colour}"))
    props = {"id": card_id} if card_id else {}
    return dbc.Card(dbc.CardBody(body), class_name="h-100 shadow-sm", **props)


def graph_card(graph_id: str, title: str, note: str | None = None,
               height: int | None = 360) -> dbc.Card:
    """A titled card holding one plotly graph with its loading state; `height` None lets the
    figure set its own height (small multiples grow with their panels)."""
    header = [html.Span(title, className="fw-semibold")]
    if note:
        header.append(html.Span(f" · {note}", className="small text-muted"))
    return dbc.Card([
        dbc.CardHeader(header),
        dbc.CardBody(dcc.Loading(dcc.Graph(
            id=graph_id, style={"height": f"{height}px"} if height else {},
            config={"displaylogo": False}))),
    ], class_name="shadow-sm mb-3")


def table_card(page: str, name: str, title: str, note: str | None = None) -> dbc.Card:
    """A titled card for a table, with a CSV download of every row the table stands for."""
    return dbc.Card([
        dbc.CardHeader(dbc.Row([
            dbc.Col([html.Span(title, className="fw-semibold"),
                     html.Span(f" · {note}" if note else "", className="small text-muted")]),
            dbc.Col(dbc.Button("Download CSV", id={"type": f"{page}-export-button",
                                                   "table": name},
                               size="sm", color="primary", outline=True),
                    width="auto"),
        ], align="center")),
        dbc.CardBody(dcc.Loading(html.Div(id=f"{page}-{name}-table"))),
        dcc.Download(id={"type": f"{page}-export-download", "table": name}),
    ], class_name="shadow-sm mb-3")


# Text columns align left; every other kind is a number, right-aligned.
ALIGN = {"text": "", "date": "", "wrap": "wrap", "code": "", "codes": "", "month": ""}


@dataclass(frozen=True)
class RowLink:
    """Makes a table's first cell a link that writes {"value": row[column], "at": ms} into
    the dcc.Store `store` (assets/table_links.js), for the page's callbacks to act on."""

    store: str
    column: str


@dataclass(frozen=True)
class PageLink:
    """Makes a table's first cell a link to the address in row[column]: another page's view
    of that row (its drill-down), opened without reloading the app."""

    column: str


MAX_CELL_CHARS = 2_000  # a review of megabytes would stall the browser; the CSV has it whole


def bounded(text: str) -> str:
    """`text` as a cell shows it: whole up to MAX_CELL_CHARS, else its start and how long it is."""
    if len(text) <= MAX_CELL_CHARS:
        return text
    return (f"{text[:MAX_CELL_CHARS]}… ({len(text):,} characters in all; "
            "the CSV download has the whole text)")


class FrameTable(Component):
    """A whole table as one Dash component, drawn by js/frame_table.js.

    Dash's renderer spends about a millisecond on each component it mounts: a table of
    html.Td cells cost Products a second of its first render. This component is one node
    for Dash and plain React elements inside, so a 40-row table mounts in a few ms. Every
    cell is a React text child, so whatever the data holds (braces, blank lines, Markdown,
    `<script>`) shows as text, never interpreted.

    Props: `columns` [{label, className}], `rows` (cell texts, row by row), `marked` (indices
    of rows to highlight), `links` (per row, the first cell's link: {"store", "value"} writes
    a dcc.Store via assets/table_links.js, {"href"} opens a view of this app), `className`
    (the table's classes).
    """

    _children_props: list[str] = []
    _base_nodes: list[str] = []
    _namespace = "returnlens"
    _type = "FrameTable"

    def __init__(self, columns: list[dict[str, str]], rows: list[list[str]],
                 marked: list[int] | None = None, links: list[dict[str, str]] | None = None,
                 className: str | None = None) -> None:
        self._prop_names = ["columns", "rows", "marked", "links", "className"]
        self._valid_wildcard_attributes: list[str] = []
        self.available_properties = list(self._prop_names)
        self.available_wildcard_properties: list[str] = []
        super().__init__(columns=columns, rows=rows, marked=marked, links=links,
                         className=className)


def _link(record: dict[str, Any], link: RowLink | PageLink) -> dict[str, str]:
    """The first cell's link of a row: a store to write its value into, or an address."""
    if isinstance(link, PageLink):
        return {"href": str(record[link.column])}
    return {"store": link.store, "value": str(record[link.column])}


def frame_table(frame: pl.DataFrame, columns: Sequence[Col], max_rows: int = 25,
                link: RowLink | PageLink | None = None, highlight: str | None = None,
                total: int | None = None) -> html.Div:
    """`frame` as a table (first `max_rows` rows), saying how many rows it has in all
    (`total`, when `frame` holds only the first rows of the table it stands for).

    Rows whose boolean column `highlight` is true are marked. Values are formatted here and
    shown as text (FrameTable); tables stay short on screen and the CSV download carries
    every row.
    """
    if frame.is_empty():
        return notice("No rows for the current filters.")
    shown = frame.head(max_rows)
    records = shown.to_dicts()
    table = FrameTable(
        columns=[{"label": c.label, "className": ALIGN.get(c.kind, "text-end")}
                 for c in columns],
        rows=[[bounded(format_value(record[c.name], c.kind)) for c in columns]
              for record in records],
        marked=[i for i, record in enumerate(records) if bool(record[highlight])]
        if highlight is not None else None,
        links=[_link(record, link) for record in records] if link is not None else None,
        className="table table-sm table-striped table-hover mb-1")
    in_all = frame.height if total is None else total
    caption = f"{in_all:,} rows" + (f"; first {shown.height} shown — download for all"
                                    if in_all > shown.height else "")
    return html.Div([table, html.Div(caption, className="small text-muted")])


# OWASP CSV injection: a cell starting with one of these is a formula to a spreadsheet.
FORMULA_START = r"^[=+\-@\t\r]"


def inert_csv(frame: pl.DataFrame) -> str:
    """`frame` as CSV whose text cells a spreadsheet shows as text, never runs as formulas:
    a cell starting with = + - @ tab or carriage return gets a leading single quote (OWASP)."""
    text = [c for c, t in frame.schema.items() if t in (pl.String, pl.Categorical)
            or isinstance(t, pl.Enum)]
    return frame.with_columns(
        pl.when(pl.col(c).cast(pl.String).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(c).cast(pl.String))
        .otherwise(pl.col(c).cast(pl.String)).alias(c) for c in text).write_csv()


NO_REASONS = "The loaded source carries no return reasons, so defect returns are not known."
NOTHING_PUBLISHED = "nothing to export yet: this table has not been computed for this warehouse"


def send_csv(frame: pl.DataFrame, filename: str) -> dict[str, Any]:
    """A dcc.Download payload of `frame` as inert CSV (see `inert_csv`).

    A table that does not exist yet (a model never trained) has no columns; its file says so
    rather than arriving empty.
    """
    if not frame.width:
        frame = pl.DataFrame({"note": [NOTHING_PUBLISHED]})
    return dcc.send_string(inert_csv(frame), filename)


def notice(message: str, colour: str = "secondary") -> dbc.Alert:
    """A plain statement, e.g. that the loaded source has no data for a view."""
    return dbc.Alert(message, color=colour, class_name="my-2 py-2 small")


def page_header(title: str, subtitle: str) -> html.Div:
    """The title and one-line purpose of a page."""
    return html.Div([html.H3(title, className="mb-0"),
                     html.P(subtitle, className="text-muted mb-3")])
