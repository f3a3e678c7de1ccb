"""Shared by the adapters: read a source's tables (Parquet, CSV, Excel) and write feed files.

Adapters read whatever a shop or a public dataset exports; this module turns a file (or each
sheet of a workbook) into polars frames, and writes the contract-shaped frames an adapter builds
as `<feed>.parquet`. Files an adapter keeps for people but that are not feeds (excluded lines,
unlinked returns) go into the `_side/` sub-folder, which the pipeline never reads as feeds.
"""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import polars as pl

from flows.records import FileRejected
from warehouse.contract import FEEDS

TABLE_SUFFIXES = (".parquet", ".csv", ".xlsx", ".xlsm", ".xls")
SIDE_DIR = "_side"
_EXCEL_EPOCH = datetime(1899, 12, 30)
_US = 86_400_000_000  # microseconds per day
_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M", "%Y-%m-%d", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y",
)


def table_files(source: Path) -> list[Path]:
    """The readable tables of `source`: the file itself, or a folder's files in name order."""
    if source.is_file():
        if source.suffix.lower() not in TABLE_SUFFIXES:
            raise FileRejected(f"{source}: not a table file; expected one of "
                               f"{', '.join(TABLE_SUFFIXES)}")
        return [source]
    if not source.is_dir():
        raise FileRejected(f"{source}: no such file or folder")
    found = sorted(p for p in source.iterdir()
                   if p.is_file() and p.suffix.lower() in TABLE_SUFFIXES)
    if not found:
        raise FileRejected(f"{source}: no table files in the folder; expected files ending in "
                           f"{', '.join(TABLE_SUFFIXES)}")
    return found


def read_table(path: Path, *, as_text: bool = False, separator: str = ",",
               sheet: str | None = None) -> list[tuple[str, pl.DataFrame]]:
    """(part name, frame) for the file: one part, or one per sheet of a workbook.

    With `as_text` every column is read as text (CSV and Excel), so that identifiers such as
    invoice numbers keep their exact spelling and the caller decides how to parse the rest.
    """
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return [(path.name, pl.read_parquet(path))]
        if suffix == ".csv":
            return [(path.name, pl.read_csv(path, infer_schema=not as_text, separator=separator))]
        sheets = pl.read_excel(path, sheet_id=None if sheet else 0, sheet_name=sheet,
                               infer_schema_length=0 if as_text else 100)
    except Exception as exc:  # readers raise many types for unreadable input
        raise FileRejected(f"{path.name}: cannot be read as {suffix[1:]}: {exc}") from exc
    if isinstance(sheets, pl.DataFrame):
        return [(f"{path.name}[{sheet}]", sheets)]
    return [(f"{path.name}[{name}]", frame) for name, frame in sheets.items()]


def text(column: str) -> pl.Expr:
    """A column as trimmed text, empty strings as null, whatever type it was read as."""
    value = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.when(value == "").then(None).otherwise(value).alias(column)


def identifier(column: str) -> pl.Expr:
    """A code read as text; a number that a spreadsheet stored as float loses its '.0'."""
    return text(column).str.replace(r"^(\d+)\.0+$", "$1")


def number(column: str, dtype: pl.DataType) -> pl.Expr:
    """A column as Float64: numbers as they are, text parsed (values that do not parse: null)."""
    if dtype.is_numeric():
        return pl.col(column).cast(pl.Float64)
    return text(column).cast(pl.Float64, strict=False).alias(column)


def timestamp(column: str, dtype: pl.DataType) -> pl.Expr:
    """A column as a naive microsecond timestamp: typed, ISO or US text, or an Excel serial."""
    if isinstance(dtype, pl.Datetime):
        return pl.col(column).dt.replace_time_zone(None).dt.cast_time_unit("us")
    if dtype == pl.Date:
        return pl.col(column).cast(pl.Datetime("us"))
    raw = text(column)
    parsed = [raw.str.to_datetime(f, time_unit="us", strict=False) for f in _DATETIME_FORMATS]
    serial = raw.cast(pl.Float64, strict=False)
    excel = pl.lit(_EXCEL_EPOCH) + pl.duration(microseconds=(serial * _US).round(0)
                                               .cast(pl.Int64, strict=False))
    return pl.coalesce(*parsed, pl.when(serial.is_between(1, 2_958_465)).then(excel)).alias(column)


def normalise_name(name: str) -> str:
    """A column or table name reduced to lower-case letters and digits, for alias matching."""
    return "".join(ch for ch in name.lower() if ch.isalnum())


def rename_aliases(frame: pl.DataFrame, aliases: dict[str, tuple[str, ...]],
                   part: str) -> pl.DataFrame:
    """Rename the source's columns to canonical names; FileRejected names what is missing."""
    by_key = {normalise_name(c): c for c in frame.columns}
    renames, missing = {}, []
    for canonical, names in aliases.items():
        found = next((by_key[normalise_name(n)] for n in names if normalise_name(n) in by_key),
                     None)
        if found is None:
            missing.append(f"{names[0]!r}")
        else:
            renames[found] = canonical
    if missing:
        raise FileRejected(f"{part}: missing column(s) {', '.join(missing)} "
                           f"(found: {', '.join(frame.columns) or 'none'})")
    return frame.select(pl.col(src).alias(dst) for src, dst in renames.items())


def write_feed(frame: pl.DataFrame, feed_name: str, out_dir: Path) -> str:
    """Write `frame` as `<feed>.parquet` with the contract's columns in contract order."""
    feed = FEEDS[feed_name]
    present = [pl.col(c.name) if c.name in frame.columns
               else pl.lit(None, dtype=c.dtype).alias(c.name) for c in feed.columns]
    frame.select(present).write_parquet(out_dir / f"{feed_name}.parquet")
    return feed_name


def side_dir(out_dir: Path) -> Path:
    """The emptied `_side/` folder of `out_dir`, for files that are kept but are not feeds."""
    side = out_dir / SIDE_DIR
    shutil.rmtree(side, ignore_errors=True)
    side.mkdir(parents=True)
    return side


def share(part: int, whole: int) -> str:
    """'1,234 of 5,678 (21.7%)': a count with its share, for adapter notes."""
    pct = f"{100 * part / whole:.1f}%" if whole else "n/a"
    return f"{part:,} of {whole:,} ({pct})"
