"""An agent's trail over a time range: path, distance, stops, gaps and battery.

GPS jitters: a phone lying on a table drifts a few metres every fix, and summing those steps
turns a coffee break into kilometres. So the distance is measured on a cleaned sequence:
fixes worse than ``max_accuracy_m`` are dropped, physically impossible jumps are dropped,
each stop is collapsed to its centre, and a step only counts once the agent has moved more
than ``jitter_m`` (or the fix's own accuracy) from the last counted point. A step across a
silence longer than ``gap_s`` is not travel seen: it is reported apart (``gap_distance_m``).
Lengths are planar in the metric CRS made for where the fixes are (:mod:`geo.core.crs`:
EPSG:9377 in Colombia, the UTM zone elsewhere) unless the tenant sets ``metric_srid``. The
path drawn is that same cleaned sequence, simplified there (Douglas-Peucker, GEOS) with a
tolerance in metres, so neither a spike nor the scribble of a phone at rest reaches the map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.bounds import check_day, check_instant
from geo.core.crs import srid_for, tenant_srid, to_metric, to_wgs84
from geo.core.errors import InvalidInput, NotFound
from geo.core.tenant_settings import tenant_settings

MAX_RANGE = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class TrailOptions:
    """How to read a trail; every threshold is in metres or seconds."""

    tolerance_m: float = 5.0
    stop_radius_m: float = 50.0
    stop_min_s: float = 300.0
    gap_s: float = 600.0
    max_accuracy_m: float = 50.0
    jitter_m: float = 10.0
    max_speed_mps: float = 60.0
    low_battery_pct: float = 20.0


@dataclass(frozen=True, slots=True)
class Stop:
    lon: float
    lat: float
    start: datetime
    end: datetime
    fixes: int

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class Gap:
    start: datetime
    end: datetime

    @property
    def duration_s(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class BatteryReading:
    at: datetime
    pct: float
    charging: bool | None


@dataclass(frozen=True, slots=True)
class Battery:
    """Readings where the level or charging state changed, the drain while discharging and
    the moments the level fell below the low threshold."""

    timeline: list[BatteryReading]
    drain_pct_per_hour: float | None
    low_moments: list[datetime]
    min_pct: float | None


@dataclass(frozen=True, slots=True)
class Trail:
    agent_id: int
    start: datetime
    end: datetime
    fixes: int
    used_fixes: int
    path: dict[str, Any] | None
    distance_m: float
    """Along the cleaned fixes, without the straight lines across gaps (not travel seen)."""
    gap_distance_m: float
    """The straight lines across gaps: how far the agent moved while nothing was recorded."""
    segments: list[list[tuple[float, float]]]
    """The cleaned sequence as (lon, lat), split where a gap is: what ``distance_m`` runs
    along, unsimplified."""
    stops: list[Stop]
    gaps: list[Gap]
    battery: Battery
    options: TrailOptions = field(default_factory=TrailOptions)


_FIXES = text(
    """
    SELECT extract(epoch FROM recorded_at) AS t, ST_X(point) AS lon, ST_Y(point) AS lat,
           accuracy_m, battery_pct, charging
    FROM gps_fixes
    WHERE tenant_id = :tenant_id AND agent_id = :agent_id
      AND recorded_at >= :start AND recorded_at < :end
    ORDER BY recorded_at, id
    """
)


def _metric_srid(
    session: Session,
    tenant_id: int,
    agent_id: int,
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
) -> int:
    """The tenant's chosen CRS, else the one made for where these fixes are."""
    agent = session.scalar(
        text("SELECT id FROM agents WHERE tenant_id = :tenant_id AND id = :agent_id"),
        {"tenant_id": tenant_id, "agent_id": agent_id},
    )
    if agent is None:
        raise NotFound("agent not found", "agent_id")
    chosen = tenant_settings(session, tenant_id).metric_srid
    if chosen is not None:
        return chosen
    if len(lon) == 0:
        return tenant_srid(session, tenant_id)
    return srid_for(float(np.median(lon)), float(np.median(lat)))


