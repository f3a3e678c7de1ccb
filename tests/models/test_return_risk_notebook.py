"""notebooks/02_return_risk.ipynb runs, top to bottom, on the test warehouse and its truth."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).parents[2] / "notebooks" / "02_return_risk.ipynb"


def test_the_return_risk_notebook_runs_on_a_warehouse(warehouse_url, shop_dir, monkeypatch):
    monkeypatch.setenv("RETURNLENS_DATABASE_URL", warehouse_url)
    monkeypatch.setenv("RETURNLENS_TRUTH_DIR", str(shop_dir / "_truth"))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    shown = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
                      for o in outputs)
    assert warehouse_url in shown
    assert "Bayes ceiling" in shown and "backtest MAPE of units" in shown
