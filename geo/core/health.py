"""What ``/health`` reports: is the database there, and with which PostgreSQL and PostGIS.

The probe keeps one database connection of its own per server process and talks to it
asynchronously: heavy traffic that fills the request threads and the connection pool cannot
make a liveness probe wait behind it, and so cannot make an orchestrator restart a healthy,
busy server.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import psycopg

from geo.core.db import libpq_url

_VERSIONS = "SELECT current_setting('server_version'), postgis_lib_version()"
TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class DatabaseVersions:
    postgresql: str
    postgis: str


class DatabaseUnavailable(Exception):
    """The database did not answer the probe in time."""


class HealthProbe:
    """The database as ``/health`` sees it, through a connection no request shares."""

    def __init__(self, url: str) -> None:
        self._url = libpq_url(url)
        self._connection: psycopg.AsyncConnection[tuple[str, str]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = asyncio.Lock()

    async def versions(self) -> DatabaseVersions:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a connection belongs to the loop that opened it
            self._loop, self._connection, self._lock = loop, None, asyncio.Lock()
        async with self._lock:
            try:
                return await asyncio.wait_for(self._ask(), TIMEOUT_S)
            except (psycopg.Error, OSError, TimeoutError) as exc:
                await self._drop()
                raise DatabaseUnavailable(str(exc)) from exc

    async def _ask(self) -> DatabaseVersions:
        if self._connection is None or self._connection.closed:
            self._connection = await psycopg.AsyncConnection.connect(
                self._url, autocommit=True, connect_timeout=int(TIMEOUT_S)
            )
        cursor = await self._connection.execute(_VERSIONS)
        row = await cursor.fetchone()
        if row is None:
            raise DatabaseUnavailable("no answer")
        return DatabaseVersions(postgresql=str(row[0]), postgis=str(row[1]))

    async def _drop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
        self._connection = None

    async def close(self) -> None:
        async with self._lock:
            await self._drop()
