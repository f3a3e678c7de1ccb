"""Building Dash callback requests the way the browser sends them, and a users file for tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dash

from dashboard.auth import add_user
from dashboard.filters import empty_state
from dashboard.serving import declared_ids

PASSWORDS = {"fin": "finance-pass", "cat": "category-pass", "cat-masked": "category-pass-2",
             "ops": "ops-pass-123", "adm": "admin-pass-123"}
ROLES = {"fin": "finance", "cat": "category", "cat-masked": "category", "ops": "ops",
         "adm": "admin"}


def write_users(path: Path) -> Path:
    """A users file with one user per role, and a category user who may not see customer data."""
    for name, role in ROLES.items():
        add_user(path, name, role, PASSWORDS[name],
                 customer_data=False if name == "cat-masked" else None)
    return path


def callback_key(app: dash.Dash, output: str) -> str:
    """The key of the callback that writes `output` ('component-id.property')."""
    for key in app.callback_map:
        if output in (key[2:-2].split("...") if key.startswith("..") else [key]):
            return key
    raise KeyError(output)


def callback_body(app: dash.Dash, output: str, values: dict[str, Any] | None = None) -> dict:
    """The JSON body of a callback request for the callback writing `output`, every input and
    state None except the filters (nothing filtered) and `values` ('id.prop' → value)."""
    key = callback_key(app, output)
    spec = app.callback_map[key]
    props = [part.rsplit(".", 1)[1] for part in
             (key[2:-2].split("...") if key.startswith("..") else [key])]
    outputs = [{"id": i, "property": p} for i, p in zip(declared_ids(key), props, strict=True)]
    values = {"filters-store.data": empty_state(), **(values or {})}

    def entry(item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "value": values.get(f"{item['id']}.{item['property']}")}

    return {"output": key, "outputs": outputs if key.startswith("..") else outputs[0],
            "inputs": [entry(i) for i in spec["inputs"]],
            "state": [entry(s) for s in spec["state"]],
            "changedPropIds": [f"{i['id']}.{i['property']}" for i in spec["inputs"]]}
