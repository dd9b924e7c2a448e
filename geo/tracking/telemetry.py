"""GPS fixes from any source: per-item validation and idempotent, order-independent storage.

A batch recorded offline may arrive days late, twice, split differently or out of order; each
fix is keyed by its id and its device time, so storing is ``INSERT ... ON CONFLICT DO NOTHING``
and the stored result is the same however the items arrive. One bad item is reported and never
sinks the rest. The field app (:func:`parse_app_fix`) and the tracker apps
(:mod:`geo.tracking.trackers`) only differ in how a raw item becomes a :class:`Fix`; the rules
and the storage are the same for all of them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo.core.bounds import check_instant
from geo.core.errors import InvalidInput
from geo.core.models import Agent
from geo.core.tenant_settings import TenantSettings, tenant_settings
from geo.tracking.partitions import ensure_months

MAX_BATCH = 5000
FUTURE_TOLERANCE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Fix:
    id: uuid.UUID
    recorded_at: datetime
    lon: float
    lat: float
    accuracy_m: float | None = None
    speed_mps: float | None = None
    heading_deg: float | None = None
    altitude_m: float | None = None
    battery_pct: float | None = None
    charging: bool | None = None
    mock: bool = False
    mock_unknown: bool = False
    """The platform cannot tell whether the position is simulated (a browser): ``"mock":
    null``. Kept for the check-in's rules, stored as not simulated."""
    attributes: Mapping[str, Any] | None = field(default=None, compare=False)


UNAUTHENTICATED_SOURCES = frozenset({"osmand"})
"""Fix sources whose sender proves nothing: the OsmAnd / Traccar protocol carries only a
device identifier, which anyone who learns it can send positions for. Stored with their source,
they count as trail, but never as the only proof of a visit."""


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What happened to one item: ``stored``, ``duplicate`` or ``rejected`` (with why)."""

    id: str | None
    status: str
    code: str | None = None
    field: str | None = None
    message: str | None = None


class FixRejected(Exception):
    """One item refused: a reason code, the field at fault and a message for people."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code, self.field, self.message = code, field, message


def number(raw: Mapping[str, Any], key: str, *, name: str | None = None) -> float | None:
    """A finite JSON number, or None when absent; ``name`` is the field as the client knows it."""
    value = raw.get(key)
    if value is None:
        return None
    kind = type(value)  # exact types: JSON true/false must not pass as 1/0
    if kind is float and value - value == 0:  # false for inf and nan: the hot path, cheaply
        return float(value)
    if kind is int and abs(value) < 1e300:
        return float(value)
    raise FixRejected("invalid_value", name or key, f"{name or key} must be a finite number")


def required_number(raw: Mapping[str, Any], key: str, *, name: str | None = None) -> float:
    value = number(raw, key, name=name)
    if value is None:
        raise FixRejected("missing_field", name or key, f"{name or key} is required")
    return value


def flag(raw: Mapping[str, Any], key: str, *, name: str | None = None) -> bool | None:
    value = raw.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise FixRejected("invalid_value", name or key, f"{name or key} must be true or false")


def aware_time(stamp: str, *, name: str) -> datetime:
    """An ISO 8601 time that carries its UTC offset; a bare local time is refused, not guessed."""
    try:
        parsed = datetime.fromisoformat(stamp)
    except ValueError:
        raise FixRejected("invalid_value", name, f"{name} is not ISO 8601") from None
    if parsed.tzinfo is None:
        raise FixRejected("missing_offset", name, f"{name} needs a UTC offset")
    try:
        return check_instant(parsed, name)
    except InvalidInput as exc:
        raise FixRejected("out_of_range", name, exc.message) from None


def parse_app_fix(raw: Any) -> Fix:
    """One item of the field app's sync batch (the contract in the README)."""
    if not isinstance(raw, Mapping):
        raise FixRejected("invalid_value", "fix", "each fix must be a JSON object")
    try:
        fix_id = uuid.UUID(str(raw["id"]))
    except (KeyError, ValueError):
        raise FixRejected("invalid_value", "id", "id must be the fix's UUID") from None
    stamp = raw.get("recorded_at")
    if not isinstance(stamp, str):
        raise FixRejected("missing_field", "recorded_at", "recorded_at is required (ISO 8601)")
    return Fix(
        id=fix_id,
        recorded_at=aware_time(stamp, name="recorded_at"),
        lat=required_number(raw, "lat"),
        lon=required_number(raw, "lon"),
        accuracy_m=number(raw, "accuracy_m"),
        speed_mps=number(raw, "speed_mps"),
        heading_deg=number(raw, "heading_deg"),
        altitude_m=number(raw, "altitude_m"),
        battery_pct=number(raw, "battery_pct"),
        charging=flag(raw, "charging"),
        mock=bool(flag(raw, "mock")),
        mock_unknown="mock" in raw and raw["mock"] is None,
    )


