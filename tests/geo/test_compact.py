"""Compact days: four neighbourhoods, four agents, each planned within its own; a case that
needs a skill goes to an agent who has it; the merged plan keeps every rule."""

from __future__ import annotations

import numpy as np
import shapely

from geo.routing.compact import solve_compact, territories
from geo.routing.feasibility import violations
from geo.routing.solver import RoutingProblem, Stop, Vehicle, solve_routes

HOUR = 3600
CORNERS = np.array([(0.0, 0.0), (8000.0, 0.0), (0.0, 8000.0), (8000.0, 8000.0)])


def _city(per_corner: int = 15) -> tuple[RoutingProblem, np.ndarray]:
    """Agents based at four corners of an 8 km square, cases scattered around each corner,
    every case worth a long drive (a high prize), open all day: nothing but distance keeps an
    agent near home."""
    rng = np.random.default_rng(5)
    cases = np.vstack([corner + rng.normal(0, 700, (per_corner, 2)) for corner in CORNERS])
    xy = np.vstack([CORNERS, cases])
    seconds = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)) * 1.3 / 8.0
    matrix = np.rint(seconds).astype(np.int64)
    stops = [
        Stop(
            key=i,
            location=4 + i,
            service=20 * 60,
            prize=4 * HOUR,
            skills=frozenset({"legal"}) if i == 0 else frozenset(),
        )
        for i in range(len(cases))
    ]
    crew = [
        Vehicle(
            f"agent-{k}",
            k,
            k,
            (8 * HOUR, 17 * HOUR),
            10,
            frozenset({"legal"}) if k == 3 else frozenset(),
        )
        for k in range(4)
    ]
    return RoutingProblem(matrix, matrix, stops, crew), xy


def _corner(point: np.ndarray) -> int:
    return int(np.argmin(np.hypot(*(CORNERS - point).T)))


def test_each_agent_gets_the_neighbourhood_it_starts_in() -> None:
    problem, xy = _city()
    shares = territories(problem, xy)
    assert sorted(i for share in shares for i in share) == list(range(len(problem.stops)))
    for agent, share in enumerate(shares):
        corners = {_corner(xy[problem.stops[i].location]) for i in share if i != 0}
        assert corners == {agent}
    # Case 0 lies at corner 0 but needs "legal", which only agent 3 has.
    assert _corner(xy[problem.stops[0].location]) == 0
    assert 0 in shares[3]


def _hull_overlap(problem: RoutingProblem, xy: np.ndarray, routes: list) -> float:
    where = {s.key: xy[s.location] for s in problem.stops}
    hulls = [
        shapely.MultiPoint([where[v.key] for v in route.visits]).convex_hull
        for route in routes
        if len(route.visits) >= 3
    ]
    union = shapely.union_all(hulls)
    shared = shapely.union_all(
        [a.intersection(b) for i, a in enumerate(hulls) for b in hulls[i + 1 :]]
    )
    return float(shared.area / union.area)


def test_a_compact_day_keeps_every_rule_and_does_not_cross() -> None:
    problem, xy = _city()
    result = solve_compact(problem, xy, budget_s=4)
    assert violations(problem, result) == []
    assert result.feasible
    shares = territories(problem, xy)
    owner = {
        problem.stops[i].key: problem.vehicles[v].key
        for v, share in enumerate(shares)
        for i in share
    }
    for route in result.routes:
        assert {owner[visit.key] for visit in route.visits} == {route.vehicle}
    assert sum(len(r.visits) for r in result.routes) == 40  # four agents, ten visits each
    assert _hull_overlap(problem, xy, result.routes) < 0.01
    whole = solve_routes(problem, budget_s=4)
    assert violations(problem, whole) == []
