"""notebooks/01_online_retail_returns.ipynb runs, top to bottom, on a warehouse of the extract."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

from warehouse import read
from warehouse.engine import reader_engine

NOTEBOOK = Path(__file__).parents[3] / "notebooks" / "01_online_retail_returns.ipynb"


def test_the_online_retail_notebook_runs_on_the_extract(retail_warehouse, monkeypatch):
    url, _ = retail_warehouse
    monkeypatch.setenv("RETURNLENS_DATABASE_URL", url)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = "\n".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert url in shown
    with reader_engine(url).connect() as conn:
        units_sold = read.kpis.kpis(conn)["units_sold"]
    assert f"'units_sold': {units_sold}" in shown
