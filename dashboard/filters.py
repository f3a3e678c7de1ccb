"""The global filters as they travel: URL query string ⇄ store data ⇄ warehouse Filters.

Store data comes back from the browser with every callback, so anyone can send anything: it is
checked here (dates are months or calendar days, values are short lists of short strings) and
refused with a 400, which also keeps oversized values out of the dashboard's caches.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlencode

from dash.exceptions import PreventUpdate
from werkzeug.exceptions import BadRequest

from warehouse.read.filters import Filters, month_end

SEGMENTS = ("category", "channel", "region")
KEYS = ("from", "to", *SEGMENTS)
MAX_VALUE_CHARS = 200  # longer than any category, channel, region, SKU or carrier name
MAX_VALUES = 200  # values of one filter
MAX_QUERY_CHARS = 8192
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_DAY = re.compile(r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])")
T = TypeVar("T")


class BadInput(BadRequest):
    """A callback input that no page control could have sent: answered with a 400."""

    def __init__(self, message: str) -> None:
        super().__init__(description=message)


def text_value(value: Any, what: str, *, optional: bool = True) -> str | None:
    """`value` if it is a string of at most MAX_VALUE_CHARS (or None when `optional`)."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise BadInput(f"{what}: expected text, got {type(value).__name__}")
    if len(value) > MAX_VALUE_CHARS:
        raise BadInput(f"{what}: {len(value):,} characters, at most {MAX_VALUE_CHARS}")
    return value


def choice(value: T, allowed: Collection[Any], what: str) -> T:
    """`value` if it is one of `allowed` (a control's options), else a 400."""
    try:
        ok = value in allowed
    except TypeError:  # unhashable (a list or dict where a value belongs)
        ok = False
    if not ok:
        shown = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:40]}…"
        raise BadInput(f"{what}: {shown} is not one of the options")
    return value


def checked_state(state: Any) -> dict[str, Any]:
    """Store data as the filter bar writes it, or a 400 saying what is wrong with it."""
    if not isinstance(state, dict):
        raise BadInput(f"filters: expected an object, got {type(state).__name__}")
    for key in ("from", "to"):
        value = text_value(state.get(key), f"filter {key!r}")
        if value is not None and not is_month_or_day(value):
            shown = value if len(value) <= 20 else f"{value[:20]}…"
            raise BadInput(f"filter {key!r}: {shown!r} is not a month (YYYY-MM) "
                           "or a day (YYYY-MM-DD)")
    for key in SEGMENTS:
        items = state.get(key) or []
        if not isinstance(items, list):
            raise BadInput(f"filter {key!r}: expected a list, got {type(items).__name__}")
        if len(items) > MAX_VALUES:
            raise BadInput(f"filter {key!r}: {len(items):,} values, at most {MAX_VALUES}")
        for item in items:
            text_value(item, f"filter {key!r}", optional=False)
    return state


def is_month_or_day(value: str) -> bool:
    """Whether `value` is a month 'YYYY-MM' or a calendar day 'YYYY-MM-DD'."""
    if _MONTH.fullmatch(value):
        return True
    if not _DAY.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:  # 2025-02-30
        return False
    return True


def first_day(value: str) -> date:
    """The first day a 'from' value covers: the day, or the first of the month."""
    return date.fromisoformat(value if len(value) > 7 else f"{value}-01")


def last_day(value: str) -> date:
    """The last day a 'to' value covers: the day, or the last of the month."""
    return date.fromisoformat(value) if len(value) > 7 else month_end(first_day(value))


def ordered(state: dict[str, Any]) -> dict[str, Any]:
    """`state` with a reversed date range put the right way round (a month and a day
    compare by the days they cover: 'to' 2025-06 ends on 30 June)."""
    start, end = state.get("from"), state.get("to")
    if start and end and first_day(start) > last_day(end):
        # swapped ends keep what each covered: a 'to' month becomes the 'from' month
        return {**state, "from": end, "to": start}
    return state


