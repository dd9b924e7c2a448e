"""The live feed: a stream listens before it yields, and a process serves so many streams per
user and per tenant, whatever one of them opens, and a stream that ends gives its place back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator

import psycopg
import pytest

from geo.core.db import libpq_url
from geo.dispatch.notices import (
    CHANNEL,
    MAX_STREAMS_PER_TENANT,
    MAX_STREAMS_PER_USER,
    TooManyStreams,
    visit_notices,
)
from tests.conftest import APP_URL


async def _open(tenant_id: int, user_id: int) -> AsyncGenerator[list[int]]:
    """A stream, started: it has taken its place once it yields (quiet after 10 ms)."""
    stream = visit_notices(APP_URL, tenant_id=tenant_id, user_id=user_id, quiet_s=0.01)
    assert await anext(stream) == []
    return stream


def test_streams_are_capped_per_user_and_per_tenant() -> None:
    async def run() -> None:
        opened: list[AsyncGenerator[list[int]]] = []
        try:
            for _ in range(MAX_STREAMS_PER_USER):
                opened.append(await _open(1, 1))
            with pytest.raises(TooManyStreams):
                await _open(1, 1)  # the same user's next tab
            opened.append(await _open(1, 2))  # another user of the tenant still gets one
            user = 3
            while len(opened) < MAX_STREAMS_PER_TENANT:
                opened.append(await _open(1, user))
                user += 1
            with pytest.raises(TooManyStreams):
                await _open(1, user)  # the tenant has all it may have
            opened.append(await _open(2, 1))  # another tenant is not starved
            await opened.pop(0).aclose()
            opened.append(await _open(1, user))  # a closed stream's place is free again
        finally:
            for stream in opened:
                with contextlib.suppress(Exception):
                    await stream.aclose()

    asyncio.run(run())


def test_a_stream_misses_nothing_announced_after_its_first_item() -> None:
    """The first item means the shared connection listens: a visit announced right after it
    arrives (what lets the board read its feed then and never lose a check-in)."""

    async def run() -> None:
        async with await psycopg.AsyncConnection.connect(
            libpq_url(APP_URL), autocommit=True
        ) as conn:  # connected beforehand: it announces the moment the stream yields
            stream = visit_notices(APP_URL, tenant_id=7, user_id=1, quiet_s=0.001)
            try:
                assert await anext(stream) == []  # at once, were it not waiting for LISTEN
                await conn.execute(
                    "SELECT pg_notify(%s, %s)",
                    (CHANNEL, json.dumps({"tenant_id": 7, "visit_id": 41})),
                )
                deadline = time.monotonic() + 5
                while not (ids := await anext(stream)):  # quiet ticks until it comes
                    assert time.monotonic() < deadline, "the announcement never came"
                assert ids == [41]
                second = visit_notices(APP_URL, tenant_id=7, user_id=2, quiet_s=0.01)
                assert await anext(second) == []  # the connection already listens: at once
                await second.aclose()
            finally:
                await stream.aclose()

    asyncio.run(run())