def agent_trail(
    session: Session,
    *,
    tenant_id: int,
    agent_id: int,
    start: datetime,
    end: datetime,
    options: TrailOptions = TrailOptions(),
) -> Trail:
    """The trail of one agent between ``start`` (inclusive) and ``end`` (exclusive)."""
    start, end = check_instant(start, "start"), check_instant(end, "end")
    if not start < end <= start + MAX_RANGE:
        raise InvalidInput("end must follow start, at most 7 days later", "end")
    params = {"tenant_id": tenant_id, "agent_id": agent_id, "start": start, "end": end}
    rows = session.execute(_FIXES, params).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * 6
    t, lon, lat = (np.asarray(c, dtype=float) for c in columns[:3])
    srid = _metric_srid(session, tenant_id, agent_id, lon, lat)
    x, y = (np.asarray(v, dtype=float) for v in to_metric(srid).transform(lon, lat))
    accuracy = np.asarray([np.nan if a is None else a for a in columns[3]], dtype=float)
    good = _plausible(t, x, y, accuracy, options)
    t_ok, x_ok, y_ok = t[good], x[good], y[good]
    stops = _stops(t_ok, x_ok, y_ok, lon[good], lat[good], options)
    track, across_gap = _track(t_ok, x_ok, y_ok, accuracy[good], stops, options)
    steps = np.hypot(*np.diff(track, axis=0).T) if len(track) > 1 else np.zeros(0)
    return Trail(
        agent_id=agent_id,
        start=start,
        end=end,
        fixes=len(rows),
        used_fixes=int(good.sum()),
        path=_path(track, srid, options.tolerance_m),
        distance_m=float(steps[~across_gap].sum()),
        gap_distance_m=float(steps[across_gap].sum()),
        segments=_segments(track, across_gap, srid),
        stops=[s for s, _ in stops],
        gaps=_gaps(t, options),
        options=options,
        battery=_battery(t, list(columns[4]), list(columns[5]), options),
    )


def _path(track: NDArray[np.float64], srid: int, tolerance_m: float) -> dict[str, Any] | None:
    """The simplified track as a GeoJSON LineString (lon, lat), or None under two points."""
    if len(track) < 2:
        return None
    line = shapely.LineString(track).simplify(tolerance_m)
    lon, lat = to_wgs84(srid).transform(*line.xy)
    coordinates = [[round(a, 7), round(b, 7)] for a, b in zip(lon, lat, strict=True)]
    return {"type": "LineString", "coordinates": coordinates}


def _segments(
    track: NDArray[np.float64], across_gap: NDArray[np.bool_], srid: int
) -> list[list[tuple[float, float]]]:
    if len(track) == 0:
        return []
    lon, lat = to_wgs84(srid).transform(track[:, 0], track[:, 1])
    points = list(zip(np.asarray(lon).tolist(), np.asarray(lat).tolist(), strict=True))
    cuts = [0, *(int(i) + 1 for i in np.flatnonzero(across_gap)), len(points)]
    return [points[a:b] for a, b in pairwise(cuts)]