def empty_state() -> dict[str, Any]:
    """No filter set: every month, category, channel and region."""
    return {"from": None, "to": None, **{k: [] for k in SEGMENTS}}


def parse_query(search: str | None, months: set[str] | None = None,
                values: dict[str, set[str]] | None = None) -> dict[str, Any]:
    """Filter state from a query string like ?from=2025-01&to=2025-03-15&category=shoes.

    Dates are months or days; those outside the months offered (when `months` is given) and
    values not offered (when `values` is) are dropped, and a reversed range is put the right
    way round.
    """
    query = parse_qs((search or "")[:MAX_QUERY_CHARS].lstrip("?"))
    state = empty_state()
    for key in ("from", "to"):
        value = (query.get(key) or [None])[0]
        if value and is_month_or_day(value) and (months is None or value[:7] in months):
            state[key] = value
    state = ordered(state)
    for key in SEGMENTS:
        items = [v for raw in query.get(key, []) for v in raw.split(",") if v]
        allowed = (values or {}).get(key)
        state[key] = sorted({v for v in items if allowed is None or v in allowed})
    return state


def to_query(state: dict[str, Any] | None, page: dict[str, str] | None = None) -> str:
    """The query string ('?…', or '' when nothing is set) that encodes the filters `state`
    and then a page's own `page` parameters (its drill-down, say)."""
    pairs = [(k, state[k]) for k in ("from", "to") if state and state.get(k)]
    pairs += [(k, ",".join(state[k])) for k in SEGMENTS if state and state.get(k)]
    pairs += [(k, v) for k, v in (page or {}).items() if k not in KEYS and v]
    return f"?{urlencode(pairs)}" if pairs else ""


def page_query_id(page: str) -> dict[str, str]:
    """The id of the dcc.Store in which the page `page` keeps its own URL parameters (its
    drill-down, say) as {name: value}; the app shell adds them to the address."""
    return {"type": "page-query", "page": page}


MAX_PAGE_PARAMS = 4


def checked_page_query(params: Any) -> dict[str, str]:
    """A page's URL parameters as its store holds them ({name: text}), or a 400."""
    if not isinstance(params, dict) or len(params) > MAX_PAGE_PARAMS:
        raise BadInput(f"page query: expected at most {MAX_PAGE_PARAMS} parameters")
    for name, value in params.items():
        text_value(name, "page query name", optional=False)
        text_value(value, f"page query {name!r}", optional=False)
    return params


def page_href(path: str, state: dict[str, Any] | None, page: dict[str, str]) -> str:
    """The address of a view on the page at `path` with the filters `state` kept: a link from
    one page's table to another page's view of the same row."""
    return path + to_query(checked_state(state) if state is not None else None, page)


# The Products drill-down in the URL: drill=<level>:<key>, the deepest level only (the levels
# above follow from it), e.g. /products?drill=sku:P00012-M. URL word → the page's drill key.
DRILL_LEVELS = {"category": "category", "product": "product_id", "sku": "sku"}


def drill_param(level: str, key: str) -> dict[str, str]:
    """The URL parameter that opens the Products drill-down at `level` ('category',
    'product_id' or 'sku') `key`."""
    word = {v: k for k, v in DRILL_LEVELS.items()}[level]
    return {"drill": f"{word}:{key}"}


def parse_drill(value: Any) -> tuple[str, str] | None:
    """(drill key, value) from a URL's drill parameter, or None when it is not one: the URL
    is typed or forged as often as it is copied, so anything else is dropped."""
    if not isinstance(value, str) or len(value) > MAX_VALUE_CHARS + 10:
        return None
    word, _, key = value.partition(":")
    return (DRILL_LEVELS[word], key) if word in DRILL_LEVELS and key else None


