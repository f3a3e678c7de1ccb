"""The `returnlens` command: generate a shop, run the pipeline, print KPIs, run the demo."""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import signal
import sys
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import polars as pl
import psutil
import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.markup import escape
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
    # -v is about our run: Great Expectations' debug log is thousands of lines of its own
    # class registry, so it says at most warnings
    logging.getLogger("great_expectations").setLevel(logging.WARNING if verbose else logging.ERROR)
    for name in ("prefect", "prefect.flow_runs", "prefect.task_runs"):
        # Prefect logs a failed task's traceback; the CLI says what failed and what to do
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.CRITICAL)


def _exit_on_sigterm() -> None:
    """Turn SIGTERM (and SIGHUP) into a normal exit, so exit handlers run: Prefect stops its
    temporary server in one, and `_stop_children` ends whatever else this process started."""
    def leave(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), leave)
    atexit.unregister(_stop_children)
    atexit.register(_stop_children)


@app.callback()
def _every_command() -> None:
    """Whatever the command, SIGTERM ends it as Ctrl-C would: nothing it started outlives it."""
    _exit_on_sigterm()


def _stop_children() -> None:
    """End every process this one started and that still runs (nothing may outlive it)."""
    children = psutil.Process().children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.terminate()
    _gone, alive = psutil.wait_procs(children, timeout=5)
    for child in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            child.kill()


def _stop_prefect_server() -> None:
    """Stop Prefect's temporary server once the flows are done (it holds ~240 MB)."""
    from prefect.server.api.server import SubprocessASGIServer

    for server in list(SubprocessASGIServer._instances.values()):
        server.stop()


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
    policy: Annotated[Path | None, typer.Option(
        help="Return-policy history to simulate under instead of the shop's own: CSV or Parquet "
             "with the return_policy feed's columns and an optional category column. The same "
             "seed keeps the same customers and orders; returns respond to the policy.")] = None,
) -> None:
    """Write a synthetic shop's feeds (and its _truth/ for evaluation) into OUT."""
    from flows.sources.synthetic import PolicyFileError, read_policy, write_shop

    hint = ("a policy file has policy_id, effective_from, effective_to (empty while in force), "
            "window_days, restocking_fee_pct (0-1), free_return_shipping and optionally "
            "category; periods may not overlap and must cover 2024-01-01 to 2025-12-31 "
            "(docs/synthetic-shop.md)")
    try:
        rows_in = None if policy is None else read_policy(policy)
        with console.status(f"simulating {orders:,} orders (seed {seed})"):
            rows = write_shop(orders, seed, out, file_format.value, rows_in)
    except PolicyFileError as exc:
        raise _fail(str(exc), hint) from None
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
    from flows.interrupt import stop_on_interrupt
    from flows.pipeline import pipeline
    from flows.records import FileRejected
    from flows.sources import source_kinds
    from warehouse.engine import WarehouseBusy

    if source_kind not in source_kinds():
        raise _fail(f"unknown --source-kind {source_kind!r}",
                    f"use one of {', '.join(source_kinds())}")
    if not source.exists() or (source_kind == "files" and not source.is_dir()):
        raise _fail(f"source {source} does not exist",
                    "pass --source DIR; `returnlens generate --out DIR` makes a demo shop")
    url = database_url(db)
    console.print(f"[bold]pipeline[/] {source} ({source_kind}) → {url}  "
                  "(Prefect start-up can take ~20 s)")
    stop_on_interrupt()  # Ctrl-C: stop now, publish nothing, exit 130
    try:
        summary = pipeline(source=source, db=url, source_kind=source_kind)
    except FileRejected as exc:
        raise _fail(str(exc), "check the folder and the file names (docs/data-contract.md)") \
            from None
    except WarehouseBusy as exc:
        raise _fail(str(exc), "another run holds the warehouse (docs/operations.md)") from None
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
    for f in summary.rejected:
        console.print(f"[bold red]rejected[/] {escape(f.file_name)}: nothing loaded from it; "
                      f"{escape(f.message)}", soft_wrap=True, highlight=False)
    if summary.rejected:
        console.print(f"[bold red]run {summary.run_id} {summary.status}:[/] "
                      f"{len(summary.rejected)} of {len(summary.files)} files rejected whole")
        raise typer.Exit(code=1)


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
        table.add_row(key, _kpi_text(key, value))
    Console().print(table)


def _kpi_text(key: str, value: float | None) -> str:
    """A KPI as the table prints it: rates as percentages, money to two decimals, counts
    with thousands separators."""
    if value is None:
        return "n/a"
    if "rate" in key:
        return f"{value:.1%}"
    if key.endswith(("_value", "_cost")):
        return f"{value:,.2f}"
    return f"{value:,}"


