"""Dashboard latency: every page's callbacks driven over HTTP, beside the bare query time.

    .venv/bin/python bench/dashboard_bench.py --db duckdb:////tmp/dash.duckdb --repeat 20

For each page it POSTs the callbacks the browser fires when the page opens (the page's data
callbacks, with the global filters set) to /_dash-update-component through Flask's test client,
and reports p50/p95 of the page's total time: cold (cache cleared before each round, each round
with other filters) and warm (served from the cache). Beside it: the time of the warehouse
queries those callbacks made, run directly on a fresh connection ("bare"). Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import polars as pl

from dashboard import data
from dashboard.app import create_app
from warehouse import read
from warehouse.engine import reader_engine

PAGES = ("overview", "products", "costs", "vendors", "carriers", "quality", "risk")
# the Policy Lab is measured by bench/policy_bench.py: a scenario is a simulation, not a query
PAGE_PATHS = {"overview": "/", "products": "/products", "costs": "/costs", "vendors": "/vendors",
              "carriers": "/carriers", "quality": "/quality", "risk": "/risk"}
DEFAULTS: dict[tuple[str, str], Any] = {
    ("overview-period-radio", "value"): 7,
    ("products-drill-store", "data"): {"category": None, "product_id": None, "sku": None},
    ("products-group-radio", "value"): "drill",
    ("costs-dimension-radio", "value"): "category",
    ("carriers-carrier-dropdown", "value"): None,
    ("vendors-selected-click", "data"): None,
    ("vendors-vendor-dropdown", "value"): None,
    ("carriers-measure-radio", "value"): "pickup_tat_days",
}


def filter_states(url: str) -> list[dict[str, Any]]:
    """A rotation of realistic filter settings: everything, a year, a category, a region, the
    last 28 days (a range of days: whole months from the monthly marts, the rest daily)."""
    with reader_engine(url).connect() as conn:
        values = read.runs.filter_values(conn)
        bounds = read.runs.data_bounds(conn).row(0, named=True)
    last = bounds["last_order_day"]
    year_ago = f"{last.year - 1}-{last.month:02d}"
    first = values.filter(pl.col("filter") == "category")["value"][0]
    region = values.filter(pl.col("filter") == "region")["value"][0]
    empty = {"from": None, "to": None, "category": [], "channel": [], "region": []}
    days = {"from": f"{last - timedelta(days=27)}", "to": f"{last}"}
    return [empty, {**empty, "from": year_ago}, {**empty, "category": [first]},
            {**empty, "region": [region]}, {**empty, "from": year_ago, "channel": ["app"]},
            {**empty, **days}]


def page_callbacks(client: Any, page: str) -> list[dict[str, Any]]:
    """The data callbacks of a page (outputs prefixed by the page, no pattern-matching ids)
    that the browser fires when it opens: not those that wait for a click (downloads)."""
    deps = client.get("/_dash-dependencies").get_json()
    return [d for d in deps if d["output"].lstrip(".").startswith(f"{page}-")
            and "{" not in d["output"] + "".join(i["id"] for i in d["inputs"])
            and d.get("clientside_function") is None and not d.get("prevent_initial_call")]


def payload(dep: dict[str, Any], state: dict[str, Any], page: str) -> dict[str, Any]:
    """The JSON body the renderer would POST for `dep` with the filters `state`."""
    def value(item: dict[str, str]) -> Any:
        key = (item["id"], item["property"])
        if key == ("filters-store", "data"):
            return state
        if key == ("app-location", "pathname"):
            return PAGE_PATHS[page]
        return DEFAULTS.get(key)

    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]}
               for o in dep["output"].strip(".").split("...")]
    return {
        "output": dep["output"],
        "outputs": outputs if dep["output"].startswith("..") else outputs[0],
        "inputs": [{**i, "value": value(i)} for i in dep["inputs"]],
        "state": [{**s, "value": value(s)} for s in dep["state"]],
        "changedPropIds": [f"{i['id']}.{i['property']}" for i in dep["inputs"]],
    }


def run_page(client: Any, deps: list[dict[str, Any]], state: dict[str, Any],
             page: str) -> float:
    """Seconds to answer every data callback of the page, one after the other."""
    start = time.perf_counter()
    for dep in deps:
        response = client.post("/_dash-update-component", data=json.dumps(payload(dep, state,
                                                                                 page)),
                               content_type="application/json")
        if response.status_code not in (200, 204):
            raise RuntimeError(f"{dep['output']}: HTTP {response.status_code} "
                               f"{response.get_data(as_text=True)[:500]}")
    return time.perf_counter() - start


def record_queries() -> tuple[list[tuple[Callable[..., Any], tuple[Any, ...]]], Callable[[], None]]:
    """Record the warehouse queries the callbacks make; returns (calls, undo)."""
    calls: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
    original = data.load_from

    def recording(url: str, query: Callable[..., Any], *args: Any) -> Any:
        calls.append((query, args))
        return original(url, query, *args)

    data.load_from = recording  # type: ignore[assignment]

    def undo() -> None:
        data.load_from = original  # type: ignore[assignment]

    return calls, undo


def bare_seconds(url: str, calls: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> float:
    """Seconds to run the distinct recorded queries on one fresh connection."""
    distinct = list(dict.fromkeys(calls))
    start = time.perf_counter()
    with reader_engine(url).connect() as conn:
        for query, args in distinct:
            query(conn, *args)
    return time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of values, by linear interpolation."""
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1] \
        if len(values) > 1 else values[0]


