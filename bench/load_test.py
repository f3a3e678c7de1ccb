"""Load test: signed-in users browsing every dashboard page with varied filters (Locust).

Each simulated user signs in, reads the app's callback graph (/_dash-dependencies) and the
filter options (/_dash-layout), then repeatedly opens a page with one of FILTER_VARIANTS
filter combinations and fires the callbacks that page's browser would fire on load (the page
router, the filter sync, the navigation and the page's own data callbacks), waiting 1–3 s
between page views. Every request is counted; the figure that matters is the 95th percentile.

    returnlens users add loadtest --role admin   # password in RETURNLENS_LT_PASSWORD
    returnlens serve --db URL --host 127.0.0.1 --port 8050 --users data/users.yaml
    RETURNLENS_LT_USER=loadtest RETURNLENS_LT_PASSWORD=... locust -f bench/load_test.py \
        --headless -u 50 -r 10 -t 120s --host http://127.0.0.1:8050 --csv /tmp/lt

Locust runs from a virtualenv of its own (`uv venv /tmp/locust-venv && uv pip install
--python /tmp/locust-venv/bin/python locust`): it needs urllib3 2, the project's test tools
pin urllib3 1.26.

docs/benchmarks.md records the figures and the exact commands.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any
from urllib.parse import urlencode

from locust import HttpUser, between, task

PAGES = ("/", "/products", "/costs", "/carriers", "/quality")
FILTER_VARIANTS = 40  # distinct filter combinations the users pick from (seeded)
# Values of the page controls on load (what each page's layout sets).
CONTROL_DEFAULTS: dict[str, Any] = {
    "overview-period-radio.value": 7,
    "costs-dimension-radio.value": "category",
    "carriers-measure-radio.value": "pickup_tat_days",
    "products-group-radio.value": "drill",
    "products-drill-store.data": {"category": None, "product_id": None, "sku": None},
}


def _options(node: Any, found: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The options of every filter dropdown in a Dash layout."""
    if isinstance(node, dict):
        props = node.get("props", {})
        if str(props.get("id", "")).startswith("filter-") and "options" in props:
            found[props["id"]] = [o["value"] if isinstance(o, dict) else o
                                  for o in props["options"]]
        for value in (props.values() if props else node.values()):
            _options(value, found)
    elif isinstance(node, list):
        for value in node:
            _options(value, found)
    return found


def _variants(options: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """FILTER_VARIANTS filter states: month ranges, categories, channels and regions."""
    rng = random.Random(3)
    months = sorted(options.get("filter-from-dropdown", []))
    out = [{"from": None, "to": None, "category": [], "channel": [], "region": []}]
    while len(out) < FILTER_VARIANTS:
        lo, hi = sorted(rng.sample(range(len(months)), 2)) if len(months) > 1 else (0, 0)
        state = {"from": months[lo] if months and rng.random() < 0.7 else None,
                 "to": months[hi] if months and rng.random() < 0.7 else None}
        for key in ("category", "channel", "region"):
            values = options.get(f"filter-{key}-dropdown", [])
            k = rng.choice((0, 0, 1, 2)) if values else 0
            state[key] = sorted(rng.sample(values, min(k, len(values))))
        out.append(state)
    return out


def _query(state: dict[str, Any]) -> str:
    pairs = [(k, state[k]) for k in ("from", "to") if state[k]]
    pairs += [(k, ",".join(state[k])) for k in ("category", "channel", "region") if state[k]]
    return f"?{urlencode(pairs)}" if pairs else ""


def _ids(output: str) -> list[tuple[Any, str]]:
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    return [(json.loads(i) if i.startswith("{") else i, p)
            for i, p in (part.rsplit(".", 1) for part in parts)]


class DashboardUser(HttpUser):
    """A signed-in admin opening pages with varied filters."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        """Sign in, then learn the callbacks and the filter options."""
        user = os.environ.get("RETURNLENS_LT_USER", "loadtest")
        password = os.environ["RETURNLENS_LT_PASSWORD"]
        with self.client.post("/login", data={"username": user, "password": password},
                              allow_redirects=False, catch_response=True,
                              name="/login") as response:
            if response.status_code != 302:
                response.failure(f"sign-in failed: {response.status_code}")
        self.deps = self.client.get("/_dash-dependencies", name="/_dash-dependencies").json()
        layout = self.client.get("/_dash-layout", name="/_dash-layout").json()
        self.states = _variants(_options(layout, {}))

    def _fire(self, dep: dict[str, Any], values: dict[str, Any], name: str) -> None:
        outputs = [{"id": i, "property": p} for i, p in _ids(dep["output"])]
        if any(isinstance(o["id"], dict) for o in outputs):
            return  # pattern-matching outputs (exports, nav links) need concrete ids
        body = {
            "output": dep["output"],
            "outputs": outputs if dep["output"].startswith("..") else outputs[0],
            "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")}
                       for i in dep["inputs"]],
            "state": [{**s, "value": values.get(f"{s['id']}.{s['property']}")}
                      for s in dep["state"]],
            "changedPropIds": [f"{i['id']}.{i['property']}" for i in dep["inputs"]],
        }
        with self.client.post("/_dash-update-component", json=body, name=name,
                              catch_response=True) as response:
            if response.status_code not in (200, 204):
                response.failure(f"{response.status_code}: {response.text[:100]}")

    @task
    def open_page(self) -> None:
        """Open one page with one filter combination, as a browser loads it."""
        path = random.choice(PAGES)
        state = random.choice(self.states)
        self.client.get(path + _query(state), name=f"GET {path}")
        page = "overview" if path == "/" else path.strip("/")
        values = {"filters-store.data": state, "_pages_location.pathname": path,
                  "_pages_location.search": _query(state), "app-location.pathname": path,
                  "app-location.search": _query(state), **CONTROL_DEFAULTS}
        for dep in self.deps:
            if dep.get("clientside_function") or dep.get("prevent_initial_call"):
                continue
            first = str(_ids(dep["output"])[0][0])
            if first.startswith("_pages_content"):
                self._fire(dep, values, "router")
            elif first.startswith(f"{page}-"):
                self._fire(dep, values, f"{path} {first}")
