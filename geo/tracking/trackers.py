"""GPS from existing tracker apps: Traccar Client / OsmAnd, and OwnTracks in HTTP mode.

Each protocol is turned into :class:`~geo.tracking.telemetry.Fix` values and goes through the same
rules and storage as the field app (:func:`geo.tracking.telemetry.ingest`). Units follow each
project's documentation: OsmAnd ``speed`` is in knots, Traccar Client 9 JSON ``speed`` in m/s
and battery ``level`` in 0-1, OwnTracks ``vel`` in km/h. An accuracy of 0 (older clients,
GPS fixes) is stored as unknown, never as perfect.

A tracker message is refused as a whole (nothing stored) when its device is unknown or one of
its positions is malformed. A position that is well formed but falls outside the tenant's
policy (off shift, older than the horizon) is acknowledged and not kept, so the phone drops it
from its queue instead of retrying it forever.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

from geo.core.db import enter_tenant, tenant_session
from geo.core.errors import AuthenticationFailed, Refused
from geo.core.tenant_settings import remember_settings
from geo.tracking.devices import DeviceRef, lookup_device, owntracks_identifier
from geo.tracking.telemetry import (
    MAX_BATCH,
    Fix,
    FixRejected,
    ItemResult,
    aware_time,
    flag,
    ingest,
    number,
    required_number,
)

KNOT_MPS = 1852 / 3600
_NAMESPACE = uuid.UUID("5b0b6a36-9a3e-4f33-9d7e-0f6c1d2f8a10")
POLICY_DROPS = frozenset({"outside_shift", "too_old"})
"""Rejections that are acknowledged (the phone must not retry them) rather than refused."""

OSMAND_KEYS = frozenset(
    {
        "id",
        "deviceid",
        "lat",
        "lon",
        "location",
        "timestamp",
        "speed",
        "bearing",
        "heading",
        "altitude",
        "accuracy",
        "batt",
        "charge",
        "mock",
    }
)
OSMAND_NAMES = {
    "recorded_at": "timestamp",
    "lat": "lat",
    "lon": "lon",
    "accuracy_m": "accuracy",
    "battery_pct": "batt",
}
TRACCAR_NAMES = {
    "recorded_at": "location.timestamp",
    "lat": "location.coords.latitude",
    "lon": "location.coords.longitude",
    "accuracy_m": "location.coords.accuracy",
    "battery_pct": "location.battery.level",
}
OWNTRACKS_NAMES = {
    "recorded_at": "tst",
    "lat": "lat",
    "lon": "lon",
    "accuracy_m": "acc",
    "battery_pct": "batt",
}
OWNTRACKS_KEYS = frozenset({"_type", "lat", "lon", "tst", "acc", "alt", "vel", "cog", "batt", "bs"})


def _fix_id(identifier: str, recorded_at: datetime) -> uuid.UUID:
    """Trackers send no fix id: the device and its time are the fix, so a resend is a duplicate."""
    return uuid.uuid5(_NAMESPACE, f"{identifier}|{recorded_at.isoformat()}")


def _unknown_if_not_positive(value: float | None) -> float | None:
    return value if value is not None and value > 0 else None


def _text_number(values: Mapping[str, str], key: str) -> float | None:
    raw = values.get(key)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise FixRejected("invalid_value", key, f"{key} must be a number") from None
    if not math.isfinite(value):
        raise FixRejected("invalid_value", key, f"{key} must be a finite number")
    return value


def _text_flag(values: Mapping[str, str], key: str) -> bool | None:
    raw = values.get(key)
    if raw is None or raw == "":
        return None
    lowered = raw.lower()
    if lowered in {"true", "1"}:
        return True
    if lowered in {"false", "0"}:
        return False
    raise FixRejected("invalid_value", key, f"{key} must be true, false, 1 or 0")


TIME_ASSUMED = "time_assumed"
"""Attribute set on a fix whose time the client did not fully give: ``utc`` (a time without
an offset, read as UTC as the reference server reads it) or ``received`` (no time at all)."""


def tracker_time(raw: Any, *, name: str) -> tuple[datetime, str | None]:
    """Unix seconds (milliseconds when larger than 2^31) or ISO 8601, and what was assumed.

    Real clients send times without an offset, or none; the reference server reads the first
    as UTC and uses the time of receipt for the second. So does campo, and says so on the fix.
    """
    if raw is None or raw == "":
        return datetime.now(UTC), "received"
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise FixRejected("invalid_value", name, f"{name} must be a time")
    try:
        value = float(raw)
    except ValueError:
        value = None
    if value is None:
        try:
            parsed = datetime.fromisoformat(str(raw))
        except ValueError:
            raise FixRejected("invalid_value", name, f"{name} is not a time") from None
        assumed = "utc" if parsed.tzinfo is None else None
        return aware_time(
            parsed.replace(tzinfo=parsed.tzinfo or UTC).isoformat(), name=name
        ), assumed
    if not math.isfinite(value) or value < 0:
        raise FixRejected("invalid_value", name, f"{name} must be a Unix time")
    seconds = value / 1000 if value > 2**31 else value
    try:
        return aware_time(datetime.fromtimestamp(seconds, UTC).isoformat(), name=name), None
    except (OverflowError, OSError, ValueError):
        raise FixRejected("out_of_range", name, f"{name} is out of range") from None


def _with_assumption(extra: dict[str, Any], assumed: str | None) -> dict[str, Any] | None:
    if assumed is not None:
        extra = {**extra, TIME_ASSUMED: assumed}
    return extra or None


def _battery(value: float | None, scale: float) -> float | None:
    """A battery level in %, or unknown: clients send -1 (or worse) when they cannot tell."""
    if value is None or not 0 <= value <= scale:
        return None
    return value * 100 / scale


def osmand_identifier(values: Mapping[str, str]) -> str:
    identifier = values.get("id") or values.get("deviceid")
    if not identifier:
        raise Refused("id (or deviceid) is required: the device identifier", "id")
    return identifier


def parse_osmand(values: Mapping[str, str], *, identifier: str) -> Fix:
    """One OsmAnd / Traccar Client position from query or form parameters."""
    lat, lon = _text_number(values, "lat"), _text_number(values, "lon")
    if (lat is None or lon is None) and values.get("location"):
        parts = values["location"].split(",")
        if len(parts) != 2:
            raise FixRejected("invalid_value", "location", "location must be lat,lon")
        lat, lon = _text_number({"lat": parts[0]}, "lat"), _text_number({"lon": parts[1]}, "lon")
    if lat is None:
        raise FixRejected("missing_field", "lat", "lat (or location=lat,lon) is required")
    if lon is None:
        raise FixRejected("missing_field", "lon", "lon (or location=lat,lon) is required")
    recorded_at, assumed = tracker_time(values.get("timestamp"), name="timestamp")
    knots = _text_number(values, "speed")
    heading = _text_number(values, "bearing")
    extra = {k: v for k, v in values.items() if k not in OSMAND_KEYS}
    return Fix(
        id=_fix_id(identifier, recorded_at),
        recorded_at=recorded_at,
        lat=lat,
        lon=lon,
        accuracy_m=_unknown_if_not_positive(_text_number(values, "accuracy")),
        speed_mps=None if knots is None else knots * KNOT_MPS,
        heading_deg=heading if heading is not None else _text_number(values, "heading"),
        altitude_m=_text_number(values, "altitude"),
        battery_pct=_battery(_text_number(values, "batt"), 100),
        charging=_text_flag(values, "charge"),
        mock=bool(_text_flag(values, "mock")),
        attributes=_with_assumption(extra, assumed),
    )


def _object(raw: Any, name: str) -> Mapping[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise FixRejected("invalid_value", name, f"{name} must be an object")
    return raw


def parse_traccar_location(location: Any, *, identifier: str) -> Fix:
    """One ``location`` of the JSON that Traccar Client 9+ posts (background-geolocation shape)."""
    location = _object(location, "location")
    coords = _object(location.get("coords"), "location.coords")
    battery = _object(location.get("battery"), "location.battery")
    recorded_at, assumed = tracker_time(location.get("timestamp"), name="location.timestamp")
    level = number(battery, "level", name="location.battery.level")
    c = "location.coords."
    extra = {
        k: location[k]
        for k in ("is_moving", "odometer", "event", "activity", "extras")
        if location.get(k) is not None
    }
    return Fix(
        id=_fix_id(identifier, recorded_at),
        recorded_at=recorded_at,
        lat=required_number(coords, "latitude", name=c + "latitude"),
        lon=required_number(coords, "longitude", name=c + "longitude"),
        accuracy_m=_unknown_if_not_positive(number(coords, "accuracy", name=c + "accuracy")),
        # The SDK reports -1 for an unknown speed or heading.
        speed_mps=_non_negative(number(coords, "speed", name=c + "speed")),
        heading_deg=_non_negative(number(coords, "heading", name=c + "heading")),
        altitude_m=number(coords, "altitude", name=c + "altitude"),
        battery_pct=_battery(level, 1),
        charging=flag(battery, "is_charging", name="location.battery.is_charging"),
        mock=bool(flag(location, "mock", name="location.mock")),
        attributes=_with_assumption(extra, assumed),
    )


def _non_negative(value: float | None) -> float | None:
    return value if value is not None and value >= 0 else None


def parse_owntracks(payload: Mapping[str, Any], *, identifier: str) -> Fix:
    """An OwnTracks ``_type: location`` message."""
    tst = required_number(payload, "tst")
    try:
        recorded_at = datetime.fromtimestamp(tst, UTC)
    except (OverflowError, OSError, ValueError):
        raise FixRejected("invalid_value", "tst", "tst is out of range") from None
    velocity = number(payload, "vel")
    bs = number(payload, "bs")
    extra = {k: v for k, v in payload.items() if k not in OWNTRACKS_KEYS}
    return Fix(
        id=_fix_id(identifier, recorded_at),
        recorded_at=recorded_at,
        lat=required_number(payload, "lat"),
        lon=required_number(payload, "lon"),
        accuracy_m=_unknown_if_not_positive(number(payload, "acc")),
        speed_mps=None if velocity is None or velocity < 0 else velocity / 3.6,
        heading_deg=_non_negative(number(payload, "cog")),
        altitude_m=number(payload, "alt"),
        battery_pct=_battery(number(payload, "batt"), 100),
        charging=None if not bs else bs in (2, 3),
        attributes=extra or None,
    )


def _known(device: DeviceRef | None, protocol: str, field: str) -> DeviceRef:
    # Unknown and disabled look the same: the answer must not tell a prober which ids exist.
    if device is None or device.protocol != protocol or not device.active:
        raise Refused("unknown or disabled device", field)
    return device


def _take(
    identifier: str,
    items: list[Any],
    parse: Callable[[Any], Fix],
    names: Mapping[str, str],
    protocol: str,
    check: Callable[[DeviceRef | None], DeviceRef],
) -> list[ItemResult]:
    """Look the device up and store its positions in one transaction: the lookup brings the
    agent's shift and the tenant's settings, so nothing else is read."""
    with tenant_session(None) as session:
        device = check(lookup_device(session, identifier))
        enter_tenant(session, device.tenant_id)
        remember_settings(session, device.tenant_id, device.settings)
        results = ingest(
            session,
            tenant_id=device.tenant_id,
            agent_id=device.agent_id,
            items=items,
            parse=parse,
            names=names,
            source=protocol,
            device_id=device.device_id,
            shift=(device.shift_start, device.shift_end),
        )
        for result in results:
            if result.status == "rejected" and result.code not in POLICY_DROPS:
                # Raising inside the session rolls the whole message back.
                raise Refused(result.message or "invalid position", result.field)
    return results


def receive_osmand(values: Mapping[str, str]) -> ItemResult:
    """A Traccar Client / OsmAnd position from query or form parameters."""
    identifier = osmand_identifier(values)
    parse = partial(parse_osmand, identifier=identifier)
    check = partial(_known, protocol="osmand", field="id")
    return _take(identifier, [values], parse, OSMAND_NAMES, "osmand", check)[0]


def receive_traccar_json(body: Any) -> list[ItemResult]:
    """The JSON body of Traccar Client 9+: ``{"location": {...} | [...], "device_id": ...}``."""
    if not isinstance(body, Mapping):
        raise Refused("the body must be a JSON object", "body")
    identifier = body.get("device_id")
    if not isinstance(identifier, str | int) or isinstance(identifier, bool) or not identifier:
        raise Refused("device_id is required", "device_id")
    locations = body.get("location")
    items = locations if isinstance(locations, list) else [locations]

    def check(device: DeviceRef | None) -> DeviceRef:
        known = _known(device, "osmand", "device_id")
        if len(items) > MAX_BATCH:
            raise Refused(f"at most {MAX_BATCH} locations per message", "location")
        return known

    parse = partial(parse_traccar_location, identifier=str(identifier))
    return _take(str(identifier), items, parse, TRACCAR_NAMES, "osmand", check)


def receive_owntracks(body: Any, *, user: str, device: str, password: str) -> list[ItemResult]:
    """An OwnTracks HTTP-mode message; only ``_type: location`` is stored."""
    identifier = owntracks_identifier(user, device)
    messages = body if isinstance(body, list) else [body]  # a queue flushed at once

    def check(ref: DeviceRef | None) -> DeviceRef:
        if ref is None or ref.protocol != "owntracks" or not ref.accepts(password):
            raise AuthenticationFailed("unknown OwnTracks user, device or password")
        if not ref.active:
            raise Refused("this device (or its agent) is disabled", "d")
        if len(messages) > MAX_BATCH:
            raise Refused(f"at most {MAX_BATCH} messages per request", "body")
        return ref

    locations = [m for m in messages if isinstance(m, Mapping) and m.get("_type") == "location"]
    parse = partial(parse_owntracks, identifier=identifier)
    return _take(identifier, locations, parse, OWNTRACKS_NAMES, "owntracks", check)
