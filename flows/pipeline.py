"""The pipeline flow: find feed files, gate and load each, re-check waiting rows, build marts.

Everything a run writes happens inside one `write_session`, so readers see the warehouse before
the run or after it, never half of it, and a run killed at any point leaves the previous
warehouse as it was; the next run does the work again.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.engine import Connection

from flows import interrupt
from flows.conform import (
    Conformed,
    SourceFile,
    discover,
    name_list,
    read_batches,
    type_rows,
)
from flows.quality import Gate, gate, horizon_now
from flows.records import ROW, FileRejected
from flows.sources import AdapterReport, get_adapter
from warehouse import incremental, load
from warehouse.contract import FEEDS, Feed
from warehouse.engine import write_session
from warehouse.settings import Settings, database_url
from warehouse.transform import LAYERS, build_layer

log = logging.getLogger("returnlens")


@dataclass
class FileOutcome:
    """What one run did with one file."""

    feed: str
    file_name: str
    status: str  # loaded, resent (same checksum as a file loaded before) or rejected
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0  # waiting rows included
    rows_waiting: int = 0
    duplicates: int = 0
    message: str = ""


@dataclass
class RunSummary:
    """A pipeline run, as recorded in audit.runs."""

    run_id: str
    database_url: str
    files: list[FileOutcome] = field(default_factory=list)
    released: dict[str, int] = field(default_factory=dict)  # feed -> waiting rows now loaded
    report: AdapterReport | None = None

    def total(self, attribute: str) -> int:
        return sum(getattr(f, attribute) for f in self.files)

    @property
    def rejected(self) -> list[FileOutcome]:
        """The files rejected whole: nothing of them was loaded."""
        return [f for f in self.files if f.status == "rejected"]

    @property
    def status(self) -> str:
        """'failed' when every file was rejected, 'partial' when some were, else 'succeeded'."""
        if not self.rejected:
            return "succeeded"
        return "failed" if len(self.rejected) == len(self.files) else "partial"


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def find_feed_files(source: Path) -> list[SourceFile]:
    """List the feed files in the source folder with their checksums."""
    return discover(source)


@task(cache_policy=NO_CACHE)  # no retries: an adapter fails on the data, and would again
def adapt_source(kind: str, source: Path, out: Path) -> AdapterReport:
    """Map a source of another shape onto contract feed files in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.iterdir():
        if stale.is_file():
            stale.unlink()
    return get_adapter(kind)(source, out)


def _gate_rows(conn: Connection, feed: Feed, typed: pl.DataFrame, type_issues: pl.DataFrame,
               opened: date, horizon: datetime) -> Gate:
    return gate(feed, load.lookup_parents(conn, feed, typed), type_issues, opened, horizon)


def _quarantine_records(checked: Gate, batch: Conformed) -> pl.DataFrame:
    """The kept-out rows of a batch with their original record as JSON."""
    original = batch.original.filter(pl.col(ROW).is_in(checked.quarantined[ROW].implode()))
    records = checked.quarantined.join(
        original.select(ROW, pl.all().exclude(ROW).cast(pl.String)), on=ROW, how="left")
    as_json = [json.dumps(r, ensure_ascii=False)
               for r in records.select(original.columns).drop(ROW).to_dicts()]
    return records.select(ROW, "field", "rule", "severity", "status", "message").with_columns(
        record=pl.Series(as_json, dtype=pl.String))


