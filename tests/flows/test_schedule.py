"""Scheduled runs: the daily deployment of the pipeline, and the command that serves it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from flows.cli import app
from flows.schedule import DEPLOYMENT_NAME, pipeline_deployment


def test_the_deployment_runs_the_pipeline_on_the_schedule_one_run_at_a_time(tmp_path: Path):
    deployment = pipeline_deployment(tmp_path, "duckdb:////tmp/w.duckdb", "files", "30 3 * * *")
    assert deployment.name == DEPLOYMENT_NAME
    assert deployment.parameters == {"source": str(tmp_path), "db": "duckdb:////tmp/w.duckdb",
                                     "source_kind": "files"}
    assert [s.schedule.cron for s in deployment.schedules] == ["30 3 * * *"]
    assert deployment.concurrency_limit == 1
    assert deployment.entrypoint.endswith("flows/pipeline.py:pipeline")


def test_scheduling_without_a_long_lived_prefect_server_says_how_to_start_one(tmp_path: Path):
    result = CliRunner().invoke(app, ["schedule", "--source", str(tmp_path)],
                                env={"PREFECT_API_URL": ""})
    assert result.exit_code == 2
    assert "prefect server start" in result.output
