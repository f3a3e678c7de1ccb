"""Sign-in in headless Chromium: each role sees exactly its pages, a finance session cannot
call a Carriers callback, customer text is masked for a user without customer data, sign-out
works, and the pages run under the content security policy with no console errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dash
import polars as pl
import pytest
from dash.testing.wait import until

from dashboard import auth
from dashboard.app import create_app
from tests.browser import PAGES
from tests.dashboard.serving_helpers import PASSWORDS, ROLES, callback_body, write_users

pytestmark = pytest.mark.e2e


@pytest.fixture
def secured(warehouse_url: str, tmp_path: Path) -> dash.Dash:
    return create_app(warehouse_url, auth.load_users(write_users(tmp_path / "users.yaml")))


def _sign_in(dash_duo: Any, name: str) -> None:
    dash_duo.driver.get(dash_duo.server.url + "/login")
    dash_duo.find_element("#login-username").send_keys(name)
    dash_duo.find_element("#login-password").send_keys(PASSWORDS[name])
    dash_duo.find_element("#login-button").click()
    dash_duo.wait_for_element("#nav-user", timeout=30)


def _nav_pages(dash_duo: Any) -> list[str]:
    return [a.text for a in dash_duo.find_elements(".navbar .nav-link")]


@pytest.mark.parametrize("name", ["fin", "cat", "ops", "adm"])
def test_e2e_auth_001_signing_in_shows_exactly_the_roles_pages(
        dash_duo: Any, secured: dash.Dash, name: str) -> None:
    dash_duo.start_server(secured, navigate=False)  # / is the sign-in page
    role = ROLES[name]
    expected = [p["name"] for p in dash.page_registry.values()
                if auth.may_open(role, p["path"])]

    _sign_in(dash_duo, name)

    until(lambda: _nav_pages(dash_duo) == expected, timeout=20)
    assert {"fin": {"Overview", "Costs"}, "cat": {"Products"}, "ops": {"Carriers"},
            "adm": {"Overview", "Products", "Costs", "Carriers", "Data quality"}}[name] \
        <= set(expected)
    if name != "adm":
        assert "Data quality" not in expected
    first = next(p for p in dash.page_registry.values() if auth.may_open(role, p["path"]))
    dash_duo.wait_for_element(PAGES[first["path"]], timeout=30)
    assert dash_duo.get_logs() == []


def test_e2e_auth_002_a_finance_session_cannot_call_a_carriers_callback(
        dash_duo: Any, secured: dash.Dash) -> None:
    dash_duo.start_server(secured, navigate=False)  # / is the sign-in page
    _sign_in(dash_duo, "fin")
    dash_duo.wait_for_element(PAGES["/"], timeout=30)

    def post(output: str) -> int:
        body = json.dumps(callback_body(secured, output))
        return dash_duo.driver.execute_async_script(
            "const done = arguments[1];"
            "fetch('/_dash-update-component', {method: 'POST', body: arguments[0],"
            " headers: {'Content-Type': 'application/json'}}).then(r => done(r.status));", body)

    assert post("carriers-kpis.children") == 403
    assert post("costs-kpis.children") == 200
    dash_duo.driver.get(dash_duo.server.url + "/carriers")
    assert "not open to the finance role" in dash_duo.driver.page_source


def _drill_down(dash_duo: Any) -> str:
    """Category → product → SKU by the first link of each level; the SKU reached."""
    for _ in range(3):
        link = dash_duo.find_element("#products-level-table tbody tr td a.table-link")
        name = link.text
        dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});"
                                       "arguments[0].click();", link)
        dash_duo.wait_for_text_to_equal("#products-drill-current", name, timeout=30)
    return dash_duo.find_element("#products-drill-current").text


@pytest.mark.parametrize(("name", "masked"), [("cat", False), ("cat-masked", True)])
def test_e2e_auth_003_comments_are_masked_for_a_user_without_customer_data(
        dash_duo: Any, secured: dash.Dash, shop: dict[str, pl.DataFrame], name: str,
        masked: bool) -> None:
    dash_duo.start_server(secured, navigate=False)  # / is the sign-in page
    _sign_in(dash_duo, name)
    dash_duo.wait_for_element(PAGES["/products"], timeout=30)

    sku = _drill_down(dash_duo)

    comments = shop["returns"].filter(pl.col("sku") == sku,
                                      pl.col("reason_text").is_not_null())["reason_text"]
    until(lambda: "Text" in dash_duo.find_element("#products-feedback-table").text, timeout=30)
    feedback = dash_duo.find_element("#products-feedback-table").text
    assert comments.len()
    assert (auth.MASK in feedback) is masked
    assert any(c in feedback for c in comments) is not masked
    assert dash_duo.get_logs() == []


def test_e2e_auth_004_sign_out_returns_to_the_sign_in_page(
        dash_duo: Any, secured: dash.Dash) -> None:
    dash_duo.start_server(secured, navigate=False)  # / is the sign-in page
    _sign_in(dash_duo, "ops")
    dash_duo.wait_for_element(PAGES["/carriers"], timeout=30)

    dash_duo.find_element("#nav-sign-out").click()

    dash_duo.wait_for_element("#login-button", timeout=20)
    dash_duo.driver.get(dash_duo.server.url + "/carriers")
    until(lambda: "/login" in dash_duo.driver.current_url, timeout=10)
