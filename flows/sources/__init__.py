"""Sources: adapters that turn what a shop or a public dataset provides into contract feeds.

An adapter reads its own source (a folder, a file) and writes contract-shaped feed files
(`<feed>.parquet`) into a folder; the pipeline then takes them through the same contract checks,
quality gate and warehouse as any other files. Every adapter says what it did in an
`AdapterReport`: facts about the mapping (e.g. the share of returns linked to their sale) that
the run records in audit.source_notes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class AdapterReport:
    """What an adapter wrote and the facts about its mapping worth keeping."""

    kind: str
    feeds_written: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)


Adapter = Callable[[Path, Path], AdapterReport]
"""adapter(source, out_dir) -> report; writes `<feed>.parquet` files into out_dir."""

ADAPTERS: dict[str, Adapter] = {}


def register(kind: str) -> Callable[[Adapter], Adapter]:
    """Decorator that makes an adapter available as `--source-kind KIND`."""

    def wrap(adapter: Adapter) -> Adapter:
        ADAPTERS[kind] = adapter
        return adapter

    return wrap


def source_kinds() -> list[str]:
    """Every accepted --source-kind: 'files' (contract files as they are) and the adapters."""
    _load_adapters()
    return ["files", *sorted(ADAPTERS)]


def get_adapter(kind: str) -> Adapter:
    """The adapter for `kind`; ValueError lists the kinds there are."""
    _load_adapters()
    if kind not in ADAPTERS:
        raise ValueError(f"unknown source kind {kind!r}; use one of {', '.join(source_kinds())}")
    return ADAPTERS[kind]


def _load_adapters() -> None:
    """Import the adapter modules so that they register themselves."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(__path__):
        if module.name not in ("synthetic", "texts"):
            importlib.import_module(f"{__name__}.{module.name}")
