"""The one place that reads the environment.

Every other module receives a :class:`Settings` (or calls :func:`get_settings`), so tests and
notebooks can build one explicitly and nothing depends on ambient state.
"""

from __future__ import annotations

from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, PostgresDsn, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

_DEFAULT_SECRET = "change-me"  # noqa: S105 - the sentinel that production must replace


class Settings(BaseSettings):
    """Configuration from ``CAMPO_*`` variables (and ``DATABASE_URL``), or a ``.env`` file."""

    model_config = SettingsConfigDict(env_prefix="CAMPO_", env_file=".env", extra="ignore")

    environment: Annotated[str, Field(pattern="^(local|test|production)$")] = "local"
    database_url: Annotated[
        PostgresDsn, Field(validation_alias=AliasChoices("DATABASE_URL", "CAMPO_DATABASE_URL"))
    ] = PostgresDsn("postgresql+psycopg://postgres@127.0.0.1:5432/campo")
    app_db_role: str = "campo_app"
    app_database_url: PostgresDsn | None = None
    jwt_secret: str = _DEFAULT_SECRET
    jwt_ttl_minutes: Annotated[int, Field(gt=0, le=7 * 24 * 60)] = 12 * 60
    public_base_url: str = "http://127.0.0.1:8000"
    smtp_host: str = "127.0.0.1"
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 25
    smtp_security: Annotated[str, Field(pattern="^(none|starttls|ssl)$")] = "none"
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    mail_from: str = "campo <no-reply@campo.local>"
    gps_retention_days: Annotated[int, Field(ge=31)] = 400
    """GPS history kept by ``campo gps prune`` (partitions are shared by all tenants)."""
    cache_dir: Path = Path(".cache/campo")
    """Built street networks (per extract and travel mode) are kept here."""
    argon2_time_cost: Annotated[int, Field(ge=1, le=20)] = 3
    argon2_memory_kib: Annotated[int, Field(ge=32, le=4 * 1024 * 1024)] = 64 * 1024
    """Password hashing cost; production refuses less than OWASP's minimum (19 MiB, 2 passes)."""
    test_database: Annotated[str, Field(pattern="^[a-z_][a-z0-9_]{0,62}$")] = "campo_test"
    """The database the test suite drops and re-creates (on the server of ``DATABASE_URL``)."""
    log_level: Annotated[str, Field(pattern="^(DEBUG|INFO|WARNING|ERROR)$")] = "INFO"
    log_json: bool = False
    """One JSON object per log line (for a log collector) instead of plain text."""
    job_stalled_after_s: Annotated[float, Field(ge=1, le=3600)] = 30.0
    """A job worker silent this long is taken for dead, and its job is run again elsewhere."""
    trusted_proxies: Annotated[str, Field(pattern=r"^(\*|[0-9A-Fa-f.:/, ]*)$")] = ""
    """Addresses (or networks) of the reverse proxies in front of ``campo serve``, comma
    separated: only their ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed, for the
    client's address (sign-in throttling, logs) and scheme. Empty: none, as when clients
    reach campo directly."""
    local_ca_url: Annotated[str, Field(pattern=r"^(https?://\S+)?$")] = ""
    """Where phones download the root certificate of the local CA in front of campo on a LAN
    (``scripts/https`` prints it, e.g. ``http://192.168.1.20/ca.crt``); the console's Personas
    page then offers it with a QR code and the steps. Empty: the certificate is public."""
    server_threads: Annotated[int, Field(ge=1, le=1000)] = 8
    """Request threads per server process. More take more requests at once, but heavy batches
    then keep the process's event loop (which answers ``/health``) from running."""
    plan_memory_mib: Annotated[int, Field(ge=256, le=1_048_576)] = 4096
    """Memory one plan may take in a worker; a plan estimated above it fails before computing
    (a worker runs one plan at a time)."""

    media_dir: Path = Path("media")
    """Where files sent with visits (photos) are kept, each under its SHA-256."""
    media_max_mib: Annotated[float, Field(gt=0, le=100)] = 10.0
    """The largest file one visit may carry."""
    db_parallel_workers: Annotated[int, Field(ge=0, le=64)] = 0
    """PostgreSQL workers one query of the application role may start. PostGIS prices its
    spatial functions high, so even a check-in's few hundred rows looked worth a parallel plan,
    whose worker start-up (about 20 ms here) cost far more than the query; requests are short,
    so none by default. Analysts' long queries on a larger machine may want a few."""

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        """A forgotten secret must stop a production server, not sign its tokens."""
        if self.environment == "production" and (
            self.jwt_secret == _DEFAULT_SECRET or len(self.jwt_secret) < 32
        ):
            raise ValueError("CAMPO_JWT_SECRET must be set to 32+ random characters in production")
        if self.environment == "production" and (
            self.argon2_memory_kib < 19 * 1024 or self.argon2_time_cost < 2
        ):
            raise ValueError("CAMPO_ARGON2_* below OWASP's minimum cost in production")
        return self

    @cached_property  # read on every request: parsed once
    def owner_url(self) -> str:
        """URL of the schema owner: migrations and tenant creation, nothing else."""
        return _with_driver(str(self.database_url))

    @cached_property
    def app_url(self) -> str:
        """URL of the role the application runs as: subject to row-level security."""
        if self.app_database_url is not None:
            return _with_driver(str(self.app_database_url))
        url = make_url(self.owner_url).set(username=self.app_db_role, password=None)
        return url.render_as_string(hide_password=False)


def _with_driver(url: str) -> str:
    """Accept plain ``postgresql://`` URLs (what people paste) but always use psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