UsersOption = Annotated[Path | None, typer.Option(
    "--users", help="Users file (YAML, argon2 hashes); default RETURNLENS_USERS_FILE, else "
                    "data/users.yaml. Sign-in is required whenever one is in use.")]
users_app = typer.Typer(no_args_is_help=True, help="Dashboard users and their roles.")
app.add_typer(users_app, name="users")


def _users_file(explicit: Path | None) -> Path:
    return explicit or Settings().resolved_users_file


@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="User name to sign in with.")],
    role: Annotated[str, typer.Option(help="finance, category, ops or admin.")],
    users: UsersOption = None,
    customer_data: Annotated[bool | None, typer.Option(
        "--customer-data/--no-customer-data",
        help="Show customer ids and free text; default: category and admin do.")] = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input (for scripts).")]
    = False,
) -> None:
    """Add a dashboard user (or replace their role and password)."""
    from dashboard.auth import ROLES, AuthConfigError, add_user

    if role not in ROLES:
        raise _fail(f"unknown role {role!r}", f"roles: {', '.join(ROLES)}")
    password = (sys.stdin.readline().rstrip("\n") if password_stdin else
                typer.prompt("password", hide_input=True, confirmation_prompt=True))
    if len(password) < 8:
        raise _fail("password shorter than 8 characters", "choose a longer one")
    path = _users_file(users)
    try:
        add_user(path, name, role, password, customer_data)
    except AuthConfigError as exc:
        raise _fail(str(exc), "fix or remove the users file") from None
    console.print(f"user [bold]{name}[/] ({role}) in {path}")


@users_app.command("remove")
def users_remove(name: str, users: UsersOption = None) -> None:
    """Remove a dashboard user."""
    from dashboard.auth import remove_user

    path = _users_file(users)
    if not remove_user(path, name):
        raise _fail(f"no user {name!r} in {path}", "`returnlens users list` shows who is there")
    console.print(f"removed {name} from {path}")


@users_app.command("list")
def users_list(users: UsersOption = None) -> None:
    """List dashboard users and their roles."""
    from dashboard.auth import AuthConfigError, load_users

    path = _users_file(users)
    try:
        config = load_users(path)
    except AuthConfigError as exc:
        raise _fail(str(exc), "add one: returnlens users add NAME --role ROLE") from None
    table = Table("user", "role", "customer data", title=str(path))
    for user in config.users.values():
        table.add_row(user.name, user.role, "shown" if user.customer_data else "masked")
    Console().print(table)


