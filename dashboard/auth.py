"""Who may see what: users with hashed passwords, their roles, the pages each role may open,
and the guard that refuses another role's pages *and* callbacks (not just its links).

Login is off on the embedded default (one user on 127.0.0.1) and required once the dashboard
listens beyond localhost (flows.cli refuses to start without a users file). Users live in a
YAML file written by `returnlens users add NAME --role ROLE`: argon2 password hashes, never
passwords. A page declares who may open it in PAGE_ROLES, keyed by its path; admin may open
every page. A callback belongs to the page its component ids are prefixed with
(`carriers-scorecard-table` → /carriers), which is how a finance session's direct POST to a
Carriers callback is refused with 403.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import dash
import polars as pl
import yaml
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, Response, current_app, has_request_context, redirect, request
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from dashboard.serving import CALLBACK_PATH, declared_ids, parse_id

ROLES = ("finance", "category", "ops", "admin")
ADMIN = "admin"

# Page path → the roles that may open it (admin may open every page). A page not listed here
# is admin-only until someone decides who needs it.
PAGE_ROLES: Mapping[str, frozenset[str]] = {
    "/": frozenset({"finance"}),
    "/costs": frozenset({"finance"}),
    "/policy": frozenset({"finance", "category"}),
    "/products": frozenset({"category"}),
    "/risk": frozenset({"category"}),
    "/vendors": frozenset({"category"}),
    "/carriers": frozenset({"ops"}),
    "/quality": frozenset({ADMIN}),
}

# Roles that see customer identifiers and free text (return comments, review text) unless a
# user's entry says otherwise: category managers read comments to learn why products come back.
CUSTOMER_DATA_ROLES = frozenset({"category", ADMIN})
MASK = "[hidden: customer data]"
# (feed, field) of the contract that identify a customer or carry their own words.
CUSTOMER_FIELDS = (("orders", "customer_id"), ("returns", "reason_text"),
                   ("reviews", "customer_id"), ("reviews", "text"))

LOGIN_PATH, LOGOUT_PATH = "/login", "/logout"
_PUBLIC = ("/assets/", "/_dash-component-suites/", "/_favicon.ico", LOGIN_PATH)
_PATH_INPUTS = {"_pages_location", "app-location"}
_hasher = PasswordHasher()


class AuthConfigError(ValueError):
    """The users file is missing, unreadable or names an unknown role."""


@dataclass(frozen=True)
class User(UserMixin):
    """A signed-in person: name, role and whether customer data is shown to them."""

    name: str
    role: str
    password_hash: str
    customer_data: bool

    def get_id(self) -> str:
        """Flask-Login's session key: the user name."""
        return self.name


@dataclass(frozen=True)
class UsersFile:
    """The parsed users file: the session-signing secret and the users by name."""

    secret_key: str
    users: Mapping[str, User]


def hash_password(password: str) -> str:
    """An argon2id hash of `password` (what the users file stores)."""
    return _hasher.hash(password)


def _user(name: str, entry: Any, path: Path) -> User:
    if not isinstance(entry, dict) or not isinstance(entry.get("password_hash"), str):
        raise AuthConfigError(f"{path}: user {name!r} has no password_hash")
    role = entry.get("role")
    if role not in ROLES:
        raise AuthConfigError(f"{path}: user {name!r} has role {role!r}; roles are "
                              f"{', '.join(ROLES)}")
    customer_data = entry.get("customer_data", role in CUSTOMER_DATA_ROLES)
    return User(str(name), role, entry["password_hash"], bool(customer_data))


def load_users(path: Path) -> UsersFile:
    """The users file at `path`, checked: every user has a role and a password hash."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise AuthConfigError(f"no users file at {path}") from None
    except (OSError, yaml.YAMLError) as exc:
        raise AuthConfigError(f"{path}: cannot read the users file ({exc})") from None
    users = raw.get("users") if isinstance(raw, dict) else None
    if not users or not isinstance(users, dict):
        raise AuthConfigError(f"{path}: no users; add one with `returnlens users add NAME "
                              "--role ROLE`")
    secret = os.environ.get("RETURNLENS_SECRET_KEY") or raw.get("secret_key")
    if not isinstance(secret, str) or len(secret) < 32:
        raise AuthConfigError(f"{path}: secret_key missing or shorter than 32 characters")
    return UsersFile(secret, {str(n): _user(n, e, path) for n, e in users.items()})


def _write(path: Path, raw: dict[str, Any]) -> None:
    """Write the users file readable by its owner only, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        yaml.safe_dump(raw, f, sort_keys=True)
    os.replace(tmp, path)


