"""Read a feed file and hold it to the data contract, row by row.

A file that cannot be read as the feed at all (unreadable, not UTF-8, ragged rows, a required
column missing) raises `FileRejected` with a message naming the file, the line or column, and
what was expected. Otherwise every row is typed as the contract says; a value that does not
parse becomes an issue naming the row, the field and what was expected.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import polars as pl

from flows.quality import missing_columns
from flows.records import ISSUE_SCHEMA, ROW, FileRejected
from warehouse.contract import FEEDS, FILE_FORMATS, Column, Feed

_TS_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d",
)
_TZ_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z")


@dataclass(frozen=True)
class SourceFile:
    """A feed file found in a source folder."""

    feed: Feed
    path: Path
    size_bytes: int
    sha256: str
    refused: str | None = None  # why the file is not read at all (a link leaving the folder)


@dataclass(frozen=True)
class Conformed:
    """One file read and typed as its feed."""

    source: SourceFile
    rows_read: int
    typed: pl.DataFrame  # ROW + contract columns; a value that did not parse is null
    type_issues: pl.DataFrame  # flows.records.ISSUE_SCHEMA, rule 'type'
    original: pl.DataFrame  # every column as read + ROW: what quarantine keeps of a bad row
    extra_columns: tuple[str, ...]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def discover(source_dir: Path) -> list[SourceFile]:
    """Feed files in `source_dir`: `<feed>.<fmt>` or `<feed>_<anything>.<fmt>`, load order.

    Reference tables come first, then feeds, each feed's files in name order so that a later
    file's corrections win. Sub-folders (such as the synthetic shop's `_truth/`) are never read,
    nor is a symbolic link that points outside the folder (it is listed as refused, unread).
    """
    if not source_dir.is_dir():
        raise FileNotFoundError(f"source folder {source_dir} does not exist")
    root = source_dir.resolve()
    found = []
    for feed in FEEDS.values():
        for path in sorted(source_dir.iterdir()):
            stem, _, ext = path.name.partition(".")
            if path.is_file() and ext in FILE_FORMATS and (
                stem == feed.name or stem.startswith(feed.name + "_")
            ):
                if not path.resolve().is_relative_to(root):
                    found.append(SourceFile(feed, path, 0, "", refused=(
                        f"{path.name}: a link to a file outside the source folder; refused, "
                        "not read (copy the file into the folder instead)")))
                    continue
                found.append(SourceFile(feed, path, path.stat().st_size, _sha256(path)))
    return found


def _looks_utf16(path: Path) -> bool:
    """Whether a text file is UTF-16: a byte-order mark, or zero bytes between characters."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    return head.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        len(head) >= 4 and head.count(b"\x00") >= len(head) // 4)


def _locate_csv_problem(path: Path) -> str:
    """Where a CSV stops being readable: the line with bad bytes or a wrong field count."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        hint = ""
        try:
            raw.decode("cp1252")
            hint = " (it looks like Latin-1/Windows-1252)"
        except UnicodeDecodeError:
            pass
        return (f"line {line} is not valid UTF-8{hint}, byte 0x{raw[exc.start]:02x}; "
                "re-export the file as UTF-8")
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if not header:
        return "the file is empty; a feed file starts with a header row"
    for number, row in enumerate(rows, start=1):
        if row and len(row) != len(header):
            return (f"row {number} (line {number + 1}) has {len(row)} fields where the header "
                    f"has {len(header)}")
    return "it is not a comma-separated file with a header row"


BATCH_ROWS = 1_000_000  # rows typed and validated at once: bounds memory for any file size


def _batches(source: SourceFile, batch_rows: int) -> Iterator[pl.DataFrame]:
    """The file's rows in order, `batch_rows` at a time, numbered from 1 in ROW.

    Yields at least one frame (empty for a header-only file) so that the header is checked.
    """
    path = source.path
    if path.suffix == ".csv" and _looks_utf16(path):  # polars panics on its zero bytes
        raise FileRejected(f"{path.name}: cannot be read as csv: it is encoded as UTF-16, not "
                           "UTF-8 (byte-order mark or zero bytes between characters); "
                           "re-export the file as UTF-8")
    try:
        scan = (pl.scan_csv(path, infer_schema=False) if path.suffix == ".csv"
                else pl.scan_parquet(path))
        schema = scan.collect_schema()
        offset = 1
        for batch in scan.collect_batches(chunk_size=batch_rows):
            yield batch.with_row_index(ROW, offset=offset).with_columns(pl.col(ROW).cast(pl.Int64))
            offset += batch.height
        if offset == 1:
            yield pl.DataFrame(schema={ROW: pl.Int64, **schema})
    except FileRejected:
        raise
    except (Exception, pl.exceptions.PanicException) as exc:  # polars: many types, even panics
        detail = _locate_csv_problem(path) if path.suffix == ".csv" else \
            _without_folder(str(exc), path)
        raise FileRejected(f"{path.name}: cannot be read as {path.suffix[1:]}: {detail}") \
            from exc


def _without_folder(message: str, path: Path) -> str:
    """`message` with the file's folder taken out: messages show paths relative to the source
    folder, never where it sits on the server."""
    for folder in {str(path.parent.resolve()), str(path.parent)}:
        message = message.replace(folder + "/", "")
    return message


MAX_NAMES_LISTED = 10


def name_list(names: tuple[str, ...] | list[str]) -> str:
    """The first MAX_NAMES_LISTED names, and how many more were left out (bounded messages)."""
    shown = ", ".join(n[:60] for n in names[:MAX_NAMES_LISTED])
    more = len(names) - MAX_NAMES_LISTED
    return f"{shown} and {more:,} more" if more > 0 else shown


def _nested(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.List | pl.Array | pl.Struct | pl.Object)


def _delimiter_hint(columns: list[str]) -> str:
    if len(columns) == 1:
        for sep in (";", "\t", "|"):
            if sep in columns[0]:
                return f" (the header looks {sep!r}-separated; feed files are comma-separated)"
    return ""


def _parse(col: Column, raw: pl.Expr, source_dtype: pl.DataType) -> pl.Expr:
    """Cast one source column to its contract type; values that do not parse become null."""
    target = col.dtype
    if source_dtype == target:
        return raw
    if target == pl.Int64 and source_dtype.is_float():  # 2.5 is not a quantity: null, an issue
        return pl.when(raw == raw.round(0)).then(raw.cast(pl.Int64, strict=False))
    if source_dtype != pl.String:
        return raw.cast(target, strict=False)
    text = raw.str.strip_chars()
    text = pl.when(text == "").then(None).otherwise(text)
    if isinstance(target, pl.Datetime):
        text = text.str.replace(r"Z$", "+00:00")  # ISO 8601's Z is UTC
    if isinstance(target, pl.Datetime):
        naive = [text.str.to_datetime(f, time_unit="us", strict=False) for f in _TS_FORMATS]
        aware = [text.str.to_datetime(f, time_unit="us", strict=False)
                 .dt.convert_time_zone("UTC").dt.replace_time_zone(None) for f in _TZ_FORMATS]
        return pl.coalesce(*aware, *naive)
    if target == pl.Date:
        return pl.coalesce(text.str.to_date("%Y-%m-%d", strict=False),
                           text.str.to_datetime(strict=False).dt.date())
    if target == pl.Boolean:
        lowered = text.str.to_lowercase()
        return (pl.when(lowered.is_in(["true", "t", "1", "yes"])).then(True)
                .when(lowered.is_in(["false", "f", "0", "no"])).then(False))
    if target == pl.Int64:
        as_float = text.cast(pl.Float64, strict=False)
        return pl.when(as_float == as_float.round(0)).then(as_float.cast(pl.Int64, strict=False))
    return text.cast(target, strict=False)


def _type_errors(col: Column, raw: pl.Expr, value: pl.Expr) -> pl.Expr:
    """A message where a present value did not parse as the column's type, else null."""
    text = raw.cast(pl.String)
    present = raw.is_not_null() & (text.str.strip_chars() != "")
    return pl.when(present & value.is_null()).then(
        pl.format("{} expected {}, got '{}'", pl.lit(col.name), pl.lit(str(col.dtype)), text))


