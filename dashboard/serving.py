"""Serving the dashboard to a team: allowed hosts, security headers, bounded requests, and a
production WSGI server (gunicorn) with workers sized to the machine.

The Flask development server is for `--debug` only: it serialises requests behind the GIL.
gunicorn runs several worker processes (each with its own read connections and caches; DuckDB
allows many read-only readers) with a few threads each, so one slow page does not hold up
the next user.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Callable, Iterable
from typing import Any

import dash
from flask import Flask, Response, abort, request
from gunicorn.app.base import BaseApplication
from werkzeug.exceptions import SecurityError

MAX_CALLBACK_BYTES = 256 * 1024  # a real callback request is a few kB; refuse 5 MB values
MAX_STRING_CHARS = 10_000  # longest text any control sends (a search string, a store's value)
CALLBACK_PATH = "/_dash-update-component"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def is_local(host: str) -> bool:
    """Whether binding `host` keeps the dashboard on this machine."""
    return host in LOCAL_HOSTS


def default_allowed_hosts(bind: str) -> list[str]:
    """Host names a browser may use to reach a server bound to `bind`: localhost, and when
    bound beyond it, this machine's name, fully qualified name and addresses."""
    hosts = [*LOCAL_HOSTS]
    if not is_local(bind):
        name = socket.gethostname()
        hosts += [name, socket.getfqdn()]
        with contextlib.suppress(OSError):
            hosts += socket.gethostbyname_ex(name)[2]
        if bind not in ("0.0.0.0", "::"):
            hosts.append(bind)
    return sorted(set(hosts))


def _longest_string(value: Any, depth: int = 0) -> int:
    """Length of the longest string inside a JSON value (deep nesting counts as too long)."""
    if depth > 20:
        return MAX_STRING_CHARS + 1
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list):
        return max((_longest_string(v, depth + 1) for v in value), default=0)
    return 0


def parse_id(component_id: Any) -> Any:
    """A component id as Dash declares it: text, or a pattern-matching id (kept as JSON)."""
    if isinstance(component_id, str) and component_id.startswith("{"):
        return json.loads(component_id)
    return component_id


def declared_ids(spec: str) -> list[Any]:
    """The component ids in a callback's output key ('..a.children...b.figure..', or one
    'id.prop'; pattern-matching ids are JSON)."""
    parts = spec[2:-2].split("...") if spec.startswith("..") else [spec]
    return [parse_id(part.rsplit(".", 1)[0]) for part in parts]


def _matches(declared: dict[str, Any], sent: Any) -> bool:
    """Whether an entry of a callback request fits its declared input (wildcards expand)."""
    pattern = parse_id(declared["id"])
    if isinstance(pattern, dict):
        entries = sent if isinstance(sent, list) else [sent]
        return all(isinstance(e, dict) and isinstance(e.get("id"), dict)
                   and e.get("property") == declared["property"]
                   and e["id"].keys() == pattern.keys()
                   and all(e["id"][k] == v for k, v in pattern.items()
                           if not isinstance(v, list))
                   for e in entries)
    return (isinstance(sent, dict) and sent.get("id") == declared["id"]
            and sent.get("property") == declared["property"])


def callback_request_problem(app: dash.Dash, body: Any) -> str | None:
    """What makes a callback request one the page cannot have sent, or None if it is sound:
    an unknown callback, inputs that are not the ones it declares, or an oversized value."""
    if not isinstance(body, dict):
        return "malformed callback request"
    spec = app.callback_map.get(body.get("output")) if isinstance(body.get("output"), str) \
        else None
    if spec is None:
        return "no such callback"
    outputs = body.get("outputs")
    n_outputs = len(declared_ids(body["output"]))
    if body["output"].startswith(".."):
        if not isinstance(outputs, list) or len(outputs) != n_outputs:
            return "malformed callback outputs"
    elif not isinstance(outputs, dict | list):
        return "malformed callback outputs"
    for key in ("inputs", "state"):
        sent, declared = body.get(key, []), spec[key]
        if not isinstance(sent, list) or len(sent) != len(declared) or not all(
                _matches(d, e) for d, e in zip(declared, sent, strict=True)):
            return f"callback {key} are not the ones the callback declares"
    longest = _longest_string([body.get("inputs"), body.get("state")])
    if longest > MAX_STRING_CHARS:
        return f"an input value of {longest:,} characters; at most {MAX_STRING_CHARS:,}"
    return None


