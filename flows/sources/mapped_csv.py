"""Any merchant's export (CSV, Parquet or Excel) → contract feeds, as a mapping file describes.

The mapping file (YAML or TOML; docs/mapped-csv.md) says per feed which file to read, which of
its columns is which contract column, how its dates are written, which of its codes mean which
contract value, and which contract columns take a constant. Everything else is the contract's
job: the adapter hands on text and the pipeline's checks type every value and quarantine the
rows that break a rule, so a bad value costs one row, never the file. A mapping that cannot be
applied at all raises `MappingError`, naming the mapping file and the field.
"""

from __future__ import annotations

import tomllib
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from flows.records import FileRejected
from flows.sources import AdapterReport, register
from flows.sources.tabular import read_table, share, text, write_feed
from warehouse.contract import FEEDS, Feed

KIND = "mapped-csv"
MAPPING_NAMES = ("mapping.yaml", "mapping.yml", "mapping.toml")
FEED_KEYS = ("file", "sheet", "separator", "decimal_comma", "date_format", "date_formats",
             "timezone", "columns", "values", "constants")
ISO_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%.fZ",
               "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M",
               "%Y-%m-%d %H:%M", "%Y-%m-%d")
CURRENCY_SIGNS = r"[€$£¥₹\s]"


class MappingError(FileRejected):
    """A mapping file that cannot be applied; the message names the file and the field."""


@dataclass(frozen=True)
class FeedMapping:
    """How one feed is read from the merchant's export."""

    feed: Feed
    files: tuple[Path, ...]
    columns: dict[str, str]  # source column → contract column
    values: dict[str, dict[str, str]]  # contract column → {lower-cased source code → value}
    constants: dict[str, str]
    date_formats: dict[str, tuple[str, ...]]  # contract column → formats, tried in order
    timezone: str | None
    separator: str
    decimal_comma: bool
    sheet: str | None


def _is_temporal(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.Datetime) or dtype == pl.Date


Fail = Callable[[str, str], MappingError]