@app.command()
def simulate(
    window_days: Annotated[int, typer.Option("--window-days", min=1,
                                             help="Return window, days after delivery.")],
    restocking_fee_pct: Annotated[float, typer.Option(
        "--restocking-fee-pct", min=0.0, max=1.0,
        help="Share of the refund kept on returns that are not the shop's fault (0.10 = 10%).")]
    = 0.0,
    label_fee: Annotated[float, typer.Option(
        "--label-fee", min=0.0, help="Flat fee per return the customer pays (shop currency).")]
    = 0.0,
    exchange_bonus: Annotated[float, typer.Option(
        "--exchange-bonus", min=0.0, max=1.0,
        help="Extra store credit for choosing an exchange, as a share of the item's value.")]
    = 0.0,
    category: Annotated[list[str] | None, typer.Option(
        "--category", help="Apply the scenario to this category only (repeatable).")] = None,
    date_from: Annotated[str | None, typer.Option("--from", help="First order date, YYYY-MM-DD.")]
    = None,
    date_to: Annotated[str | None, typer.Option("--to", help="Last order date, YYYY-MM-DD.")]
    = None,
    seed: Annotated[int | None, typer.Option(
        help="Seed of the bootstrap and assumption draws; by default the Policy Lab's, "
             "whose learnt history the pipeline keeps")] = None,
    save: Annotated[str | None, typer.Option(
        "--save", help="Save the scenario under this name (the Policy Lab compares them).")]
    = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (stable keys).")] = False,
    db: DbOption = None,
) -> None:
    """What a return policy would do to the orders of a period, against what happened
    (docs/policy-lab.md): units returned, money, customers, with 80% intervals."""
    from models import policy
    from warehouse.engine import warehouse_exists

    url = database_url(db)
    start, end = _parse_date(date_from, "--from"), _parse_date(date_to, "--to")
    if not warehouse_exists(url):
        raise _fail(f"no warehouse at {url}", "run `returnlens pipeline --source DIR` first")
    try:
        scenario = policy.Scenario(window_days, restocking_fee_pct, label_fee, exchange_bonus,
                                   tuple(category) if category else None)
        seed = policy.SEED if seed is None else seed
        learned = policy.learned_for(url, seed=seed)
        result = policy.simulate(learned, scenario, start, end, seed=seed)
    except ValueError as error:
        raise _fail(str(error), "see `returnlens simulate --help`") from None
    if save:
        policy.save_scenario(url, result, save)
    if as_json:
        sys.stdout.write(json.dumps(result.as_json()) + "\n")
        return
    table = Table("", "baseline", "scenario", "80% interval", "naive (truncation)",
                  title=f"{scenario.label()} on orders {date_from or 'start'} – "
                        f"{date_to or 'end'}")
    for row in result.table.to_dicts():
        fmt = "{:,.2f}" if row["money"] else "{:,.0f}"
        table.add_row(row["label"], fmt.format(row["baseline"]), fmt.format(row["point"]),
                      f"{fmt.format(row['low'])} – {fmt.format(row['high'])}",
                      fmt.format(row["naive"]))
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
    host: Annotated[str, typer.Option(help="Interface to listen on; anything but localhost "
                                           "requires sign-in (--users).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8050,
    users: UsersOption = None,
    allowed_host: Annotated[list[str] | None, typer.Option(
        "--allowed-host", help="Host name browsers use to reach the dashboard (repeatable); "
                               "localhost and this machine's names are always allowed.")] = None,
    workers: Annotated[int | None, typer.Option(
        help="gunicorn worker processes; default one per CPU core.")] = None,
    threads: Annotated[int, typer.Option(help="Threads per worker.")] = 8,
    debug: Annotated[bool, typer.Option(
        "--debug", help="Flask's development server with Dash debug mode (reloads on edits); "
                        "never for a team.")] = False,
) -> None:
    """Serve the dashboard over the warehouse at http://HOST:PORT (gunicorn)."""
    from dashboard.app import create_app
    from dashboard.auth import AuthConfigError, load_users
    from dashboard.serving import default_allowed_hosts, default_workers, is_local, run_gunicorn
    from warehouse.engine import warehouse_exists

    url = database_url(db)
    if not warehouse_exists(url):
        raise _fail(f"no warehouse at {url}", "run `returnlens pipeline --source DIR` first")
    path = _users_file(users)
    config = None
    if users is not None or not is_local(host):
        try:
            config = load_users(path)
        except AuthConfigError as exc:
            raise _fail(
                f"serving on {host} needs sign-in, and {exc}",
                "create users first: returnlens users add NAME --role finance|category|ops|admin"
                f" (writes {path}); then pass --users {path}, or serve on 127.0.0.1") from None
    allowed = [*default_allowed_hosts(host), *(allowed_host or [])]
    n_workers = workers or default_workers()
    console.print(f"[bold]dashboard[/] on http://{host}:{port}/ over {url}; "
                  + (f"sign-in required ({len(config.users)} users in {path})" if config
                     else "no sign-in (localhost only)")
                  + ("; development server (--debug)" if debug
                     else f"; gunicorn, {n_workers} workers × {threads} threads"))
    if debug:
        # no version check: it fetches plotly.com, which the CSP refuses (a console error)
        create_app(url, config, allowed).run(host=host, port=port, debug=True,
                                             dev_tools_disable_version_check=True)
        return
    run_gunicorn(lambda: create_app(url, config, allowed).server, host, port, n_workers,
                 threads)


@app.command()
def schedule(
    source: Annotated[Path, typer.Option(help="Folder the shop's feed files arrive in.")],
    db: DbOption = None,
    source_kind: Annotated[str, typer.Option("--source-kind", help="As for `pipeline`.")]
    = "files",
    cron: Annotated[str, typer.Option(help="When to run (cron, server time zone).")]
    = "0 2 * * *",
) -> None:
    """Serve a deployment that runs the pipeline on a schedule (needs PREFECT_API_URL)."""
    import os

    from prefect import serve as prefect_serve

    from flows.schedule import pipeline_deployment

    if not os.environ.get("PREFECT_API_URL"):
        raise _fail("scheduled runs need a long-lived Prefect server",
                    "start one with `prefect server start --host 127.0.0.1 --port 4200` and "
                    "export PREFECT_API_URL=http://127.0.0.1:4200/api (docs/operations.md)")
    url = database_url(db)
    console.print(f"[bold]schedule[/] pipeline of {source} → {url} at '{cron}' "
                  "(Ctrl-C stops serving the deployment)")
    prefect_serve(pipeline_deployment(source.resolve(), url, source_kind, cron),
                  print_starting_message=False)


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
    _stop_prefect_server()
    kpis(db=db)
    console.print(f"warehouse: [bold]{database_url(db)}[/]")
    if serve_after:
        serve(db=db, port=port)


# --- vendor quality (issue 11) ---------------------------------------------------------------

VENDOR_JSON_COLUMNS = (
    "vendor_id", "vendor_name", "category", "flagged", "change_date", "defect_rate",
    "category_defect_rate", "defect_rate_low", "defect_rate_high", "order_lines",
    "defect_lines", "returns", "defect_returns", "defect_cost", "excess_defect_cost",
    "low_rating_share", "category_low_rating_share", "review_defect_share",
    "cause_disagreement_rate", "p_excess", "change_p_value",
)


def _vendor_outputs_current(url: str, refresh: bool) -> None:
    """Score the vendors (the Prefect flow) unless the published scores match the warehouse."""
    from warehouse import derived, read
    from warehouse.engine import reader_engine

    with reader_engine(url).connect() as conn:
        latest = derived.latest_output(conn, read.vendors.OUTPUT)
        run_id = read.runs.latest_run_id(conn)
    if refresh or latest is None or latest["snapshot"] != run_id:
        from flows.vendors import vendors_flow

        console.print("[bold]scoring vendors[/] (text causes, scorecards, change points; "
                      "Prefect start-up can take ~20 s)")
        vendors_flow(db=url)


@app.command()
def vendors(
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per vendor and "
                                                         "category.")] = False,
    pack: Annotated[str | None, typer.Option("--pack", help="Write this vendor's evidence "
                                                            "pack (HTML) to --out.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="File for --pack.")] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Score again even if the published "
                                                            "scores match the warehouse.")]
    = False,
) -> None:
    """Vendor quality: defect rates against the category, flags and change dates; evidence packs."""
    from models.evidence import evidence_pack
    from models.vendors import unrankable_reason
    from warehouse import read
    from warehouse.engine import reader_engine, warehouse_exists

    url = database_url(db)
    if not warehouse_exists(url):
        raise _fail(f"no warehouse at {url}", "run `returnlens pipeline --source DIR` first")
    if pack is not None and out is None:
        raise _fail("--pack needs --out FILE", "e.g. returnlens vendors --pack V042 --out v.html")
    with reader_engine(url).connect() as conn:
        unrankable = unrankable_reason(read.quality.source_notes(conn),
                                       read.quality.data_coverage(conn))
    if unrankable:  # a ranking of placeholders at 0.0 % would read as vendors without defects
        if as_json:
            sys.stdout.write("[]\n")
        else:
            console.print(f"nothing to score: {unrankable}")
        return
    _vendor_outputs_current(url, refresh)
    with reader_engine(url).connect() as conn:
        if pack is not None and out is not None:
            tables = read.vendors.vendor_outputs(conn, pack)
            if tables["vendors_scorecard"].is_empty():
                known = read.vendors.vendor_names(conn)["vendor_id"].head(5).to_list()
                raise _fail(f"no vendor {pack!r} in the scorecard",
                            f"vendor ids look like {', '.join(known)}")
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(evidence_pack(pack, tables), encoding="utf-8")
            console.print(f"evidence pack of {pack} written to [bold]{out}[/]")
            return
        card = read.vendors.scorecard(conn)
    if as_json:
        rows = card.select(VENDOR_JSON_COLUMNS).with_columns(
            pl.col("change_date").cast(pl.String)).to_dicts()
        sys.stdout.write(json.dumps(rows) + "\n")
        return
    shown = card.filter(pl.col("flagged")).vstack(card.filter(~pl.col("flagged")).head(10))
    table = Table("vendor", "category", "flagged", "since", "defect rate (95% interval)",
                  "category", "defect cost", title=f"vendor quality ({card.height} vendor and "
                  f"category pairs; {int(card['flagged'].sum())} flagged)")
    for r in shown.iter_rows(named=True):
        table.add_row(f"{r['vendor_name']} ({r['vendor_id']})", r["category"],
                      "yes" if r["flagged"] else "no",
                      r["change_date"].isoformat() if r["change_date"] else "–",
                      f"{100 * r['defect_rate']:.1f}% ({100 * r['defect_rate_low']:.1f}–"
                      f"{100 * r['defect_rate_high']:.1f}%)",
                      f"{100 * (r['category_defect_rate'] or 0):.1f}%",
                      f"{r['defect_cost'] or 0:,.2f}")
    Console(width=None if sys.stdout.isatty() else 200).print(table)


if __name__ == "__main__":
    app()