def content_security_policy(app: dash.Dash) -> str:
    """A CSP that lets the app run and loads nothing from elsewhere: scripts only from this
    server plus Dash's own inline scripts (by hash), no frames, no remote images."""
    scripts = " ".join(["'self'", *app.csp_hashes()])
    return "; ".join((
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",  # plotly and Dash components set inline styles
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def set_up_before_serving(app: dash.Dash) -> None:
    """Run Dash's first-request set-up now, in this process, before it serves anything.

    Dash runs it from a before-request hook behind a flag it sets before the work is done
    (plotly/dash#3971): under gunicorn's threads, the scripts a browser asked for while the
    first page was being set up found no library registered and got 500s, and the page stayed
    at "Loading..." (one cold load in three on a 2-core machine). Call it before adding other
    hooks, so that only Dash's own run here.
    """
    with app.server.test_request_context("/"):
        app.server.preprocess_request()


def harden(app: dash.Dash, allowed_hosts: Iterable[str] | None) -> None:
    """Refuse unknown Host headers and oversized callback requests (400), before sign-in is
    checked, and send security headers on every response."""
    server: Flask = app.server
    if allowed_hosts is not None:
        server.config["TRUSTED_HOSTS"] = sorted(set(allowed_hosts))
    server.config["MAX_CONTENT_LENGTH"] = MAX_CALLBACK_BYTES

    @server.before_request
    def bounded() -> None:
        if isinstance(request.routing_exception, SecurityError):  # Host not in TRUSTED_HOSTS
            abort(400, "unknown host")
        if request.method == "POST" and (request.content_length or 0) > MAX_CALLBACK_BYTES:
            abort(400, f"request of {request.content_length:,} bytes; at most "
                       f"{MAX_CALLBACK_BYTES:,}")
        if request.path == CALLBACK_PATH and request.method == "POST":
            problem = callback_request_problem(app, request.get_json(silent=True))
            if problem:
                abort(400, problem)

    @server.after_request
    def headers(response: Response) -> Response:
        # made for every response from the inline scripts known now: a policy kept from a
        # worker's first response lacked the ones Dash was still registering in another thread
        # (the page-title callback), and the browser refused to run them
        response.headers.setdefault("Content-Security-Policy", content_security_policy(app))
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @server.errorhandler(400)
    def bad_request(error: Any) -> Response:
        return Response(str(getattr(error, "description", "bad request")), status=400,
                        mimetype="text/plain")

    @server.errorhandler(413)
    def too_large(_error: Any) -> Response:
        return Response(f"request larger than {MAX_CALLBACK_BYTES:,} bytes", status=400,
                        mimetype="text/plain")


def default_workers() -> int:
    """Worker processes for this machine: one per core (the work is CPU-bound in DuckDB and
    polars, so more processes than cores only add memory)."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


class _Gunicorn(BaseApplication):
    """gunicorn driven from Python, with the app made in each worker (no shared DuckDB
    connection across a fork)."""

    def __init__(self, factory: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.factory()


def run_gunicorn(factory: Callable[[], Flask], host: str, port: int, workers: int,
                 threads: int) -> None:
    """Serve the Flask app that `factory` makes under gunicorn until interrupted."""
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    _Gunicorn(factory, {
        "bind": bind, "workers": workers, "threads": threads, "worker_class": "gthread",
        "timeout": 120, "graceful_timeout": 10, "keepalive": 30, "accesslog": None,
        "errorlog": "-", "loglevel": "warning", "limit_request_line": 8190,
    }).run()
