"""The Data quality page after a run whose every file was rejected: it says the run failed
and never that every expectation passed."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.dashboard.conftest import page
from tests.dashboard.helpers import text


@pytest.fixture(scope="module")
def rejected_url(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> str:
    """A warehouse whose only run was given an unreadable orders.csv and a returns.csv
    missing columns."""
    from flows.pipeline import pipeline

    source = tmp_path_factory.mktemp("rejected_source")
    (source / "orders.csv").write_bytes(b"order_id,\xff\xfe\x00garbage\n" + bytes(range(256)))
    (source / "returns.csv").write_text("return_id,foo\nR1,x\n")
    url = f"duckdb:///{tmp_path_factory.mktemp('rejected_wh') / 'returnlens.duckdb'}"
    summary = pipeline(source=Path(source), db=url)
    assert summary.status == "failed"
    return url


def test_quality_page_says_the_run_failed_and_no_expectation_was_checked(
        rejected_url: str) -> None:
    from dashboard.app import create_app

    create_app(rejected_url)
    summary, _gaps, _runs, _files, expectations, *_ = page("quality").update_quality("/quality")

    assert "Every expectation passed" not in text(expectations)
    assert "No expectation was checked on orders.csv, returns.csv" in text(expectations)
    assert "The latest run failed: 2 file(s) rejected whole" in text(summary)