def type_rows(feed: Feed, frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Cast `frame` (ROW + at least the contract columns) to the contract's types.

    Returns the typed rows (a value that did not parse is null) and one issue per value that
    did not parse (flows.records.ISSUE_SCHEMA, rule 'type').
    """

    schema = frame.schema  # built anew on each access, over every column of the file
    typed = frame.select(ROW, *[
        _parse(c, pl.col(c.name), schema[c.name]).alias(c.name) for c in feed.columns])
    # a column already of its contract type cannot fail to parse: check only the others
    to_check = [c for c in feed.columns if schema[c.name] != c.dtype]
    checked = pl.concat([frame.select([c.name for c in to_check]),
                         typed.select(ROW, *[pl.col(c.name).alias(f"__{c.name}")
                                             for c in to_check])], how="horizontal")
    errors = checked.select(
        ROW, *[_type_errors(c, pl.col(c.name), pl.col(f"__{c.name}")).alias(c.name)
               for c in to_check])
    issues = (errors.unpivot(index=ROW, variable_name="field", value_name="message")
              .drop_nulls("message")
              .with_columns(rule=pl.lit("type"), severity=pl.lit("row"))
              .select(ISSUE_SCHEMA.names()).cast(ISSUE_SCHEMA))  # type: ignore[arg-type]
    return typed, issues


def read_batches(source: SourceFile, opened: date, horizon: datetime,
                 batch_rows: int | None = None) -> Iterator[Conformed]:
    """Read `source` batch by batch, reject it whole if it is not the feed, type every row.

    Rows whose values do not parse as their contract type are returned as issues; checking
    the typed rows against the rest of the suite is `flows.quality.gate`'s job. A file that
    turns out unreadable part-way raises FileRejected then: the caller must not keep the
    batches it has seen.
    """

    feed = source.feed
    extra: tuple[str, ...] = ()
    for number, frame in enumerate(_batches(source, batch_rows or BATCH_ROWS)):
        if number == 0:
            schema = frame.schema  # built anew on each access: once, not once a column
            found = [c for c in frame.columns if c != ROW]
            nested = [c for c in found if _nested(schema[c])]
            if nested:
                raise FileRejected(
                    f"{source.path.name}: column(s) {name_list(nested)} hold lists or structs "
                    f"({schema[nested[0]]}); a {feed.name} file has one plain value per "
                    "field")
            missing = missing_columns(feed, frame.drop(ROW), opened, horizon)
            if missing:
                raise FileRejected(
                    f"{source.path.name}: missing required column(s) {', '.join(missing)}; a "
                    f"{feed.name} file has the columns {', '.join(feed.column_names)} "
                    f"(found: {name_list(found) or 'none'}){_delimiter_hint(found)}")
            extra = tuple(c for c in found if c not in feed.column_names)
        typed, issues = type_rows(feed, frame)
        yield Conformed(source, frame.height, typed, issues, frame, extra)
