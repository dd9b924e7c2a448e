"""The links a tracker app's QR code holds: what Traccar Client and OwnTracks read from them."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, time
from urllib.parse import parse_qs, urlsplit

from geo.tracking.devices import DeviceView
from geo.tracking.setup import owntracks_link, traccar_client_link

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def test_traccar_client_gets_the_server_its_identifier_and_the_agents_shift() -> None:
    device = DeviceView(1, 7, "a1b2c3d4e5f60718293a4b5c6d7e8f90", "osmand", True, NOW)
    link = traccar_client_link(
        device, base_url="https://campo.example.co/", shift=(time(6, 30), time(19, 0))
    )
    parts = urlsplit(link)
    settings = {k: v[0] for k, v in parse_qs(parts.query).items()}
    # The app keeps origin + path as its server URL, and the parameters as its settings.
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://campo.example.co/osmand"
    assert settings["id"] == device.identifier
    assert (settings["startTime"], settings["stopTime"]) == ("06:30", "19:00")
    assert (settings["interval"], settings["buffer"], settings["service"]) == ("30", "true", "true")


def test_owntracks_gets_http_mode_and_the_credentials_campo_checks() -> None:
    device = DeviceView(2, 7, "g7-0a1b2c3d4e5f/phone", "owntracks", True, NOW, "s3cret")
    link = owntracks_link(device, base_url="http://10.0.0.5:8000", secret="s3cret", tid="g-7")
    assert link.startswith("owntracks:///config?inline=")
    configuration = json.loads(base64.b64decode(link.split("inline=", 1)[1]))
    assert configuration == {
        "_type": "configuration",
        "mode": 3,
        "url": "http://10.0.0.5:8000/owntracks",
        "auth": True,
        "username": "g7-0a1b2c3d4e5f",
        "password": "s3cret",
        "deviceId": "phone",
        "tid": "G7",
        "monitoring": 2,
        "locatorInterval": 30,
    }
