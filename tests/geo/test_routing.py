"""The routing core on a street grid: windows, shifts, capacity and skills hold, checked
independently of the solver; when the day is too full, the least important stops wait."""

from __future__ import annotations

import numpy as np

from geo.routing.feasibility import violations
from geo.routing.matrix import travel_matrix
from geo.routing.solver import RoutingProblem, Stop, Vehicle, integer_matrix, solve_routes
from geo.routing.streets import grid_network

HOUR = 3600


def _problem(stops: int = 60, capacity: int = 12) -> RoutingProblem:
    network = grid_network(lon=-74.08, lat=4.65, rows=30, cols=30, spacing_m=120, mode="motorbike")
    rng = np.random.default_rng(11)
    points = [(-74.08, 4.65), (-74.095, 4.64)] + [
        (-74.08 + rng.uniform(-0.015, 0.015), 4.65 + rng.uniform(-0.015, 0.015))
        for _ in range(stops)
    ]
    matrix = travel_matrix(network, points)
    work = [
        Stop(
            key=f"case-{i}",
            location=i + 2,
            service=15 * 60,
            window=(8 * HOUR, 17 * HOUR) if i % 3 else (9 * HOUR, 11 * HOUR),
            prize=HOUR + 36 * (i % 100),
            skills=frozenset({"legal"}) if i % 10 == 0 else frozenset(),
        )
        for i in range(stops)
    ]
    crew = [
        Vehicle("ana", 0, 0, (8 * HOUR, 17 * HOUR), capacity, frozenset({"legal"})),
        Vehicle("luis", 1, 1, (8 * HOUR, 13 * HOUR), capacity),
    ]
    return RoutingProblem(integer_matrix(matrix.seconds), integer_matrix(matrix.metres), work, crew)


def test_routes_respect_every_rule() -> None:
    problem = _problem()
    result = solve_routes(problem, budget_s=2)
    assert result.feasible
    assert violations(problem, result) == []
    planned = [v.key for r in result.routes for v in r.visits]
    assert len(planned) <= 24  # capacity 12 each
    assert set(planned) | set(result.unplanned) == {s.key for s in problem.stops}
    luis = [r for r in result.routes if r.vehicle == "luis"]
    legal = {s.key for s in problem.stops if s.skills}
    assert not legal & {v.key for r in luis for v in r.visits}


def test_when_the_day_is_full_the_least_important_wait() -> None:
    problem = _problem(stops=60, capacity=6)
    result = solve_routes(problem, budget_s=2)
    prize = {s.key: s.prize for s in problem.stops}
    kept = [prize[v.key] for r in result.routes for v in r.visits]
    left = [prize[k] for k in result.unplanned]
    assert len(kept) == 12
    assert np.mean(kept) > np.mean(left) + 1000


def test_the_checker_catches_a_broken_plan() -> None:
    problem = _problem(stops=10)
    result = solve_routes(problem, budget_s=1)
    route = result.routes[0]
    broken = type(result)(
        routes=[
            type(route)(
                "luis",
                route.visits + route.visits[:1],
                route.start,
                route.end,
                route.distance,
                route.duration,
            )
        ],
        unplanned=[],
        feasible=True,
        cost=0,
        seconds=0,
        iterations=0,
    )
    problems = " ".join(violations(problem, broken))
    assert "visited 2 times" in problems
    assert "neither planned nor reported" in problems or len(result.routes) == 1
