"""Running the product's command line as a separate process, as a user (or a scheduler) would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[1]
RETURNLENS = Path(sys.executable).parent / "returnlens"


def prefect_env() -> dict[str, str]:
    """Environment for a child process that uses this session's Prefect test server."""
    from prefect.settings import PREFECT_API_URL

    env = dict(os.environ, PREFECT_API_URL=str(PREFECT_API_URL.value()))
    return {k: v for k, v in env.items() if not k.startswith("RETURNLENS_")}


def start_pipeline(source: Path, url: str) -> subprocess.Popen[str]:
    """`returnlens pipeline --source SOURCE --db URL -v`, its log on stderr as text."""
    return subprocess.Popen([str(RETURNLENS), "pipeline", "--source", str(source), "--db", url,
                             "-v"], stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                            env=prefect_env(), cwd=REPO)
