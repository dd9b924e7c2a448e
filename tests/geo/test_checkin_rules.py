"""The check-in rules as a pure function: no database, no HTTP."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from geo.core.tenant_settings import TenantSettings
from geo.tracking.telemetry import Fix, FixRejected, check_fix, parse_app_fix
from geo.visits.checkin_rules import FIX_NAMES, Trail, TrailFix, checkin_reasons, verdict_of

pytestmark = pytest.mark.clock

NOW = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)
SETTINGS = TenantSettings()


def _fix(**changes: object) -> Fix:
    values: dict[str, object] = {"id": uuid.uuid4(), "recorded_at": NOW, "lon": -74.06, "lat": 4.65}
    values["accuracy_m"] = 10.0
    values.update(changes)
    return Fix(**values)  # type: ignore[arg-type]


def _approach(outside_m: list[float], *, step_s: int = 60) -> list[TrailFix]:
    start = NOW - timedelta(seconds=step_s * len(outside_m))
    return [
        TrailFix(start + timedelta(seconds=step_s * k), -74.06, 4.65 + 0.00001 * k, 10.0, m)
        for k, m in enumerate(outside_m)
    ]


def _codes(**kwargs: object) -> set[str]:
    arguments: dict[str, object] = {
        "fix": _fix(),
        "checked_in_at": NOW,
        "outside_m": 0.0,
        "trail": _approach([200, 100, 0]),
        "repeats": 0,
        "settings": SETTINGS,
    }
    arguments.update(kwargs)
    fix = arguments["fix"]
    arguments["trail"] = Trail.of(
        arguments["trail"],  # type: ignore[arg-type]
        fix_at=fix.recorded_at,  # type: ignore[attr-defined]
        settings=arguments["settings"],  # type: ignore[arg-type]
    )
    reasons, _ = checkin_reasons(**arguments)  # type: ignore[arg-type]
    return {r.code for r in reasons}


def test_at_the_door_with_a_good_fix_nothing_is_wrong() -> None:
    assert _codes() == set()


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"outside_m": 200.0}, "outside_geofence"),
        ({"outside_m": 8.0}, "accuracy_overlaps_geofence"),
        ({"fix": _fix(accuracy_m=None)}, "unknown_accuracy"),
        ({"fix": _fix(accuracy_m=80.0)}, "poor_accuracy"),
        ({"fix": _fix(mock=True)}, "mock_location"),
        ({"checked_in_at": NOW + timedelta(minutes=10)}, "stale_fix"),
        ({"trail": _approach([900, 850, 800])}, "no_approach"),
        ({"repeats": 2}, "repeated_coordinates"),
        (
            {"trail": [TrailFix(NOW - timedelta(seconds=10), -74.5, 4.65, 10.0, 0)]},
            "impossible_jump",
        ),
    ],
)
def test_each_rule_names_its_code(kwargs: dict[str, object], code: str) -> None:
    assert code in _codes(**kwargs)


def test_no_trail_in_the_approach_window_is_not_proof() -> None:
    assert _codes(trail=[]) == {"no_trail"}
    old = [TrailFix(NOW - timedelta(minutes=30), -74.06, 4.65, 10.0, 0.0)]
    assert _codes(trail=old) == {"no_trail"}  # a fix, but not in the window
    assert _codes(trail=[], settings=TenantSettings(checkin_require_trail=False)) == set()


def test_a_trail_only_from_unauthenticated_trackers_is_not_proof() -> None:
    tracker = [
        TrailFix(t.recorded_at, t.lon, t.lat, t.accuracy_m, t.outside_m, "osmand")
        for t in _approach([200, 100, 0])
    ]
    assert _codes(trail=tracker) == {"unauthenticated_trail"}
    mixed = [*tracker[:2], _approach([0])[0]]
    assert _codes(trail=mixed) == set()
    owntracks = [
        TrailFix(t.recorded_at, t.lon, t.lat, t.accuracy_m, t.outside_m, "owntracks")
        for t in _approach([200, 100, 0])
    ]
    assert _codes(trail=owntracks) == set()  # a device password stands behind these


@pytest.mark.parametrize(
    ("policy", "verdict"),
    [
        ("corroborate", "accepted"),
        ("accept", "accepted"),
        ("review", "review"),
        ("reject", "rejected"),
    ],
)
def test_a_browser_cannot_say_whether_a_fix_is_simulated_and_the_tenant_decides(
    policy: str, verdict: str
) -> None:
    fix = parse_app_fix(
        {
            "id": str(uuid.uuid4()),
            "recorded_at": NOW.isoformat(),
            "lat": 4.65,
            "lon": -74.06,
            "accuracy_m": 10.0,
            "mock": None,
        }
    )
    assert fix.mock_unknown
    assert not fix.mock
    settings = TenantSettings(checkin_mock_unknown=policy)  # type: ignore[arg-type]
    reasons, _ = checkin_reasons(
        fix=fix,
        checked_in_at=NOW,
        outside_m=0.0,
        trail=Trail.of(_approach([200, 100, 0]), fix_at=NOW, settings=settings),
        repeats=0,
        settings=settings,
    )
    assert [r.code for r in reasons] == ["mock_unknown"]  # said whatever the policy
    assert verdict_of(reasons) == verdict
    # An app that reports the flag (true or false, or leaves it out) is not in doubt.
    for flag in ({"mock": False}, {}):
        known = parse_app_fix(
            {
                "id": str(uuid.uuid4()),
                "recorded_at": NOW.isoformat(),
                "lat": 4.65,
                "lon": -74.06,
                **flag,
            }
        )
        assert not known.mock_unknown


def _browser_fix(at: datetime, lon: float = -74.06) -> Fix:
    return parse_app_fix(
        {
            "id": str(uuid.uuid4()),
            "recorded_at": at.isoformat(),
            "lat": 4.65,
            "lon": lon,
            "accuracy_m": 10.0,
            "mock": None,
        }
    )


@pytest.mark.parametrize(
    ("trail", "verdict"),
    [
        ([], "review"),  # a single point proves nothing
        ([0], "review"),  # one fix before it: not a walk
        ([900, 800], "review"),  # a trail that never came near the door
        ([300, 120, 20], "accepted"),  # the walk to the door
    ],
)
def test_by_default_a_browsers_fix_needs_its_own_trail_to_back_it(
    trail: list[float], verdict: str
) -> None:
    settings = TenantSettings()
    assert settings.checkin_mock_unknown == "corroborate"
    reasons, _ = checkin_reasons(
        fix=_browser_fix(NOW),
        checked_in_at=NOW,
        outside_m=0.0,
        trail=Trail.of(_approach(trail), fix_at=NOW, settings=settings),
        repeats=0,
        settings=settings,
    )
    assert verdict_of(reasons) == verdict, reasons
    assert "mock_unknown" in [r.code for r in reasons]


def test_a_spoofed_browser_trail_is_still_caught_by_the_other_rules() -> None:
    """The trail corroborates, but the fix jumped there, or sits on a replayed point."""
    settings = TenantSettings()
    walk = Trail.of(_approach([300, 120, 20]), fix_at=NOW, settings=settings)
    jumped = TrailFix(NOW - timedelta(seconds=5), -74.20, 4.65, 10.0, None)
    reasons, _ = checkin_reasons(
        fix=_browser_fix(NOW),
        checked_in_at=NOW,
        outside_m=0.0,
        trail=replace(walk, last=jumped),
        repeats=0,
        settings=settings,
    )
    assert verdict_of(reasons) == "review"
    assert "impossible_jump" in [r.code for r in reasons]
    replayed, _ = checkin_reasons(
        fix=_browser_fix(NOW),
        checked_in_at=NOW,
        outside_m=0.0,
        trail=walk,
        repeats=settings.checkin_repeat_count,
        settings=settings,
    )
    assert verdict_of(replayed) == "review"
    assert "repeated_coordinates" in [r.code for r in replayed]


def test_dwell_is_required_only_when_the_tenant_asks() -> None:
    strict = TenantSettings(checkin_dwell_min=5)
    assert "dwell_too_short" in _codes(settings=strict, trail=_approach([100, 0, 0]))
    assert "dwell_too_short" not in _codes(settings=strict, trail=_approach([0] * 8))


def test_fix_parsing_and_the_rules_every_fix_obeys() -> None:
    raw = {"id": str(uuid.uuid4()), "recorded_at": NOW.isoformat(), "lat": 4.6, "lon": -74.1}
    assert parse_app_fix(raw).lat == 4.6
    for bad, field in [
        ({"recorded_at": (NOW + timedelta(hours=1)).isoformat()}, "fix.recorded_at"),
        ({"recorded_at": (NOW - timedelta(days=31)).isoformat()}, "fix.recorded_at"),
        ({"lat": 95}, "fix.lat"),
        ({"lon": -181}, "fix.lon"),
        ({"accuracy_m": -1}, "fix.accuracy_m"),
        ({"battery_pct": 101}, "fix.battery_pct"),
    ]:
        with pytest.raises(FixRejected) as refused:
            check_fix(parse_app_fix({**raw, **bad}), now=NOW, settings=SETTINGS, names=FIX_NAMES)
        assert refused.value.field == field
