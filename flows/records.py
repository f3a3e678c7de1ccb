"""What every ingest stage says about rows and files: the row-number column, the schema of a
row's issue, and the rejection of a whole file. Reading (conform), the quality gate and the
adapters all import these, so none of them imports another for them."""

from __future__ import annotations

import polars as pl

ROW = "_row"  # 1-based data row number within the source file (CSV line = row + 1)

ISSUE_SCHEMA = pl.Schema({
    ROW: pl.Int64(), "field": pl.String(), "rule": pl.String(), "severity": pl.String(),
    "message": pl.String(),
})


class FileRejected(Exception):
    """The whole file cannot be taken as the feed it claims to be."""
