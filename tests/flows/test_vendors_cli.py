"""`returnlens vendors`: the flow publishes the vendor tables; JSON scores and evidence packs."""

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from warehouse import derived, read
from warehouse.engine import duckdb_path, reader_engine

runner = CliRunner()
JSON_KEYS = {"vendor_id", "category", "flagged", "change_date", "defect_rate",
             "category_defect_rate", "defect_rate_low", "defect_rate_high"}


@pytest.fixture(scope="module")
def vendor_warehouse(warehouse_url, prefect_harness, tmp_path_factory) -> str:
    """A copy of the session warehouse with the vendor tables published by the flow."""
    from flows.vendors import vendors_flow

    copy = tmp_path_factory.mktemp("vendors") / "w.duckdb"
    shutil.copy(duckdb_path(warehouse_url), copy)
    url = f"duckdb:///{copy}"
    vendors_flow(db=url)
    return url


def test_the_flow_publishes_every_vendor_table_stamped_with_the_warehouse_run(vendor_warehouse):
    with reader_engine(vendor_warehouse).connect() as conn:
        latest = derived.latest_output(conn, read.vendors.OUTPUT)
        run_id = read.runs.latest_run_id(conn)
        card = read.vendors.scorecard(conn)
    assert latest is not None and latest["snapshot"] == run_id
    assert set(latest["tables"]) == set(read.vendors.OUTPUT_TABLES)
    assert card.height == card.select("vendor_id", "category").unique().height > 0


def test_vendors_json_lists_every_vendor_and_category_with_the_stable_keys(vendor_warehouse):
    result = runner.invoke(app, ["vendors", "--db", vendor_warehouse, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all(set(row) >= JSON_KEYS for row in rows)
    assert all(isinstance(row["flagged"], bool) for row in rows)
    assert all(row["change_date"] is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["change_date"])
               for row in rows)
    assert all(row["defect_rate_low"] <= row["defect_rate"] <= row["defect_rate_high"]
               for row in rows)


def test_vendors_pack_writes_a_self_contained_html_file(vendor_warehouse, tmp_path: Path):
    listing = json.loads(runner.invoke(app, ["vendors", "--db", vendor_warehouse,
                                             "--json"]).stdout)
    vendor = listing[0]["vendor_id"]
    out = tmp_path / "pack.html"
    result = runner.invoke(app, ["vendors", "--db", vendor_warehouse, "--pack", vendor,
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    assert vendor in page and "Plotly" in page
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)


def test_vendors_pack_of_an_unknown_vendor_says_which_ids_exist(vendor_warehouse, tmp_path):
    result = runner.invoke(app, ["vendors", "--db", vendor_warehouse, "--pack", "NOPE",
                                 "--out", str(tmp_path / "x.html")])
    assert result.exit_code == 2
    assert "no vendor 'NOPE'" in result.output


@pytest.mark.postgres
def test_postgresql_publishes_the_same_vendor_scores_as_duckdb(postgres_url, shop_dir,
                                                              vendor_warehouse):
    from flows.pipeline import pipeline
    from flows.vendors import vendors_flow

    pipeline(source=shop_dir, db=postgres_url)
    vendors_flow(db=postgres_url)
    cols = ["vendor_id", "category", "order_lines", "defect_lines", "flagged", "change_date"]
    with reader_engine(postgres_url).connect() as conn:
        on_postgres = read.vendors.scorecard(conn).select(cols).sort("vendor_id", "category")
    with reader_engine(vendor_warehouse).connect() as conn:
        on_duckdb = read.vendors.scorecard(conn).select(cols).sort("vendor_id", "category")
    assert on_postgres.equals(on_duckdb)


def test_vendors_of_a_source_without_vendors_says_so_and_publishes_nothing(retail_warehouse):
    url, _ = retail_warehouse

    result = runner.invoke(app, ["vendors", "--db", url])

    assert result.exit_code == 0, result.output
    assert "names no vendors" in result.output and "Unknown vendor" not in result.output
    with reader_engine(url).connect() as conn:
        assert derived.latest_output(conn, read.vendors.OUTPUT) is None