def _read_raw(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"secret_key": secrets.token_hex(32), "users": {}}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    raw.setdefault("secret_key", secrets.token_hex(32))
    raw.setdefault("users", {})
    return raw


def add_user(path: Path, name: str, role: str, password: str,
             customer_data: bool | None = None) -> None:
    """Add (or replace) user `name` with `role` in the users file, creating the file."""
    if role not in ROLES:
        raise AuthConfigError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
    raw = _read_raw(path)
    entry: dict[str, Any] = {"role": role, "password_hash": hash_password(password)}
    if customer_data is not None:
        entry["customer_data"] = customer_data
    raw["users"][name] = entry
    _write(path, raw)


def remove_user(path: Path, name: str) -> bool:
    """Remove user `name` from the users file; whether they were there."""
    raw = _read_raw(path)
    found = raw["users"].pop(name, None) is not None
    if found:
        _write(path, raw)
    return found


def may_open(role: str | None, path: str) -> bool:
    """Whether `role` may open the page at `path` (None: login is off, everything is open)."""
    return role is None or role == ADMIN or role in PAGE_ROLES.get(path, frozenset())


def _enabled() -> bool:
    """Whether the running app requires sign-in (no app: no server, no user, nothing to hide
    from; Dash builds the layout once outside a request to check it)."""
    return has_request_context() and bool(current_app.config.get("RETURNLENS_AUTH"))


def current_role() -> str | None:
    """The signed-in user's role, or None when login is off."""
    if not _enabled():
        return None
    return current_user.role if current_user.is_authenticated else ""


def current_user_name() -> str | None:
    """The signed-in user's name, or None when login is off or nobody is signed in."""
    if not _enabled() or not current_user.is_authenticated:
        return None
    return current_user.name


def can_see_customer_data() -> bool:
    """Whether this request may show customer identifiers and free text (comments, reviews)."""
    if not _enabled():
        return True
    return bool(current_user.is_authenticated and current_user.customer_data)