def check_fix(
    fix: Fix, *, now: datetime, settings: TenantSettings, names: Mapping[str, str]
) -> None:
    """The rules every fix obeys, whatever its source; ``names`` maps to the client's fields."""
    if fix.recorded_at > now + FUTURE_TOLERANCE:
        raise FixRejected("in_future", names["recorded_at"], "the fix time is in the future")
    if fix.recorded_at < now - timedelta(days=settings.gps_horizon_days):
        raise FixRejected("too_old", names["recorded_at"], "the fix is older than the GPS horizon")
    if not -90 <= fix.lat <= 90:
        raise FixRejected("invalid_coordinates", names["lat"], "latitude must be within ±90")
    if not -180 <= fix.lon <= 180:
        raise FixRejected("invalid_coordinates", names["lon"], "longitude must be within ±180")
    if fix.accuracy_m is not None and fix.accuracy_m <= 0:
        raise FixRejected("invalid_accuracy", names["accuracy_m"], "accuracy must be positive")
    if fix.battery_pct is not None and not 0 <= fix.battery_pct <= 100:
        raise FixRejected("invalid_battery", names["battery_pct"], "battery must be 0-100 %")


APP_NAMES = {k: k for k in ("recorded_at", "lat", "lon", "accuracy_m", "battery_pct")}


def on_shift(at: datetime, start: time, end: time, settings: TenantSettings) -> bool:
    local = at.astimezone(settings.zone)
    day, margin = local.date(), timedelta(minutes=settings.gps_shift_margin_min)
    opens = datetime.combine(day, start, local.tzinfo) - margin
    closes = datetime.combine(day, end, local.tzinfo) + margin
    return opens <= local <= closes


def agent_shift(session: Session, *, tenant_id: int, agent_id: int) -> tuple[time, time]:
    """The agent's shift (start, end), local times."""
    start, end = session.execute(
        select(Agent.shift_start, Agent.shift_end).where(
            Agent.tenant_id == tenant_id, Agent.id == agent_id
        )
    ).one()
    return start, end


def ingest(
    session: Session,
    *,
    tenant_id: int,
    agent_id: int,
    items: Sequence[Any],
    parse: Callable[[Any], Fix] = parse_app_fix,
    names: Mapping[str, str] = APP_NAMES,
    source: str = "app",
    device_id: int | None = None,
    now: datetime | None = None,
    shift: tuple[time, time] | None = None,
) -> list[ItemResult]:
    """Validate and store an agent's fixes; one result per item, in order.

    Fixes recorded outside the agent's shift (plus margin) are counted in the answer and not
    kept, unless the tenant turned ``gps_shift_only`` off. ``shift``: the agent's, when the
    caller has read it already.
    """
    now = now or datetime.now(UTC)
    shift_start, shift_end = shift or agent_shift(session, tenant_id=tenant_id, agent_id=agent_id)
    settings = tenant_settings(session, tenant_id)
    results: list[ItemResult | None] = [None] * len(items)
    accepted: dict[tuple[uuid.UUID, datetime], list[int]] = {}
    fixes: list[Fix] = []
    for index, raw in enumerate(items):
        try:
            fix = parse(raw)
            check_fix(fix, now=now, settings=settings, names=names)
        except FixRejected as exc:
            raw_id = raw.get("id") if isinstance(raw, Mapping) else None
            results[index] = ItemResult(
                None if raw_id is None else str(raw_id),
                "rejected",
                exc.code,
                exc.field,
                exc.message,
            )
            continue
        if settings.gps_shift_only and not on_shift(
            fix.recorded_at, shift_start, shift_end, settings
        ):
            results[index] = ItemResult(
                str(fix.id),
                "rejected",
                "outside_shift",
                names["recorded_at"],
                "recorded outside the agent's shift: not kept (tracking is for work hours)",
            )
            continue
        key = (fix.id, fix.recorded_at)
        if key not in accepted:
            fixes.append(fix)
        accepted.setdefault(key, []).append(index)
    stored = store_fixes(
        session,
        tenant_id=tenant_id,
        agent_id=agent_id,
        fixes=fixes,
        source=source,
        device_id=device_id,
    )
    for key, indexes in accepted.items():
        first, *again = indexes
        results[first] = ItemResult(str(key[0]), "stored" if key in stored else "duplicate")
        for index in again:
            results[index] = ItemResult(str(key[0]), "duplicate")
    return [r for r in results if r is not None]


