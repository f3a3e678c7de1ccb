"""A corpus of bad inputs: each ends with the expected outcome and message, and nothing is lost.

Every case starts from the same small synthetic shop written as CSV, breaks one file the way
merchants' exports break, runs the real pipeline flow into a fresh DuckDB warehouse and checks
the broken file's outcome, then that rows loaded + quarantined + duplicates = rows read for
every file of the run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from flows.pipeline import RunSummary, pipeline
from flows.sources.synthetic import generate_shop
from tests.processes import REPO, RETURNLENS, prefect_env
from warehouse import read
from warehouse.engine import reader_engine

pytestmark = pytest.mark.usefixtures("prefect_harness")


@dataclass(frozen=True)
class Case:
    """One bad input: how to break the shop, and what the run must say about it."""

    break_it: Callable[[Path], None]
    file: str
    status: str  # loaded / rejected / resent
    message: str = ""  # in the file's message (rejected) or in a quarantined row's message
    quarantined: int = 0
    waiting: int = 0
    duplicates: int = 0
    rule: str | None = None


def frame(shop: Path, name: str) -> pl.DataFrame:
    return pl.read_csv(shop / f"{name}.csv", infer_schema=False)


def set_cell(name: str, column: str, value: str | None, where: pl.Expr | None = None,
             row: int = 0) -> Callable[[Path], None]:
    """Set one cell (row `row` of the rows matching `where`) of a feed file."""

    def apply(shop: Path) -> None:
        f = frame(shop, name).with_row_index("_i")
        target = (f.filter(where) if where is not None else f)["_i"][row]
        f.with_columns(pl.when(pl.col("_i") == target).then(pl.lit(value, dtype=pl.String))
                       .otherwise(pl.col(column)).alias(column)).drop("_i").write_csv(
            shop / f"{name}.csv")

    return apply


def rewrite_text(name: str, change: Callable[[str], str], encoding: str = "utf-8"
                 ) -> Callable[[Path], None]:
    def apply(shop: Path) -> None:
        path = shop / f"{name}.csv"
        path.write_bytes(change(path.read_text(encoding="utf-8")).encode(encoding))

    return apply


def write_bytes(name: str, data: bytes) -> Callable[[Path], None]:
    def apply(shop: Path) -> None:
        (shop / name).write_bytes(data)

    return apply


def truncate_last_line(shop: Path) -> None:
    path = shop / "orders.csv"
    text = path.read_text(encoding="utf-8").rstrip("\n")
    path.write_text(text[: text.rfind(",", 0, len(text) - 40)], encoding="utf-8")


def to_parquet_then_cut(shop: Path) -> None:
    data = frame(shop, "reviews")
    (shop / "reviews.csv").unlink()
    data.write_parquet(shop / "reviews.parquet")
    raw = (shop / "reviews.parquet").read_bytes()
    (shop / "reviews.parquet").write_bytes(raw[: len(raw) // 2])


def duplicate_first_order_line(shop: Path) -> None:
    f = frame(shop, "orders")
    pl.concat([f, f.head(1)]).write_csv(shop / "orders.csv")


def add_column(shop: Path) -> None:
    frame(shop, "orders").with_columns(coupon=pl.lit("XMAS")).write_csv(shop / "orders.csv")


def drop_column(shop: Path) -> None:
    frame(shop, "returns").drop("reason_code").write_csv(shop / "returns.csv")


def header_only(shop: Path) -> None:
    frame(shop, "reviews").head(0).write_csv(shop / "reviews.csv")


def mixed_time_zones(shop: Path) -> None:
    f = frame(shop, "orders")
    shifted = pl.col("ordered_at").str.to_datetime() + pl.duration(hours=7)
    f.with_columns(pl.when(pl.int_range(pl.len()) % 2 == 0)
                   .then(shifted.dt.strftime("%Y-%m-%dT%H:%M:%S%.6f+07:00"))
                   .otherwise(pl.col("ordered_at")).alias("ordered_at")).write_csv(
        shop / "orders.csv")


def latin1_review(shop: Path) -> None:
    f = frame(shop, "reviews").with_columns(
        text=pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("très déçu, qualité médiocre"))
        .otherwise(pl.col("text")))
    (shop / "reviews.csv").write_bytes(f.write_csv().encode("utf-8").decode("utf-8")
                                       .encode("latin-1", errors="replace"))


def ragged_row(shop: Path) -> None:
    path = shop / "products.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[5] += ",surplus"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def parquet_fractional_quantity(shop: Path) -> None:
    f = frame(shop, "orders").with_columns(pl.col("quantity").cast(pl.Float64))
    f = f.with_columns(quantity=pl.when(pl.int_range(pl.len()) == 0).then(2.5)
                       .otherwise(pl.col("quantity")))
    (shop / "orders.csv").unlink()
    f.write_parquet(shop / "orders.parquet")


def parquet_with_a_list_column(shop: Path) -> None:
    frame(shop, "returns").head(5).with_columns(
        photos=pl.concat_list(pl.col("return_id"), pl.col("sku"))).write_parquet(
        shop / "returns_app.parquet")


def link_outside_the_folder(shop: Path) -> None:
    (shop / "vendors_linked.csv").symlink_to("/etc/passwd")


def ten_thousand_extra_columns(shop: Path) -> None:
    f = frame(shop, "carrier_scans")
    f.with_columns(pl.lit("x").alias(f"extra_{i}") for i in range(10_000)).write_csv(
        shop / "carrier_scans.csv")


CUSTOMER_RETURN = pl.col("return_type") == "customer_return"
RECEIVED = CUSTOMER_RETURN & pl.col("received_at").is_not_null()

CASES: dict[str, Case] = {
    "truncated csv": Case(truncate_last_line, "orders.csv", "loaded", "is required but empty",
                          quarantined=1, rule="not_null"),
    "truncated parquet": Case(to_parquet_then_cut, "reviews.parquet", "rejected",
                              "reviews.parquet: cannot be read as parquet"),
    "empty file": Case(write_bytes("vendors_extra.csv", b""), "vendors_extra.csv", "rejected",
                       "the file is empty"),
    "header only": Case(header_only, "reviews.csv", "loaded", "header but no rows"),
    "semicolon delimiter": Case(rewrite_text("carriers", lambda t: t.replace(",", ";")),
                                "carriers.csv", "rejected", "looks ';'-separated"),
    "tab delimiter": Case(rewrite_text("regions", lambda t: t.replace(",", "\t")),
                          "regions.csv", "rejected", "looks '\\t'-separated"),
    "latin-1 text": Case(latin1_review, "reviews.csv", "rejected",
                         "is not valid UTF-8 (it looks like Latin-1"),
    "utf-8 with bom": Case(rewrite_text("orders", lambda t: "\ufeff" + t), "orders.csv",
                           "loaded"),
    "binary garbage": Case(write_bytes("returns_garbage.csv", bytes(range(256)) * 4),
                           "returns_garbage.csv", "rejected", "cannot be read as csv"),
    "ragged row": Case(ragged_row, "products.csv", "rejected",
                       "row 5 (line 6) has 9 fields where the header has 8"),
    "missing column": Case(drop_column, "returns.csv", "rejected",
                           "missing required column(s) reason_code"),
    "extra column": Case(add_column, "orders.csv", "loaded", "extra columns ignored: coupon"),
    "text in a number": Case(set_cell("orders", "quantity", "two"), "orders.csv", "loaded",
                             "quantity expected Int64, got 'two'", quarantined=1, rule="type"),
    "day-first date": Case(set_cell("reviews", "reviewed_at", "31/12/2024"), "reviews.csv",
                           "loaded", "got '31/12/2024'", quarantined=1, rule="type"),
    "duplicate key": Case(duplicate_first_order_line, "orders.csv", "loaded", duplicates=1),
    "negative amount": Case(set_cell("returns", "handling_cost", "-5.0", CUSTOMER_RETURN),
                            "returns.csv", "loaded", "handling_cost -5.0 should be at least 0",
                            quarantined=1, rule="range"),
    "absurd price": Case(set_cell("products", "list_price", "5000000000"), "products.csv",
                         "loaded", "should be at least 0 and at most 1e+06", quarantined=1,
                         rule="range"),
    "absurd quantity": Case(set_cell("orders", "quantity", "2500000"), "orders.csv", "loaded",
                            "quantity 2500000 should be at least 1 and at most 1e+06",
                            quarantined=1, rule="range"),
    "date in the future": Case(set_cell("orders", "delivered_at", "2099-01-01 10:00:00",
                                        pl.col("delivered_at").is_not_null()), "orders.csv",
                               "loaded", "in the future", quarantined=1, rule="plausible_date"),
    "date before the shop existed": Case(set_cell("reviews", "reviewed_at",
                                                  "1999-05-01 10:00:00"), "reviews.csv",
                                         "loaded", "before the shop opened", quarantined=1,
                                         rule="plausible_date"),
    "orphan return": Case(set_cell("returns", "order_id", "O-NOT-EXPORTED"), "returns.csv",
                          "loaded", "refers to an order line that is not loaded (yet",
                          quarantined=1, waiting=1, rule="order_line_exists"),
    "orphan scan": Case(set_cell("carrier_scans", "return_id", "R-NOT-EXPORTED"),
                        "carrier_scans.csv", "loaded", "refers to a return that is not loaded",
                        quarantined=1, waiting=1, rule="return_exists"),
    "product of an unknown vendor": Case(set_cell("products", "vendor_id", "V-UNKNOWN"),
                                         "products.csv", "loaded", "refers to a vendor",
                                         quarantined=1, waiting=1, rule="vendor_exists"),
    "refund above price": Case(set_cell("returns", "refund_amount", "99999", CUSTOMER_RETURN),
                               "returns.csv", "loaded", "is more than the", quarantined=1,
                               rule="refund_within_paid"),
    "returned more than sold": Case(set_cell("returns", "quantity", "40", CUSTOMER_RETURN),
                                    "returns.csv", "loaded", "quantity 40 returned is more than",
                                    quarantined=1, rule="returned_within_sold"),
    "rating 0": Case(set_cell("reviews", "rating", "0"), "reviews.csv", "loaded",
                     "rating 0 should be at least 1 and at most 5", quarantined=1, rule="range"),
    "rating 6": Case(set_cell("reviews", "rating", "6"), "reviews.csv", "loaded",
                     "rating 6 should be at least 1 and at most 5", quarantined=1, rule="range"),
    "unknown reason code": Case(set_cell("returns", "reason_code", "bored", CUSTOMER_RETURN),
                                "returns.csv", "loaded", "reason_code 'bored' is not one of",
                                quarantined=1, rule="accepted_values"),
    "unknown scan event": Case(set_cell("carrier_scans", "event_code", "teleported"),
                               "carrier_scans.csv", "loaded", "'teleported' is not one of",
                               quarantined=1, rule="accepted_values"),
    "empty required field": Case(set_cell("orders", "customer_id", None), "orders.csv",
                                 "loaded", "customer_id is required but empty", quarantined=1,
                                 rule="not_null"),
    "discount above price": Case(set_cell("orders", "discount_amount", "100000"), "orders.csv",
                                 "loaded", "discount_amount 100000.0 is more than",
                                 quarantined=1, rule="discount_within_price"),
    "received before requested": Case(set_cell("returns", "received_at", "2024-01-01 00:00:00",
                                               RECEIVED), "returns.csv", "loaded",
                                      "received_at 2024-01-01 00:00:00 is before the request",
                                      quarantined=1, rule="received_after_request"),
    "mixed time zones": Case(mixed_time_zones, "orders.csv", "loaded"),
    "fractional quantity in parquet": Case(parquet_fractional_quantity, "orders.parquet",
                                           "loaded", "quantity expected Int64, got '2.5'",
                                           quarantined=1, rule="type"),
    "list column in parquet": Case(parquet_with_a_list_column, "returns_app.parquet",
                                   "rejected", "column(s) photos hold lists or structs"),
    "utf-16 text": Case(rewrite_text("regions", lambda t: t, encoding="utf-16"), "regions.csv",
                        "rejected", "encoded as UTF-16, not UTF-8"),
    "link outside the source folder": Case(link_outside_the_folder, "vendors_linked.csv",
                                           "rejected", "a link to a file outside the source "
                                                       "folder; refused, not read"),
    "ten thousand extra columns": Case(ten_thousand_extra_columns, "carrier_scans.csv",
                                       "loaded", "extra_8, extra_9 and 9,990 more"),
    "unknown sku is only a warning": Case(set_cell("orders", "sku", "NOT-IN-CATALOGUE"),
                                          "orders.csv", "loaded",
                                          "refers to a product in the catalogue"),
}


@pytest.fixture(scope="module")
def base_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("base")
    generate_shop(300, seed=4).write(out, "csv")
    shutil.rmtree(out / "_truth")
    return out


def run_case(case: Case, base_shop: Path, tmp_path: Path) -> tuple[RunSummary, str]:
    shop = tmp_path / "shop"
    shutil.copytree(base_shop, shop)
    case.break_it(shop)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    return pipeline(source=shop, db=url), url


def quarantine(url: str, file_name: str) -> pl.DataFrame:
    with reader_engine(url).connect() as conn:
        return pl.read_database(sa.text(
            "SELECT rule, status, message FROM audit.quarantine WHERE file_name = :f"), conn,
            execute_options={"parameters": {"f": file_name}})


def test_the_corpus_has_at_least_thirty_bad_inputs():
    assert len(CASES) >= 30


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_ends_with_the_expected_outcome(name, base_shop, tmp_path):
    case = CASES[name]
    summary, url = run_case(case, base_shop, tmp_path)
    outcome = next(f for f in summary.files if f.file_name == case.file)
    assert outcome.status == case.status, outcome.message
    assert (outcome.rows_quarantined, outcome.rows_waiting, outcome.duplicates) == (
        case.quarantined, case.waiting, case.duplicates)
    kept = quarantine(url, case.file)
    if case.rule:
        assert kept["rule"].to_list() == [case.rule]
    if case.message:
        assert case.message in outcome.message + " ".join(kept["message"]), (
            outcome.message, kept["message"].to_list())
    for f in summary.files:  # nothing lost, in any file of the run
        assert f.rows_read == f.rows_loaded + f.rows_quarantined + f.duplicates, f.file_name


def test_messages_stay_short_and_name_no_server_path(base_shop, tmp_path):
    summary, url = run_case(CASES["ten thousand extra columns"], base_shop, tmp_path)
    outcome = next(f for f in summary.files if f.file_name == "carrier_scans.csv")
    assert len(outcome.message) < 500
    summary, _ = run_case(CASES["list column in parquet"], base_shop, tmp_path / "nested")
    assert all(str(tmp_path) not in f.message for f in summary.files)


def test_a_link_outside_the_folder_is_never_read(base_shop, tmp_path):
    summary, url = run_case(CASES["link outside the source folder"], base_shop, tmp_path)
    with reader_engine(url).connect() as conn:
        recorded = conn.execute(sa.text("SELECT sha256, size_bytes FROM audit.files "
                                        "WHERE file_name = 'vendors_linked.csv'")).one()
    assert tuple(recorded) == ("", 0)
    assert next(f for f in summary.files if f.file_name == "vendors.csv").status == "loaded"


def test_ctrl_c_stops_the_run_publishes_nothing_and_the_next_run_does_the_work(
        base_shop, tmp_path):
    shop, url = tmp_path / "shop", f"duckdb:///{tmp_path / 'w.duckdb'}"
    shutil.copytree(base_shop, shop)
    held_back = (shop / "orders.csv").read_bytes()
    (shop / "orders.csv").unlink()
    pipeline(source=shop, db=url)
    before = kpis_and_counts(url)
    (shop / "orders.csv").write_bytes(held_back)
    run = subprocess.Popen([str(RETURNLENS), "pipeline", "--source", str(shop), "--db", url,
                            "-v"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                           env=prefect_env(), cwd=REPO, start_new_session=True)
    log = []
    for line in run.stderr:
        log.append(line)
        if "orders.csv" in line:
            os.killpg(run.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole group
            break
    started = time.monotonic()
    _, rest = run.communicate(timeout=60)

    assert run.returncode == 130, "".join(log) + rest
    assert time.monotonic() - started < 10
    assert "published nothing" in rest
    assert kpis_and_counts(url) == before
    summary = pipeline(source=shop, db=url)
    assert next(f for f in summary.files if f.file_name == "orders.csv").status == "loaded"
    assert kpis_and_counts(url) != before


def kpis_and_counts(url: str) -> tuple[dict, dict]:
    """What a reader sees: every table's row count and the KPIs."""
    with reader_engine(url).connect() as conn:
        return read.runs.table_row_counts(conn), read.kpis.kpis(conn)


