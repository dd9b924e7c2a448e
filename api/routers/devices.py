"""Tracker apps registered to agents (Traccar Client, OwnTracks)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from api.deps import Admin, Staff
from api.schemas import MAX_ID, DeviceIn, DeviceOut, DevicePatch, Id
from geo.tracking.devices import list_devices, register_device, set_device_active

router = APIRouter(prefix="/v1/devices", tags=["devices"])


@router.get("", response_model=list[DeviceOut], response_model_exclude_none=True)
def devices(caller: Staff, agent_id: Id | None = None) -> list[DeviceOut]:
    rows = list_devices(caller.session, tenant_id=caller.tenant_id, agent_id=agent_id)
    return [DeviceOut.model_validate(d, from_attributes=True) for d in rows]


@router.post(
    "",
    response_model=DeviceOut,
    status_code=status.HTTP_201_CREATED,
    response_model_exclude_none=True,
)
def new_device(caller: Admin, body: DeviceIn) -> DeviceOut:
    view = register_device(
        caller.session,
        tenant_id=caller.tenant_id,
        actor_id=caller.principal.user_id,
        **body.model_dump(),
    )
    return DeviceOut.model_validate(view, from_attributes=True)


@router.patch("/{device_id}", response_model=DeviceOut, response_model_exclude_none=True)
def patch_device(
    caller: Admin, device_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: DevicePatch
) -> DeviceOut:
    view = set_device_active(
        caller.session,
        tenant_id=caller.tenant_id,
        device_id=device_id,
        active=body.active,
        actor_id=caller.principal.user_id,
    )
    return DeviceOut.model_validate(view, from_attributes=True)
