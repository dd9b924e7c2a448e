"""Visits as they happen: the ``campo_feed`` notifications the database sends when a visit is
written or decided (a trigger, migration 0014), for one tenant.

A server process holds one connection in ``LISTEN``, however many boards are open: it fans
each notification out to every open stream and closes when the last one goes, so open
browser tabs never cost the database a connection each. The tenant filter is applied here
because a notification channel is shared by every tenant (payloads carry only ids, never
data). Nothing a request needs lives here: a lost connection ends the streams, and each
browser's EventSource reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator
from typing import Any

import psycopg

from geo.core.db import libpq_url

CHANNEL = "campo_feed"
APPLICATION_NAME = "campo-feed"
"""How the listening connection shows in ``pg_stat_activity``."""
MAX_STREAMS = 200
"""Open streams one process serves; more would only queue behind them."""
MAX_STREAMS_PER_TENANT = 100
"""So that one tenant's boards cannot take every stream of a process from the others."""
MAX_STREAMS_PER_USER = 10
"""Tabs one user may keep open on the board; a script opening more gets nothing more."""
LISTEN_WITHIN_S = 10.0
"""A stream whose shared connection does not listen by then ends (the browser retries)."""
_BACKLOG = 1000
"""Notifications kept for a stream that reads slowly; past it, it misses some (the board
reloads its list on its next visit anyway)."""

log = logging.getLogger(__name__)


class TooManyStreams(Exception):
    """This process already serves as many streams as it may: in all, for the tenant or for
    the user (:data:`MAX_STREAMS`, :data:`MAX_STREAMS_PER_TENANT`, :data:`MAX_STREAMS_PER_USER`)."""


class _Listener:
    """One ``LISTEN`` connection of this process and event loop, shared by its streams."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.streams: dict[asyncio.Queue[dict[str, Any] | None], tuple[int, int]] = {}
        """Each open stream with the (tenant, user) it serves."""
        self.task: asyncio.Task[None] | None = None
        self.listening = False
        """``LISTEN`` has run: a commit from now on is announced to every stream."""

    def admits(self, tenant_id: int, user_id: int) -> bool:
        owners = list(self.streams.values())
        return (
            len(owners) < MAX_STREAMS
            and sum(t == tenant_id for t, _ in owners) < MAX_STREAMS_PER_TENANT
            and owners.count((tenant_id, user_id)) < MAX_STREAMS_PER_USER
        )

    async def run(self) -> None:
        try:
            async with await psycopg.AsyncConnection.connect(
                libpq_url(self.url), autocommit=True, application_name=APPLICATION_NAME
            ) as conn:
                await conn.execute(f"LISTEN {CHANNEL}")
                self.listening = True
                self._send(_LISTENING)
                async for note in conn.notifies():
                    self._send(json.loads(note.payload))
        except (psycopg.Error, OSError):
            log.exception("the feed's LISTEN connection was lost; open streams end")
            self._send(None)
        finally:
            if self.task is asyncio.current_task():
                self.task = None
                self.listening = False

    def _send(self, payload: dict[str, Any] | None) -> None:
        for stream in list(self.streams):
            with contextlib.suppress(asyncio.QueueFull):
                stream.put_nowait(payload)


_LISTENERS: dict[tuple[str, int], _Listener] = {}
_LISTENING: dict[str, Any] = {}
"""What a stream receives once the shared connection listens (never a notification's payload,
which always names a visit)."""


async def visit_notices(
    url: str, *, tenant_id: int, user_id: int, quiet_s: float = 15.0
) -> AsyncGenerator[list[int]]:
    """Ids of the tenant's visits as they are written, one notification at a time.

    The first value, an empty list, comes once the stream is listening: whatever the caller
    reads from the database after it, it misses nothing written later (a board reloads its
    feed then, so a check-in stored while the page loaded or the browser reconnected still
    shows). Then an empty list after ``quiet_s`` of silence (or another tenant's
    notification), so the caller can keep its stream alive or notice it was left. Ends if the
    database connection is lost or does not listen within :data:`LISTEN_WITHIN_S`;
    TooManyStreams when the process serves as many as it may, for the tenant or the user."""
    loop = asyncio.get_running_loop()
    listener = _LISTENERS.setdefault((url, id(loop)), _Listener(url))
    if not listener.admits(tenant_id, user_id):
        raise TooManyStreams
    stream: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=_BACKLOG)
    listener.streams[stream] = (tenant_id, user_id)
    if listener.task is None or listener.task.cancelling():  # the last stream just left
        listener.listening = False
        listener.task = loop.create_task(listener.run())
    elif listener.listening:
        stream.put_nowait(_LISTENING)
    try:
        try:  # nothing is announced before LISTEN, so the first item is the signal or None
            first = await asyncio.wait_for(stream.get(), LISTEN_WITHIN_S)
        except TimeoutError:
            first = None
        if first is not _LISTENING:
            return  # the connection failed or is too slow: the browser's EventSource retries
        yield []
        while True:
            try:
                payload = await asyncio.wait_for(stream.get(), quiet_s)
            except TimeoutError:
                yield []
                continue
            if payload is None:
                return
            yield [int(payload["visit_id"])] if payload.get("tenant_id") == tenant_id else []
    finally:
        listener.streams.pop(stream, None)
        if not listener.streams and listener.task is not None:
            listener.task.cancel()
