"""A day's plan: open cases and active agents become ordered routes along real streets.

Steps, each timed into the plan's statistics: read cases and agents; one street network per
travel mode (the tenant's OSM extract, or a grid over the area when it has none); the travel
matrices; the routing core (every agent's shift, capacity and skills, prize-collecting by case
priority), each agent within a territory of balanced work unless the tenant turns compact
routes off; an independent feasibility check; then routes with street geometry, stops with
ETA/ETD, and the cases left out with why are stored.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from pyproj import Geod, Transformer
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.analytics.contact_hours import windows_for_day
from geo.contacts.ledger import STANDING, local_day, week_start
from geo.contacts.rules import Breach, standing_of, visit_window
from geo.core.errors import InvalidInput
from geo.core.settings import get_settings
from geo.core.tenant_settings import SegmentSkill, TenantSettings, tenant_settings
from geo.routing.compact import solve_compact
from geo.routing.feasibility import violations
from geo.routing.matrix import Matrix, leg_paths, matrix_between, snap
from geo.routing.solver import (
    UNREACHABLE,
    RoutingProblem,
    RoutingResult,
    Stop,
    Vehicle,
    integer_matrix,
    solve_routes,
)
from geo.routing.streets import StreetNetwork, grid_network, load_network

Progress = Callable[[float, str], None]
GRID_SPACING_M = 150.0
_GEOD = Geod(ellps="WGS84")
_GRIDS: dict[tuple[str, float, float, int, int], StreetNetwork] = {}


@dataclass(frozen=True)
class Replan:
    """Planning again during the day: from ``now``, from where agents are, without the
    absent ones, and without the cases already visited today."""

    now: datetime
    absent: frozenset[int] = frozenset()


LIVE_FRESH_MIN = 60
"""A live position older than this is not trusted as a start: the agent starts from base."""


@dataclass(frozen=True)
class PlanInputs:
    cases: list[Any]
    agents: list[Any]
    zone: ZoneInfo
    settings: TenantSettings
    replan: Replan | None = None
    suggested: dict[int | None, tuple[int, int]] = field(default_factory=dict)
    """Suggested visiting hours per zone (None: tenant-wide), from contact history."""
    allowed: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Per case, the hours the law allows its debtor to be visited that day (seconds after
    local midnight; a case missing here: any time)."""
    held: dict[int, str] = field(default_factory=dict)
    """Cases the law rules out that day, with the rule's code; not in ``cases``."""
    pins: dict[int, int] = field(default_factory=dict)
    """Cases a dispatcher fixed to an agent (case id to agent id): only that agent may visit
    them, and the plan leaves them out only if that agent cannot reach them in time."""

    def points(self) -> list[tuple[float, float]]:
        """Matrix order: agents' bases, then where they start, then the cases."""
        return (
            [(a.lon, a.lat) for a in self.agents]
            + [(a.start_lon, a.start_lat) for a in self.agents]
            + [(c.lon, c.lat) for c in self.cases]
        )


