"""Every "Download CSV" button on every page answers with a CSV of its table, and every
download is safe to open in a spreadsheet (OWASP CSV injection)."""

from __future__ import annotations

import io
import json
from typing import Any

import dash
import polars as pl

from dashboard.components import inert_csv
from dashboard.filters import empty_state
from tests.dashboard.helpers import call_triggered, walk

FORMULAS = ['=HYPERLINK("http://127.0.0.1:9/","Click")', "@SUM(1,2)", "+1+1", "-2+3",
            "\tTAB", "\rCR"]


def _export_buttons() -> list[tuple[str, dict[str, str], Any]]:
    """(page path, button id, page layout) of every download button the app's pages show."""
    buttons = []
    for page in dash.page_registry.values():
        tree = page["layout"]() if callable(page["layout"]) else page["layout"]
        buttons += [(page["path"], c.id, tree) for c in walk(tree)
                    if isinstance(getattr(c, "id", None), dict)
                    and str(c.id.get("type", "")).endswith("-export-button")]
    return buttons


def _state_value(tree: Any, state: dict[str, str]) -> Any:
    """What a callback's State reads before any interaction: the layout's initial value."""
    if state["id"] == "filters-store":
        return empty_state()
    component = next(c for c in walk(tree) if getattr(c, "id", None) == state["id"])
    return getattr(component, state["property"], None)


def _download(app: dash.Dash, button: dict[str, str], tree: Any) -> dict[str, Any]:
    """Call the download callback of `button` as a click on it would."""
    output = json.dumps({"table": ["MATCH"], "type": button["type"].replace(
        "-export-button", "-export-download")}, separators=(",", ":")) + ".data"
    entry = app.callback_map[output]
    states = [_state_value(tree, s) for s in entry["state"]]
    return call_triggered(entry["callback"].__wrapped__, button, 1, *states)


def test_every_download_button_on_every_page_sends_a_csv(app: dash.Dash) -> None:
    buttons = _export_buttons()
    failures = {}
    for path, button, tree in buttons:
        try:
            sent = _download(app, button, tree)
            pl.read_csv(io.StringIO(sent["content"]), infer_schema_length=0)
            assert sent["filename"].endswith(".csv")
        except Exception as error:  # noqa: BLE001  (collect every failing button)
            failures[f"{path} {button['table']}"] = repr(error)

    assert len(buttons) >= 15
    assert failures == {}


def test_every_download_is_inert_in_a_spreadsheet(app: dash.Dash) -> None:
    for _path, button, tree in _export_buttons():
        exported = pl.read_csv(io.StringIO(_download(app, button, tree)["content"]),
                               infer_schema_length=0)
        for column in exported.columns:
            values = exported[column].drop_nulls()
            assert not values.str.contains(r"^[=+@\t\r]").any(), (button, column)


def test_formula_cells_are_written_as_text() -> None:
    frame = pl.DataFrame({"sku": FORMULAS, "comment": ["ok"] * len(FORMULAS)})

    exported = pl.read_csv(io.StringIO(inert_csv(frame)))

    assert exported["sku"].to_list() == ["'" + f for f in FORMULAS]
    assert exported["comment"].to_list() == ["ok"] * len(FORMULAS)


def test_a_ten_megabyte_value_is_written_whole() -> None:
    huge = "=cmd " + "x" * 10_000_000
    exported = pl.read_csv(io.StringIO(inert_csv(pl.DataFrame({"comment": [huge]}))))
    assert exported["comment"][0] == "'" + huge


def test_numbers_and_harmless_text_are_written_unchanged() -> None:
    frame = pl.DataFrame({"net_cost": [-12.5, 3.0], "sku": ["A-1", "a=b"],
                          "reason": pl.Series(["-", "x"], dtype=pl.Categorical)})

    exported = pl.read_csv(io.StringIO(inert_csv(frame)))

    assert exported["net_cost"].to_list() == [-12.5, 3.0]
    assert exported["sku"].to_list() == ["A-1", "a=b"]
    assert exported["reason"].to_list() == ["'-", "x"]