def sync_fixes(
    session: Session,
    *,
    tenant_id: int,
    agent_id: int,
    items: Sequence[Any],
    now: datetime | None = None,
) -> list[ItemResult]:
    """The field app's batch: :func:`ingest` with the app's own item shape."""
    return ingest(session, tenant_id=tenant_id, agent_id=agent_id, items=items, now=now)


# The fixes go in with one statement; the newest of them moves the agent's live position,
# but only forward in time, so a late upload never drags an agent back on the live map.
# The validated batch travels as one JSON document that PostgreSQL unpacks in C
# (json_to_recordset): binding a dozen Python lists as arrays cost more than the INSERT.
_INSERT = text(
    """
    WITH ins AS (
        INSERT INTO gps_fixes (tenant_id, agent_id, id, recorded_at, point, accuracy_m,
                               speed_mps, heading_deg, altitude_m, battery_pct, charging, mock,
                               source, device_id, attributes)
        SELECT :tenant_id, :agent_id, f.id, f.recorded_at,
               ST_SetSRID(ST_MakePoint(f.lon, f.lat), 4326), f.accuracy_m, f.speed_mps,
               f.heading_deg, f.altitude_m, f.battery_pct, f.charging, f.mock, :source,
               :device_id, f.attributes
        FROM json_to_recordset(CAST(:fixes AS json))
             AS f(id uuid, recorded_at timestamptz, lon float8, lat float8, accuracy_m float8,
                  speed_mps float8, heading_deg float8, altitude_m float8, battery_pct float8,
                  charging boolean, mock boolean, attributes jsonb)
        ON CONFLICT DO NOTHING
        RETURNING id, recorded_at, point, accuracy_m, speed_mps, heading_deg, battery_pct,
                  charging, source
    ), live AS (
        INSERT INTO agent_positions AS p (tenant_id, agent_id, fix_id, recorded_at, point,
                                          accuracy_m, speed_mps, heading_deg, battery_pct,
                                          charging, source)
        SELECT :tenant_id, :agent_id, id, recorded_at, point, accuracy_m, speed_mps,
               heading_deg, battery_pct, charging, source
        FROM ins ORDER BY recorded_at DESC, id DESC LIMIT 1
        ON CONFLICT (tenant_id, agent_id) DO UPDATE
        SET fix_id = EXCLUDED.fix_id, recorded_at = EXCLUDED.recorded_at,
            received_at = now(), point = EXCLUDED.point, accuracy_m = EXCLUDED.accuracy_m,
            speed_mps = EXCLUDED.speed_mps, heading_deg = EXCLUDED.heading_deg,
            battery_pct = EXCLUDED.battery_pct, charging = EXCLUDED.charging,
            source = EXCLUDED.source
        WHERE (p.recorded_at, p.fix_id) < (EXCLUDED.recorded_at, EXCLUDED.fix_id)
    )
    SELECT id, recorded_at FROM ins
    """
)


def store_fixes(
    session: Session,
    *,
    tenant_id: int,
    agent_id: int,
    fixes: Sequence[Fix],
    source: str = "app",
    device_id: int | None = None,
) -> set[tuple[uuid.UUID, datetime]]:
    """Store validated fixes (a duplicate is skipped); the (id, time) keys newly stored."""
    if not fixes:
        return set()
    # Rows go in key order, so two overlapping batches lock keys in the same order and
    # wait for each other instead of deadlocking.
    fixes = sorted(fixes, key=lambda f: (f.recorded_at, f.id))
    ensure_months(session, oldest=fixes[0].recorded_at)
    payload = json.dumps(
        [
            {
                "id": str(f.id),
                "recorded_at": f.recorded_at.isoformat(),
                "lon": f.lon,
                "lat": f.lat,
                "accuracy_m": f.accuracy_m,
                "speed_mps": f.speed_mps,
                "heading_deg": f.heading_deg,
                "altitude_m": f.altitude_m,
                "battery_pct": f.battery_pct,
                "charging": f.charging,
                "mock": f.mock,
                "attributes": f.attributes,
            }
            for f in fixes
        ]
    )
    rows = session.execute(
        _INSERT,
        {
            "tenant_id": tenant_id,
            "agent_id": agent_id,
            "source": source,
            "device_id": device_id,
            "fixes": payload,
        },
    )
    return {(row.id, row.recorded_at) for row in rows}
