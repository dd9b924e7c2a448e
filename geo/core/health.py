"""What ``/health`` reports: is the database there, and with which PostgreSQL and PostGIS."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class DatabaseVersions:
    postgresql: str
    postgis: str


def database_versions(session: Session) -> DatabaseVersions:
    row = session.execute(
        text("SELECT current_setting('server_version') AS pg, postgis_lib_version() AS gis")
    ).one()
    return DatabaseVersions(postgresql=row.pg, postgis=row.gis)
