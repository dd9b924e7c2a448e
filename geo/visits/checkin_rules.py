"""The check-in rules: is this fix, with the trail before it, proof of presence at the door?

A pure function of the fix, its distance outside the fence, the agent's trail before it, how
often the same coordinates repeat and the tenant's settings; no database, so the rules read the
same online, in an offline batch and in tests. Every rule adds a reason with its own code and a
message in Spanish; any rejecting reason rejects, otherwise any doubtful one sends the visit to
review.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pyproj import Geod

from geo.core.tenant_settings import TenantSettings
from geo.tracking.telemetry import UNAUTHENTICATED_SOURCES, Fix

_GEOD = Geod(ellps="WGS84")
CORROBORATING_FIXES = 2
"""Fixes of the approach window that back a browser's check-in (one of them near the door)."""
FIX_NAMES = {k: f"fix.{k}" for k in ("recorded_at", "lat", "lon", "accuracy_m", "battery_pct")}


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str
    severity: str  # "review" or "rejected"; "note": said, but the verdict stands


@dataclass(frozen=True, slots=True)
class TrailFix:
    """A stored fix of the agent before the check-in, with its distance outside the fence."""

    recorded_at: datetime
    lon: float
    lat: float
    accuracy_m: float | None
    outside_m: float | None
    """Metres outside the fence; None where no rule reads it (the newest fix, read for the
    jump from it)."""
    source: str = "app"


@dataclass(frozen=True, slots=True)
class Trail:
    """What the rules read of the agent's trail before the check-in's fix: its newest fix,
    the approach window in summary, and the fixes in order only when a dwell is required.

    The database summarises a trail this way (:mod:`geo.visits.checkin`), so a long trail
    costs a scan there and not a list here; :meth:`of` summarises a list the same way.
    """

    last: TrailFix | None = None
    recent: int = 0
    """Fixes in the approach window."""
    approached: bool = False
    """Whether one of those fixes came within ``checkin_approach_m`` of the fence."""
    authenticated: int = 0
    """Of those fixes, how many came from a source that authenticates its sender."""
    dwell: Sequence[TrailFix] = ()
    """The look-back's fixes, oldest first, when the tenant requires a dwell."""

    @classmethod
    def of(cls, fixes: Sequence[TrailFix], *, fix_at: datetime, settings: TenantSettings) -> Trail:
        """The summary of ``fixes`` (the look-back before a fix at ``fix_at``, oldest first)."""
        recent = [t for t in fixes if t.recorded_at >= approach_start(fix_at, settings)]
        return cls(
            last=fixes[-1] if fixes else None,
            recent=len(recent),
            approached=any(
                t.outside_m is not None and t.outside_m <= settings.checkin_approach_m
                for t in recent
            ),
            authenticated=sum(t.source not in UNAUTHENTICATED_SOURCES for t in recent),
            dwell=list(fixes) if settings.checkin_dwell_min > 0 else (),
        )


def approach_start(fix_at: datetime, settings: TenantSettings) -> datetime:
    return fix_at - timedelta(seconds=settings.checkin_approach_window_min * 60)


def lookback(settings: TenantSettings) -> timedelta:
    """How far before the fix the trail is read: the approach window or the dwell with its
    grace, and at least ten minutes for the jump from the previous fix."""
    return timedelta(
        seconds=max(
            settings.checkin_approach_window_min * 60,
            settings.checkin_dwell_min * 60 + settings.checkin_leave_grace_s,
            600,
        )
    )


def _unverifiable(trail: Trail, settings: TenantSettings) -> Reason:
    """A browser's fix, which cannot say whether it is simulated: judged by the evidence
    there is. Under ``corroborate`` the phone's own trail must back it (a walk towards the
    door: two fixes in the approach window, one near it); the other rules still read that
    trail for jumps, repeats and accuracy, so a teleport or a replayed point is not saved."""
    said = "El navegador no informa si la ubicación es simulada"
    policy = settings.checkin_mock_unknown
    if policy != "corroborate":
        severity = {"accept": "note", "review": "review", "reject": "rejected"}[policy]
        return Reason("mock_unknown", said, severity)
    if trail.recent >= CORROBORATING_FIXES and trail.approached:
        return Reason(
            "mock_unknown", f"{said}; el recorrido previo del teléfono la respalda", "note"
        )
    return Reason(
        "mock_unknown",
        (
            f"{said} y el recorrido previo no la respalda (se necesitan {CORROBORATING_FIXES} "
            f"puntos en los {settings.checkin_approach_window_min:.0f} min previos, uno a menos "
            f"de {settings.checkin_approach_m:.0f} m de la dirección)"
        ),
        "review",
    )


def _previous_jump_mps(last: TrailFix | None, fix: Fix) -> float | None:
    """Speed from the last fix before this one (geodesic metres over seconds)."""
    if last is None:
        return None
    seconds = (fix.recorded_at - last.recorded_at).total_seconds()
    if seconds <= 0:
        return None
    metres = _GEOD.inv(last.lon, last.lat, fix.lon, fix.lat)[2]
    return float(metres / seconds)


