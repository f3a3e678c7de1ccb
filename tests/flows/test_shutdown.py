"""Stopping the product: nothing it starts (Prefect's temporary server, the dashboard's
workers) outlives `returnlens demo`, `returnlens serve` or any other command after SIGTERM or
Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from tests.processes import RETURNLENS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the command ended before serving"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(1)
    raise TimeoutError(f"nothing listened on {port} within {timeout} s")


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "ctrl-c"])
def test_stopping_the_demo_leaves_no_process_behind(tmp_path: Path, stop: signal.Signals) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RETURNLENS_", "PREFECT_API_URL"))}
    env.update(RETURNLENS_DATA_DIR=str(tmp_path / "data"),
               PREFECT_HOME=str(tmp_path / "prefect"),
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120")
    demo = subprocess.Popen([str(RETURNLENS), "demo", "--orders", "300", "--port", str(port)],
                            env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for_port(port, demo, timeout=480)
        started = psutil.Process(demo.pid).children(recursive=True)

        os.killpg(demo.pid, stop) if stop == signal.SIGINT else demo.send_signal(stop)
        demo.wait(timeout=30)

        _gone, alive = psutil.wait_procs(started, timeout=10)
        assert [p.pid for p in alive] == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(demo.pid, signal.SIGKILL)


def _prefect_server_of(process: subprocess.Popen[bytes], timeout: float) -> psutil.Process:
    """The Prefect temporary server `process` started, once it runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the command ended before starting Prefect's server"
        for child in psutil.Process(process.pid).children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                if "uvicorn" in " ".join(child.cmdline()):
                    return child
        time.sleep(0.5)
    raise TimeoutError(f"no Prefect server started within {timeout} s")


def test_stopping_training_leaves_no_prefect_server_behind(warehouse_url: str,
                                                            tmp_path: Path) -> None:
    from warehouse.engine import duckdb_path

    shutil.copyfile(duckdb_path(warehouse_url), tmp_path / "returnlens.duckdb")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("RETURNLENS_", "PREFECT_API_URL"))}
    env.update(RETURNLENS_DATA_DIR=str(tmp_path / "data"),
               PREFECT_HOME=str(tmp_path / "prefect"),
               PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120")
    train = subprocess.Popen(
        [str(RETURNLENS), "train", "--db", f"duckdb:///{tmp_path / 'returnlens.duckdb'}"],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    server = None
    try:
        server = _prefect_server_of(train, timeout=120)

        train.send_signal(signal.SIGTERM)
        train.wait(timeout=30)

        assert not psutil.wait_procs([server], timeout=10)[1], "Prefect's server outlived it"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(train.pid, signal.SIGKILL)
        if server is not None:
            with contextlib.suppress(psutil.NoSuchProcess):
                server.kill()
