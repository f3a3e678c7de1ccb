"""Headless Chromium as the browser tests and the first-render benchmark drive it, and
what on each page says its data has arrived."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from dash.testing.wait import until
from selenium.webdriver.chrome.options import Options

PAGES = {  # path → an element that exists only once the page's data has arrived
    "/": "#overview-kpi-orders",
    "/products": "#products-level-table table",
    "/costs": "#costs-kpi-net-cost",
    "/carriers": "#carriers-scorecard-table table",
    "/quality": "#quality-runs-table table",
    "/policy": "#policy-result-table table",
    "/risk": "#risk-card-loaded",
}


# every text of a chart whose box meets its modebar's (drawn over the chart's top right)
_UNDER_MODEBAR = """
const hits = [];
for (const graph of document.querySelectorAll('.js-plotly-plot')) {
  const bar = graph.querySelector('.modebar');
  const b = bar && bar.getBoundingClientRect();
  if (!b || !b.width) continue;
  for (const t of graph.querySelectorAll('svg text')) {
    const r = t.getBoundingClientRect();
    if (t.textContent.trim() && r.width && r.left < b.right && r.right > b.left
        && r.top < b.bottom && r.bottom > b.top)
      hits.push((graph.closest('[id]') || graph).id + ': ' + t.textContent.trim());
  }
}
return hits;
"""


def text_under_modebar(driver: Any) -> list[str]:
    """'graph-id: text' for every chart text the chart's modebar covers (a legend, a label,
    tick labels of a top axis): at the house top margin such text sat under it."""
    return driver.execute_script(_UNDER_MODEBAR)


def tables_wider_than_their_cards(driver: Any) -> list[str]:
    """The ids of the cards whose table is wider than the card shows (a column scrolled out
    of sight)."""
    return driver.execute_script("""
        return Array.from(document.querySelectorAll('.frame-table'))
            .filter(t => t.scrollWidth > t.clientWidth + 1)
            .map(t => (t.closest('[id]') || t).id);""")


def headless_chromium() -> Options:
    """Chrome options: the system Chromium, headless, fit for CI containers."""
    options = Options()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium:
        options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    return options


def allow_downloads(dash_duo: Any) -> Path:
    """Let Chromium save downloads into dash_duo's download folder, and return the folder."""
    folder = Path(dash_duo.download_path)
    dash_duo.driver.execute_cdp_cmd("Page.setDownloadBehavior",
                                    {"behavior": "allow", "downloadPath": str(folder)})
    return folder


def downloaded(folder: Path, name: str, timeout: float = 60) -> Path:
    """The downloaded file `name` once Chromium has finished it: it writes into a .crdownload
    file and renames it when done."""
    target = folder / name
    until(lambda: target.exists() and not any(folder.glob("*.crdownload")), timeout=timeout)
    return target


_CLICK = "arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();"
# options found and read in one script each: found and read apart, an option the dropdown
# re-rendered in between raised StaleElementReferenceException
_OPTION = ("return Array.from(document.querySelectorAll('.dash-dropdown-option'))"
           ".find(o => arguments[1] ? o.innerText.startsWith(arguments[0])"
           " : o.innerText.trim() === arguments[0]) || null;")


def _click_option(dash_duo: Any, text: str, prefix: bool) -> None:
    """Wait for the open dropdown's option `text` (or the first starting with it) and click
    it."""
    until(lambda: dash_duo.driver.execute_script(_OPTION, text, prefix) is not None,
          timeout=20)
    dash_duo.driver.execute_script(
        f"const o = (() => {{ {_OPTION} }})(); {_CLICK.replace('arguments[0]', 'o')}",
        text, prefix)


def choose_option(dash_duo: Any, dropdown: str, text: str) -> None:
    """Open the dropdown `dropdown` (a CSS selector) and choose its option `text`."""
    dash_duo.driver.execute_script(_CLICK, dash_duo.find_element(dropdown))
    _click_option(dash_duo, text, prefix=False)


def pick_sku(dash_duo: Any, typed: str, sku: str) -> None:
    """Type `typed` into the Products page's SKU search, pick `sku` from the matches and wait
    for its drill-down."""
    dash_duo.driver.execute_script(_CLICK, dash_duo.find_element("#products-search-dropdown"))
    dash_duo.find_element(".dash-dropdown-search").send_keys(typed)
    _click_option(dash_duo, sku, prefix=True)
    dash_duo.wait_for_text_to_equal("#products-drill-current", sku, timeout=30)


def assert_nothing_fetched_or_run(dash_duo: Any, container: str) -> None:
    """No request left the page for another host, and `container` holds no img or script
    element, and no script from the data ran (it would set window.__pwned)."""
    fetched = dash_duo.driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert [url for url in fetched if not url.startswith(dash_duo.server_url)] == []
    assert dash_duo.driver.execute_script(
        f"return [document.querySelectorAll('{container} img, {container} script').length,"
        " window.__pwned === undefined]") == [0, True]