def main() -> None:
    """Measure every page and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="warehouse URL, e.g. duckdb:////tmp/w.duckdb")
    parser.add_argument("--repeat", type=int, default=20, help="rounds per page and mode")
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=list(PAGES),
                        help="pages to measure (default: all)")
    args = parser.parse_args()

    app = create_app(args.db)
    client = app.server.test_client()
    client.get("/")  # first request: the app registers its callbacks
    with reader_engine(args.db).connect() as conn:
        lines = int(pl.read_database("SELECT SUM(order_lines) AS n FROM marts.daily_kpis",
                                     conn)["n"][0])
    states = filter_states(args.db)
    with reader_engine(args.db).connect() as conn:  # the Vendors page opens on the top vendor
        card = read.vendors.scorecard(conn) if read.vendors.publication(conn) else None
    DEFAULTS[("vendors-vendor-dropdown", "value")] = \
        card["vendor_id"][0] if card is not None and card.height else None
    print(f"warehouse {args.db}: {lines:,} order lines; {args.repeat} rounds per page\n")
    print(f"{'page':<10} {'callbacks':>9} {'cold p50':>9} {'cold p95':>9} {'warm p50':>9} "
          f"{'warm p95':>9} {'bare query p50':>15} {'queries':>8}")
    for page in args.pages:
        deps = page_callbacks(client, page)
        cold, warm, bare, n_queries = [], [], [], 0
        for i in range(args.repeat):
            state = states[i % len(states)]
            data.clear_cache()
            calls, undo = record_queries()
            try:
                cold.append(run_page(client, deps, state, page))
            finally:
                undo()
            warm.append(run_page(client, deps, state, page))
            bare.append(bare_seconds(args.db, calls))
            n_queries = len(set(calls))
        ms = [1000 * percentile(v, q) for v, q in
              ((cold, 0.5), (cold, 0.95), (warm, 0.5), (warm, 0.95), (bare, 0.5))]
        print(f"{page:<10} {len(deps):>9} {ms[0]:>7.0f}ms {ms[1]:>7.0f}ms {ms[2]:>7.0f}ms "
              f"{ms[3]:>7.0f}ms {ms[4]:>13.0f}ms {n_queries:>8}")


if __name__ == "__main__":
    main()
