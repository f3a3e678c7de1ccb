"""A second process that reads the KPIs in a loop, as a dashboard would while pipelines run.

    python -m tests.flows.kpi_reader URL OUT_FILE STOP_FILE

Writes one JSON line per read: {"kpis": {...}} or {"error": "..."}; stops when STOP_FILE
exists. Used by the concurrency tests.
"""

import json
import sys
import time
from pathlib import Path

from warehouse import read
from warehouse.engine import reader_engine


def main(url: str, out: Path, stop: Path) -> None:
    with out.open("w") as sink:
        while not stop.exists():
            try:
                engine = reader_engine(url)
                with engine.connect() as conn:
                    line = {"kpis": read.kpis.kpis(conn)}
                engine.dispose()
            except Exception as exc:  # the test asserts there are none
                line = {"error": f"{type(exc).__name__}: {exc}"}
            sink.write(json.dumps(line) + "\n")
            sink.flush()
            time.sleep(0.01)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