# Follow-ups: a promise whose due date passed with no payment since (imported, or collected on
# a visit), and a last visit that found no one home, raise the case's priority; the latter
# also asks for the other half of the day than the failed attempt (local hour of its check-in).
_CASES = text(
    """
    SELECT c.id, ST_X(a.point) AS lon, ST_Y(a.point) AS lat, c.product, c.bucket,
           c.visit_from, c.visit_until,
           (SELECT z.zone_id FROM analytics.address_zones z WHERE z.address_id = c.address_id)
               AS zone_id,
           c.outstanding_cop::float8 AS outstanding_cop,
           least(100, c.priority
                 + CASE WHEN broken.case_id IS NOT NULL THEN :broken_bonus ELSE 0 END
                 + CASE WHEN last.outcome = 'no_one_home' THEN :absent_bonus ELSE 0 END)
               AS priority,
           CASE WHEN last.outcome = 'no_one_home'
                THEN extract(hour FROM last.checkin_at AT TIME ZONE :zone) END AS missed_hour,
           broken.case_id IS NOT NULL AS broken_promise, c.debtor_id,
           d.authorised_channels, d.agreed_hours, {standing}
    FROM cases c
    JOIN debtors d ON d.tenant_id = c.tenant_id AND d.id = c.debtor_id
    JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
    LEFT JOIN LATERAL (
        SELECT v.outcome, v.checkin_at FROM visits v
        WHERE v.tenant_id = c.tenant_id AND v.case_id = c.id AND v.status = 'completed'
        ORDER BY v.checkin_at DESC LIMIT 1
    ) last ON true
    LEFT JOIN LATERAL (
        SELECT p.case_id FROM promises p
        WHERE p.tenant_id = c.tenant_id AND p.case_id = c.id AND p.due_date < :day
          AND NOT EXISTS (SELECT 1 FROM visits paid WHERE paid.tenant_id = p.tenant_id
                          AND paid.case_id = p.case_id AND paid.outcome = 'paid'
                          AND paid.checkin_at >= p.created_at)
          AND NOT EXISTS (SELECT 1 FROM payments y WHERE y.tenant_id = p.tenant_id
                          AND y.case_id = p.case_id
                          AND y.paid_on >= (p.created_at AT TIME ZONE :zone)::date)
        LIMIT 1
    ) broken ON true
    WHERE c.tenant_id = :t AND c.status = 'open' AND a.point IS NOT NULL
      AND NOT (CAST(:replan AS boolean) AND EXISTS (
          SELECT 1 FROM visits today WHERE today.tenant_id = c.tenant_id
          AND today.case_id = c.id AND today.status <> 'rejected'
          AND (today.checkin_at AT TIME ZONE :zone)::date = :day))
    ORDER BY c.id
    """.replace(
        "{standing}",
        STANDING.format(
            debtor="c.debtor_id", day_from=":day_from", until=":day_until", week_from=":week_from"
        ),
    )
)
# Agents, with where and when each starts: at base at the start of the shift, or when planning
# again during the day, at its fresh live position now, with what it has left of its capacity.
_AGENTS = text(
    """
    SELECT g.id, ST_X(g.base_point) AS lon, ST_Y(g.base_point) AS lat, g.travel_mode,
           g.shift_start, g.shift_end, g.skills,
           g.daily_capacity - CASE WHEN CAST(:replan AS boolean) THEN (
               SELECT count(*) FROM visits v WHERE v.tenant_id = g.tenant_id
               AND v.agent_id = g.id AND v.status <> 'rejected'
               AND (v.checkin_at AT TIME ZONE :zone)::date = :day) ELSE 0 END AS capacity,
           CASE WHEN CAST(:replan AS boolean) AND p.recorded_at > CAST(:now AS timestamptz)
                     - make_interval(mins => :fresh)
                THEN ST_X(p.point) ELSE ST_X(g.base_point) END AS start_lon,
           CASE WHEN CAST(:replan AS boolean) AND p.recorded_at > CAST(:now AS timestamptz)
                     - make_interval(mins => :fresh)
                THEN ST_Y(p.point) ELSE ST_Y(g.base_point) END AS start_lat
    FROM agents g
    LEFT JOIN agent_positions p ON p.tenant_id = g.tenant_id AND p.agent_id = g.id
    WHERE g.tenant_id = :t AND g.active AND NOT g.id = ANY(CAST(:absent AS bigint[]))
    ORDER BY g.id
    """
)
NOON = 12 * 3600


def plan_inputs(
    session: Session,
    tenant_id: int,
    day: date,
    replan: Replan | None = None,
    pins: dict[int, int] | None = None,
) -> PlanInputs:
    settings = tenant_settings(session, tenant_id)
    common = {"t": tenant_id, "day": day, "zone": settings.timezone, "replan": replan is not None}
    bonuses = {
        "broken_bonus": settings.followup_broken_promise_bonus,
        "absent_bonus": settings.followup_no_one_home_bonus,
    }
    day_from, day_until = local_day(day, settings.zone)
    ledger = {
        "day_from": day_from,
        "day_until": day_until,
        "week_from": week_start(day, settings.zone),
    }
    rows = session.execute(_CASES, {**common, **bonuses, **ledger}).all()
    # One contact a debtor a day: of a debtor's cases, the most urgent is visited.
    first: dict[int, int] = {}
    for case in sorted(rows, key=lambda c: (-c.priority, c.id)):
        first.setdefault(case.debtor_id, case.id)
    cases, held, allowed = [], {}, {}
    for case in rows:
        window = visit_window(day, standing=standing_of(case), settings=settings)
        if isinstance(window, Breach):
            held[case.id] = window.code
        elif first[case.debtor_id] != case.id:
            held[case.id] = "second_contact_today"
        else:
            cases.append(case)
            allowed[case.id] = window
    now = replan.now if replan else datetime.now(settings.zone)
    absent = sorted(replan.absent) if replan else []
    agents = session.execute(
        _AGENTS, {**common, "now": now, "fresh": LIVE_FRESH_MIN, "absent": absent}
    ).all()
    suggested = windows_for_day(session, tenant_id=tenant_id, day=day)
    return PlanInputs(
        cases,
        list(agents),
        settings.zone,
        settings,
        replan,
        suggested,
        allowed=allowed,
        held=held,
        pins=dict(pins or {}),
    )


