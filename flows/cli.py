"""The `returnlens` command: generate a shop, run the pipeline, print KPIs, run the demo."""

from __future__ import annotations

import json
import logging
import sys
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from warehouse.settings import Settings, database_url

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="ReturnLens: returns analytics for online shops.")
console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

DbOption = Annotated[str | None, typer.Option(
    "--db", help="SQLAlchemy URL of the warehouse; default RETURNLENS_DATABASE_URL, else the "
                 "embedded DuckDB file data/returnlens.duckdb.")]


class FileFormat(StrEnum):
    parquet = "parquet"
    csv = "csv"


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(message)s", datefmt="[%X]",
                        handlers=[RichHandler(console=console, show_path=False)], force=True)
    logging.getLogger("returnlens").setLevel(logging.DEBUG if verbose else logging.INFO)
    for name in ("prefect", "prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.WARNING)


def _fail(message: str, hint: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {message}\n[dim]{hint}[/]")
    return typer.Exit(code=2)


def _parse_date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise _fail(f"{option} {value!r} is not a date", "write dates as YYYY-MM-DD") from None


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the feed files into.")],
    orders: Annotated[int, typer.Option(min=100, help="Orders to simulate (~1.6 lines each).")]
    = 50_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same shop.")]
    = 7,
    file_format: Annotated[FileFormat, typer.Option("--format", help="File format.")]
    = FileFormat.parquet,
) -> None:
    """Write a synthetic shop's feeds (and its _truth/ for evaluation) into OUT."""
    from flows.sources.synthetic import generate_shop

    with console.status(f"simulating {orders:,} orders (seed {seed})"):
        shop = generate_shop(orders, seed)
        shop.write(out, file_format.value)
    table = Table("file", "rows", title=f"synthetic shop in {out}")
    for name, frame in shop.feeds.items():
        table.add_row(f"{name}.{file_format.value}", f"{frame.height:,}")
    console.print(table)


@app.command("pipeline")
def pipeline_command(
    source: Annotated[Path, typer.Option(
        help="Folder of feed files (CSV or Parquet), or what the --source-kind adapter reads.")],
    db: DbOption = None,
    source_kind: Annotated[str, typer.Option(
        "--source-kind", help="files (contract feed files), or an adapter: online-retail-ii, "
                              "olist, mapped-csv.")] = "files",
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Load SOURCE into the warehouse and rebuild the marts."""
    _setup_logging(verbose)
    from flows.conform import FileRejected
    from flows.pipeline import pipeline
    from flows.sources import source_kinds

    if source_kind not in source_kinds():
        raise _fail(f"unknown --source-kind {source_kind!r}",
                    f"use one of {', '.join(source_kinds())}")
    if not source.exists() or (source_kind == "files" and not source.is_dir()):
        raise _fail(f"source {source} does not exist",
                    "pass --source DIR; `returnlens generate --out DIR` makes a demo shop")
    url = database_url(db)
    console.print(f"[bold]pipeline[/] {source} ({source_kind}) → {url}  "
                  "(Prefect start-up can take ~20 s)")
    try:
        summary = pipeline(source=source, db=url, source_kind=source_kind)
    except FileRejected as exc:
        raise _fail(str(exc), "check the folder and the file names (docs/data-contract.md)") \
            from None
    table = Table("feed", "file", "status", "read", "loaded", "quarantined", "duplicates",
                  "message", title=f"run {summary.run_id}")
    for f in summary.files:
        table.add_row(f.feed, f.file_name, f.status, f"{f.rows_read:,}", f"{f.rows_loaded:,}",
                      f"{f.rows_quarantined:,}", f"{f.duplicates:,}", f.message)
    console.print(table)
    if summary.report is not None:
        for key, value in summary.report.notes.items():
            console.print(f"  {key}: {value}")
    console.print(
        f"rows read {summary.total('rows_read'):,} = loaded {summary.total('rows_loaded'):,} "
        f"+ quarantined {summary.total('rows_quarantined'):,} "
        f"+ duplicates {summary.total('duplicates'):,}")
    if any(f.status == "rejected" for f in summary.files):
        console.print("[yellow]some files were rejected whole; see the messages above[/]")


@app.command()
def kpis(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (stable keys).")] = False,
    date_from: Annotated[str | None, typer.Option("--from", help="First order date, YYYY-MM-DD.")]
    = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last order date, YYYY-MM-DD.")]
    = None,
) -> None:
    """Print the headline KPIs from the marts (definitions in docs/kpis.md)."""
    from warehouse import queries
    from warehouse.engine import reader_engine, warehouse_exists

    url = database_url(db)
    start, end = _parse_date(date_from, "--from"), _parse_date(date_to, "--to")
    if not warehouse_exists(url):
        raise _fail(f"no warehouse at {url}", "run `returnlens pipeline --source DIR` first")
    with reader_engine(url).connect() as conn:
        values = queries.kpis(conn, start, end)
    if as_json:
        sys.stdout.write(json.dumps(values) + "\n")
        return
    table = Table("KPI", "value", title=f"KPIs ({date_from or 'start'} – {date_to or 'end'})")
    for key, value in values.items():
        table.add_row(key, "n/a" if value is None else f"{value:,}")
    Console().print(table)


@app.command()
def demo(
    orders: Annotated[int, typer.Option(min=100, help="Orders in the demo shop.")] = 50_000,
    seed: Annotated[int, typer.Option(help="Seed of the demo shop.")] = 7,
    db: DbOption = None,
) -> None:
    """Generate the demo shop (once), run the pipeline on it and print the KPIs."""
    settings = Settings()
    out = settings.data_dir / "demo"
    if not (out / "orders.parquet").exists():
        generate(out=out, orders=orders, seed=seed, file_format=FileFormat.parquet)
    pipeline_command(source=out, db=db, source_kind="files")
    kpis(db=db)
    console.print(f"warehouse: [bold]{database_url(db)}[/]")


if __name__ == "__main__":
    app()