def mask_customer_data(frame: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    """`frame` with `columns` (where present and not empty) replaced by a notice, unless this
    request may see customer data; for pages and CSV downloads alike."""
    if can_see_customer_data():
        return frame
    present = [c for c in columns if c in frame.columns]
    return frame.with_columns(
        pl.when(pl.col(c).is_not_null()).then(pl.lit(MASK)).otherwise(None).alias(c)
        for c in present)


def _page_prefixes() -> dict[str, str]:
    """Component-id prefix (the page module's name) → page path, for every registered page."""
    return {p["module"].rsplit(".", 1)[-1]: p["path"] for p in dash.page_registry.values()}


def _id_text(component_id: Any) -> str:
    if isinstance(component_id, dict):
        return str(component_id.get("type", ""))
    return str(component_id)


def callback_pages(app: dash.Dash, body: dict[str, Any]) -> set[str]:
    """The pages a callback request touches: by the id prefixes of the components the callback
    declares (not the ids the request claims), and by the path a location input carries."""
    prefixes = _page_prefixes()
    spec = app.callback_map[body["output"]]
    ids = [*declared_ids(body["output"]),
           *(parse_id(i["id"]) for i in (*spec["inputs"], *spec["state"]))]
    pages = {path for component_id in ids for prefix, path in prefixes.items()
             if _id_text(component_id).startswith(f"{prefix}-")}
    for declared, sent in zip(spec["inputs"], body["inputs"], strict=True):
        if declared["id"] in _PATH_INPUTS and declared["property"] == "pathname" \
                and isinstance(sent.get("value"), str):
            path = sent["value"].rstrip("/") or "/"
            if path in prefixes.values():
                pages.add(path)
    return pages


def first_page(role: str | None) -> str | None:
    """The first page in navigation order that `role` may open."""
    for page in dash.page_registry.values():
        if may_open(role, page["path"]):
            return page["path"]
    return None


def _login_page(message: str = "", next_path: str = "/") -> Response:
    note = f'<div class="alert alert-danger py-2">{escape(message)}</div>' if message else ""
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ReturnLens · Sign in</title>
<link rel="stylesheet" href="/assets/00-bootstrap-5.3.9.min.css"></head>
<body class="bg-light"><main class="container" style="max-width: 24rem; margin-top: 12vh;">
<h1 class="h4 mb-3">ReturnLens</h1>{note}
<form method="post" action="{LOGIN_PATH}?{escape(urlencode({"next": next_path}))}">
<div class="mb-2"><label class="form-label" for="login-username">User</label>
<input class="form-control" id="login-username" name="username" autocomplete="username"
 required autofocus></div>
<div class="mb-3"><label class="form-label" for="login-password">Password</label>
<input class="form-control" id="login-password" name="password" type="password"
 autocomplete="current-password" required></div>
<button class="btn btn-primary w-100" id="login-button" type="submit">Sign in</button>
</form></main></body></html>"""
    return Response(body, status=401 if message else 200, mimetype="text/html")


def _local(path: str | None) -> str:
    """`path` if it is a path on this site (no open redirect), else the home page."""
    if path and path.startswith("/") and not path.startswith("//") and "\\" not in path:
        return path
    return "/"


def _forbidden(message: str) -> Response:
    if request.path.startswith("/_dash-"):
        return Response(message, status=403, mimetype="text/plain")
    home = first_page(current_role()) or LOGIN_PATH
    return Response(f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
                    f'<title>ReturnLens · Not for your role</title></head><body>'
                    f'<p>{escape(message)}</p><p><a href="{escape(home)}">Your pages</a></p>'
                    f'</body></html>', status=403, mimetype="text/html")


def install(app: dash.Dash, users: UsersFile) -> None:
    """Require sign-in on `app` and refuse every page and callback outside the role (after
    dashboard.serving.harden has refused malformed callback requests)."""
    server: Flask = app.server
    server.config.update(RETURNLENS_AUTH=True, SECRET_KEY=users.secret_key,
                         SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         REMEMBER_COOKIE_SAMESITE="Lax", REMEMBER_COOKIE_HTTPONLY=True)
    manager = LoginManager(server)
    manager.session_protection = "strong"
    manager.user_loader(users.users.get)

    @server.route(LOGIN_PATH, methods=["GET", "POST"])
    def login() -> Any:
        next_path = _local(request.args.get("next"))
        if request.method == "GET":
            return _login_page(next_path=next_path)
        user = users.users.get(request.form.get("username", ""))
        try:
            ok = user is not None and _hasher.verify(user.password_hash,
                                                     request.form.get("password", ""))
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            return _login_page("Wrong user name or password.", next_path)
        login_user(user)
        home = first_page(user.role) or "/"
        return redirect(next_path if next_path != "/" and may_open(
            user.role, next_path.split("?", 1)[0]) else home + _query(next_path))

    @server.route(LOGOUT_PATH, methods=["POST"])
    def logout() -> Any:
        logout_user()
        return redirect(LOGIN_PATH)

    @server.before_request
    def guard() -> Any:
        path = request.path
        if path.startswith(_PUBLIC) or path == LOGOUT_PATH:
            return None
        if not current_user.is_authenticated:
            if path.startswith("/_dash-"):
                return Response("sign in first", status=401, mimetype="text/plain")
            next_path = request.full_path.rstrip("?")
            return redirect(f"{LOGIN_PATH}?{urlencode({'next': next_path})}")
        role = current_user.role
        if path == CALLBACK_PATH:
            refused = sorted(p for p in callback_pages(app, request.get_json())
                             if not may_open(role, p))
            if refused:
                return _forbidden(f"role {role} may not use {', '.join(refused)}")
            return None
        page = path.rstrip("/") or "/"
        if request.method == "GET" and page in _page_prefixes().values() \
                and not may_open(role, page):
            if page == "/" and first_page(role):
                return redirect(first_page(role) + _query(request.full_path))
            return _forbidden(f"The {page} page is not open to the {role} role.")
        return None


def _query(full_path: str) -> str:
    """The '?…' part of a path, or ''."""
    query = full_path.partition("?")[2]
    return f"?{query}" if query else ""