@dataclass(frozen=True)
class Solved:
    """A solved day, before it is stored."""

    problem: RoutingProblem
    result: RoutingResult
    networks: dict[str, StreetNetwork]
    matrices: dict[str, Matrix]
    inputs: PlanInputs
    timings: dict[str, float]


def street_network(
    mode: str, points: list[tuple[float, float]], settings: TenantSettings
) -> StreetNetwork:
    """The tenant's extract (``street_network`` setting: a path), else a grid over the points."""
    source = settings.street_network
    if source:
        return load_network(Path(source), mode=mode, cache_dir=get_settings().cache_dir)
    lons, lats = zip(*points, strict=True)
    lon, lat = (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2
    cols = int((max(lons) - min(lons)) * 111_320 * math.cos(math.radians(lat)) / GRID_SPACING_M) + 3
    rows = int((max(lats) - min(lats)) * 110_570 / GRID_SPACING_M) + 3
    key = (mode, round(lon, 4), round(lat, 4), rows, cols)
    if key not in _GRIDS:
        _GRIDS[key] = grid_network(
            lon=lon, lat=lat, rows=rows, cols=cols, spacing_m=GRID_SPACING_M, mode=mode
        )
    return _GRIDS[key]


def _seconds(at: Any) -> int:
    return int(at.hour * 3600 + at.minute * 60 + at.second)


def followup_window(missed_hour: Any) -> tuple[int, int]:
    """After no one was home, try the other half of the day."""
    if missed_hour is None:
        return (0, UNREACHABLE)
    return (NOON, UNREACHABLE) if float(missed_hour) < 12 else (0, NOON)


def case_window(case: Any, suggested: tuple[int, int] | None = None) -> tuple[int, int]:
    """The hours a case may be visited: its own window, narrowed by a follow-up's half day
    (when the two do not overlap, the case's own window wins); with neither, the window its
    zone's contact history suggests."""
    early, late = followup_window(case.missed_hour)
    if case.visit_from is None or case.visit_until is None:
        if case.missed_hour is None and suggested is not None:
            return suggested
        return early, late
    own = (_seconds(case.visit_from), _seconds(case.visit_until))
    both = (max(own[0], early), min(own[1], late))
    return both if both[0] < both[1] else own


def usable_suggestions(inputs: PlanInputs) -> dict[int | None, tuple[int, int]]:
    """Suggested windows cut to the hours some agent works; those left under an hour (or
    under a visit) would only strand their cases, so they are dropped."""
    if not inputs.agents or not inputs.suggested:
        return {}
    opens = min(_seconds(a.shift_start) for a in inputs.agents)
    closes = max(_seconds(a.shift_end) for a in inputs.agents)
    least = max(3600, int(inputs.settings.visit_service_min * 60))
    cut = {
        zone: (max(start, opens), min(end, closes))
        for zone, (start, end) in inputs.suggested.items()
    }
    return {zone: window for zone, window in cut.items() if window[1] - window[0] >= least}


def suggested_count(inputs: PlanInputs) -> int:
    """How many cases were planned in a window suggested by contact history."""
    usable = usable_suggestions(inputs)
    return sum(
        1
        for c in inputs.cases
        if c.visit_from is None and c.missed_hour is None and _suggestion(c, usable) is not None
    )


def _suggestion(case: Any, usable: dict[int | None, tuple[int, int]]) -> tuple[int, int] | None:
    return usable.get(case.zone_id, usable.get(None))


def stop_window(
    case: Any, usable: dict[int | None, tuple[int, int]], inputs: PlanInputs
) -> tuple[int, int]:
    """A case's window in the plan, given the usable suggestions (zone, else tenant-wide),
    inside the hours the law allows that day so that the whole visit fits (a suggestion
    outside them gives way to them; a case's own window outside them leaves it empty)."""
    suggestion = _suggestion(case, usable)
    window = case_window(case, suggestion)
    allowed = inputs.allowed.get(case.id)
    if allowed is None:
        return window
    latest = allowed[1] - int(inputs.settings.visit_service_min * 60)
    inside = (max(window[0], allowed[0]), min(window[1], latest))
    if inside[0] >= inside[1] and suggestion is not None and window == suggestion:
        return allowed[0], latest
    return inside


def law_held(inputs: PlanInputs) -> dict[int, str]:
    """Cases the law keeps out of the plan, with the rule's code: those ruled out for the day
    and those whose own window falls outside the hours allowed."""
    usable = usable_suggestions(inputs)
    outside = {
        c.id: "outside_contact_hours"
        for c in inputs.cases
        if (w := stop_window(c, usable, inputs))[0] >= w[1]
    }
    return inputs.held | outside


PINNED_PRIZE = 10**6
"""A pinned case's prize: more than a whole day of driving is worth, so the solver drops it
only if the agent cannot reach it within its window and shift."""


def _pin(agent_id: int | None) -> frozenset[str]:
    """The skill that only one agent has: how a case is fixed to that agent."""
    return frozenset() if agent_id is None else frozenset({f"pin:{agent_id}"})


def build_problem(inputs: PlanInputs, matrices: dict[str, Matrix]) -> RoutingProblem:
    """The routing problem of a day: agents' bases first, then the cases, in matrix order."""
    service = int(inputs.settings.visit_service_min * 60)
    agents = len(inputs.agents)
    suggested = usable_suggestions(inputs)
    rules = inputs.settings.segment_skills
    held = law_held(inputs)
    pins = inputs.pins
    stops = [
        Stop(
            key=c.id,
            location=2 * agents + i,
            service=service,
            # A pinned case is worth far more than any other: left out only if impossible.
            prize=PINNED_PRIZE if c.id in pins else 1800 + 36 * int(c.priority),
            window=stop_window(c, suggested, inputs),
            skills=segment_skills(c, rules) | _pin(pins.get(c.id)),
        )
        for i, c in enumerate(inputs.cases)
        if c.id not in held
    ]
    pinned_agents = set(pins.values())
    now = _seconds(inputs.replan.now.astimezone(inputs.zone)) if inputs.replan else 0
    vehicles = [
        Vehicle(
            key=a.id,
            start=agents + i,
            end=i,
            shift=(max(_seconds(a.shift_start), now), _seconds(a.shift_end)),
            capacity=max(int(a.capacity), 0),
            skills=frozenset(a.skills or ()) | _pin(a.id if a.id in pinned_agents else None),
            mode=a.travel_mode,
        )
        for i, a in enumerate(inputs.agents)
        if max(_seconds(a.shift_start), now) < _seconds(a.shift_end)
    ]
    # Time is what is optimised; the solver's distance matrix is the time matrix too.
    by_mode = {
        mode: (integer_matrix(m.seconds), integer_matrix(m.seconds)) for mode, m in matrices.items()
    }
    first = next(iter(by_mode.values()))
    return RoutingProblem(first[0], first[1], stops, vehicles, by_mode=by_mode)


def beyond_reach(matrix: Matrix, *, first_case: int, max_snap_m: float) -> Matrix:
    """The matrix with cases farther than ``max_snap_m`` from any street of the mode made
    unreachable: a door that far off is no place to walk to from a parked motorbike."""
    far = np.flatnonzero(matrix.snap_m[first_case:] > max_snap_m) + first_case
    if not len(far):
        return matrix
    seconds = matrix.seconds.copy()
    seconds[far, :] = np.inf
    seconds[:, far] = np.inf
    seconds[far, far] = 0.0
    return replace(matrix, seconds=seconds)


def line_of(paths: list[list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Legs joined into one line (a route that never leaves its base is a point, twice)."""
    line = [coord for path in paths for coord in path]
    return line if len(line) >= 2 else line * 2


def segment_skills(case: Any, rules: Sequence[SegmentSkill]) -> frozenset[str]:
    """Skills a case needs, from the tenant's segment rules (``segment_skills`` setting)."""
    return frozenset(
        rule.skill
        for rule in rules
        if rule.matches(
            outstanding_cop=float(case.outstanding_cop), bucket=case.bucket, product=case.product
        )
    )


def _reason(
    problem: RoutingProblem, stop: Stop, matrices: dict[str, Matrix], max_snap_m: float
) -> str:
    """Why a case was left out of the plan."""
    skilled = [v for v in problem.vehicles if stop.skills <= v.skills]
    if not skilled:
        return "no_agent_with_skills"
    if all(matrices[v.mode].snap_m[stop.location] > max_snap_m for v in skilled):
        return "far_from_street"
    if not any(problem.matrices(v)[0][v.start, stop.location] < UNREACHABLE for v in skilled):
        return "unreachable"
    return "capacity_or_shift"


NETWORK_MIB = 160
"""Peak memory of a plan besides its matrices: street networks, solver, interpreter."""
BYTES_PER_PAIR = 28
"""Peak bytes per pair of points per travel mode: the travel times as computed, as the solver
takes them, and the temporaries between (measured on the demo, 540 to 2,040 points)."""


def plan_memory_mib(points: int, modes: int) -> float:
    """A plan's peak memory, estimated before computing: it grows with the square of its
    points (cases, plus each agent's base and start)."""
    return NETWORK_MIB + BYTES_PER_PAIR * modes * points**2 / 2**20


def compute_plan(
    inputs: PlanInputs,
    *,
    budget_s: float,
    progress: Progress,
    inputs_s: float = 0.0,
    memory_mib: float | None = None,
) -> Solved:
    """Solve a day's routing from its inputs (:func:`plan_inputs`), nothing stored. Takes
    no session: the minutes of computing hold no database transaction (and no snapshot that
    would keep vacuum from cleaning tables that every sync updates). A plan whose estimated
    memory exceeds ``memory_mib`` is refused before it takes any."""
    timings: dict[str, float] = {}
    if not inputs.agents:
        raise InvalidInput("the tenant has no active agents to plan for", "agents")
    points = inputs.points()
    modes = len({a.travel_mode for a in inputs.agents})
    # Each agent with pinned cases routes on its own copy of its mode's matrices.
    needs = plan_memory_mib(len(points), modes + len(set(inputs.pins.values())))
    if memory_mib is not None and needs > memory_mib:
        raise InvalidInput(
            f"{len(inputs.cases)} cases in {modes} travel modes need about {needs:,.0f} MiB, "
            f"more than the {memory_mib:,.0f} MiB a plan may take (CAMPO_PLAN_MEMORY_MIB): "
            "plan fewer cases at once, or give workers more memory",
            "cases",
        )
    progress(0.05, f"{len(inputs.cases)} casos, {len(inputs.agents)} gestores")
    networks, matrices = {}, {}
    timings.update(inputs_s=inputs_s, network_s=0.0, snap_s=0.0, matrix_s=0.0)
    for mode in sorted({a.travel_mode for a in inputs.agents}):
        started = time.perf_counter()
        networks[mode] = street_network(mode, points, inputs.settings)
        timings["network_s"] += time.perf_counter() - started
        started = time.perf_counter()
        snapped = snap(networks[mode], points)
        timings["snap_s"] += time.perf_counter() - started
        started = time.perf_counter()
        matrices[mode] = beyond_reach(
            matrix_between(snapped, distances=False),
            first_case=2 * len(inputs.agents),
            max_snap_m=inputs.settings.max_snap_m,
        )
        timings["matrix_s"] += time.perf_counter() - started
    progress(0.25, "matrices de tiempos listas")
    problem = build_problem(inputs, matrices)
    if not problem.vehicles:
        raise InvalidInput("no agent has shift time left to plan", "agents")
    if inputs.settings.compact_routes:
        crs = next(iter(networks.values())).metric_crs
        x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(*np.asarray(points).T)
        result = solve_compact(problem, np.column_stack([x, y]), budget_s=budget_s)
    else:
        result = solve_routes(problem, budget_s=budget_s)
    timings["routing_s"] = result.seconds
    problems = violations(problem, result)
    if problems:
        raise RuntimeError(f"the solver's plan breaks a rule: {problems[0]}")
    progress(0.85, "rutas calculadas y verificadas")
    return Solved(problem, result, networks, matrices, inputs, timings)


def store_plan(
    session: Session,
    *,
    tenant_id: int,
    plan_id: int,
    day: date,
    solved: Solved,
) -> dict[str, Any]:
    """Write routes (street geometry), stops (ETA/ETD) and unplanned cases; return stats."""
    problem, result, matrices, timings = (
        solved.problem,
        solved.result,
        solved.matrices,
        solved.timings,
    )
    started = time.perf_counter()
    inputs = solved.inputs
    midnight = datetime(day.year, day.month, day.day, tzinfo=inputs.zone)
    vehicles = {v.key: v for v in problem.vehicles}
    stops = {s.key: s for s in problem.stops}
    totals = {"ride_m": 0.0, "walk_m": 0.0}
    for route in result.routes:
        vehicle = vehicles[route.vehicle]
        matrix = matrices[vehicle.mode]
        sequence = [vehicle.start] + [stops[v.key].location for v in route.visits] + [vehicle.end]
        nodes = [int(matrix.nodes[i]) for i in sequence]
        paths = leg_paths(matrix.network, list(pairwise(nodes)))
        line = line_of(paths)
        lons, lats = [x for x, _ in line], [y for _, y in line]
        walked = float(sum(matrix.snap_m[i] for i in sequence[1:-1])) * 2  # door and back
        ridden = float(_GEOD.line_length(lons, lats))
        if vehicle.mode == "walk":
            ridden, walked = 0.0, walked + ridden
        totals["ride_m"] += ridden
        totals["walk_m"] += walked
        starts = midnight + timedelta(seconds=route.start)
        ends = midnight + timedelta(seconds=route.end)
        wkt = "LINESTRING(" + ", ".join(f"{x} {y}" for x, y in line) + ")"
        session.execute(
            text(
                "INSERT INTO plan_routes (tenant_id, plan_id, agent_id, starts_at, ends_at, "
                "distance_m, ride_m, walk_m, duration_s, geometry) VALUES (:t, :p, :a, :s, :e, "
                ":d, :ride, :walk, :u, ST_GeomFromText(:g, 4326))"
            ),
            {
                "t": tenant_id,
                "p": plan_id,
                "a": route.vehicle,
                "s": starts,
                "e": ends,
                "d": ridden + walked,
                "ride": ridden,
                "walk": walked,
                "u": float(route.end - route.start),
                "g": wkt,
            },
        )
        for seq, visit in enumerate(route.visits, start=1):
            session.execute(
                text(
                    "INSERT INTO plan_stops (tenant_id, plan_id, case_id, agent_id, seq, eta, "
                    "starts_at, etd) VALUES (:t, :p, :c, :a, :n, :eta, :s, :etd)"
                ),
                {
                    "t": tenant_id,
                    "p": plan_id,
                    "c": visit.key,
                    "a": route.vehicle,
                    "n": seq,
                    "eta": midnight + timedelta(seconds=visit.arrival),
                    "s": midnight + timedelta(seconds=visit.start),
                    "etd": midnight + timedelta(seconds=visit.end),
                },
            )
    held = law_held(inputs)  # the same cases build_problem left out
    unplanned = {
        key: _reason(problem, stops[key], matrices, inputs.settings.max_snap_m)
        for key in result.unplanned
    } | held
    if unplanned:
        session.execute(
            text(
                "INSERT INTO plan_unplanned (tenant_id, plan_id, case_id, reason) "
                "VALUES (:t, :p, :c, :r)"
            ),
            [{"t": tenant_id, "p": plan_id, "c": k, "r": r} for k, r in unplanned.items()],
        )
    # Planning is assigning: each planned case now belongs to the agent who will visit it.
    session.execute(
        text(
            "UPDATE cases c SET assigned_agent_id = s.agent_id, assigned_at = now(), "
            "updated_at = now() FROM plan_stops s WHERE s.tenant_id = :t AND s.plan_id = :p "
            "AND c.tenant_id = s.tenant_id AND c.id = s.case_id "
            "AND c.assigned_agent_id IS DISTINCT FROM s.agent_id"
        ),
        {"t": tenant_id, "p": plan_id},
    )
    timings["store_s"] = time.perf_counter() - started
    return {
        "cases": len(problem.stops) + len(held),
        "agents": len(problem.vehicles),
        "planned": sum(len(r.visits) for r in result.routes),
        "unplanned": len(unplanned),
        "held_by_law": len(held),
        "routes": len(result.routes),
        "solver": "pyvrp",
        "suggested_windows": suggested_count(inputs),
        "solver_iterations": result.iterations,
        "solver_cost": result.cost,
        "feasible": result.feasible,
        **{k: round(v, 2) for k, v in timings.items()},
        "snap_m_max": float(max((float(np.max(m.snap_m)) for m in matrices.values()), default=0)),
        **{k: round(v) for k, v in totals.items()},
    }