def test_timestamps_with_an_offset_land_in_utc(base_shop, tmp_path):
    _, url = run_case(CASES["mixed time zones"], base_shop, tmp_path)
    original = frame(base_shop, "orders").head(1)
    with reader_engine(url).connect() as conn:
        got = conn.execute(sa.text(
            "SELECT ordered_at FROM raw.orders WHERE order_id = :o AND line_id = :l"),
            {"o": original["order_id"][0], "l": int(original["line_id"][0])}).one()[0]
    assert got == datetime.fromisoformat(original["ordered_at"][0])


def test_a_resent_file_is_recognised_and_skipped(base_shop, tmp_path):
    shop = tmp_path / "shop"
    shutil.copytree(base_shop, shop)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    pipeline(source=shop, db=url)
    shutil.copy(shop / "orders.csv", shop / "orders_resent.csv")
    outcome = {f.file_name: f for f in pipeline(source=shop, db=url).files}
    assert outcome["orders_resent.csv"].status == "resent"
    assert "same content as orders.csv" in outcome["orders_resent.csv"].message


def test_a_corrected_file_replaces_the_rows_it_corrects(base_shop, tmp_path):
    shop = tmp_path / "shop"
    shutil.copytree(base_shop, shop)
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    pipeline(source=shop, db=url)
    fix = frame(shop, "reviews").head(2).with_columns(rating=pl.lit("1"))
    fix.write_csv(shop / "reviews_corrected.csv")
    pipeline(source=shop, db=url)
    with reader_engine(url).connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT rating, _file FROM raw.reviews WHERE review_id IN (:a, :b)"),
            {"a": fix["review_id"][0], "b": fix["review_id"][1]}).all()
        total = conn.execute(sa.text("SELECT COUNT(*) FROM raw.reviews")).one()[0]
    assert rows == [(1, "reviews_corrected.csv")] * 2
    assert total == frame(shop, "reviews").height


