"""Scheduled pipeline runs: a Prefect deployment of the pipeline flow, served by a long-lived
process against a long-lived Prefect server (PREFECT_API_URL).

Without PREFECT_API_URL every `returnlens pipeline` starts Prefect's temporary server (10–20 s
of a small run); a scheduled daily run should not pay that, and its history should outlive the
process. docs/operations.md says how to run the server and this deployment.
"""

from __future__ import annotations

from pathlib import Path

from prefect.deployments.runner import RunnerDeployment

from flows.pipeline import pipeline

DEPLOYMENT_NAME = "returnlens-daily"


def pipeline_deployment(source: Path, db: str, source_kind: str = "files",
                        cron: str = "0 2 * * *") -> RunnerDeployment:
    """The pipeline over `source` into `db` on the `cron` schedule, one run at a time."""
    return pipeline.to_deployment(
        name=DEPLOYMENT_NAME, cron=cron, concurrency_limit=1,
        parameters={"source": str(source), "db": db, "source_kind": source_kind},
        description=f"Load {source} ({source_kind}) into {db} and rebuild the marts.",
        tags=["returnlens"])
