"""The audit log: who changed what, when, with its values before and after.

The table is append-only (the application role may insert and read, never update or delete),
so an entry, once written in the same transaction as the change, is the record of it.
Every entry names the person who made the change.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

_INSERT = text(
    "INSERT INTO audit_log (tenant_id, at, user_id, action, subject, before, after) "
    "VALUES (:t, coalesce(CAST(:at AS timestamptz), now()), :u, :action, :s, "
    "CAST(:b AS jsonb), CAST(:a AS jsonb))"
)


def record(
    session: Session,
    *,
    tenant_id: int,
    user_id: int | None,
    action: str,
    subject: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: datetime | None = None,
) -> None:
    """One entry: ``subject`` names what changed (``case:12``, ``plan_day:2026-12-01``),
    ``action`` how (assign, update, publish, review, pin, ...). The log is of what people do
    through the console and the API; a change with no user (the CLI run by an operator on the
    server, a job) writes none."""
    if user_id is None:
        return
    session.execute(
        _INSERT,
        {
            "t": tenant_id,
            "at": at,
            "u": user_id,
            "action": action,
            "s": subject,
            "b": json.dumps(before, default=str),
            "a": json.dumps(after, default=str),
        },
    )


def record_update(
    session: Session,
    *,
    tenant_id: int,
    user_id: int | None,
    subject: str,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    """An ``update`` entry with only the values that changed, or none if nothing did."""
    changed = [k for k, v in before.items() if after.get(k) != v]
    if changed:
        record(
            session,
            tenant_id=tenant_id,
            user_id=user_id,
            action="update",
            subject=subject,
            before={k: before[k] for k in changed},
            after={k: after.get(k) for k in changed},
        )
