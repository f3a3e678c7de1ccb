"""Versioned return-risk models on disk: the fitted estimator (joblib) beside a metadata JSON
that says which data it learnt from, with which parameters, how it scored and on which features.

    data/models/<version>/model.joblib
    data/models/<version>/metadata.json
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
from sklearn.calibration import CalibratedClassifierCV

from models import return_risk

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"


def new_version(snapshot: str | None, seed: int) -> str:
    """A sortable version name: training time (UTC), data snapshot and seed."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{stamp}-{snapshot or 'nodata'}-s{seed}"


def save(root: Path, version: str, model: CalibratedClassifierCV,
         metadata: dict[str, Any]) -> Path:
    """Write the model and its metadata under `root/version`; returns that folder."""
    folder = root / version
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / MODEL_FILE)
    full = {"version": version, "features": list(return_risk.FEATURES),
            "categorical": list(return_risk.CATEGORICAL), **metadata}
    (folder / METADATA_FILE).write_text(json.dumps(full, indent=2, default=str) + "\n",
                                        encoding="utf-8")
    return folder


def latest(root: Path) -> Path | None:
    """The newest saved model folder under `root`, or None when nothing was trained yet."""
    found = sorted(p.parent for p in root.glob(f"*/{METADATA_FILE}")
                   if (p.parent / MODEL_FILE).exists())
    return found[-1] if found else None


def load(folder: Path) -> tuple[CalibratedClassifierCV, dict[str, Any]]:
    """The model and metadata saved in `folder`; refuses one trained on other features."""
    metadata = json.loads((folder / METADATA_FILE).read_text(encoding="utf-8"))
    if metadata.get("features") != list(return_risk.FEATURES):
        raise ValueError(f"model {folder} was trained on other features than this version of "
                         "ReturnLens computes; run `returnlens train` again")
    return joblib.load(folder / MODEL_FILE), metadata
