"""A simulated shop (or slice of one) and writing it as one file per feed plus `_truth/`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import polars as pl


@dataclass(frozen=True)
class Shop:
    """Every feed of the contract plus the ground truth, as polars frames."""

    feeds: dict[str, pl.DataFrame]
    truth: dict[str, pl.DataFrame]

    def write(self, out: Path, file_format: str = "parquet") -> dict[str, int]:
        """Write one file per feed into `out` and the truth into `out/_truth` (always Parquet);
        rows written per feed."""
        return write_parts([self], out, file_format)


def write_parts(parts: Iterable[Shop], out: Path, file_format: str = "parquet") -> dict[str, int]:
    """Append each part's feeds to one file per feed in `out`, and its truth to `out/_truth`
    (always Parquet), one part in memory at a time; rows written per feed."""
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    (out / "_truth").mkdir(exist_ok=True)
    writers: dict[Path, pq.ParquetWriter] = {}
    rows: dict[str, int] = {}

    def append(path: Path, frame: pl.DataFrame) -> None:
        if path.suffix == ".csv":
            with path.open("a" if path in writers else "w", encoding="utf-8") as fh:
                frame.write_csv(fh, include_header=path not in writers)
            writers.setdefault(path, None)  # type: ignore[arg-type]
            return
        table = frame.to_arrow()
        if path not in writers:
            writers[path] = pq.ParquetWriter(path, table.schema)
        writers[path].write_table(table)

    try:
        for part in parts:
            for name, frame in part.feeds.items():
                append(out / f"{name}.{file_format}", frame)
                rows[name] = rows.get(name, 0) + frame.height
            for name, frame in part.truth.items():
                append(out / "_truth" / f"{name}.parquet", frame)
    finally:
        for writer in writers.values():
            if writer is not None:
                writer.close()
    return rows
