"""Read a feed file and hold it to the data contract, row by row.

A file that cannot be read as the feed at all (unreadable, a required column missing) raises
`FileRejected` with a message naming the file and what was expected. Otherwise every row is
either conformed (typed as the contract says) or quarantined with its row number, the field, the
rule it broke and a message a person can act on. Nothing is dropped silently: the caller gets
both frames and `rows_read == len(good) + len(quarantined)`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from warehouse.contract import FEEDS, FILE_FORMATS, Column, Feed

ROW = "_row"  # 1-based data row number within the source file (CSV line = row + 1)
QUARANTINE_SCHEMA = pl.Schema({
    "row_number": pl.Int64(), "field": pl.String(), "rule": pl.String(),
    "message": pl.String(), "record": pl.String(),
})
_TS_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d",
)
_TZ_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z")


class FileRejected(Exception):
    """The whole file cannot be taken as the feed it claims to be."""


@dataclass(frozen=True)
class SourceFile:
    """A feed file found in a source folder."""

    feed: Feed
    path: Path
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class Conformed:
    """The outcome of holding one file to the contract."""

    source: SourceFile
    rows_read: int
    good: pl.DataFrame  # contract columns + ROW, duplicates within the file removed
    quarantined: pl.DataFrame  # QUARANTINE_SCHEMA
    duplicates: int  # rows replaced by a later row with the same natural key in the same file
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
    file's corrections win. Sub-folders (such as the synthetic shop's `_truth/`) are never read.
    """
    if not source_dir.is_dir():
        raise FileNotFoundError(f"source folder {source_dir} does not exist")
    found = []
    for feed in FEEDS.values():
        for path in sorted(source_dir.iterdir()):
            stem, _, ext = path.name.partition(".")
            if path.is_file() and ext in FILE_FORMATS and (
                stem == feed.name or stem.startswith(feed.name + "_")
            ):
                found.append(SourceFile(feed, path, path.stat().st_size, _sha256(path)))
    return found


def _read(source: SourceFile) -> pl.DataFrame:
    path = source.path
    try:
        if path.suffix == ".csv":
            frame = pl.read_csv(path, infer_schema=False)
        else:
            frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several types for unreadable input
        raise FileRejected(f"{path.name}: cannot be read as {path.suffix[1:]}: {exc}") from exc
    return frame.with_row_index(ROW, offset=1).with_columns(pl.col(ROW).cast(pl.Int64))


def _parse(col: Column, raw: pl.Expr, source_dtype: pl.DataType) -> pl.Expr:
    """Cast one source column to its contract type; values that do not parse become null."""
    target = col.dtype
    if source_dtype == target:
        return raw
    if source_dtype != pl.String:
        return raw.cast(target, strict=False)
    text = raw.str.strip_chars()
    text = pl.when(text == "").then(None).otherwise(text)
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


def _checks(col: Column, raw: pl.Expr, value: pl.Expr) -> list[tuple[pl.Expr, str, pl.Expr]]:
    """(row fails?, rule, message) for each rule the contract puts on `col`."""
    raw_text = raw.cast(pl.String)
    present = raw.is_not_null() & (raw_text.str.strip_chars() != "")
    checks = [(
        present & value.is_null(), "type",
        pl.format("expected {}, got '{}'", pl.lit(str(col.dtype)), raw_text),
    )]
    if not col.nullable:
        checks.append((~present, "not_null", pl.lit("is required but empty")))
    if col.accepted:
        checks.append((
            value.is_not_null() & ~value.is_in(list(col.accepted)), "accepted_values",
            pl.format("'{}' is not one of {}", raw_text, pl.lit(", ".join(col.accepted))),
        ))
    if col.min_value is not None:
        checks.append((value < col.min_value, "range",
                       pl.format("{} is below the minimum {}", raw_text, pl.lit(col.min_value))))
    if col.max_value is not None:
        checks.append((value > col.max_value, "range",
                       pl.format("{} is above the maximum {}", raw_text, pl.lit(col.max_value))))
    return checks


def conform(source: SourceFile) -> Conformed:
    """Read `source` and split it into contract-conforming rows and quarantined rows."""
    feed = source.feed
    frame = _read(source)
    rows_read = frame.height
    missing = [c for c in feed.column_names if c not in frame.columns]
    if missing:
        raise FileRejected(
            f"{source.path.name}: missing required column(s) {', '.join(missing)}; "
            f"a {feed.name} file has the columns {', '.join(feed.column_names)} "
            f"(found: {', '.join(c for c in frame.columns if c != ROW) or 'none'})"
        )
    extra = tuple(c for c in frame.columns if c not in feed.column_names and c != ROW)

    typed = frame.select(ROW, *[
        _parse(c, pl.col(c.name), frame.schema[c.name]).alias(c.name) for c in feed.columns
    ])
    failures = []
    for c in feed.columns:
        for failed, rule, message in _checks(c, pl.col(c.name), pl.col(f"__{c.name}")):
            failures.append(pl.when(failed).then(pl.struct(
                field=pl.lit(c.name), rule=pl.lit(rule), message=pl.lit(f"{c.name} ") + message)))
    checked = pl.concat([frame, typed.select(pl.all().exclude(ROW).name.prefix("__"))],
                        how="horizontal")
    issues = checked.select(ROW, issue=pl.concat_list(failures).list.drop_nulls())
    bad_mask = issues["issue"].list.len() > 0
    good = typed.filter(~bad_mask)
    bad_rows = frame.filter(bad_mask)
    bad_issues = issues.filter(bad_mask)
    records = bad_rows.select(pl.all().exclude(ROW).cast(pl.String)).to_dicts()
    quarantined = pl.DataFrame({
        "row_number": bad_issues[ROW],
        "field": bad_issues["issue"].list.first().struct.field("field"),
        "rule": bad_issues["issue"].list.first().struct.field("rule"),
        "message": bad_issues["issue"].list.eval(pl.element().struct.field("message"))
        .list.join("; "),
        "record": [json.dumps(r, ensure_ascii=False, default=str) for r in records],
    }, schema=QUARANTINE_SCHEMA)

    deduped = good.unique(subset=list(feed.key), keep="last", maintain_order=True)
    return Conformed(source, rows_read, deduped, quarantined, good.height - deduped.height, extra)
