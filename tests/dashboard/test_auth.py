"""Sign-in and roles: the users file holds hashes, a role opens only its pages and callbacks,
and customer data is masked for roles without it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dash
import polars as pl
import pytest
from flask.testing import FlaskClient

from dashboard import auth
from dashboard.app import create_app
from tests.dashboard.serving_helpers import PASSWORDS, callback_body, write_users

CALLBACK = "/_dash-update-component"


@pytest.fixture
def users_file(tmp_path: Path) -> Path:
    return write_users(tmp_path / "users.yaml")


@pytest.fixture
def secured(warehouse_url: str, users_file: Path) -> dash.Dash:
    """The app with sign-in required, set up by a first request (which registers callbacks)."""
    app = create_app(warehouse_url, auth.load_users(users_file))
    app.server.test_client().get("/login")
    return app


def _text(response: Any) -> str:
    """A callback response as text, non-ASCII characters unescaped."""
    return json.dumps(response, ensure_ascii=False)


def _sku_with_one_comment(shop: dict[str, pl.DataFrame]) -> str:
    """A SKU whose return comments all fit the feedback table."""
    counts = shop["returns"].filter(pl.col("reason_text").is_not_null()).group_by("sku").len()
    return counts.filter(pl.col("len") == 1).sort("sku")["sku"][0]


def _client(app: dash.Dash, name: str | None) -> FlaskClient:
    client = app.server.test_client()
    if name:
        response = client.post("/login", data={"username": name, "password": PASSWORDS[name]})
        assert response.status_code == 302
    return client


def test_the_users_file_holds_argon2_hashes_not_passwords(users_file: Path) -> None:
    text = users_file.read_text()
    assert "$argon2id$" in text
    assert not any(password in text for password in PASSWORDS.values())
    assert users_file.stat().st_mode & 0o077 == 0


def test_a_user_with_an_unknown_role_is_refused(tmp_path: Path) -> None:
    with pytest.raises(auth.AuthConfigError, match="roles are"):
        auth.add_user(tmp_path / "users.yaml", "eve", "superuser", "whatever-123")


def test_customer_data_follows_the_role_unless_the_user_entry_says_otherwise(
        users_file: Path) -> None:
    users = auth.load_users(users_file).users
    assert {n: u.customer_data for n, u in users.items()} == {
        "fin": False, "cat": True, "cat-masked": False, "ops": False, "adm": True}


def test_a_wrong_password_does_not_sign_in(secured: dash.Dash) -> None:
    client = secured.server.test_client()
    response = client.post("/login", data={"username": "fin", "password": "nope"})
    assert response.status_code == 401
    assert client.get("/costs").status_code == 302


def test_without_sign_in_pages_redirect_and_callbacks_get_401(secured: dash.Dash) -> None:
    client = _client(secured, None)
    page = client.get("/costs?region=SG")
    assert page.status_code == 302 and page.location.startswith("/login?next=%2Fcosts")
    assert client.post(CALLBACK, json=callback_body(secured, "costs-kpis.children")) \
        .status_code == 401


def test_sign_in_never_redirects_off_the_site(secured: dash.Dash) -> None:
    client = secured.server.test_client()
    response = client.post("/login?next=//attacker.example/x",
                           data={"username": "fin", "password": PASSWORDS["fin"]})
    assert response.location == "/"


@pytest.mark.parametrize(("user", "page", "status"), [
    ("fin", "/costs", 200), ("fin", "/carriers", 403), ("fin", "/quality", 403),
    ("cat", "/products", 200), ("cat", "/costs", 403), ("ops", "/carriers", 200),
    ("ops", "/products", 403), ("adm", "/quality", 200), ("adm", "/carriers", 200)])
def test_a_role_opens_only_its_pages(secured: dash.Dash, user: str, page: str,
                                     status: int) -> None:
    assert _client(secured, user).get(page).status_code == status


def test_the_home_page_sends_a_role_without_it_to_its_first_page(secured: dash.Dash) -> None:
    response = _client(secured, "ops").get("/?region=SG")
    assert response.status_code == 302 and response.location == "/carriers?region=SG"


def test_a_finance_session_posting_a_carriers_callback_gets_403(secured: dash.Dash) -> None:
    client = _client(secured, "fin")
    refused = client.post(CALLBACK, json=callback_body(secured, "carriers-kpis.children"))
    allowed = client.post(CALLBACK, json=callback_body(secured, "costs-kpis.children"))
    assert refused.status_code == 403 and b"/carriers" in refused.data
    assert allowed.status_code == 200


def test_the_page_router_will_not_serve_another_roles_layout(secured: dash.Dash) -> None:
    client = _client(secured, "fin")
    body = callback_body(secured, "_pages_content.children",
                         {"_pages_location.pathname": "/carriers"})
    assert client.post(CALLBACK, json=body).status_code == 403


def test_sign_out_ends_the_session(secured: dash.Dash) -> None:
    client = _client(secured, "fin")
    assert client.post("/logout").status_code == 302
    assert client.get("/costs").status_code == 302


def test_the_navigation_lists_only_the_roles_pages(secured: dash.Dash) -> None:
    client = _client(secured, "fin")
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert '"page": "costs"' in layout.replace('":"', '": "') or "costs" in layout
    links = [p["path"] for p in dash.page_registry.values()
             if f'"page":"{p["module"].rsplit(".", 1)[-1]}"' in layout.replace(" ", "")]
    assert links == [p["path"] for p in dash.page_registry.values()
                     if auth.may_open("finance", p["path"])]
    assert "/carriers" not in links and "/costs" in links


def test_feedback_text_is_masked_for_a_user_without_customer_data(
        secured: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    sku = _sku_with_one_comment(shop)
    drill = {"products-drill-store.data": {"category": None, "product_id": None, "sku": sku}}
    body = callback_body(secured, "products-feedback-table.children", drill)
    shown = _text(_client(secured, "cat").post(CALLBACK, json=body).get_json())
    masked = _text(_client(secured, "cat-masked").post(CALLBACK, json=body).get_json())
    comments = shop["returns"].filter(pl.col("sku") == sku,
                                      pl.col("reason_text").is_not_null())["reason_text"]
    assert any(c in shown for c in comments) and auth.MASK not in shown
    assert auth.MASK in masked and not any(c in masked for c in comments)


def test_the_feedback_csv_is_masked_for_a_user_without_customer_data(
        secured: dash.Dash, shop: dict[str, pl.DataFrame]) -> None:
    sku = _sku_with_one_comment(shop)
    body = callback_body(secured, '{"table":["MATCH"],"type":"products-export-download"}.data', {
        "products-drill-store.data": {"category": None, "product_id": None, "sku": sku},
        "products-group-radio.value": "drill"})
    button = {"table": "feedback", "type": "products-export-button"}
    body["inputs"][0] = {"id": button, "property": "n_clicks", "value": 1}
    body["changedPropIds"] = [json.dumps(button, separators=(",", ":")) + ".n_clicks"]
    body["outputs"] = {"id": {"type": "products-export-download", "table": "feedback"},
                       "property": "data"}
    masked = _client(secured, "cat-masked").post(CALLBACK, json=body)
    assert masked.status_code == 200
    csv = next(iter(masked.get_json()["response"].values()))["data"]["content"]
    texts = pl.read_csv(csv.encode())["feedback_text"].drop_nulls()
    assert texts.len() and (texts == auth.MASK).all()


def test_login_is_off_on_the_embedded_default(warehouse_url: str) -> None:
    client = create_app(warehouse_url).server.test_client()
    assert client.get("/carriers").status_code == 200
