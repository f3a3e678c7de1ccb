"""Ctrl-C during a pipeline run: stop at once, publish nothing, say so, exit 130.

Python's default turns SIGINT into a KeyboardInterrupt that Prefect's engine and its API client
get in the way of (a run went on to publish, then retried a dead Prefect server for minutes).
The command line installs `stop_on_interrupt` instead: the process ends within moments with
exit status 130, and the warehouse stays as it was (the write session publishes only at its
end, and a run killed at any point leaves the previous warehouse). The one moment an interrupt
must wait is while the run publishes: `publish_window()` marks it, so the message is true
either way.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C


class _State:
    publishing = False  # the run's work is becoming visible right now
    published = False
    pending = False  # an interrupt arrived while publishing


_state = _State()


def _message() -> str:
    if _state.published:
        return ("interrupted after the run published: its work is in the warehouse; "
                "exiting (130)\n")
    return ("interrupted: the run stopped and published nothing; the warehouse is as it was. "
            "Run the pipeline again to load these files. Exiting (130)\n")


def _stop(_signum: int, _frame: FrameType | None) -> None:
    if _state.publishing:
        _state.pending = True
        return
    os.write(2, _message().encode())
    os._exit(EXIT_INTERRUPTED)  # no cleanup that could publish or wait on a dead server


def stop_on_interrupt() -> None:
    """From now on, Ctrl-C (SIGINT) stops the process at once with exit status 130."""
    _state.publishing = _state.published = _state.pending = False
    signal.signal(signal.SIGINT, _stop)


class PublishWindow:
    """Marks when a run's work becomes visible: from `open()` until the block ends, an
    interrupt waits, so it lands either before the publication or after it, never inside."""

    def open(self) -> None:
        """The write session is about to publish: hold interrupts from here."""
        _state.publishing = True

    def close(self, published: bool) -> None:
        """The publication is done (or failed): act on an interrupt that waited."""
        _state.published = published and _state.publishing
        _state.publishing = False
        if _state.pending:
            _stop(signal.SIGINT, None)


@contextmanager
def publish_window() -> Iterator[PublishWindow]:
    """Enter before the write session (so it is left after it); call `open()` at the end of
    the session's block."""
    window = PublishWindow()
    ok = False
    try:
        yield window
        ok = True
    finally:
        window.close(ok)
