"""Orchestration: Prefect flows that ingest the feeds and build the warehouse.

Importing this package makes Prefect quiet and offline unless the user configured otherwise:
no telemetry (there may be no internet), no UI, warnings only, and a patient start-up for the
temporary local server Prefect starts when no PREFECT_API_URL is set.
"""

import os

for _name, _value in {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_SERVER_UI_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    "PREFECT_SERVER_LOGGING_LEVEL": "CRITICAL",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    "PREFECT_LOGGING_TO_API_ENABLED": "false",
    # Great Expectations draws a tqdm bar per validation; tqdm reads this when imported
    "TQDM_DISABLE": "1",
    "GX_ANALYTICS_ENABLED": "False",
}.items():
    os.environ.setdefault(_name, _value)