def _combine_results(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """One validation result per expectation for a file validated in several batches."""
    return pl.concat(parts).group_by("expectation", "rule", "column_name", "severity",
                                     maintain_order=True).agg(
        pl.col("success").all(), pl.col("element_count").sum(),
        pl.col("unexpected_count").sum(),
        pl.col("example").filter(pl.col("example") != "").first().fill_null(""))


@task(cache_policy=NO_CACHE)
def gate_and_load(conn: Connection, source_file: SourceFile, run_id: str, opened: date,
                  horizon: datetime) -> FileOutcome:
    """Read a file batch by batch, validate it, load the good rows, quarantine the rest.

    Good rows are staged and merged into the raw table only once the whole file has been
    read, so a file found unreadable part-way is rejected whole, with nothing of it loaded.
    A rejected file is an outcome, not a failed task: its message is the whole report (a
    task that raised would have Prefect log a traceback quoting the file's raw bytes).
    """
    try:
        return _gate_and_load(conn, source_file, run_id, opened, horizon)
    except FileRejected as exc:
        load.drop_staging(conn)
        return FileOutcome(source_file.feed.name, source_file.path.name, "rejected",
                           message=str(exc))


def _gate_and_load(conn: Connection, source_file: SourceFile, run_id: str, opened: date,
                   horizon: datetime) -> FileOutcome:
    feed, name = source_file.feed, source_file.path.name
    load.start_staging(conn, feed)
    kept, results, warnings = [], [], []
    rows_read = duplicates = 0
    extra: tuple[str, ...] = ()
    for batch in read_batches(source_file, opened, horizon):
        checked = _gate_rows(conn, feed, batch.typed, batch.type_issues, opened, horizon)
        load.stage_rows(conn, feed, checked.good)
        kept.append(_quarantine_records(checked, batch))
        results.append(checked.results)
        warnings.append(checked.warnings)
        rows_read += batch.rows_read
        duplicates += checked.duplicates.height
        extra = batch.extra_columns
    loaded, repeated = load.merge_staged(conn, feed, name, run_id)
    quarantined = pl.concat(kept)
    load.record(conn, "quarantine", quarantined.select(
        run_id=pl.lit(run_id), feed=pl.lit(feed.name), file_name=pl.lit(name),
        row_number=pl.col(ROW), field="field", rule="rule", severity="severity",
        status="status", message="message", record="record",
        released_run_id=pl.lit(None, dtype=pl.String)))
    load.record(conn, "validations", _combine_results(results).with_columns(
        run_id=pl.lit(run_id), feed=pl.lit(feed.name), file_name=pl.lit(name)))
    notes = []
    if extra:
        notes.append(f"extra columns ignored: {name_list(extra)}")
    all_warnings = pl.concat(warnings)
    if not all_warnings.is_empty():
        first = all_warnings.row(0, named=True)
        notes.append(f"{all_warnings.height:,} warnings, e.g. row {first[ROW]}: "
                     f"{first['message']}")
    if rows_read == 0:
        notes.append("the file has a header but no rows")
    waiting = int((quarantined["status"] == "waiting").sum())
    return FileOutcome(feed.name, name, "loaded", rows_read, loaded, quarantined.height,
                       waiting, duplicates + repeated, "; ".join(notes))


@task(cache_policy=NO_CACHE)
def recheck_waiting(conn: Connection, feed: Feed, run_id: str, opened: date,
                    horizon: datetime) -> int:
    """Check a feed's waiting rows again; load those whose parent has arrived since."""
    waiting = load.waiting_rows(conn, feed.name)
    if waiting.is_empty():
        return 0
    original = pl.DataFrame([json.loads(r) for r in waiting["record"]],
                            infer_schema_length=None).cast(pl.String)
    for column in feed.column_names:
        if column not in original.columns:
            original = original.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    original = original.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))
    origin = waiting.select("file_name", "row_number").with_row_index(ROW, offset=1).with_columns(
        pl.col(ROW).cast(pl.Int64))
    typed, type_issues = type_rows(feed, original)
    checked = _gate_rows(conn, feed, typed, type_issues, opened, horizon)
    rejected = checked.quarantined.filter(pl.col("status") == "rejected").join(origin, on=ROW)
    released = checked.good.join(origin, on=ROW)
    for (file_name,), rows in released.group_by("file_name", maintain_order=True):
        good = rows.drop("file_name").with_columns(pl.col("row_number").alias(ROW)).drop(
            "row_number")
        load.merge_rows(conn, feed, good, str(file_name), run_id)
    superseded = checked.duplicates.join(origin, on=ROW)
    load.settle_waiting(conn, feed.name, run_id, pl.concat([released.select(
        "file_name", "row_number"), superseded.select("file_name", "row_number")]), rejected)
    return released.height


@task(cache_policy=NO_CACHE)
def build_warehouse_layer(conn: Connection, layer: str) -> int:
    """Rebuild one layer (staging, core or marts) from the layer below."""
    return build_layer(conn, layer)


@task(cache_policy=NO_CACHE)
def update_warehouse_layer(conn: Connection, layer: str, run_id: str) -> int:
    """Recompute the partitions of one layer that the run's new rows fall in."""
    return incremental.update_layer(conn, layer, run_id)


def _file_outcome(conn: Connection, source_file: SourceFile, run_id: str, opened: date,
                  horizon: datetime) -> FileOutcome:
    name = source_file.path.name
    if source_file.refused:
        return FileOutcome(source_file.feed.name, name, "rejected", message=source_file.refused)
    previous = load.file_already_loaded(conn, source_file.sha256)
    if previous is not None:
        return FileOutcome(source_file.feed.name, name, "resent",
                           message=f"same content as {previous}, loaded before; skipped")
    return gate_and_load(conn, source_file, run_id, opened, horizon)


