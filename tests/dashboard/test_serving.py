"""Serving to a team: the command refuses to listen beyond localhost without sign-in, unknown
Host headers get 400, responses carry security headers, and malformed callback inputs get a
short 400 without growing the cache."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import dash
import pytest
import requests

from dashboard import data
from dashboard.app import create_app
from dashboard.filters import MAX_VALUE_CHARS
from tests.conftest import _free_port
from tests.dashboard.serving_helpers import callback_body, write_users
from tests.processes import REPO, RETURNLENS

CALLBACK = "/_dash-update-component"
NOTHING = {"from": None, "to": None, "category": [], "channel": [], "region": []}


@pytest.fixture
def open_app(warehouse_url: str) -> dash.Dash:
    """The app as served on localhost (no sign-in), set up by a first request."""
    app = create_app(warehouse_url, allowed_hosts=["localhost", "127.0.0.1"])
    app.server.test_client().get("/")
    return app


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(RETURNLENS), "serve", *args], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


@pytest.fixture
def team_server(warehouse_url: str, tmp_path: Path) -> Iterator[str]:
    """`returnlens serve --host 0.0.0.0` with a users file, as a real gunicorn process."""
    port = _free_port()
    users = write_users(tmp_path / "users.yaml")
    process = _serve("--db", warehouse_url, "--host", "0.0.0.0", "--port", str(port),
                     "--users", str(users), "--workers", "1")
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                requests.get(f"{url}/login", timeout=10)
                break
            except requests.RequestException:  # not listening, or a worker still starting
                assert process.poll() is None, process.stdout.read()
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serving_beyond_localhost_without_users_refuses_to_start(
        warehouse_url: str, tmp_path: Path) -> None:
    process = _serve("--db", warehouse_url, "--host", "0.0.0.0",
                     "--users", str(tmp_path / "none.yaml"))
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "needs sign-in" in output and "returnlens users add" in output


def test_a_wrong_host_header_gets_400_from_the_real_server(team_server: str) -> None:
    wrong = requests.get(team_server + "/", headers={"Host": "attacker.example"},
                         allow_redirects=False, timeout=10)
    right = requests.get(team_server + "/", allow_redirects=False, timeout=10)
    assert wrong.status_code == 400
    assert right.status_code == 302 and right.headers["Location"].startswith("/login")


def test_the_real_server_is_gunicorn_and_sends_security_headers(team_server: str) -> None:
    response = requests.get(team_server + "/login", timeout=10)
    assert response.headers["Server"].startswith("gunicorn")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data: blob:" in policy
    assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy.split(
        "script-src")[1].split(";")[0]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("values", "message"), [
    ({"filters-store.data": {**NOTHING, "from": "2025-13"}}, "is not a month"),
    ({"filters-store.data": {**NOTHING, "to": 202501}}, "expected text"),
    ({"filters-store.data": "everything"}, "expected an object"),
    ({"filters-store.data": {**NOTHING, "category": ["x" * (MAX_VALUE_CHARS + 1)]}},
     "characters, at most"),
    ({"filters-store.data": {**NOTHING, "region": [f"r{i}" for i in range(1000)]}},
     "values, at most"),
    ({"overview-period-radio.value": "seven"}, "period: 'seven' is not one of the options"),
])
def test_malformed_callback_inputs_get_a_short_400(open_app: dash.Dash, values: dict,
                                                   message: str) -> None:
    body = callback_body(open_app, "overview-period-text.children",
                         {"overview-period-radio.value": 7, **values})
    response = open_app.server.test_client().post(CALLBACK, json=body)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert len(response.get_data()) < 200


def test_a_5_mb_filter_value_gets_400_and_leaves_the_cache_as_it_was(
        open_app: dash.Dash) -> None:
    client = open_app.server.test_client()
    good = callback_body(open_app, "costs-kpis.children")
    assert client.post(CALLBACK, json=good).status_code == 200
    before = data._cached.cache_info().currsize
    huge = callback_body(open_app, "costs-kpis.children",
                         {"filters-store.data": {**NOTHING, "category": ["x" * 5_000_000]}})

    response = client.post(CALLBACK, json=huge)

    assert response.status_code == 400 and "bytes" in response.get_data(as_text=True)
    assert data._cached.cache_info().currsize == before


@pytest.mark.parametrize("change", [
    {"output": "no-such-component.children"},
    {"inputs": []},
    {"inputs": [{"id": "costs-dimension-radio", "property": "value", "value": "category"}]},
    {"outputs": [{"id": "costs-kpis", "property": "children"}]},
])
def test_a_callback_request_no_page_could_send_gets_400(open_app: dash.Dash,
                                                         change: dict) -> None:
    body = {**callback_body(open_app, "costs-kpis.children"), **change}
    assert open_app.server.test_client().post(CALLBACK, json=body).status_code == 400


@pytest.mark.parametrize("params", ["drill=sku:x", {"drill": ["sku:x"]},
                                    {f"p{i}": "x" for i in range(20)}])
def test_a_forged_page_view_in_the_url_store_gets_400(open_app: dash.Dash,
                                                      params: object) -> None:
    body = callback_body(open_app, "app-query.children")
    pattern = next(i for i in body["inputs"] if "page-query" in str(i["id"]))
    pattern_id = {"type": "page-query", "page": "products"}
    body["inputs"] = [[{"id": pattern_id, "property": "data", "value": params}]
                      if i is pattern else i for i in body["inputs"]]

    response = open_app.server.test_client().post(CALLBACK, json=body)

    assert response.status_code == 400 and "page query" in response.get_data(as_text=True)


def test_an_unknown_radio_value_or_table_name_gets_400_not_500(open_app: dash.Dash) -> None:
    client = open_app.server.test_client()
    body = callback_body(open_app, "costs-breakdown-table.children",
                         {"costs-dimension-radio.value": "1; DROP TABLE x"})
    assert client.post(CALLBACK, json=body).status_code == 400
    body = callback_body(open_app, "carriers-times-graph.figure",
                         {"carriers-measure-radio.value": ["pickup_tat_days"]})
    assert client.post(CALLBACK, json=body).status_code == 400


def _executable_inline_scripts(page: str) -> list[str]:
    """The inline scripts of a page the browser runs (not JSON data blocks, not comments)."""
    import re

    page = re.sub(r"<!--.*?-->", "", page, flags=re.S)
    return [body for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
            if body.strip() and "application/json" not in attributes]


def test_the_policy_covers_an_inline_script_registered_after_the_first_response(
        warehouse_url: str) -> None:
    # gunicorn's threads answer a worker's first requests at once: one of them can finish
    # while Dash is still registering its pages' inline scripts (the page-title callback)
    import base64
    import hashlib

    app = create_app(warehouse_url, allowed_hosts=["localhost", "127.0.0.1"])
    client = app.server.test_client()
    client.get("/")
    app.clientside_callback("function(hash) { return hash; }",
                            dash.Output("app-url-sync", "title"),
                            dash.Input("app-location", "hash"))

    response = client.get("/risk")
    policy = response.headers["Content-Security-Policy"]
    for script in _executable_inline_scripts(response.get_data(as_text=True)):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy, script[:80]


def test_scripts_asked_for_while_the_first_page_is_set_up_are_served(
        warehouse_url: str) -> None:
    # the page's script addresses, from an app that has served its page
    page = create_app(warehouse_url).server.test_client().get("/").get_data(as_text=True)
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', page)
    app = create_app(warehouse_url)  # a fresh worker's app: nothing served yet

    # a browser asks for the page and its scripts at once (Dash's first-request set-up
    # raced them: plotly/dash#3971)
    with ThreadPoolExecutor(len(scripts) + 1) as pool:
        statuses = list(pool.map(lambda path: app.server.test_client().get(path).status_code,
                                 ["/", *scripts]))

    assert scripts and statuses == [200] * (len(scripts) + 1)
