"""The `returnlens` command as a user runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.reference import reference_kpis

runner = CliRunner()


def returnlens(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "returnlens"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETURNLENS_")}
    return subprocess.run([str(exe), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def cli_shop(tmp_path_factory):
    """A small CSV shop generated and loaded with the command, as a user would."""
    tmp_path = tmp_path_factory.mktemp("cli")
    shop, db = tmp_path / "shop", f"duckdb:///{tmp_path / 'w.duckdb'}"
    generated = returnlens("generate", "--orders", "1500", "--seed", "3", "--out", str(shop),
                           "--format", "csv", cwd=tmp_path)
    assert generated.returncode == 0, generated.stderr
    loaded = returnlens("pipeline", "--source", str(shop), "--db", db, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    return tmp_path, shop, db, loaded


def test_generate_pipeline_kpis_from_the_command_line(cli_shop):
    tmp_path, shop, db, loaded = cli_shop
    assert (shop / "orders.csv").exists() and (shop / "_truth").is_dir()
    assert "quarantined 0" in loaded.stderr
    printed = returnlens("kpis", "--json", "--db", db, cwd=tmp_path)
    assert printed.returncode == 0, printed.stderr
    for path in shop.glob("*.csv"):  # the reference reads Parquet
        pl.read_csv(path, try_parse_dates=True).write_parquet(path.with_suffix(".parquet"))
    expected = reference_kpis(shop)
    got = json.loads(printed.stdout)
    assert got.keys() == expected.keys()
    for key in ("orders", "units_sold", "units_returned", "rto_units"):
        assert got[key] == expected[key], key
    assert abs(got["refund_value"] - expected["refund_value"]) < 0.01


def test_the_pipeline_prints_its_own_report_without_library_chatter(cli_shop):
    output = cli_shop[3].stdout + cli_shop[3].stderr
    assert "loaded orders.csv" in output
    for chatter in ("ephemeral docs site", "Calculating Metrics", "Beginning flow run",
                    "Finished in state"):
        assert chatter not in output, chatter


def test_kpis_without_a_warehouse_say_what_to_do(tmp_path):
    result = runner.invoke(app, ["kpis", "--db", f"duckdb:///{tmp_path / 'none.duckdb'}"])
    assert result.exit_code == 2
    assert "no warehouse at" in result.output and "returnlens pipeline" in result.output


def test_pipeline_on_a_missing_folder_says_so(tmp_path):
    result = runner.invoke(app, ["pipeline", "--source", str(tmp_path / "nope"), "--db",
                                 f"duckdb:///{tmp_path / 'w.duckdb'}"])
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_source_kind_lists_the_kinds(tmp_path):
    result = runner.invoke(app, ["pipeline", "--source", str(tmp_path), "--source-kind",
                                 "excel97"])
    assert result.exit_code == 2
    assert "files" in result.output


def test_a_bad_date_is_refused_with_the_format(tmp_path):
    result = runner.invoke(app, ["kpis", "--from", "01/02/2025", "--db",
                                 f"duckdb:///{tmp_path / 'w.duckdb'}"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output


def test_generate_under_a_policy_file_writes_that_policy(tmp_path):
    (tmp_path / "policy.csv").write_text(
        "policy_id,effective_from,effective_to,window_days,restocking_fee_pct,"
        "free_return_shipping\nFLAT7,2024-01-01,,7,0.05,false\n")
    result = runner.invoke(app, ["generate", "--orders", "500", "--out", str(tmp_path / "shop"),
                                 "--policy", str(tmp_path / "policy.csv")])
    assert result.exit_code == 0, result.output
    policy = pl.read_parquet(tmp_path / "shop" / "return_policy.parquet")
    assert policy["policy_id"].to_list() == ["FLAT7"]


def test_generate_with_a_bad_policy_file_names_the_file_row_and_field(tmp_path):
    (tmp_path / "policy.csv").write_text(
        "policy_id,effective_from,effective_to,window_days,restocking_fee_pct,"
        "free_return_shipping\nA,2024-01-01,,-3,0,true\n")
    result = runner.invoke(app, ["generate", "--orders", "500", "--out", str(tmp_path / "shop"),
                                 "--policy", str(tmp_path / "policy.csv")])
    assert result.exit_code == 2
    assert "policy.csv, row 1, field window_days" in " ".join(result.output.split())
    assert not (tmp_path / "shop").exists()


def test_generate_with_a_policy_that_leaves_days_uncovered_writes_nothing(tmp_path):
    (tmp_path / "policy.csv").write_text(
        "policy_id,effective_from,effective_to,window_days,restocking_fee_pct,"
        "free_return_shipping\nLATE,2024-03-01,,30,0,true\n")
    result = runner.invoke(app, ["generate", "--orders", "500", "--out", str(tmp_path / "shop"),
                                 "--policy", str(tmp_path / "policy.csv")])
    assert result.exit_code == 2
    assert "policy.csv: no policy covers apparel orders on 2024-01-01" in " ".join(
        result.output.split())
    assert not (tmp_path / "shop").exists()
