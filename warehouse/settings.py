"""One place for configuration: read from the environment (prefix RETURNLENS_) and `.env`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

from warehouse.contract import DEFAULT_CURRENCY


class Settings(BaseSettings):
    """Where the warehouse lives and where data goes."""

    model_config = SettingsConfigDict(env_prefix="RETURNLENS_", env_file=".env", extra="ignore")

    database_url: str | None = None
    data_dir: Path = Path("data")
    shop_opened_on: date = date(2000, 1, 1)  # timestamps before it are data errors
    # ISO 4217 code of the money in files whose source does not record one (see
    # warehouse.contract.DEFAULT_CURRENCY); read it through warehouse.read.runs.currency
    currency: str = DEFAULT_CURRENCY
    duckdb_memory_limit: str = "3GB"  # for the pipeline's DuckDB writer; it spills beyond
    writer_wait_seconds: float = 6 * 3600  # how long a writer waits for another to finish
    users_file: Path | None = None  # the dashboard's users and roles (returnlens users add)

    @property
    def resolved_users_file(self) -> Path:
        """The configured users file, else users.yaml under data_dir."""
        return self.users_file or self.data_dir / "users.yaml"

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, else the embedded DuckDB file under data_dir."""
        if self.database_url:
            return self.database_url
        return f"duckdb:///{(self.data_dir / 'returnlens.duckdb').resolve()}"


def database_url(explicit: str | None = None) -> str:
    """`explicit` if given, else RETURNLENS_DATABASE_URL, else the embedded DuckDB file."""
    return explicit or Settings().resolved_database_url