def _when(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _plausible(
    t: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    accuracy: NDArray[np.float64],
    options: TrailOptions,
) -> NDArray[np.bool_]:
    """Fixes precise enough to use, without spikes faster than ``max_speed_mps``."""
    keep = ~(accuracy > options.max_accuracy_m)  # unknown accuracy (NaN) is kept
    ts, xs, ys = t.tolist(), x.tolist(), y.tolist()
    last = -1
    for i in np.flatnonzero(keep).tolist():
        if last >= 0:
            dt = max(ts[i] - ts[last], 1.0)
            if math.hypot(xs[i] - xs[last], ys[i] - ys[last]) / dt > options.max_speed_mps:
                keep[i] = False
                continue
        last = i
    return keep


def _stops(
    t: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    options: TrailOptions,
) -> list[tuple[Stop, slice]]:
    """Stay points: from an anchor fix, each following fix within ``stop_radius_m`` of the
    centre of the stay so far belongs to it; the stay is a stop once it lasts ``stop_min_s``.

    Measuring from the running centre rather than from the first fix (Li et al., 2008) keeps a
    stop whole when its first fix was taken while still walking up to the door.
    """
    ts, xs, ys = t.tolist(), x.tolist(), y.tolist()
    found: list[tuple[Stop, slice]] = []
    n, i = len(ts), 0
    while i < n:
        j = _stay_end(xs, ys, i, options.stop_radius_m)
        if ts[j - 1] - ts[i] >= options.stop_min_s:
            span = slice(i, j)
            stop = Stop(
                float(lon[span].mean()),
                float(lat[span].mean()),
                _when(ts[i]),
                _when(ts[j - 1]),
                j - i,
            )
            found.append((stop, span))
            i = j
        else:
            i += 1
    return found


def _stay_end(xs: list[float], ys: list[float], i: int, radius: float) -> int:
    """One past the last fix of the stay anchored at ``i``."""
    sx, sy, count, j = xs[i], ys[i], 1, i + 1
    while j < len(xs) and math.hypot(xs[j] - sx / count, ys[j] - sy / count) <= radius:
        sx, sy, count, j = sx + xs[j], sy + ys[j], count + 1, j + 1
    return j


def _track(
    t: NDArray[np.float64],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    accuracy: NDArray[np.float64],
    stops: list[tuple[Stop, slice]],
    options: TrailOptions,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The cleaned sequence (metric x, y): each stop collapsed to its centre, then only the
    points farther than ``jitter_m`` (or their own accuracy) from the last one kept; and, per
    step between kept points, whether it crosses a silence longer than ``gap_s``.

    A kept point is *seen* from its first fix to the last fix it stood for (the stop's last,
    or the jittering fixes dropped after it), so a long stop is not taken for a gap."""
    x, y, accuracy = x.copy(), y.copy(), accuracy.copy()
    last_seen = t.copy()
    keep = np.ones(len(x), dtype=bool)
    for _stop, span in stops:
        x[span.start], y[span.start] = x[span].mean(), y[span].mean()
        accuracy[span.start] = np.nan
        last_seen[span.start] = t[span.stop - 1]
        keep[span.start + 1 : span.stop] = False
    xs, ys, ts = x[keep].tolist(), y[keep].tolist(), t[keep].tolist()
    seen = last_seen[keep].tolist()
    acc = np.nan_to_num(accuracy[keep], nan=0.0).tolist()
    if not xs:
        return np.empty((0, 2)), np.zeros(0, dtype=bool)
    kept, crossing, until = [(xs[0], ys[0])], [], seen[0]
    for k in range(1, len(xs)):
        ax, ay = kept[-1]
        if math.hypot(xs[k] - ax, ys[k] - ay) >= max(options.jitter_m, acc[k]):
            kept.append((xs[k], ys[k]))
            crossing.append(ts[k] - until > options.gap_s)
            until = seen[k]
        else:
            until = max(until, seen[k])
    return np.asarray(kept, dtype=float), np.asarray(crossing, dtype=bool)


def _gaps(t: NDArray[np.float64], options: TrailOptions) -> list[Gap]:
    """Silences longer than ``gap_s`` between consecutive fixes."""
    if len(t) < 2:
        return []
    where = np.flatnonzero(np.diff(t) > options.gap_s)
    return [Gap(_when(t[i]), _when(t[i + 1])) for i in where]


def _battery(
    t: NDArray[np.float64],
    levels: list[float | None],
    charging: list[bool | None],
    options: TrailOptions,
) -> Battery:
    readings = [(t[i], p, charging[i]) for i, p in enumerate(levels) if p is not None]
    timeline: list[BatteryReading] = []
    drained = hours = 0.0
    low: list[datetime] = []
    for k, (at, pct, plugged) in enumerate(readings):
        if not timeline or (timeline[-1].pct, timeline[-1].charging) != (pct, plugged):
            timeline.append(BatteryReading(_when(at), pct, plugged))
        if k == 0:
            if pct < options.low_battery_pct:
                low.append(_when(at))
            continue
        before_at, before_pct, before_plugged = readings[k - 1]
        if before_pct >= options.low_battery_pct > pct:
            low.append(_when(at))
        if not plugged and not before_plugged and at - before_at <= options.gap_s:
            drained += max(0.0, before_pct - pct)
            hours += (at - before_at) / 3600
    return Battery(
        timeline=timeline,
        drain_pct_per_hour=drained / hours if hours > 0 else None,
        low_moments=low,
        min_pct=min((p for _, p, _ in readings), default=None),
    )


def day_range(session: Session, *, tenant_id: int, day: date) -> tuple[datetime, datetime]:
    """The tenant's calendar day (in its time zone) as a UTC range."""
    zone = tenant_settings(session, tenant_id).zone
    check_day(day, "date")
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    return start.astimezone(UTC), (start + timedelta(days=1)).astimezone(UTC)


def trail_geojson(trail: Trail) -> dict[str, Any]:
    """The trail as an RFC 7946 FeatureCollection: the path, then one Point per stop.

    Summary, gaps and battery ride along as foreign members, which GeoJSON readers ignore.
    """
    features: list[dict[str, Any]] = []
    if trail.path is not None:
        features.append(
            {
                "type": "Feature",
                "geometry": trail.path,
                "properties": {"kind": "path", "distance_m": round(trail.distance_m, 1)},
            }
        )
    for stop in trail.stops:
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(stop.lon, 7), round(stop.lat, 7)],
                },
                "properties": {
                    "kind": "stop",
                    "start": stop.start.isoformat(),
                    "end": stop.end.isoformat(),
                    "duration_s": stop.duration_s,
                    "fixes": stop.fixes,
                },
            }
        )
    battery = trail.battery
    return {
        "type": "FeatureCollection",
        "features": features,
        "summary": {
            "agent_id": trail.agent_id,
            "start": trail.start.isoformat(),
            "end": trail.end.isoformat(),
            "fixes": trail.fixes,
            "used_fixes": trail.used_fixes,
            "distance_m": round(trail.distance_m, 1),
            "gap_distance_m": round(trail.gap_distance_m, 1),
            "stops": len(trail.stops),
            "gaps": len(trail.gaps),
        },
        "gaps": [
            {"start": g.start.isoformat(), "end": g.end.isoformat(), "duration_s": g.duration_s}
            for g in trail.gaps
        ],
        "battery": {
            "drain_pct_per_hour": battery.drain_pct_per_hour,
            "min_pct": battery.min_pct,
            "low_moments": [m.isoformat() for m in battery.low_moments],
            "timeline": [
                {"at": r.at.isoformat(), "pct": r.pct, "charging": r.charging}
                for r in battery.timeline
            ],
        },
    }
