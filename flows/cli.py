"""The `returnlens` command: generate a shop, run the pipeline, print KPIs, run the demo."""

from __future__ import annotations

import json
import logging
import sys
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import polars as pl
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
    logging.getLogger("great_expectations").setLevel(logging.DEBUG if verbose else logging.ERROR)
    for name in ("prefect", "prefect.flow_runs", "prefect.task_runs"):
        # Prefect logs a failed task's traceback; the CLI says what failed and what to do
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.CRITICAL)


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
    from flows.sources.synthetic import write_shop

    with console.status(f"simulating {orders:,} orders (seed {seed})"):
        rows = write_shop(orders, seed, out, file_format.value)
    table = Table("file", "rows", title=f"synthetic shop in {out}")
    for name, count in rows.items():
        table.add_row(f"{name}.{file_format.value}", f"{count:,}")
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
    table = Table("feed", "file", "status", "read", "loaded", "quarantined", "waiting",
                  "duplicates", "message", title=f"run {summary.run_id}")
    for f in summary.files:
        table.add_row(f.feed, f.file_name, f.status, f"{f.rows_read:,}", f"{f.rows_loaded:,}",
                      f"{f.rows_quarantined:,}", f"{f.rows_waiting:,}", f"{f.duplicates:,}",
                      f.message)
    console.print(table)
    if summary.report is not None:
        for key, value in summary.report.notes.items():
            console.print(f"  {key}: {value}")
    for feed, released in summary.released.items():
        console.print(f"released {released:,} waiting {feed} rows whose parent has arrived")
    console.print(
        f"rows read {summary.total('rows_read'):,} = loaded {summary.total('rows_loaded'):,} "
        f"+ quarantined {summary.total('rows_quarantined'):,} "
        f"+ duplicates {summary.total('duplicates'):,}")
    if summary.total("rows_quarantined"):
        console.print(f"see why: returnlens quality --run {summary.run_id}")
    if any(f.status == "rejected" for f in summary.files):
        console.print("[yellow]some files were rejected whole; see the messages above[/]")


def _print_frame(frame: pl.DataFrame, title: str) -> None:
    table = Table(*frame.columns, title=title)
    for row in frame.iter_rows():
        table.add_row(*("" if v is None else f"{v:,}" if isinstance(v, int) else str(v)
                        for v in row))
    Console(width=None if sys.stdout.isatty() else 200).print(table)


@app.command()
def quality(
    db: DbOption = None,
    run: Annotated[str | None, typer.Option("--run", help="Run id; default the latest run.")]
    = None,
    rows: Annotated[int, typer.Option(help="Quarantined rows to list.")] = 20,
) -> None:
    """Report a pipeline run: files, failed expectations and quarantined rows."""
    from warehouse import read
    from warehouse.engine import reader_engine, warehouse_exists

    url = database_url(db)
    if not warehouse_exists(url):
        raise _fail(f"no warehouse at {url}", "run `returnlens pipeline --source DIR` first")
    with reader_engine(url).connect() as conn:
        runs = read.runs.recent_runs(conn, limit=1000)
        if runs.is_empty():
            raise _fail("no pipeline run recorded yet", "run `returnlens pipeline` first")
        run_id = run or runs["run_id"][0]
        if run_id not in runs["run_id"].to_list():
            raise _fail(f"no run {run_id!r}", f"recent runs: {', '.join(runs['run_id'][:5])}")
        record = runs.filter(pl.col("run_id") == run_id).row(0, named=True)
        files = read.runs.run_files(conn, run_id)
        failed = read.quality.validation_results(conn, run_id)
        summary = read.quality.quarantine_by_rule(conn, run_id)
        kept = read.quality.quarantined_rows(conn, run_id, limit=rows)
    Console().print(
        f"run [bold]{run_id}[/] {record['started_at']} from {record['source']}: "
        f"{record['rows_read']:,} rows read = {record['rows_loaded']:,} loaded + "
        f"{record['rows_quarantined']:,} quarantined ({record['rows_waiting']:,} waiting for "
        f"a parent) + {record['duplicates']:,} duplicates; {record['rows_released']:,} "
        "earlier waiting rows released")
    _print_frame(files.select("feed", "file_name", "status", "rows_read", "rows_loaded",
                              "rows_quarantined", "rows_waiting", "duplicates", "message"),
                 "files")
    _print_frame(failed.select("feed", "file_name", "rule", "column_name", "severity",
                               "unexpected_count", "element_count"),
                 "failed expectations" if failed.height else "every expectation passed")
    if summary.height:
        _print_frame(summary, "quarantine by rule")
        _print_frame(kept.select("file_name", "row_number", "field", "rule", "status",
                                 "message"), f"quarantined rows (first {rows})")


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
    from warehouse import read
    from warehouse.engine import reader_engine, warehouse_exists

    url = database_url(db)
    start, end = _parse_date(date_from, "--from"), _parse_date(date_to, "--to")
    if not warehouse_exists(url):
        raise _fail(f"no warehouse at {url}", "run `returnlens pipeline --source DIR` first")
    with reader_engine(url).connect() as conn:
        values = read.kpis.kpis(conn, start, end)
    if as_json:
        sys.stdout.write(json.dumps(values) + "\n")
        return
    table = Table("KPI", "value", title=f"KPIs ({date_from or 'start'} – {date_to or 'end'})")
    for key, value in values.items():
        table.add_row(key, "n/a" if value is None else f"{value:,}")
    Console().print(table)


