"""The health probe: the versions when the database answers, a clear failure when not."""

from __future__ import annotations

import asyncio

import pytest

from geo.core.health import DatabaseUnavailable, HealthProbe
from geo.core.settings import get_settings


def test_the_probe_reads_the_versions_and_reconnects_after_a_failure() -> None:
    async def run() -> None:
        probe = HealthProbe(get_settings().app_url)
        first = await probe.versions()
        assert first.postgresql.split(".")[0].isdigit()
        await probe.close()  # as if the connection dropped
        assert await probe.versions() == first
        await probe.close()

    asyncio.run(run())


def test_an_unreachable_database_is_reported_not_raised_as_anything_else() -> None:
    probe = HealthProbe("postgresql+psycopg://campo@127.0.0.1:1/campo")
    with pytest.raises(DatabaseUnavailable):
        asyncio.run(probe.versions())
