"""Supervisors' alerts: the open ones (or all of them), newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import Watcher
from geo.alerts.rules import AlertView, list_alerts

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])


@router.get("", response_model=list[AlertView])
def alerts(
    caller: Watcher,
    open_only: Annotated[
        bool, Query(alias="open", description="Only those still open (the default).")
    ] = True,
) -> list[AlertView]:
    """Raised by the ``alerts`` job every minute: an agent silent or low on battery during
    the shift, a rejected check-in, a promise due tomorrow with nothing paid. Each is raised
    once per occurrence and resolved (``resolved_at``) when it ends."""
    return list_alerts(caller.session, tenant_id=caller.tenant_id, open_only=open_only)
