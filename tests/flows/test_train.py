"""The training flow and the `train` / `score` commands: judged metrics, a versioned model on
disk, outputs in the warehouse, and the same model from the same data and seed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.train import TrainSummary, score, train
from models import registry
from warehouse import read
from warehouse.engine import derived_path, duckdb_path, reader_engine

runner = CliRunner()


def copy_of(url: str, folder: Path) -> str:
    """A copy of a DuckDB warehouse and its derived outputs in `folder`, for a test that
    writes: the trained warehouse is shared by the session."""
    folder.mkdir(parents=True, exist_ok=True)
    live = duckdb_path(url)
    for path in (live, derived_path(url)):
        shutil.copyfile(path, folder / path.name)
    return f"duckdb:///{folder / live.name}"


@pytest.fixture(scope="module")
def cli_run(trained_warehouse: tuple[str, Path], shop_dir: Path,
            tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """`returnlens train --json --truth` on a copy of the trained warehouse, models in a fresh
    folder."""
    data_dir = tmp_path_factory.mktemp("data")
    url = copy_of(trained_warehouse[0], data_dir / "warehouse")
    result = runner.invoke(app, ["train", "--db", url, "--json", "--truth",
                                 str(shop_dir / "_truth"), "--seed", "7",
                                 "--backtest-cuts", "2"],
                           env={"RETURNLENS_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1]), data_dir


def test_train_json_prints_the_judged_figures(cli_run: tuple[dict, Path]) -> None:
    metrics, _ = cli_run
    risk = metrics["return_risk"]
    for key in ("roc_auc", "pr_auc", "brier", "baseline_roc_auc", "bayes_roc_auc"):
        assert isinstance(risk[key], float), key
    assert risk["roc_auc"] > risk["baselines"]["category_rate"]["roc_auc"] + 0.03
    assert risk["baseline_roc_auc"] == max(b["roc_auc"] for b in risk["baselines"].values())
    # no model of what is known at ordering beats the true probabilities
    assert risk["roc_auc"] < risk["bayes_roc_auc"]
    assert 0 <= metrics["fraud"]["precision_at_1pct"] <= 1
    assert 0 <= metrics["fraud"]["recall_at_1pct"] <= 1
    assert metrics["reserve"]["cuts"] == 2
    assert metrics["reserve"]["backtest_mape"] >= 0


def test_same_data_and_seed_give_the_same_model_and_metrics(
        cli_run: tuple[dict, Path], trained_warehouse: tuple[str, Path]) -> None:
    url, models = trained_warehouse
    metrics, data_dir = cli_run
    first = registry.load(registry.latest(models))[1]["metrics"]
    second = registry.load(registry.latest(data_dir / "models"))[1]["metrics"]
    assert first == second
    assert first["return_risk"] == metrics["return_risk"]


@pytest.fixture(scope="module")
def untruthed(trained_warehouse: tuple[str, Path],
              tmp_path_factory: pytest.TempPathFactory) -> tuple[str, TrainSummary]:
    """A copy of the trained warehouse trained again without --truth and without a backtest."""
    folder = tmp_path_factory.mktemp("untruthed")
    url = copy_of(trained_warehouse[0], folder / "warehouse")
    return url, train(db=url, seed=7, backtest_cuts=0, models_dir=folder / "models")


def test_without_truth_fraud_figures_are_null_and_say_why(
        untruthed: tuple[str, TrainSummary]) -> None:
    found = untruthed[1]
    assert found.metrics["fraud"]["precision_at_1pct"] is None
    assert "no abuse labels" in found.metrics["fraud"]["note"]
    assert "bayes_roc_auc" not in found.metrics["return_risk"]
    assert (found.model_dir / "model.joblib").exists()
    saved = json.loads((found.model_dir / "metadata.json").read_text())
    assert saved["snapshot"] == found.snapshot and saved["features"]
    assert saved["params"]["seed"] == 7


def test_without_a_backtest_the_risk_page_shows_the_model_and_the_reserve(
        untruthed: tuple[str, TrainSummary]) -> None:
    from dashboard.app import create_app

    create_app(untruthed[0])
    from dashboard.pages import risk

    card, *_, reserve_table = risk.update_model("/risk")
    assert "ROC-AUC" in str(card)
    assert "current" in str(reserve_table) and "Units that came back" in str(reserve_table)
    assert "Lines that came back" in str(reserve_table)


def test_training_publishes_scores_skus_customers_and_the_reserve(
        trained_warehouse: tuple[str, Path]) -> None:
    url, _ = trained_warehouse
    with reader_engine(url).connect() as conn:
        card = read.risk.model_card(conn)
        tables = {t: read.risk.risk_table(conn, t) for t in read.risk.TABLES}
        queue = read.abuse.review_queue(conn, limit=10)
    assert card is not None and card["snapshot"]
    assert tables["risk_line_scores"]["p_return"].is_between(0, 1).all()
    assert tables["risk_skus"].height > 0 and tables["risk_customers"].height > 0
    assert set(tables["risk_reserve"]["kind"]) == {"backtest", "current"}
    assert tables["risk_calibration"].height == 10
    assert queue.height == 10


def test_the_reserve_keeps_the_lines_that_came_back_beside_the_units(
        trained_warehouse: tuple[str, Path]) -> None:
    url, _ = trained_warehouse
    with reader_engine(url).connect() as conn:
        reserve = read.risk.risk_table(conn, "risk_reserve")
        backtest = read.risk.risk_table(conn, "risk_reserve_backtest")

    past = reserve.filter(pl.col("kind") == "backtest").sort("as_of")
    assert past["actual_lines"].to_list() == backtest.sort("as_of")["actual_lines"].to_list()
    assert reserve.filter(pl.col("kind") == "current")["actual_lines"].is_null().all()


@pytest.fixture
def scored_copy(trained_warehouse: tuple[str, Path], tmp_path: Path) -> tuple[str, dict]:
    """A copy of the trained warehouse (and its outputs) that `score` then ran on."""
    url, models = trained_warehouse
    copy = copy_of(url, tmp_path)
    return copy, score(db=copy, models_dir=models)


def test_score_rescores_the_open_lines_with_the_saved_model(
        scored_copy: tuple[str, dict]) -> None:
    url, found = scored_copy
    with reader_engine(url).connect() as conn:
        scored = read.risk.open_line_count(conn)
        card = read.risk.model_card(conn)
    assert found["lines_scored"] == scored > 0
    assert card["params"]["scored_only"] is True


def test_score_keeps_the_model_card_and_the_reserve_backtest_of_the_training(
        trained_warehouse: tuple[str, Path], scored_copy: tuple[str, dict]) -> None:
    with reader_engine(trained_warehouse[0]).connect() as conn:
        trained = {t: read.risk.risk_table(conn, t) for t in read.risk.TABLES}
    with reader_engine(scored_copy[0]).connect() as conn:
        scored = {t: read.risk.risk_table(conn, t) for t in read.risk.TABLES}
    for table in ("risk_metrics", "risk_calibration", "risk_importances",
                  "risk_reserve_backtest"):
        assert scored[table].equals(trained[table]), table
    backtest = pl.col("kind") == "backtest"
    assert scored["risk_reserve"].filter(backtest).equals(
        trained["risk_reserve"].filter(backtest))
    assert scored["risk_reserve"].filter(~backtest).height == 1


def test_score_without_a_saved_model_says_what_to_do(trained_warehouse: tuple[str, Path],
                                                      tmp_path: Path) -> None:
    url, _ = trained_warehouse
    result = runner.invoke(app, ["score", "--db", url],
                           env={"RETURNLENS_DATA_DIR": str(tmp_path)})
    assert result.exit_code == 2
    assert "returnlens train" in result.output
