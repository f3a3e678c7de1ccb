"""The test command refuses to pass silently when the real datasets are missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import REPO

pytestmark = pytest.mark.slow  # each test starts pytest in a subprocess

# A real-data test that needs no Prefect server, so the subprocess stays quick.
REAL_DATA_TEST = ("tests/flows/sources/test_olist.py::"
                  "test_the_shared_sample_with_its_own_file_names_maps_too")


def run_pytest(shared_data: Path, *args: str, allow_missing: bool = False
               ) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("RETURNLENS_SHARED_DATA", "RETURNLENS_ALLOW_MISSING_REAL_DATA")}
    env.update(RETURNLENS_SHARED_DATA=str(shared_data), COLUMNS="400")  # no cut summary lines
    if allow_missing:
        env["RETURNLENS_ALLOW_MISSING_REAL_DATA"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_missing_real_data_fails_the_run_naming_where_it_is_expected(tmp_path: Path) -> None:
    result = run_pytest(tmp_path / "nowhere", REAL_DATA_TEST)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert f"expected in {tmp_path / 'nowhere'}" in result.stderr
    assert "olist_sample absent" in result.stderr


def test_missing_real_data_skips_when_the_user_opts_out(tmp_path: Path) -> None:
    result = run_pytest(tmp_path / "nowhere", REAL_DATA_TEST, "-rs", allow_missing=True)
    assert result.returncode == pytest.ExitCode.OK, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert f"{tmp_path / 'nowhere'}/olist_sample is absent" in result.stdout


def test_missing_real_data_is_no_obstacle_when_its_tests_are_deselected(tmp_path: Path) -> None:
    result = run_pytest(tmp_path / "nowhere", REAL_DATA_TEST, "-m", "not realdata")
    assert result.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, result.stdout + result.stderr
    assert "1 deselected" in result.stdout
