"""Visits as they happen: the ``campo_feed`` notifications the database sends when a visit is
written or decided (a trigger, migration 0014), for one tenant.

Each listener holds one connection in ``LISTEN``; the console opens one per open board, which
at a dispatch office's scale is a handful. The tenant filter is applied here because a
notification channel is shared by every tenant (payloads carry only ids, never data).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import psycopg

from geo.core.db import libpq_url

CHANNEL = "campo_feed"


async def visit_notices(
    url: str, *, tenant_id: int, quiet_s: float = 15.0
) -> AsyncIterator[list[int]]:
    """Ids of the tenant's visits as they are written, one notification at a time; an empty
    list after ``quiet_s`` of silence (or another tenant's notification), so the caller can
    keep its stream alive or notice it was left."""
    async with await psycopg.AsyncConnection.connect(libpq_url(url), autocommit=True) as conn:
        await conn.execute(f"LISTEN {CHANNEL}")
        while True:
            ids: list[int] = []
            async for note in conn.notifies(timeout=quiet_s, stop_after=1):
                payload = json.loads(note.payload)
                if payload.get("tenant_id") == tenant_id:
                    ids.append(int(payload["visit_id"]))
            yield ids
