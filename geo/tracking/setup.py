"""How a phone's tracker app is set up to send to campo: the link its QR code holds.

Traccar Client takes a link to the server whose query parameters are its settings (device
identifier, interval, the daily schedule, start the service); OwnTracks takes an
``owntracks:///config?inline=`` link holding its JSON configuration in base64. Scanning the
code sets the phone up with nothing typed, secrets included, so a link with a secret is shown
once, when the device is registered.
"""

from __future__ import annotations

import base64
import json
from datetime import time
from urllib.parse import urlencode

from geo.tracking.devices import DeviceView

INTERVAL_S = 30
"""How often the apps send a position: the trail the check-in rules read wants one every
half minute or so."""


def traccar_client_link(
    device: DeviceView, *, base_url: str, shift: tuple[time, time], interval_s: int = INTERVAL_S
) -> str:
    """Traccar Client's settings for an OsmAnd device: campo's ``/osmand``, its identifier,
    a fix every ``interval_s`` seconds, buffered when offline, on only during the shift."""
    settings = {
        "id": device.identifier,
        "interval": interval_s,
        "distance": 0,
        "accuracy": "highest",
        "buffer": "true",
        "startTime": shift[0].strftime("%H:%M"),
        "stopTime": shift[1].strftime("%H:%M"),
        "service": "true",
    }
    return f"{base_url.rstrip('/')}/osmand?{urlencode(settings)}"


def owntracks_link(
    device: DeviceView, *, base_url: str, secret: str, tid: str, interval_s: int = INTERVAL_S
) -> str:
    """OwnTracks' configuration for an OwnTracks device: HTTP mode to campo's ``/owntracks``
    with the device's user, password and device name, reporting as it moves."""
    user, _, name = device.identifier.partition("/")
    configuration = {
        "_type": "configuration",
        "mode": 3,  # HTTP
        "url": f"{base_url.rstrip('/')}/owntracks",
        "auth": True,
        "username": user,
        "password": secret,
        "deviceId": name,
        "tid": "".join(c for c in tid.upper() if c.isalnum())[:2] or "CA",
        "monitoring": 2,  # move mode: a position every interval while moving
        "locatorInterval": interval_s,
    }
    inline = base64.b64encode(json.dumps(configuration).encode()).decode()
    return f"owntracks:///config?inline={inline}"