@app.command("train")
def train_command(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the metrics as JSON.")] = False,
    truth: Annotated[Path | None, typer.Option(
        "--truth", help="A synthetic shop's _truth/ folder: adds the Bayes ceiling and the "
                        "abuse precision (read for that evaluation alone).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; same data and seed, same model.")] = 7,
    test_from: Annotated[str | None, typer.Option(
        "--test-from", help="First order day of the test period, YYYY-MM-DD; default the "
                            "newest 15 % of labelled order days.")] = None,
    backtest_cuts: Annotated[int, typer.Option(
        "--backtest-cuts", min=0, help="Month ends to backtest the reserve at.")] = 6,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Train and judge the return-risk model, backtest the reserve, score abuse, publish."""
    _setup_logging(verbose)
    from flows.train import train

    url = database_url(db)
    start = _parse_date(test_from, "--test-from")
    if truth is not None and not (truth / "return_probability.parquet").exists():
        raise _fail(f"--truth {truth} has no return_probability.parquet",
                    "pass a synthetic shop's _truth/ folder (returnlens generate writes one)")
    console.print(f"[bold]train[/] on {url}  (Prefect start-up can take ~20 s)")
    try:
        summary = train(db=url, seed=seed, truth=truth, test_from=start,
                        backtest_cuts=backtest_cuts)
    except (ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc), "run `returnlens pipeline --source DIR` on enough history") \
            from None
    if as_json:
        sys.stdout.write(json.dumps({**summary.metrics, "model": {
            "version": summary.version, "path": str(summary.model_dir),
            "snapshot": summary.snapshot}}, default=str) + "\n")
        return
    risk, found = summary.metrics["return_risk"], summary.metrics["reserve"]
    table = Table("figure", "value", title=f"model {summary.version}")
    for key in ("roc_auc", "pr_auc", "brier", "baseline_roc_auc", "bayes_roc_auc"):
        if key in risk:
            table.add_row(f"return risk {key}", f"{risk[key]:.4f}")
    if found["backtest_mape"] is not None:
        table.add_row("reserve backtest MAPE (units)", f"{found['backtest_mape']:.1%}")
    for key in ("precision_at_1pct", "recall_at_1pct"):
        value = summary.metrics["fraud"].get(key)
        table.add_row(f"abuse {key}", "n/a (no labels)" if value is None else f"{value:.3f}")
    table.add_row("model saved in", str(summary.model_dir))
    Console().print(table)


@app.command("score")
def score_command(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was scored as JSON.")]
    = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Score the open order lines with the latest saved model and publish the scores."""
    _setup_logging(verbose)
    from flows.train import score

    url = database_url(db)
    try:
        found = score(db=url)
    except FileNotFoundError as exc:
        raise _fail(str(exc), "`returnlens train` saves a model under data/models/") from None
    except ValueError as exc:
        raise _fail(str(exc), "run `returnlens train` again on this warehouse") from None
    if as_json:
        sys.stdout.write(json.dumps(found, default=str) + "\n")
        return
    console.print(f"scored {found['lines_scored']:,} open lines with model {found['version']}; "
                  f"{found['expected_units']:,.0f} units expected back")


@app.command()
def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8050,
    debug: Annotated[bool, typer.Option("--debug", help="Dash debug mode (reloads on edits).")]
    = False,
) -> None:
    """Serve the dashboard over the warehouse at http://HOST:PORT."""
    from dashboard.app import create_app
    from warehouse.engine import warehouse_exists

    url = database_url(db)
    if not warehouse_exists(url):
        raise _fail(f"no warehouse at {url}", "run `returnlens pipeline --source DIR` first")
    console.print(f"[bold]dashboard[/] on http://{host}:{port}/ over {url}")
    create_app(url).run(host=host, port=port, debug=debug)


@app.command()
def demo(
    orders: Annotated[int, typer.Option(min=100, help="Orders in the demo shop.")] = 50_000,
    seed: Annotated[int, typer.Option(help="Seed of the demo shop.")] = 7,
    db: DbOption = None,
    serve_after: Annotated[bool, typer.Option(
        "--serve/--no-serve", help="Serve the dashboard once the warehouse is built.")] = True,
    port: Annotated[int, typer.Option(help="Dashboard port.")] = 8050,
) -> None:
    """Generate the demo shop (once), run the pipeline on it, print the KPIs, serve the app."""
    settings = Settings()
    out = settings.data_dir / "demo"
    if not (out / "orders.parquet").exists():
        generate(out=out, orders=orders, seed=seed, file_format=FileFormat.parquet)
    pipeline_command(source=out, db=db, source_kind="files")
    kpis(db=db)
    console.print(f"warehouse: [bold]{database_url(db)}[/]")
    if serve_after:
        serve(db=db, port=port)


if __name__ == "__main__":
    app()