@task(cache_policy=NO_CACHE)
def learn_policy_history(url: str) -> None:
    """Learn the Policy Lab's history of the warehouse just published and keep it on disk, so
    the page's first visit loads it instead of learning it (~2 s at 1M order lines)."""
    from models import policy

    try:
        policy.learned_for(url)
    except ValueError as error:  # no policy or no days-to-return: the page says the same
        log.info("Policy Lab: nothing to learn: %s", error)


@flow(name="returnlens-pipeline", log_prints=False)
def pipeline(source: Path, db: str | None = None, source_kind: str = "files") -> RunSummary:
    """Ingest every feed file in `source` into the warehouse at `db` and rebuild the marts.

    With a source kind other than 'files', the source is first mapped onto contract files by
    its adapter (into data/sources/<kind>/).
    """
    settings = Settings()
    url = database_url(db)
    run_id = uuid.uuid4().hex[:12]
    summary = RunSummary(run_id, url)
    started = load.utcnow()
    opened, horizon = settings.shop_opened_on, horizon_now()
    feed_dir = Path(source)
    if source_kind != "files":
        feed_dir = settings.data_dir / "sources" / source_kind
        summary.report = adapt_source(source_kind, Path(source), feed_dir)
    files = find_feed_files(feed_dir)
    if not files:
        raise FileRejected(f"{source}: no feed files found; expected files named like "
                           "orders.parquet, returns.csv, carrier_scans_2025-01.parquet")
    with interrupt.publish_window() as window, write_session(url) as conn:
        load.ensure_schema(conn)
        before = incremental.row_counts(conn)
        for feed in FEEDS.values():
            for source_file in (f for f in files if f.feed is feed):
                outcome = _file_outcome(conn, source_file, run_id, opened, horizon)
                log.info("%s %s: %s", outcome.status, outcome.file_name,
                         outcome.message or f"{outcome.rows_loaded:,} loaded, "
                                            f"{outcome.rows_quarantined:,} quarantined")
                summary.files.append(outcome)
                load.record(conn, "files", [{
                    "run_id": run_id, "feed": outcome.feed, "file_name": outcome.file_name,
                    "size_bytes": source_file.size_bytes, "sha256": source_file.sha256,
                    "status": outcome.status, "rows_read": outcome.rows_read,
                    "rows_loaded": outcome.rows_loaded,
                    "rows_quarantined": outcome.rows_quarantined,
                    "rows_waiting": outcome.rows_waiting, "duplicates": outcome.duplicates,
                    "message": outcome.message,
                }])
            released = recheck_waiting(conn, feed, run_id, opened, horizon)
            if released:
                summary.released[feed.name] = released
                log.info("released %s waiting %s rows whose parent arrived", released,
                         feed.name)
        update = incremental.plan(conn, run_id, before)
        log.info("%s: %s", "incremental rebuild" if update.incremental else "full rebuild",
                 update.reason)
        for layer in LAYERS:
            if update.incremental:
                update_warehouse_layer(conn, layer, run_id)
            else:
                build_warehouse_layer(conn, layer)
            log.info("built %s", layer)
        load.record(conn, "runs", [{
            "run_id": run_id, "started_at": started, "finished_at": load.utcnow(),
            "source": str(source), "source_kind": source_kind, "status": summary.status,
            "files_seen": len(summary.files),
            "files_loaded": sum(f.status == "loaded" for f in summary.files),
            "files_skipped": sum(f.status == "resent" for f in summary.files),
            "files_rejected": sum(f.status == "rejected" for f in summary.files),
            "rows_read": summary.total("rows_read"), "rows_loaded": summary.total("rows_loaded"),
            "rows_quarantined": summary.total("rows_quarantined"),
            "rows_waiting": summary.total("rows_waiting"),
            "duplicates": summary.total("duplicates"),
            "rows_released": sum(summary.released.values()),
        }])
        if summary.report is not None:
            load.record(conn, "source_notes", [
                {"run_id": run_id, "source_kind": source_kind, "note": key, "value": value}
                for key, value in summary.report.notes.items()])
        window.open()  # leaving the block publishes: Ctrl-C waits for it from here
    if summary.status != "failed":
        learn_policy_history(url)
    return summary
