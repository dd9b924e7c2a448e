"""The caller's tenant: its typed settings (admins change them, staff read them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from api.deps import Admin, Staff
from geo.core.tenant_settings import TenantSettings, tenant_settings
from geo.provisioning.tenants import update_tenant_settings

router = APIRouter(prefix="/v1/tenant", tags=["tenant"])

_EXAMPLE = {"timezone": "America/Bogota", "notify_emails": ["supervisor@example.co"]}


@router.get("/settings", response_model=TenantSettings, summary="The tenant's settings")
def settings(caller: Staff) -> TenantSettings:
    """Every setting with its effective value (the default where none was set)."""
    return tenant_settings(caller.session, caller.tenant_id)


@router.patch("/settings", response_model=TenantSettings, summary="Change some settings")
def change_settings(
    caller: Admin,
    changes: Annotated[
        dict[str, Any],
        Body(
            description="Keys to change; ``null`` puts a key back to its default. An unknown "
            "key or a bad value is refused (422, naming it) and nothing changes.",
            examples=[_EXAMPLE],
        ),
    ],
) -> TenantSettings:
    return update_tenant_settings(
        caller.session,
        tenant_id=caller.tenant_id,
        changes=changes,
        user_id=caller.principal.user_id,
    )