def _strings(value: Any, where: str, fail: Fail) -> tuple[str, ...]:
    """A format given as one string or a list of strings."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(i, str) for i in items):
        raise fail(where, "must be a format string such as '%d/%m/%Y %H:%M', or a list of them")
    return tuple(items)


def _table(value: Any, where: str, fail: Fail) -> dict:
    """A mapping-file table (YAML mapping, TOML table), or the error naming where it is not."""
    if not isinstance(value, dict):
        raise fail(where, f"must be a table of names → values, got {type(value).__name__}")
    return value


def read_mapping(path: Path) -> dict:
    """The mapping file parsed as YAML or TOML (by its suffix)."""
    suffix = path.suffix.lower()
    if suffix not in (".yaml", ".yml", ".toml"):
        raise MappingError(f"{path}: a mapping file is .yaml, .yml or .toml")
    try:
        raw = path.read_text(encoding="utf-8")
        parsed = tomllib.loads(raw) if suffix == ".toml" else yaml.safe_load(raw)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
        detail = str(exc)
        if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
            mark = exc.problem_mark
            detail = f"line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
        raise MappingError(f"{path}: cannot be read as {suffix[1:].upper()}: {detail}") \
            from exc
    if not isinstance(parsed, dict) or not isinstance(parsed.get("feeds"), dict):
        raise MappingError(f"{path}: feeds: missing; a mapping has a 'feeds' table with one "
                           f"entry per feed ({', '.join(FEEDS)})")
    unknown = sorted(set(parsed) - {"feeds"})
    if unknown:
        raise MappingError(f"{path}: {unknown[0]}: unknown key; the top level has only 'feeds'")
    return parsed


def _feed_mapping(path: Path, name: str, spec: Any) -> FeedMapping:
    """Check one feed's entry of the mapping against the contract and the files."""

    def fail(field: str, message: str) -> MappingError:
        return MappingError(f"{path}: feeds.{name}{'.' + field if field else ''}: {message}")

    if name not in FEEDS:
        raise fail("", f"not a contract feed; feeds are {', '.join(FEEDS)}")
    feed = FEEDS[name]
    spec = _table(spec, "", fail)
    unknown = sorted(set(spec) - set(FEED_KEYS))
    if unknown:
        raise fail(unknown[0], f"unknown key; a feed's keys are {', '.join(FEED_KEYS)}")
    if not isinstance(spec.get("file"), str):
        raise fail("file", "missing: the export file to read, relative to the mapping file "
                           "(a glob such as returns_*.csv reads several)")
    files = tuple(sorted(path.parent.glob(spec["file"])))
    if not files:
        raise fail("file", f"no file matches {spec['file']!r} in {path.parent}")

    columns = {str(k): v for k, v in _table(spec.get("columns", {}), "columns", fail).items()}
    for source, target in columns.items():
        if target not in feed.column_names:
            raise fail(f"columns.{source}", f"{target!r} is not a {name} column; its columns "
                                            f"are {', '.join(feed.column_names)}")
    targets = list(columns.values())
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        raise fail("columns", f"{twice[0]!r} is mapped from more than one column")

    constants = {}
    for column, value in _table(spec.get("constants", {}), "constants", fail).items():
        if column not in feed.column_names:
            raise fail(f"constants.{column}", f"not a {name} column; its columns are "
                                              f"{', '.join(feed.column_names)}")
        if column in targets:
            raise fail(f"constants.{column}", "is also mapped from a column; keep one")
        constants[column] = str(value).lower() if isinstance(value, bool) else str(value)
        accepted = feed.column(column).accepted
        if accepted and constants[column] not in accepted:
            raise fail(f"constants.{column}", f"{value!r} is not one of {', '.join(accepted)}")

    values: dict[str, dict[str, str]] = {}
    for column, codes in _table(spec.get("values", {}), "values", fail).items():
        if column not in targets:
            raise fail(f"values.{column}", f"{column!r} is not mapped from a column (columns)")
        accepted = feed.column(column).accepted
        table = {}
        for code, value in _table(codes, f"values.{column}", fail).items():
            if accepted and value not in accepted:
                raise fail(f"values.{column}.{code}",
                           f"{value!r} is not one of {', '.join(accepted)}")
            table[str(code).strip().lower()] = str(value)
        values[column] = table

    temporal = [c.name for c in feed.columns if _is_temporal(c.dtype)]
    default = (_strings(spec["date_format"], "date_format", fail) if "date_format" in spec
               else None)
    overrides = _table(spec.get("date_formats", {}), "date_formats", fail)
    for column in overrides:
        if column not in temporal:
            raise fail(f"date_formats.{column}", f"not a date column of {name}; those are "
                                                 f"{', '.join(temporal)}")
    timezone = spec.get("timezone")
    if timezone is not None:
        try:
            zoneinfo.ZoneInfo(str(timezone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise fail("timezone", f"{timezone!r} is not a time zone name such as "
                                   "Europe/London") from None
    date_formats = {}
    for column in temporal:
        if column in overrides:
            date_formats[column] = _strings(overrides[column], f"date_formats.{column}", fail)
        elif default or timezone:
            date_formats[column] = default or ISO_FORMATS

    missing = [c.name for c in feed.columns
               if not c.nullable and c.name not in targets and c.name not in constants]
    if missing:
        raise fail("columns", f"required column(s) {', '.join(missing)} are neither mapped "
                              "from a column nor set in constants")
    if not isinstance(spec.get("decimal_comma", False), bool):
        raise fail("decimal_comma", "must be true or false")
    separator = spec.get("separator", ",")
    if not isinstance(separator, str) or len(separator) != 1:
        raise fail("separator", "must be one character, such as ';'")
    return FeedMapping(feed, files, columns, values, constants, date_formats,
                       None if timezone is None else str(timezone), separator,
                       spec.get("decimal_comma", False),
                       None if spec.get("sheet") is None else str(spec["sheet"]))


def load_mapping(path: Path) -> list[FeedMapping]:
    """Every feed of the mapping file at `path`, checked; MappingError names file and field."""
    parsed = read_mapping(path)
    return [_feed_mapping(path, name, spec) for name, spec in parsed["feeds"].items()]


def _datetime(raw: pl.Expr, formats: tuple[str, ...], timezone: str | None) -> pl.Expr:
    """Text in one of `formats` as naive UTC: an offset (%z) or a final Z says the zone, else
    `timezone` does, else the text is taken as UTC already."""
    parsed = []
    for fmt in formats:
        value = raw.str.to_datetime(fmt, time_unit="us", strict=False)
        if "%z" in fmt:
            value = value.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        elif timezone and not fmt.endswith("Z"):
            value = (value.dt.replace_time_zone(timezone, ambiguous="earliest",
                                                non_existent="null")
                     .dt.convert_time_zone("UTC").dt.replace_time_zone(None))
        parsed.append(value)
    return pl.coalesce(parsed)


def apply_mapping(mapping_path: Path, m: FeedMapping) -> tuple[pl.DataFrame, dict[str, str]]:
    """The feed as text columns named as the contract says, and notes on the codes mapped."""
    frames = []
    for path in m.files:
        for part, raw in read_table(path, as_text=True, separator=m.separator, sheet=m.sheet):
            absent = [c for c in m.columns if c not in raw.columns]
            if absent:
                raise MappingError(
                    f"{mapping_path}: feeds.{m.feed.name}.columns.{absent[0]}: no such column "
                    f"in {part} (its columns: {', '.join(raw.columns)})")
            frames.append(raw.select(text(src).alias(dst) for src, dst in m.columns.items()))
    frame = pl.concat(frames, how="vertical_relaxed")
    notes: dict[str, str] = {}
    exprs = []
    for column in frame.columns:
        spec = m.feed.column(column)
        value = pl.col(column)
        if column in m.values:
            table = m.values[column]
            value = value.str.to_lowercase().replace_strict(
                list(table), list(table.values()), default=value, return_dtype=pl.String)
            seen = frame[column].drop_nulls().unique()
            unmapped = sorted(v for v in seen.to_list()
                              if v.lower() not in table and v not in (spec.accepted or ()))
            fate = "so their rows are quarantined" if spec.accepted else "kept as they are"
            notes[f"values:{m.feed.name}.{column}"] = (
                f"{share(seen.len() - len(unmapped), seen.len())} distinct codes mapped"
                + (f"; not mapped, {fate}: {', '.join(unmapped[:10])}" if unmapped else ""))
        if column in m.date_formats:
            parsed = _datetime(value, m.date_formats[column], m.timezone)
            shape = "%Y-%m-%d" if spec.dtype == pl.Date else "%Y-%m-%d %H:%M:%S%.f"
            value = pl.coalesce(parsed.dt.to_string(shape), value)
        elif spec.dtype == pl.Float64:
            value = value.str.replace_all(CURRENCY_SIGNS, "")
            if m.decimal_comma:
                value = value.str.replace_all(".", "", literal=True).str.replace(",", ".",
                                                                                 literal=True)
        exprs.append(value.alias(column))
    constants = [pl.lit(v, dtype=pl.String).alias(c) for c, v in m.constants.items()]
    return frame.select(*exprs, *constants), notes


def find_mapping(source: Path) -> Path:
    """The mapping file: `source` itself, or the mapping.yaml/.yml/.toml in the folder."""
    if source.is_file():
        return source
    for name in MAPPING_NAMES:
        if (source / name).is_file():
            return source / name
    raise MappingError(f"{source}: no mapping file; pass --source path/to/mapping.yaml, or "
                       f"put one of {', '.join(MAPPING_NAMES)} in the folder")


@register(KIND)
def mapped_csv_adapter(source: Path, out_dir: Path) -> AdapterReport:
    """Read the merchant's export files as the mapping file says and write contract feeds."""
    mapping_path = find_mapping(source)
    mappings = load_mapping(mapping_path)
    notes = {"mapping": str(mapping_path)}
    written = []
    for m in mappings:
        frame, value_notes = apply_mapping(mapping_path, m)
        written.append(write_feed(frame, m.feed.name, out_dir))
        notes[f"feed:{m.feed.name}"] = (
            f"{frame.height:,} rows from {', '.join(p.name for p in m.files)}; "
            f"{len(m.columns)} columns mapped, {len(m.constants)} constants")
        notes |= value_notes
        notes |= {f"default:{m.feed.name}.{c}": f"{v}: a constant of the mapping"
                  for c, v in m.constants.items()}
        notes |= {f"absent:{m.feed.name}.{c.name}": "not in the export"
                  for c in m.feed.columns
                  if c.name not in m.columns.values() and c.name not in m.constants}
    mapped = {m.feed.name for m in mappings}
    notes |= {f"absent:{f.name}": "not in the mapping" for f in FEEDS.values()
              if f.kind == "feed" and f.name not in mapped}
    return AdapterReport(KIND, written, notes)