def to_filters(state: dict[str, Any] | None) -> Filters:
    """Warehouse Filters from store data; stops the callback while the store is not set yet,
    and answers 400 to data the filter bar cannot have written."""
    if state is None:
        raise PreventUpdate
    state = checked_state(state)
    start, end = state.get("from"), state.get("to")
    return Filters(
        day_from=first_day(start) if start else None, day_to=last_day(end) if end else None,
        categories=tuple(state.get("category") or ()), channels=tuple(state.get("channel") or ()),
        regions=tuple(state.get("region") or ()),
    )


def _shift(month: date, months: int) -> date:
    """The first day of the month `months` after (or before, when negative) `month`."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_range(first: date, last: date) -> list[date]:
    """The first days of every month from `first`'s to `last`'s, both included."""
    start, end = first.replace(day=1), last.replace(day=1)
    count = (end.year - start.year) * 12 + end.month - start.month + 1
    return [_shift(start, i) for i in range(max(count, 0))]


def _span(first: date, last: date) -> str:
    """'Sep – Nov 2025', 'Nov 2025 – Jan 2026' or 'Nov 2025'."""
    if first == last:
        return last.strftime("%b %Y")
    return (f"{first:%b} – {last:%b %Y}" if first.year == last.year
            else f"{first:%b %Y} – {last:%b %Y}")


DAY_PRESETS = (7, 28, 90)  # "last N days" ranges offered beside the month ranges


def range_presets(data_from: date | None, data_to: date | None) -> list[dict[str, str]]:
    """Ready-made ranges, as dropdown options (their dates as the hover title; the from and
    to filters beside show them once chosen), ending at the newest day with data (`data_to`)
    or its month: the last 7, 28 and 90 days, the latest 1, 3, 6 and 12 months, the latest
    whole quarter, the quarter and the year so far, and the latest whole year. A value is
    'FROM/TO' (days YYYY-MM-DD or months YYYY-MM), so choosing one sets the from and to
    filters, and the URL keeps dates, not 'last 7 days': a shared link shows what its sender
    saw. Ranges reaching before the first day with data (`data_from`) are left out, and each
    is offered once, under its first name."""
    if data_from is None or data_to is None:
        return []
    options, seen = [], set()
    for days in DAY_PRESETS:
        start = data_to - timedelta(days=days - 1)
        value = f"{start:%Y-%m-%d}/{data_to:%Y-%m-%d}"
        if start >= data_from:
            seen.add(value)
            options.append({"label": f"Last {days} days", "value": value,
                            "title": f"{start:%d %b %Y} – {data_to:%d %b %Y}"})
    first, last = data_from.replace(day=1), data_to.replace(day=1)
    quarter_start = _shift(last, -((last.month - 1) % 3))
    whole_quarter_end = last if last.month % 3 == 0 else _shift(quarter_start, -1)
    candidates = [
        ("Latest month", last, last),
        ("Last 3 months", _shift(last, -2), last),
        ("Last 6 months", _shift(last, -5), last),
        ("Last 12 months", _shift(last, -11), last),
        (f"Q{(whole_quarter_end.month + 2) // 3} {whole_quarter_end.year}",
         _shift(whole_quarter_end, -2), whole_quarter_end),
        ("Quarter to date", quarter_start, last),
        ("Year to date", date(last.year, 1, 1), last),
        (f"Year {last.year - 1}", date(last.year - 1, 1, 1), date(last.year - 1, 12, 1)),
    ]
    for name, start, end in candidates:
        value = f"{start:%Y-%m}/{end:%Y-%m}"
        if start >= first and value not in seen:
            seen.add(value)
            options.append({"label": name, "value": value, "title": _span(start, end)})
    return options


def preset_range(value: Any) -> tuple[str, str]:
    """The (from, to) of a range preset's value, checked like any browser input."""
    text = text_value(value, "range", optional=False) or ""
    start, _, end = text.partition("/")
    if not (is_month_or_day(start) and is_month_or_day(end)) \
            or first_day(start) > last_day(end):
        raise BadInput(f"range {text[:24]!r} is not two dates FROM/TO (YYYY-MM or YYYY-MM-DD)")
    return start, end
