"""The `returnlens` command as a user runs it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from flows.cli import app
from tests.reference import reference_kpis
from warehouse.engine import reader_engine

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


@pytest.mark.slow  # each command a subprocess that starts its own temporary Prefect server
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


@pytest.mark.slow  # cli_shop's subprocesses
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


def test_a_run_whose_every_file_is_rejected_fails_with_one_line_per_file(tmp_path):
    source = tmp_path / "bad"
    source.mkdir()
    (source / "orders.csv").write_bytes(b"order_id,\xff\xfe\x00garbage\n" + bytes(range(256)) * 8)
    (source / "returns.csv").write_text("return_id,foo\nR1,x\n")
    db = f"duckdb:///{tmp_path / 'w.duckdb'}"

    result = returnlens("pipeline", "--source", str(source), "--db", db, cwd=tmp_path)

    output = result.stdout + result.stderr
    assert result.returncode == 1
    assert "Traceback" not in output and "\\x" not in output
    rejected = [line for line in output.splitlines() if line.startswith("rejected ")]
    assert [line.split(":")[0] for line in rejected] == ["rejected orders.csv",
                                                          "rejected returns.csv"]
    assert "not valid UTF-8" in rejected[0] and "missing required column" in rejected[1]
    assert "run " in output and " failed: 2 of 2 files rejected whole" in output
    with reader_engine(db).connect() as conn:
        assert conn.execute(sa.text("SELECT status FROM audit.runs")).scalars().all() == [
            "failed"]


def test_the_kpi_table_prints_rates_as_percentages(cli_shop):
    tmp_path, _shop, db, _loaded = cli_shop
    printed = returnlens("kpis", "--db", db, cwd=tmp_path)
    rate = json.loads(returnlens("kpis", "--json", "--db", db, cwd=tmp_path).stdout)[
        "return_rate_units"]

    row = next(line for line in printed.stdout.splitlines() if "return_rate_units" in line)
    assert f"{rate:.1%}" in row
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
