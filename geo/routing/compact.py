"""Compact days: each agent's day planned within a territory of balanced work.

Planned over the whole city at once, a prize-collecting day sends agents wherever a
high-priority case or a contact window pulls them, and their routes cross: on the demo, most
of the area the routes cover was covered by two or more. Dispatchers read that as waste. Here
the day's cases are split into one territory per agent (k-means balanced on estimated hours,
in metres), each territory goes to the agent who starts nearest it (one assignment over all,
Hungarian method), and each agent's day is solved on its own territory. The problem then
decomposes, so each solve is small.

A case needing skills its territory's agent lacks moves to the nearest territory whose agent
has them; one no agent can take stays where it is and comes back unplanned, as it would.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from geo.routing.solver import RoutingProblem, RoutingResult, Stop, Vehicle, solve_routes
from geo.routing.territories import balanced_kmeans, workload_hours

SLACK = 0.25
"""A territory may hold a quarter more work than an equal share: a day takes a few of its cases
anyway, so strict balance would only move a street's cases to a neighbour across town."""
MIN_BUDGET_S = 0.5
"""Least search time per agent: a territory of a hundred cases converges well within it."""


def territories(problem: RoutingProblem, xy: NDArray[np.float64]) -> list[list[int]]:
    """For each vehicle (in ``problem.vehicles`` order), the indices of its stops.

    ``xy`` holds each location's metric coordinates (rows indexed like the matrices).
    """
    vehicles, stops = problem.vehicles, problem.stops
    where = xy[[s.location for s in stops]]
    service_min = float(np.mean([s.service for s in stops])) / 60 if stops else 0.0
    k = min(len(vehicles), len(stops))
    if k == 0:
        return [[] for _ in vehicles]
    labels = balanced_kmeans(where, workload_hours(where, service_min=service_min), k, slack=SLACK)
    centres = np.array([where[labels == c].mean(axis=0) for c in range(k)])
    starts = xy[[v.start for v in vehicles]]
    cost = np.hypot(*(centres[:, None, :] - starts[None, :, :]).transpose(2, 0, 1))
    clusters, owners = linear_sum_assignment(cost)
    owner_of = dict(zip(clusters.tolist(), owners.tolist(), strict=True))
    owner = np.array([owner_of[int(label)] for label in labels])
    for i, stop in enumerate(stops):
        if stop.skills <= vehicles[owner[i]].skills:
            continue
        able = [v for v, vehicle in enumerate(vehicles) if stop.skills <= vehicle.skills]
        if able:
            owner[i] = min(able, key=lambda v: float(np.hypot(*(where[i] - starts[v]))))
    return [np.flatnonzero(owner == v).tolist() for v in range(len(vehicles))]


def _alone(problem: RoutingProblem, vehicle: Vehicle, stops: list[Stop]) -> RoutingProblem:
    """The problem of one vehicle and its stops, on the rows of its mode's matrices."""
    locations = list(dict.fromkeys([vehicle.start, vehicle.end, *(s.location for s in stops)]))
    index = {location: i for i, location in enumerate(locations)}
    duration, distance = problem.matrices(vehicle)
    cut = np.ix_(locations, locations)
    return RoutingProblem(
        duration[cut],
        distance[cut],
        [replace(s, location=index[s.location]) for s in stops],
        [replace(vehicle, start=index[vehicle.start], end=index[vehicle.end], mode="")],
        objective=problem.objective,
    )


def solve_compact(
    problem: RoutingProblem, xy: NDArray[np.float64], *, budget_s: float
) -> RoutingResult:
    """Each vehicle's route over its own territory; one result in the problem's terms."""
    shares = territories(problem, xy)
    each = max(budget_s / max(len(problem.vehicles), 1), MIN_BUDGET_S)
    routes, unplanned = [], []
    feasible, cost, seconds, iterations = True, 0, 0.0, 0
    for vehicle, share in zip(problem.vehicles, shares, strict=True):
        stops = [problem.stops[i] for i in share]
        if not stops:
            continue
        result = solve_routes(_alone(problem, vehicle, stops), budget_s=each)
        routes += result.routes
        unplanned += result.unplanned
        feasible &= result.feasible
        cost += result.cost
        seconds += result.seconds
        iterations += result.iterations
    return RoutingResult(routes, unplanned, feasible, cost, seconds, iterations)
