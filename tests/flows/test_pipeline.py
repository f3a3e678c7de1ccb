"""The pipeline flow end to end, through real Prefect runs, on DuckDB and on PostgreSQL."""

import shutil
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from flows.pipeline import pipeline
from tests.reference import reference_kpis
from warehouse import read
from warehouse.engine import reader_engine

pytestmark = pytest.mark.usefixtures("prefect_harness")


def sql_frame(url: str, sql: str, **params) -> pl.DataFrame:
    with reader_engine(url).connect() as conn:
        return pl.read_database(sa.text(sql), conn, execute_options={"parameters": params})


def kpis(url: str, **kw) -> dict:
    with reader_engine(url).connect() as conn:
        return read.kpis.kpis(conn, **kw)


def counts(url: str) -> dict[str, int]:
    with reader_engine(url).connect() as conn:
        return {k: v for k, v in read.runs.table_row_counts(conn).items()
                if not k.startswith("audit.")}


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fresh_url(request, tmp_path) -> str:
    """An empty warehouse of each kind."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path / 'w.duckdb'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def small_shop(tmp_path) -> Path:
    from flows.sources.synthetic import generate_shop

    out = tmp_path / "shop"
    generate_shop(3000, seed=2).write(out)
    return out


def test_kpis_equal_an_independent_computation_over_the_files(warehouse_url, shop_dir):
    assert kpis(warehouse_url) == pytest.approx(reference_kpis(shop_dir), abs=0.01)


def test_kpis_filtered_by_order_date_equal_the_independent_computation(warehouse_url, shop_dir):
    window = {"date_from": date(2025, 2, 1), "date_to": date(2025, 6, 30)}
    assert kpis(warehouse_url, **window) == pytest.approx(
        reference_kpis(shop_dir, *window.values()), abs=0.01)


def test_kpi_keys_are_stable(warehouse_url):
    assert tuple(kpis(warehouse_url)) == read.kpis.KPI_KEYS


def test_every_row_read_is_loaded_quarantined_or_a_duplicate(warehouse_url):
    run = sql_frame(warehouse_url, "SELECT * FROM audit.runs").row(0, named=True)
    assert run["rows_read"] == run["rows_loaded"] + run["rows_quarantined"] + run["duplicates"]
    assert run["status"] == "succeeded" and run["files_rejected"] == 0


def test_a_second_run_over_the_same_files_changes_nothing(fresh_url, small_shop):
    pipeline(source=small_shop, db=fresh_url)
    before_counts, before_kpis = counts(fresh_url), kpis(fresh_url)
    summary = pipeline(source=small_shop, db=fresh_url)
    assert {f.status for f in summary.files} == {"resent"}
    assert counts(fresh_url) == before_counts
    assert kpis(fresh_url) == before_kpis


def test_the_same_rows_in_a_new_file_change_nothing(fresh_url, small_shop):
    pipeline(source=small_shop, db=fresh_url)
    before_counts, before_kpis = counts(fresh_url), kpis(fresh_url)
    pl.read_parquet(small_shop / "orders.parquet").write_csv(small_shop / "orders_copy.csv")
    pipeline(source=small_shop, db=fresh_url)
    assert counts(fresh_url) == before_counts
    assert kpis(fresh_url) == before_kpis


def test_a_corrected_row_replaces_the_old_one_by_its_natural_key(fresh_url, small_shop):
    pipeline(source=small_shop, db=fresh_url)
    returns = pl.read_parquet(small_shop / "returns.parquet")
    target = returns.filter(pl.col("return_type") == "customer_return").row(0, named=True)
    fix = returns.filter(pl.col("return_id") == target["return_id"]).with_columns(
        handling_cost=pl.lit(target["handling_cost"] + 10.0))
    fix.write_parquet(small_shop / "returns_correction.parquet")
    cost_before = kpis(fresh_url)["net_return_cost"]
    rows_before = counts(fresh_url)["raw.returns"]
    pipeline(source=small_shop, db=fresh_url)
    got = sql_frame(fresh_url, "SELECT handling_cost FROM raw.returns WHERE return_id = :rid",
               rid=target["return_id"])
    assert got["handling_cost"].to_list() == [pytest.approx(target["handling_cost"] + 10.0)]
    assert counts(fresh_url)["raw.returns"] == rows_before
    assert kpis(fresh_url)["net_return_cost"] == pytest.approx(cost_before + 10.0, abs=0.01)


def test_a_new_file_adds_its_rows(fresh_url, small_shop):
    pipeline(source=small_shop, db=fresh_url)
    before = kpis(fresh_url)
    orders = pl.read_parquet(small_shop / "orders.parquet")
    new = orders.filter(pl.col("order_id") == orders["order_id"][0]).with_columns(
        order_id=pl.lit("O-NEW-1"))
    new.write_parquet(small_shop / "orders_late.parquet")
    pipeline(source=small_shop, db=fresh_url)
    after = kpis(fresh_url)
    assert after["orders"] == before["orders"] + 1
    assert after["units_sold"] == before["units_sold"] + new["quantity"].sum()


def test_postgresql_warehouse_gives_the_same_kpis_as_duckdb(postgres_url, warehouse_url,
                                                           shop_dir):
    pipeline(source=shop_dir, db=postgres_url)
    assert kpis(postgres_url) == kpis(warehouse_url)
    assert counts(postgres_url) == counts(warehouse_url)


def test_csv_feeds_load_like_parquet(tmp_path, small_shop):
    csv_dir = tmp_path / "csv"
    csv_dir.mkdir()
    for path in small_shop.glob("*.parquet"):
        pl.read_parquet(path).write_csv(csv_dir / f"{path.stem}.csv")
    parquet_url, csv_url = (f"duckdb:///{tmp_path / n}.duckdb" for n in ("p", "c"))
    pipeline(source=small_shop, db=parquet_url)
    pipeline(source=csv_dir, db=csv_url)
    assert kpis(csv_url) == kpis(parquet_url)


def test_a_broken_file_is_rejected_and_the_others_still_load(tmp_path, small_shop):
    (small_shop / "reviews.parquet").write_bytes(b"PAR1 this is not parquet")
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    summary = pipeline(source=small_shop, db=url)
    status = {f.file_name: (f.status, f.message) for f in summary.files}
    assert status["reviews.parquet"][0] == "rejected"
    assert "reviews.parquet: cannot be read as parquet" in status["reviews.parquet"][1]
    assert kpis(url)["units_sold"] > 0


def test_the_defective_vendor_leads_its_category_for_defect_returns_after_its_start(
        warehouse_url, shop_dir):
    planted = pl.read_parquet(shop_dir / "_truth" / "defective_vendors.parquet")
    for vendor_id, start in planted.iter_rows():
        ranking = sql_frame(warehouse_url, """
            SELECT vendor_id, category,
                   SUM(defect_units) * 1.0 / SUM(units_sold) AS defect_rate
            FROM marts.vendor_quality
            WHERE order_month >= :start_month
            GROUP BY vendor_id, category
            ORDER BY defect_rate DESC
        """, start_month=start.replace(day=1) + timedelta(days=32))
        category = ranking.filter(pl.col("vendor_id") == vendor_id)["category"][0]
        assert ranking.filter(pl.col("category") == category)["vendor_id"][0] == vendor_id
        assert vendor_id in ranking["vendor_id"][:2].to_list()


def test_the_degraded_carrier_region_shows_the_npr_jump(warehouse_url, shop_dir):
    carrier, region, start, end = pl.read_parquet(
        shop_dir / "_truth" / "carrier_incidents.parquet").row(0)
    daily = sql_frame(warehouse_url, """
        SELECT attempt_date, attempts, failed_attempts FROM marts.carrier_pickup_daily
        WHERE carrier = :carrier AND region = :region
    """, carrier=carrier, region=region)
    inside = daily.filter(pl.col("attempt_date").is_between(start, end))
    before = daily.filter(pl.col("attempt_date") < start - timedelta(days=7))
    npr_inside = inside["failed_attempts"].sum() / inside["attempts"].sum()
    npr_before = before["failed_attempts"].sum() / before["attempts"].sum()
    assert npr_inside > npr_before + 0.2


def test_a_warehouse_file_is_published_whole(tmp_path, small_shop):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    pipeline(source=small_shop, db=url)
    # no half-built copy is left; the writers' lock file stays (removing it would be racy)
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["w.duckdb",
                                                                         "w.duckdb.lock"]


def test_a_folder_without_feed_files_is_a_clear_error(tmp_path):
    from flows.records import FileRejected

    with pytest.raises(FileRejected, match="no feed files found"):
        pipeline(source=tmp_path, db=f"duckdb:///{tmp_path / 'w.duckdb'}")


def test_copying_a_shop_folder_keeps_results(tmp_path, warehouse_url, shop_dir):
    copy = tmp_path / "copy"
    shutil.copytree(shop_dir, copy)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    pipeline(source=copy, db=url)
    assert kpis(url) == kpis(warehouse_url)


def test_a_file_read_in_several_batches_loads_like_one(tmp_path, small_shop, monkeypatch):
    from flows import conform

    whole = f"duckdb:///{tmp_path / 'whole.duckdb'}"
    pipeline(source=small_shop, db=whole)
    monkeypatch.setattr(conform, "BATCH_ROWS", 500)
    batched = f"duckdb:///{tmp_path / 'batched.duckdb'}"
    pipeline(source=small_shop, db=batched)
    assert kpis(batched) == kpis(whole)
    assert counts(batched) == counts(whole)


def test_a_key_repeated_across_batches_keeps_the_last_row_and_counts_a_duplicate(
        tmp_path, small_shop, monkeypatch):
    from flows import conform

    orders = pl.read_parquet(small_shop / "orders.parquet")
    repeat = orders.head(1).with_columns(quantity=pl.lit(7, dtype=pl.Int64))
    pl.concat([orders, repeat]).write_parquet(small_shop / "orders.parquet")
    monkeypatch.setattr(conform, "BATCH_ROWS", 500)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    outcome = next(f for f in pipeline(source=small_shop, db=url).files
                   if f.file_name == "orders.parquet")
    assert (outcome.rows_read, outcome.rows_loaded, outcome.duplicates) == (
        orders.height + 1, orders.height, 1)
    got = sql_frame(url, "SELECT quantity FROM raw.orders WHERE order_id = :o AND line_id = :l",
               o=repeat["order_id"][0], l=repeat["line_id"][0])
    assert got["quantity"].to_list() == [7]


def test_a_file_unreadable_part_way_is_rejected_with_nothing_of_it_loaded(
        tmp_path, small_shop, monkeypatch):
    from flows import conform

    orders = pl.read_parquet(small_shop / "orders.parquet")
    csv = orders.write_csv()
    lines = csv.splitlines()
    lines[-3] += ",surplus"  # a ragged row near the end, in the last batch
    (small_shop / "orders.parquet").unlink()
    (small_shop / "orders.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(conform, "BATCH_ROWS", 500)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    summary = pipeline(source=small_shop, db=url)
    outcome = next(f for f in summary.files if f.file_name == "orders.csv")
    assert outcome.status == "rejected"
    assert f"row {len(lines) - 3}" in outcome.message
    assert kpis(url)["units_sold"] == 0


def _never_read() -> tuple[str, object]:
    raise AssertionError("the Policy Lab's history was learnt again, not loaded")


def test_a_run_leaves_the_policy_lab_history_learnt_for_the_page_to_load(
        tmp_path, small_shop, monkeypatch):
    from models import policy

    monkeypatch.setenv("RETURNLENS_DATA_DIR", str(tmp_path / "data"))
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    pipeline(source=small_shop, db=url)
    policy._MEMORY.clear()  # as a new dashboard process

    learned = policy.learned_for(url, reader=_never_read)

    assert learned.categories


def test_a_history_learnt_by_another_version_of_the_simulator_is_learnt_again(
        tmp_path, small_shop, monkeypatch):
    from models import policy

    monkeypatch.setenv("RETURNLENS_DATA_DIR", str(tmp_path / "data"))
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    pipeline(source=small_shop, db=url)
    policy._MEMORY.clear()
    monkeypatch.setattr(policy, "_code_version", lambda: "an upgraded simulator")

    with pytest.raises(AssertionError, match="learnt again"):
        policy.learned_for(url, reader=_never_read)


def test_a_newer_run_replaces_the_learnt_history_on_disk(tmp_path, small_shop, monkeypatch):
    monkeypatch.setenv("RETURNLENS_DATA_DIR", str(tmp_path / "data"))
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    pipeline(source=small_shop, db=url)
    first = set((tmp_path / "data" / "cache" / "policy").glob("*.pickle"))

    pipeline(source=small_shop, db=url)

    second = set((tmp_path / "data" / "cache" / "policy").glob("*.pickle"))
    assert len(first) == len(second) == 1 and first != second