def test_a_waiting_return_loads_when_its_order_arrives(base_shop, tmp_path):
    shop = tmp_path / "shop"
    shutil.copytree(base_shop, shop)
    orders = frame(shop, "orders")
    returned = frame(shop, "returns")["order_id"][0]
    late = orders.filter(pl.col("order_id") == returned)
    orders.filter(pl.col("order_id") != returned).write_csv(shop / "orders.csv")
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    first = pipeline(source=shop, db=url)
    waiting = next(f for f in first.files if f.file_name == "returns.csv").rows_waiting
    assert waiting >= 1
    late.write_csv(shop / "orders_late.csv")
    second = pipeline(source=shop, db=url)
    assert second.released["returns"] == waiting
    assert quarantine(url, "returns.csv")["status"].to_list() == ["released"] * waiting


def test_a_ten_megabyte_review_loads_whole_and_reads_back_as_written(base_shop, tmp_path):
    shop = tmp_path / "shop"
    shutil.copytree(base_shop, shop)
    hostile = '=HYPERLINK("http://127.0.0.1:9/") <script>x</script> {b} ![i](http://x/i.png) '
    huge = (hostile + "退货\n\n") * 125_000  # over 10 MB
    review = frame(shop, "reviews").head(1)
    set_cell("reviews", "text", huge)(shop)
    summary = pipeline(source=shop, db=f"duckdb:///{tmp_path / 'w.duckdb'}")
    assert summary.total("rows_quarantined") == 0 and not summary.rejected
    with reader_engine(f"duckdb:///{tmp_path / 'w.duckdb'}").connect() as conn:
        texts = read.products.sku_feedback(conn, review["sku"][0])["feedback_text"]
    assert huge in texts.to_list()
