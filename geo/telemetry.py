"""GPS fixes from the field app: per-item validation and idempotent, order-independent storage.

A batch recorded offline may arrive days late, twice, split differently or out of order; each
fix is keyed by the device's id and its device time, so storing is ``INSERT ... ON CONFLICT DO
NOTHING`` and the stored result is the same however the items arrive. One bad item is reported
and never sinks the rest.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo.models import Agent, Tenant
from geo.partitions import ensure_gps_partitions

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


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What happened to one item: ``stored``, ``duplicate`` or ``rejected`` (with why)."""

    id: str | None
    status: str
    code: str | None = None
    field: str | None = None
    message: str | None = None


class _Rejected(Exception):
    def __init__(self, code: str, field: str, message: str) -> None:
        self.code, self.field, self.message = code, field, message


@dataclass(frozen=True, slots=True)
class TrackingPolicy:
    """The tenant's GPS rules, from ``tenants.settings``."""

    horizon: timedelta = timedelta(days=30)
    shift_only: bool = True
    shift_margin: timedelta = timedelta(minutes=30)
    timezone: str = "America/Bogota"

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> TrackingPolicy:
        return cls(
            horizon=timedelta(days=float(settings.get("gps_horizon_days", 30))),
            shift_only=bool(settings.get("gps_shift_only", True)),
            shift_margin=timedelta(minutes=float(settings.get("gps_shift_margin_min", 30))),
            timezone=str(settings.get("timezone", "America/Bogota")),
        )


def _required(raw: Mapping[str, Any], key: str) -> float:
    value = _number(raw, key)
    if value is None:
        raise _Rejected("missing_field", key, f"{key} is required")
    return value


