"""Solver quality on VRPTW instances (Solomon format), beside VROOM and OR-Tools.

For each instance file and solver, one JSON object per line: ``instance``, ``solver``,
``distance`` (Euclidean, double precision, recomputed from the routes), ``vehicles``,
``feasible`` (checked here in double precision: windows, capacity, every customer once),
``seconds`` and, when ``BKS.json`` beside the files knows the instance, ``gap_pct`` to the
``<name>_distance`` best known solution. A summary per solver follows.

``campo`` is the planner's own routing core (:mod:`geo.routing.solver`, PyVRP); VROOM (pyvroom)
and OR-Tools (cheapest arc, then guided local search) get the same time budget. Both are in
the ``bench`` extra: ``.venv/bin/pip install -e '.[bench]'``.

Run: ``.venv/bin/python -m bench.vrptw --budget 10 ../shared/data/vrptw/solomon/C101.txt ...``
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from geo.routing.solver import RoutingProblem, Stop, Vehicle, solve_routes

SCALE = 1000
"""Integer solvers see distances and times in thousandths."""
DEFAULT = [
    "C101",
    "C105",
    "C201",
    "C205",
    "R101",
    "R105",
    "R109",
    "R201",
    "R205",
    "RC101",
    "RC105",
    "RC201",
]


@dataclass(frozen=True)
class Instance:
    name: str
    vehicles: int
    capacity: int
    xy: NDArray[np.float64]
    demand: NDArray[np.int64]
    ready: NDArray[np.float64]
    due: NDArray[np.float64]
    service: NDArray[np.float64]

    @property
    def distance(self) -> NDArray[np.float64]:
        diff = self.xy[:, None, :] - self.xy[None, :, :]
        distance: NDArray[np.float64] = np.sqrt((diff**2).sum(axis=2))
        return distance


def read_solomon(path: Path) -> Instance:
    lines = [line.split() for line in path.read_text().splitlines()]
    vehicles, capacity = (int(v) for v in lines[4])
    rows = np.array([[float(v) for v in line] for line in lines[9:] if len(line) == 7])
    return Instance(
        lines[0][0],
        vehicles,
        capacity,
        rows[:, 1:3],
        rows[:, 3].astype(np.int64),
        rows[:, 4],
        rows[:, 5],
        rows[:, 6],
    )


Routes = list[list[int]]


def check(instance: Instance, routes: Routes) -> tuple[float, bool]:
    """(distance, feasible) recomputed in double precision."""
    d, total, ok = instance.distance, 0.0, True
    visited = sorted(c for route in routes for c in route)
    ok &= visited == list(range(1, len(instance.xy)))
    for route in routes:
        clock, here, load = instance.ready[0], 0, 0
        for customer in route:
            clock = max(clock + d[here, customer], instance.ready[customer])
            ok &= clock <= instance.due[customer] + 1e-6
            clock += instance.service[customer]
            total += d[here, customer]
            here, load = customer, load + int(instance.demand[customer])
        total += d[here, 0]
        ok &= clock + d[here, 0] <= instance.due[0] + 1e-6
        ok &= load <= instance.capacity
    return total, bool(ok)


def campo(instance: Instance, budget: float) -> Routes:
    scaled = np.rint(instance.distance * SCALE).astype(np.int64)
    stops = [
        Stop(
            key=i,
            location=i,
            service=int(instance.service[i] * SCALE),
            window=(int(instance.ready[i] * SCALE), int(instance.due[i] * SCALE)),
            demand=int(instance.demand[i]),
            required=True,
        )
        for i in range(1, len(instance.xy))
    ]
    fleet = [
        Vehicle(
            "v",
            0,
            0,
            (int(instance.ready[0] * SCALE), int(instance.due[0] * SCALE)),
            instance.capacity,
            count=instance.vehicles,
        )
    ]
    problem = RoutingProblem(scaled, scaled, stops, fleet, objective="distance")
    # The same budget as the references: no early stop (the product stops when converged).
    result = solve_routes(problem, budget_s=budget, patience=2**31 - 1)
    return [[int(v.key) for v in route.visits] for route in result.routes]  # type: ignore[call-overload]


def vroom(instance: Instance, budget: float) -> Routes:
    import vroom as vr

    problem = vr.Input()
    problem.set_durations_matrix("car", np.rint(instance.distance * SCALE).astype(np.uint32))

    def window(i: int) -> vr.TimeWindow:
        return vr.TimeWindow(int(instance.ready[i] * SCALE), int(instance.due[i] * SCALE))

    for k in range(instance.vehicles):
        problem.add_vehicle(
            vr.Vehicle(k, start=0, end=0, capacity=[instance.capacity], time_window=window(0))
        )
    for i in range(1, len(instance.xy)):
        job = vr.Job(
            i,
            location=i,
            default_service=int(instance.service[i] * SCALE),
            delivery=[int(instance.demand[i])],
            time_windows=[window(i)],
        )
        problem.add_job(job)
    solution = problem.solve(exploration_level=5, nb_threads=2, timeout=timedelta(seconds=budget))
    routes: dict[int, list[int]] = {}
    for row in solution.routes.itertuples():
        if row.type == "job":
            routes.setdefault(int(row.vehicle_id), []).append(int(row.id))
    return list(routes.values())


def ortools(instance: Instance, budget: float) -> Routes:
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = len(instance.xy)
    manager = pywrapcp.RoutingIndexManager(n, instance.vehicles, 0)
    model = pywrapcp.RoutingModel(manager)
    scaled = np.rint(instance.distance * SCALE).astype(np.int64).tolist()
    service = [int(s * SCALE) for s in instance.service]

    def travel(a: int, b: int) -> int:
        return int(scaled[manager.IndexToNode(a)][manager.IndexToNode(b)])

    def with_service(a: int, b: int) -> int:
        node = manager.IndexToNode(a)
        return int(scaled[node][manager.IndexToNode(b)] + service[node])

    model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitCallback(travel))
    horizon = int(instance.due[0] * SCALE)
    model.AddDimension(model.RegisterTransitCallback(with_service), horizon, horizon, False, "T")
    clock = model.GetDimensionOrDie("T")
    for i in range(1, n):
        clock.CumulVar(manager.NodeToIndex(i)).SetRange(
            int(instance.ready[i] * SCALE), int(instance.due[i] * SCALE)
        )
    demand = [int(d) for d in instance.demand]
    model.AddDimensionWithVehicleCapacity(
        model.RegisterUnaryTransitCallback(lambda a: demand[manager.IndexToNode(a)]),
        0,
        [instance.capacity] * instance.vehicles,
        True,
        "Q",
    )
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = (
        routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    )
    params.time_limit.FromMilliseconds(int(budget * 1000))
    solution = model.SolveWithParameters(params)
    if solution is None:
        return []
    routes = []
    for k in range(instance.vehicles):
        index, route = solution.Value(model.NextVar(model.Start(k))), []
        while not model.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(model.NextVar(index))
        if route:
            routes.append(route)
    return routes


SOLVERS: dict[str, Callable[[Instance, float], Routes]] = {
    "campo": campo,
    "vroom": vroom,
    "ortools": ortools,
}


def best_known(bks: dict[str, dict[str, float]], name: str) -> tuple[float | None, str]:
    """The best known distance for an instance, and what it minimised.

    Solomon instances (``C101``) have a distance-only value (``C101_distance``). Gehring and
    Homberger's (``c1_2_1``, matched whatever the file's case) have only the hierarchical one:
    fewest vehicles first, then distance. A solver minimising distance alone may then come out
    below it with more vehicles, a negative gap that is no error.
    """
    for key in (f"{name}_distance", f"{name.lower()}_distance"):
        if key in bks:
            return bks[key].get("best_known_cost"), "distance"
    for key in (name, name.lower()):
        if key in bks:
            return bks[key].get("best_known_cost"), "vehicles_then_distance"
    return None, "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--budget", type=float, default=10.0, help="seconds per instance")
    parser.add_argument("--solvers", default="campo,vroom,ortools")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[2] / "shared" / "data" / "vrptw"
    paths = args.paths or [root / "solomon" / f"{name}.txt" for name in DEFAULT]
    bks_file = paths[0].parent.parent / "BKS.json"
    bks = json.loads(bks_file.read_text()) if bks_file.exists() else {}
    gaps: dict[str, list[float]] = {}
    for path in paths:
        instance = read_solomon(path)
        for solver in args.solvers.split(","):
            started = time.perf_counter()
            try:
                routes = SOLVERS[solver](instance, args.budget)
            except ImportError as exc:
                print(
                    json.dumps(
                        {
                            "instance": instance.name,
                            "solver": solver,
                            "error": f"not installed: {exc.name}",
                        }
                    ),
                    flush=True,
                )
                continue
            seconds = time.perf_counter() - started
            distance, feasible = check(instance, routes) if routes else (math.nan, False)
            row = {
                "instance": instance.name,
                "solver": solver,
                "distance": round(distance, 2) if routes else None,
                "vehicles": len(routes),
                "feasible": feasible,
                "seconds": round(seconds, 1),
            }
            best, kind = best_known(bks, instance.name)
            if best and feasible:
                row["gap_pct"] = round(100 * (distance - best) / best, 2)
                row["best_known"] = kind
                gaps.setdefault(solver, []).append(row["gap_pct"])
            print(json.dumps(row), flush=True)
    for solver, values in gaps.items():
        print(
            json.dumps(
                {
                    "solver": solver,
                    "solved_feasibly": len(values),
                    "mean_gap_pct": round(statistics.mean(values), 2),
                }
            )
        )


if __name__ == "__main__":
    main()
