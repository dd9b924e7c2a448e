"""Creating a tenant with what it needs on day one, and changing its settings.

It sits above ``accounts`` and ``visits`` because a new tenant gets the default questionnaire:
keeping that here lets the account code stay free of any capability above it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo.core.audit import record_update
from geo.core.errors import Conflict, InvalidInput, NotFound
from geo.core.models import Tenant
from geo.core.tenant_settings import (
    TenantSettings,
    forget_settings,
    parse_settings,
    stored_overrides,
)
from geo.visits.questionnaires import ensure_default_questionnaire


def create_tenant(session: Session, *, slug: str, name: str) -> Tenant:
    """Create a tenant. Needs an owner session: the application role cannot insert tenants."""
    tenant = Tenant(slug=slug, name=name, settings={})
    session.add(tenant)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        if "uq_tenants_slug" in str(exc.orig):
            raise Conflict(f"tenant {slug!r} already exists", field="slug") from exc
        raise InvalidInput(
            "slug must be 2-63 lowercase letters, digits or dashes", field="slug"
        ) from exc
    ensure_default_questionnaire(session, tenant_id=tenant.id)
    return tenant


def update_tenant_settings(
    session: Session, *, tenant_id: int, changes: dict[str, Any], user_id: int | None = None
) -> TenantSettings:
    """Apply ``changes`` (a key set to ``None`` goes back to its default) and store the result.

    The whole document is validated before anything is written: one bad key changes nothing.
    What changed is audited (``user_id``: who)."""
    tenant = session.scalar(select(Tenant).where(Tenant.id == tenant_id).with_for_update())
    if tenant is None:
        raise NotFound("tenant not found", "tenant_id")
    merged = {**(tenant.settings or {}), **changes}
    merged = {key: value for key, value in merged.items() if value is not None}
    updated = parse_settings(merged, writing=frozenset(changes))
    before = dict(tenant.settings or {})
    tenant.settings = stored_overrides(updated)
    session.flush()
    keys = set(before) | set(tenant.settings)
    record_update(
        session,
        tenant_id=tenant_id,
        user_id=user_id,
        subject="tenant:settings",
        before={k: before.get(k) for k in keys},
        after={k: tenant.settings.get(k) for k in keys},
    )
    forget_settings(session)
    return updated


def tenant_name(session: Session, *, tenant_id: int) -> str:
    """The tenant's display name."""
    name = session.scalar(select(Tenant.name).where(Tenant.id == tenant_id))
    if name is None:
        raise NotFound("tenant not found", "tenant_id")
    return name