def _number(raw: Mapping[str, Any], key: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _Rejected("invalid_value", key, f"{key} must be a finite number")
    return float(value)


def _flag(raw: Mapping[str, Any], key: str) -> bool | None:
    value = raw.get(key)
    if value is None or isinstance(value, bool):
        return value
    raise _Rejected("invalid_value", key, f"{key} must be true or false")


def parse_fix(raw: Any, *, now: datetime, policy: TrackingPolicy) -> Fix:
    """One item of a sync batch as a :class:`Fix`, or :class:`_Rejected` naming the field."""
    if not isinstance(raw, Mapping):
        raise _Rejected("invalid_value", "fix", "each fix must be a JSON object")
    try:
        fix_id = uuid.UUID(str(raw["id"]))
    except (KeyError, ValueError):
        raise _Rejected(
            "invalid_value", "id", "id must be the device's UUID for this fix"
        ) from None
    stamp = raw.get("recorded_at")
    if not isinstance(stamp, str):
        raise _Rejected("missing_field", "recorded_at", "recorded_at is required (ISO 8601)")
    try:
        recorded_at = datetime.fromisoformat(stamp)
    except ValueError:
        raise _Rejected("invalid_value", "recorded_at", "recorded_at is not ISO 8601") from None
    if recorded_at.tzinfo is None:
        raise _Rejected("missing_offset", "recorded_at", "recorded_at needs a UTC offset")
    if recorded_at > now + FUTURE_TOLERANCE:
        raise _Rejected("in_future", "recorded_at", "recorded_at is in the future")
    if recorded_at < now - policy.horizon:
        raise _Rejected("too_old", "recorded_at", "recorded_at is older than the GPS horizon")
    lat, lon = _required(raw, "lat"), _required(raw, "lon")
    if not -90 <= lat <= 90:
        raise _Rejected("invalid_coordinates", "lat", "lat must be between -90 and 90")
    if not -180 <= lon <= 180:
        raise _Rejected("invalid_coordinates", "lon", "lon must be between -180 and 180")
    accuracy = _number(raw, "accuracy_m")
    if accuracy is not None and accuracy <= 0:
        raise _Rejected("invalid_accuracy", "accuracy_m", "accuracy_m must be positive")
    battery = _number(raw, "battery_pct")
    if battery is not None and not 0 <= battery <= 100:
        raise _Rejected("invalid_battery", "battery_pct", "battery_pct must be 0-100")
    return Fix(
        id=fix_id, recorded_at=recorded_at.astimezone(UTC), lon=lon, lat=lat,
        accuracy_m=accuracy, speed_mps=_number(raw, "speed_mps"),
        heading_deg=_number(raw, "heading_deg"), altitude_m=_number(raw, "altitude_m"),
        battery_pct=battery, charging=_flag(raw, "charging"), mock=bool(_flag(raw, "mock")),
    )  # fmt: skip


def _on_shift(at: datetime, start: time, end: time, policy: TrackingPolicy) -> bool:
    local = at.astimezone(ZoneInfo(policy.timezone))
    day = local.date()
    opens = datetime.combine(day, start, local.tzinfo) - policy.shift_margin
    closes = datetime.combine(day, end, local.tzinfo) + policy.shift_margin
    return opens <= local <= closes


_INSERT = text(
    """
    INSERT INTO gps_fixes (tenant_id, agent_id, id, recorded_at, point, accuracy_m, speed_mps,
                           heading_deg, altitude_m, battery_pct, charging, mock, source)
    SELECT :tenant_id, :agent_id, f.id, f.recorded_at, ST_SetSRID(ST_MakePoint(f.lon, f.lat), 4326),
           f.accuracy_m, f.speed_mps, f.heading_deg, f.altitude_m, f.battery_pct, f.charging,
           f.mock, 'app'
    FROM unnest(CAST(:ids AS uuid[]), CAST(:recorded_at AS timestamptz[]),
                CAST(:lon AS float8[]), CAST(:lat AS float8[]), CAST(:accuracy_m AS float8[]),
                CAST(:speed_mps AS float8[]), CAST(:heading_deg AS float8[]),
                CAST(:altitude_m AS float8[]), CAST(:battery_pct AS float8[]),
                CAST(:charging AS boolean[]), CAST(:mock AS boolean[]))
         AS f(id, recorded_at, lon, lat, accuracy_m, speed_mps, heading_deg, altitude_m,
              battery_pct, charging, mock)
    ON CONFLICT DO NOTHING
    RETURNING id, recorded_at
    """
)


def sync_fixes(
    session: Session,
    *,
    tenant_id: int,
    agent_id: int,
    items: Sequence[Any],
    now: datetime | None = None,
) -> list[ItemResult]:
    """Validate and store a batch of an agent's fixes; one result per item, in order."""
    now = now or datetime.now(UTC)
    settings, shift_start, shift_end = session.execute(
        select(Tenant.settings, Agent.shift_start, Agent.shift_end)
        .join(Tenant, Tenant.id == Agent.tenant_id)
        .where(Agent.tenant_id == tenant_id, Agent.id == agent_id)
    ).one()
    policy = TrackingPolicy.of(settings or {})
    results: list[ItemResult | None] = [None] * len(items)
    accepted: dict[tuple[uuid.UUID, datetime], list[int]] = {}
    fixes: list[Fix] = []
    for index, raw in enumerate(items):
        try:
            fix = parse_fix(raw, now=now, policy=policy)
        except _Rejected as exc:
            raw_id = raw.get("id") if isinstance(raw, Mapping) else None
            results[index] = ItemResult(
                None if raw_id is None else str(raw_id), "rejected", exc.code, exc.field,
                exc.message,
            )  # fmt: skip
            continue
        if policy.shift_only and not _on_shift(fix.recorded_at, shift_start, shift_end, policy):
            results[index] = ItemResult(
                str(fix.id), "rejected", "outside_shift", "recorded_at",
                "recorded outside the agent's shift: not kept (tracking is for work hours)",
            )  # fmt: skip
            continue
        key = (fix.id, fix.recorded_at)
        if key not in accepted:
            fixes.append(fix)
        accepted.setdefault(key, []).append(index)
    stored = _store(session, tenant_id, agent_id, fixes) if fixes else set()
    for key, indexes in accepted.items():
        first, *again = indexes
        results[first] = ItemResult(str(key[0]), "stored" if key in stored else "duplicate")
        for index in again:
            results[index] = ItemResult(str(key[0]), "duplicate")
    return [r for r in results if r is not None]


def _store(
    session: Session, tenant_id: int, agent_id: int, fixes: list[Fix]
) -> set[tuple[uuid.UUID, datetime]]:
    oldest, today = min(f.recorded_at for f in fixes), datetime.now(UTC)
    months_back = (today.year - oldest.year) * 12 + today.month - oldest.month
    ensure_gps_partitions(session, months_back=max(0, months_back), months_ahead=1)
    columns: dict[str, list[Any]] = {
        name: [getattr(f, name) for f in fixes]
        for name in ("recorded_at", "lon", "lat", "accuracy_m", "speed_mps", "heading_deg",
                     "altitude_m", "battery_pct", "charging", "mock")
    }  # fmt: skip
    rows = session.execute(
        _INSERT,
        {"tenant_id": tenant_id, "agent_id": agent_id, "ids": [f.id for f in fixes], **columns},
    )
    return {(row.id, row.recorded_at) for row in rows}
