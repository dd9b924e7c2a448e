"""An independent check of planned routes: recomputed from the matrices, not read from the
solver. Every plan is checked before it is stored, and the tests use it too."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable

from geo.routing.solver import RoutingProblem, RoutingResult


def violations(problem: RoutingProblem, result: RoutingResult) -> list[str]:
    """What is wrong with a plan, in words; empty when every rule holds."""
    stops = {s.key: s for s in problem.stops}
    vehicles = {v.key: v for v in problem.vehicles}
    wrong: list[str] = []
    seen: Counter[Hashable] = Counter()
    used: Counter[Hashable] = Counter()
    for route in result.routes:
        vehicle = vehicles.get(route.vehicle)
        if vehicle is None:
            wrong.append(f"route of unknown vehicle {route.vehicle!r}")
            continue
        used[route.vehicle] += 1
        duration, _distance = problem.matrices(vehicle)
        clock, here, load = vehicle.shift[0], vehicle.start, 0
        for visit in route.visits:
            stop = stops.get(visit.key)
            if stop is None:
                wrong.append(f"unknown stop {visit.key!r}")
                continue
            seen[visit.key] += 1
            clock = max(clock + int(duration[here, stop.location]), stop.window[0])
            if clock > stop.window[1]:
                wrong.append(f"{visit.key!r} reached at {clock}, after its window {stop.window}")
            if not stop.skills <= vehicle.skills:
                wrong.append(
                    f"{visit.key!r} needs {sorted(stop.skills)}; {route.vehicle!r} "
                    f"has {sorted(vehicle.skills)}"
                )
            clock += stop.service
            here, load = stop.location, load + stop.demand
        clock += int(duration[here, vehicle.end])
        if route.visits and clock > vehicle.shift[1]:
            wrong.append(f"{route.vehicle!r} back at {clock}, after its shift {vehicle.shift}")
        if load > vehicle.capacity:
            wrong.append(f"{route.vehicle!r} carries {load}, capacity {vehicle.capacity}")
    wrong += [f"{key!r} visited {n} times" for key, n in seen.items() if n > 1]
    wrong += [
        f"{key!r} used {n} times, has {vehicles[key].count}"
        for key, n in used.items()
        if n > vehicles[key].count
    ]
    unplanned = set(result.unplanned)
    wrong += [
        f"{s.key!r} is required but not planned"
        for s in problem.stops
        if s.required and s.key not in seen
    ]
    wrong += [
        f"{s.key!r} is neither planned nor reported unplanned"
        for s in problem.stops
        if s.key not in seen and s.key not in unplanned
    ]
    return wrong
