"""Phones running ODK Collect or campo's web app, known by the key in their form server URL.

The key is a registered device's identifier (protocol ``odk`` or ``web``, 256 random bits): it
names the tenant and the agent, as an OsmAnd identifier does, so the OpenRosa endpoints need no
password on the phone. A key that is unknown, switched off, or of an agent taken off the
field reads as not found, whatever the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy.orm import Session

from geo.accounts.agents import get_agent
from geo.core.db import enter_tenant, tenant_session
from geo.core.errors import NotFound
from geo.core.tenant_settings import remember_settings
from geo.tracking.devices import (
    DeviceView,
    list_devices,
    lookup_device,
    register_device,
    set_device_active,
)


@dataclass(frozen=True, slots=True)
class Phone:
    tenant_id: int
    agent_id: int
    device_id: int
    browser: bool
    """campo's web app: its fixes come from a browser, which never says whether they are
    simulated."""


@contextmanager
def phone_session(key: str) -> Iterator[tuple[Session, Phone]]:
    """A session scoped to the phone's tenant, and the phone; NotFound for any bad key."""
    with tenant_session(None) as session:
        device = lookup_device(session, key) if 20 <= len(key) <= 100 else None
        if device is None or device.protocol not in {"odk", "web"} or not device.active:
            raise NotFound("no form server here", "key")
        enter_tenant(session, device.tenant_id)
        remember_settings(session, device.tenant_id, device.settings)
        if not get_agent(session, tenant_id=device.tenant_id, agent_id=device.agent_id).active:
            raise NotFound("no form server here", "key")
        yield (
            session,
            Phone(
                device.tenant_id,
                device.agent_id,
                device.device_id,
                browser=device.protocol == "web",
            ),
        )


WEB_APPS_PER_AGENT = 3
"""Browsers an agent may have signed in at once; signing in on a fourth switches off the
oldest, so a lost phone's key stops working once the agent signs in elsewhere."""


def register_web_app(
    session: Session, *, tenant_id: int, agent_id: int, actor_id: int
) -> DeviceView:
    """A form server key for the agent's web app in one more browser (protocol ``web``)."""
    active = [
        d
        for d in list_devices(session, tenant_id=tenant_id, agent_id=agent_id)
        if d.protocol == "web" and d.active
    ]
    for old in active[: max(0, len(active) - WEB_APPS_PER_AGENT + 1)]:
        set_device_active(
            session, tenant_id=tenant_id, device_id=old.id, active=False, actor_id=actor_id
        )
    return register_device(
        session, tenant_id=tenant_id, agent_id=agent_id, protocol="web", actor_id=actor_id
    )
