"""The read layer: typed functions over marts, model outputs and audit tables, one module per
subject, each taking an open connection and returning plain values or a polars frame.

The CLI, the dashboard and the models read the warehouse through these functions and nothing
else. Values are always bound parameters; column names in SQL text come from constants here.
"""

from warehouse.read import (
    abuse,
    carriers,
    costs,
    filters,
    kpis,
    policy,
    products,
    quality,
    risk,
    runs,
    vendors,
)

__all__ = ["abuse", "carriers", "costs", "filters", "kpis", "policy", "products", "quality",
           "risk", "runs", "vendors"]
