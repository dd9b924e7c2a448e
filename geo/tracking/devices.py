"""Tracker apps registered to agents, so free apps (Traccar Client, OwnTracks) can send GPS.

The tracker protocols name a device, never a tenant: :func:`lookup_device` is the one way from
an identifier to its tenant, through the ``campo_device_lookup()`` database function.
OwnTracks devices get a random secret at registration, shown once and stored as a SHA-256
digest (a random 32-byte token needs no slow password hash).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo.core.audit import record, record_update
from geo.core.errors import Conflict, InvalidInput, NotFound
from geo.core.models import DEVICE_PROTOCOLS, Agent, Device


@dataclass(frozen=True, slots=True)
class DeviceView:
    id: int
    agent_id: int
    identifier: str
    protocol: str
    active: bool
    created_at: datetime
    secret: str | None = None
    """Only on registration: the OwnTracks password, never stored in clear."""


@dataclass(frozen=True, slots=True)
class DeviceRef:
    """What a tracker message needs to know about its device."""

    tenant_id: int
    device_id: int
    agent_id: int
    protocol: str
    secret_sha256: str | None
    active: bool
    shift_start: time
    shift_end: time
    settings: dict[str, Any]
    """The tenant's stored settings, read with the device (one round trip for both)."""

    def accepts(self, secret: str) -> bool:
        digest = hashlib.sha256(secret.encode()).hexdigest()
        return self.secret_sha256 is not None and hmac.compare_digest(digest, self.secret_sha256)


def _view(device: Device, secret: str | None = None) -> DeviceView:
    return DeviceView(
        device.id,
        device.agent_id,
        device.identifier,
        device.protocol,
        device.active,
        device.created_at,
        secret,
    )


def owntracks_identifier(user: str, device: str) -> str:
    """OwnTracks names a device by user and device, as its Recorder and MQTT topics do."""
    return f"{user}/{device}"


def register_device(
    session: Session, *, tenant_id: int, agent_id: int, protocol: str, actor_id: int | None = None
) -> DeviceView:
    """Register a tracker app for an agent, under an identifier campo makes.

    The protocols name a device and nothing else, so identifiers are unique across tenants.
    Were they chosen by the caller, a taken one would tell that another tenant has it, and
    an OsmAnd identifier (the protocol has no password) could be guessed; so campo issues
    them: 128 random bits for OsmAnd, a random user for OwnTracks (which also has a password).
    """
    if protocol not in DEVICE_PROTOCOLS:
        raise InvalidInput(f"protocol must be one of {', '.join(DEVICE_PROTOCOLS)}", "protocol")
    agent = session.scalar(select(Agent).where(Agent.tenant_id == tenant_id, Agent.id == agent_id))
    if agent is None:
        raise NotFound("agent not found", "agent_id")
    identifier = _generated_identifier(protocol, agent.code)
    secret = secrets.token_urlsafe(24) if protocol == "owntracks" else None
    device = Device(
        tenant_id=tenant_id,
        agent_id=agent_id,
        identifier=identifier,
        protocol=protocol,
        secret_sha256=None if secret is None else hashlib.sha256(secret.encode()).hexdigest(),
    )
    try:
        with session.begin_nested():
            session.add(device)
            session.flush()
    except IntegrityError:
        raise Conflict("this device identifier is already registered", "identifier") from None
    session.refresh(device)
    record(
        session,
        tenant_id=tenant_id,
        user_id=actor_id,
        action="create",
        subject=f"device:{device.id}",
        before=None,
        after={"agent_id": agent_id, "protocol": protocol},
    )
    return _view(device, secret)


def _generated_identifier(protocol: str, agent_code: str) -> str:
    if protocol in {"odk", "web"}:  # the key in the form server's URL: the phone's credential
        return secrets.token_urlsafe(32)
    if protocol == "owntracks":
        user = "".join(c for c in agent_code.lower() if c.isalnum())[:20] or "gestor"
        return owntracks_identifier(f"{user}-{secrets.token_hex(6)}", "phone")
    return secrets.token_hex(16)


def list_devices(session: Session, *, tenant_id: int, agent_id: int | None = None) -> list[Any]:
    query = select(Device).where(Device.tenant_id == tenant_id).order_by(Device.id)
    if agent_id is not None:
        query = query.where(Device.agent_id == agent_id)
    return [_view(d) for d in session.scalars(query)]


def set_device_active(
    session: Session, *, tenant_id: int, device_id: int, active: bool, actor_id: int | None = None
) -> DeviceView:
    device = session.scalar(
        select(Device).where(Device.tenant_id == tenant_id, Device.id == device_id)
    )
    if device is None:
        raise NotFound("device not found", "device_id")
    before = device.active
    device.active = active
    session.flush()
    record_update(
        session,
        tenant_id=tenant_id,
        user_id=actor_id,
        subject=f"device:{device_id}",
        before={"active": before},
        after={"active": active},
    )
    return _view(device)


def lookup_device(session: Session, identifier: str) -> DeviceRef | None:
    """The device behind an identifier, across tenants; None when unknown."""
    row = session.execute(
        text("SELECT * FROM campo_device_lookup(:identifier)"), {"identifier": identifier}
    ).one_or_none()
    return None if row is None else DeviceRef(*row)
