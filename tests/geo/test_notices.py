"""The live feed's caps: a process serves so many streams per user and per tenant, whatever
one of them opens, and a stream that ends gives its place back."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

import pytest

from geo.dispatch.notices import (
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
