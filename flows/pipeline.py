"""The pipeline flow: discover feed files, conform and load each, then build the marts.

Everything a run writes happens inside one `write_session`, so readers see the warehouse before
the run or after it, never half of it.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy.engine import Connection

from flows.conform import Conformed, FileRejected, SourceFile, conform, discover
from flows.sources import AdapterReport, get_adapter
from warehouse import load
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
    rows_quarantined: int = 0
    duplicates: int = 0
    message: str = ""


@dataclass
class RunSummary:
    """A pipeline run, as recorded in audit.runs."""

    run_id: str
    database_url: str
    files: list[FileOutcome] = field(default_factory=list)
    report: AdapterReport | None = None

    def total(self, attribute: str) -> int:
        return sum(getattr(f, attribute) for f in self.files)


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def find_feed_files(source: Path) -> list[SourceFile]:
    """List the feed files in the source folder with their checksums."""
    return discover(source)


@task(retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def read_feed_file(source_file: SourceFile) -> Conformed:
    """Read one feed file and hold every row to the data contract."""
    return conform(source_file)


@task(cache_policy=NO_CACHE)
def load_feed_file(conn: Connection, result: Conformed, run_id: str) -> FileOutcome:
    """Merge a conformed file into its raw table and keep its rejected rows in quarantine."""
    name = result.source.path.name
    loaded = load.merge_rows(conn, result.source.feed, result.good, name, run_id)
    quarantined = result.quarantined.with_columns(
        run_id=pl.lit(run_id), feed=pl.lit(result.source.feed.name),
        file_name=pl.lit(name))
    load.record(conn, "quarantine", quarantined)
    message = f"extra columns ignored: {', '.join(result.extra_columns)}" \
        if result.extra_columns else ""
    return FileOutcome(result.source.feed.name, name, "loaded", result.rows_read, loaded,
                       result.quarantined.height, result.duplicates, message)


@task(cache_policy=NO_CACHE)
def build_warehouse_layer(conn: Connection, layer: str) -> int:
    """Rebuild one layer (staging, core or marts) from the layer below."""
    return build_layer(conn, layer)


@task(retries=1, retry_delay_seconds=2, cache_policy=NO_CACHE)
def adapt_source(kind: str, source: Path, out: Path) -> AdapterReport:
    """Map a source of another shape onto contract feed files in `out`."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.iterdir():
        if stale.is_file():
            stale.unlink()
    return get_adapter(kind)(source, out)


@flow(name="returnlens-pipeline", log_prints=False)
def pipeline(source: Path, db: str | None = None, source_kind: str = "files") -> RunSummary:
    """Ingest every feed file in `source` into the warehouse at `db` and rebuild the marts.

    With a source kind other than 'files', the source is first mapped onto contract files by
    its adapter (into data/sources/<kind>/).
    """
    url = database_url(db)
    run_id = uuid.uuid4().hex[:12]
    summary = RunSummary(run_id, url)
    started = load.utcnow()
    feed_dir = Path(source)
    if source_kind != "files":
        feed_dir = Settings().data_dir / "sources" / source_kind
        summary.report = adapt_source(source_kind, Path(source), feed_dir)
    files = find_feed_files(feed_dir)
    if not files:
        raise FileRejected(f"{source}: no feed files found; expected files named like "
                           "orders.parquet, returns.csv, carrier_scans_2025-01.parquet")
    with write_session(url) as conn:
        load.ensure_schema(conn)
        for source_file in files:
            name = source_file.path.name
            previous = load.file_already_loaded(conn, source_file.sha256)
            if previous is not None:
                outcome = FileOutcome(source_file.feed.name, name, "resent",
                                      message=f"same content as {previous}, loaded before")
            else:
                try:
                    outcome = load_feed_file(conn, read_feed_file(source_file), run_id)
                except FileRejected as exc:
                    outcome = FileOutcome(source_file.feed.name, name, "rejected",
                                          message=str(exc))
            log.info("%s %s: %s", outcome.status, name, outcome.message or
                     f"{outcome.rows_loaded:,} loaded, {outcome.rows_quarantined:,} quarantined")
            summary.files.append(outcome)
            load.record(conn, "files", [{
                "run_id": run_id, "feed": outcome.feed, "file_name": name,
                "size_bytes": source_file.size_bytes, "sha256": source_file.sha256,
                "status": outcome.status, "rows_read": outcome.rows_read,
                "rows_loaded": outcome.rows_loaded, "rows_quarantined": outcome.rows_quarantined,
                "duplicates": outcome.duplicates, "message": outcome.message,
            }])
        for layer in LAYERS:
            build_warehouse_layer(conn, layer)
            log.info("built %s", layer)
        load.record(conn, "runs", [{
            "run_id": run_id, "started_at": started, "finished_at": load.utcnow(),
            "source": str(source), "source_kind": source_kind, "status": "succeeded",
            "files_seen": len(summary.files),
            "files_loaded": sum(f.status == "loaded" for f in summary.files),
            "files_skipped": sum(f.status == "resent" for f in summary.files),
            "files_rejected": sum(f.status == "rejected" for f in summary.files),
            "rows_read": summary.total("rows_read"), "rows_loaded": summary.total("rows_loaded"),
            "rows_quarantined": summary.total("rows_quarantined"),
            "duplicates": summary.total("duplicates"),
        }])
        if summary.report is not None:
            load.record(conn, "source_notes", [
                {"run_id": run_id, "source_kind": source_kind, "note": key, "value": value}
                for key, value in summary.report.notes.items()])
    return summary