def _dwell_s(
    trail: Sequence[TrailFix], fix: Fix, outside_m: float, settings: TenantSettings
) -> float:
    """Seconds the agent has been inside the fence at the fix's time.

    Leaving needs ``leave_grace_s`` of fixes outside in a row, so one jittery fix at the edge
    does not restart the clock.
    """
    inside_since: datetime | None = None
    outside_since: datetime | None = None
    points = [(t.recorded_at, t.outside_m) for t in trail] + [(fix.recorded_at, outside_m)]
    for at, outside in points:
        if outside == 0:
            inside_since = inside_since or at
            outside_since = None
        elif inside_since is not None:
            outside_since = outside_since or at
            if (at - outside_since).total_seconds() >= settings.checkin_leave_grace_s:
                inside_since = outside_since = None
    if inside_since is None or outside_since is not None:
        return 0.0
    return (fix.recorded_at - inside_since).total_seconds()


def checkin_reasons(
    *,
    fix: Fix,
    checked_in_at: datetime,
    outside_m: float,
    trail: Trail,
    repeats: int,
    settings: TenantSettings,
) -> tuple[list[Reason], float | None]:
    """Every rule the check-in breaks, and the dwell when it is required: a pure function of
    the fix, its distance outside the fence, the trail before it and the tenant's settings."""
    reasons: list[Reason] = []
    accuracy = fix.accuracy_m  # None: unknown (0 from tracker apps is stored as None)
    if outside_m > 0:
        if accuracy is not None and outside_m <= accuracy:
            reasons.append(
                Reason(
                    "accuracy_overlaps_geofence",
                    (
                        f"El punto está a {outside_m:.0f} m fuera de la geocerca, "
                        f"dentro de la precisión del GPS ({accuracy:.0f} m): requiere revisión"
                    ),
                    "review",
                )
            )
        else:
            reasons.append(
                Reason(
                    "outside_geofence",
                    (f"El punto está a {outside_m:.0f} m fuera de la geocerca de la dirección"),
                    "rejected",
                )
            )
    if accuracy is None:
        reasons.append(
            Reason(
                "unknown_accuracy", "El GPS no informó su precisión: requiere revisión", "review"
            )
        )
    elif accuracy > settings.checkin_max_accuracy_m:
        reasons.append(
            Reason(
                "poor_accuracy",
                (
                    f"Precisión del GPS de {accuracy:.0f} m, peor que el máximo de "
                    f"{settings.checkin_max_accuracy_m:.0f} m"
                ),
                "review",
            )
        )
    if fix.mock:
        reasons.append(
            Reason("mock_location", "El teléfono reportó una ubicación simulada", "rejected")
        )
    elif fix.mock_unknown:
        reasons.append(_unverifiable(trail, settings))
    speed = _previous_jump_mps(trail.last, fix)
    if speed is not None and speed > settings.checkin_max_speed_mps:
        message = f"Salto imposible desde el punto anterior ({speed * 3.6:.0f} km/h)"
        reasons.append(Reason("impossible_jump", message, "review"))
    age = (checked_in_at - fix.recorded_at).total_seconds()
    if age > settings.checkin_max_fix_age_s:
        reasons.append(
            Reason(
                "stale_fix",
                (f"El punto GPS es {age / 60:.0f} min anterior a la marcación"),
                "review",
            )
        )
    if trail.recent >= 2 and not trail.approached:
        reasons.append(
            Reason(
                "no_approach",
                (
                    f"El recorrido de los {settings.checkin_approach_window_min:.0f} min previos "
                    f"nunca se acercó a menos de {settings.checkin_approach_m:.0f} m "
                    "de la dirección"
                ),
                "review",
            )
        )
    if not trail.recent and settings.checkin_require_trail and settings.checkin_approach_window_min:
        reasons.append(
            Reason(
                "no_trail",
                (
                    f"No hay recorrido GPS en los {settings.checkin_approach_window_min:.0f} min "
                    "previos: un solo punto no prueba la presencia"
                ),
                "review",
            )
        )
    elif trail.recent and not trail.authenticated:
        reasons.append(
            Reason(
                "unauthenticated_trail",
                (
                    "El recorrido previo solo viene de un rastreador sin autenticación "
                    "(OsmAnd/Traccar): no prueba la presencia"
                ),
                "review",
            )
        )
    if repeats >= settings.checkin_repeat_count - 1:
        reasons.append(
            Reason(
                "repeated_coordinates",
                (
                    "Las mismas coordenadas exactas se repiten en varios puntos: posible ubicación "
                    "falsa"
                ),
                "review",
            )
        )
    dwell = None
    if settings.checkin_dwell_min * 60 > 0 and outside_m == 0:
        dwell = _dwell_s(trail.dwell, fix, outside_m, settings)
        if dwell < settings.checkin_dwell_min * 60:
            reasons.append(
                Reason(
                    "dwell_too_short",
                    (
                        f"Lleva {dwell / 60:.1f} min dentro de la geocerca; se requieren "
                        f"{settings.checkin_dwell_min * 60 / 60:.0f} min"
                    ),
                    "rejected",
                )
            )
    return reasons, dwell


def verdict_of(reasons: Sequence[Reason]) -> str:
    """Any rejecting reason rejects; otherwise any reason but a note sends the visit to
    review."""
    if any(r.severity == "rejected" for r in reasons):
        return "rejected"
    return "review" if any(r.severity != "note" for r in reasons) else "accepted"
