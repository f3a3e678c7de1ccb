"""First render of every dashboard page, as a user's browser sees it.

    .venv/bin/python bench/first_render_bench.py --db duckdb:////tmp/dash.duckdb --repeat 3

For each page and round: a fresh `returnlens serve` process (so nothing is cached and no
connection is open), a fresh headless Chromium profile (a first visit: every script
downloaded and compiled) or, with --warm-browser, a profile that has opened the page before
(as a returning user's browser), then the time from navigation start until every callback
of the page has answered and every graph has drawn its figure. Prints p50 and max per page;
asserts nothing.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from selenium import webdriver

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root
from tests.browser import PAGES, headless_chromium  # noqa: E402

SETTLED = """
const ready = document.querySelector(arguments[0]) !== null;
const loading = document.querySelectorAll('[data-dash-is-loading="true"]').length;
const graphs = Array.from(document.querySelectorAll('.dash-graph'));
const drawn = graphs.every(g => {
  const gd = g.querySelector('.js-plotly-plot');
  return gd && gd.layout && ((gd.data || []).length || (gd.layout.annotations || []).length);
});
return ready && loading === 0 && drawn ? performance.now() : null;
"""


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: str, port: int) -> subprocess.Popen[bytes]:
    """`returnlens serve` on `port`, once it answers HTTP."""
    exe = Path(sys.executable).parent / "returnlens"
    server = subprocess.Popen([str(exe), "serve", "--db", db, "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_dash-layout", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"returnlens serve did not answer on port {port} within 60 s")


def browser(profile: Path | None) -> webdriver.Chrome:
    """Headless Chromium (the browser tests' options) with a fresh or the given profile."""
    options = headless_chromium()
    if profile is not None:
        options.add_argument(f"--user-data-dir={profile}")
    return webdriver.Chrome(options=options)


def first_render_ms(db: str, path: str, marker: str, port: int,
                    profile: Path | None = None) -> float:
    """Milliseconds from navigation start to the settled page, on a fresh server."""
    server = start_server(db, port)
    driver = browser(profile)
    try:
        driver.get(f"http://127.0.0.1:{port}{path}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            settled = driver.execute_script(SETTLED, marker)
            if settled is not None:
                return float(settled)
            time.sleep(0.02)
        raise RuntimeError(f"{path} did not settle within 60 s")
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    """Measure every page and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True, help="warehouse URL, e.g. duckdb:////tmp/w.duckdb")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per page")
    parser.add_argument("--warm-browser", action="store_true",
                        help="a browser that has opened the page before (its HTTP and code "
                             "caches warm; the server still fresh each round)")
    args = parser.parse_args()
    port = free_port()  # one origin for every round, so a kept profile's caches apply
    browser_kind = "a browser that opened the page before" if args.warm_browser \
        else "a fresh browser profile"
    print(f"warehouse {args.db}; {args.repeat} rounds per page, each on a fresh server and "
          f"{browser_kind}\n")
    print(f"{'page':<10} {'first render p50':>17} {'max':>8}")
    for path, marker in PAGES.items():
        with tempfile.TemporaryDirectory() as profile_dir:
            profile = Path(profile_dir) if args.warm_browser else None
            if profile is not None:
                first_render_ms(args.db, path, marker, port, profile)  # warms the profile
            times = [first_render_ms(args.db, path, marker, port, profile)
                     for _ in range(args.repeat)]
        print(f"{path:<10} {statistics.median(times):>15.0f}ms {max(times):>6.0f}ms")


if __name__ == "__main__":
    main()
