"""Plans as jobs: created queued, computed by a job worker with progress, then served.

Creating a plan defers its job on the PostgreSQL job queue in the same transaction (the
queue's own SQL function; the worker side is :mod:`geo.jobs.queue`), so a plan is never
queued without its job, nor a job without its plan. Progress is written in its own short
transactions, so a client polling the plan sees it move while the long computation runs. The
result is stored in one transaction: a plan is either complete or not there, and a job run
again after its worker died finds a stored plan and leaves it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

from sqlalchemy import text, update
from sqlalchemy.orm import Session

from geo.contacts.ledger import closed_day
from geo.core.bounds import check_day
from geo.core.db import tenant_session
from geo.core.errors import CampoError, Conflict, InvalidInput, NotFound
from geo.core.models import Plan
from geo.core.settings import get_settings
from geo.routing.planner import Progress, Replan, compute_plan, plan_inputs, store_plan

MAX_BUDGET_S = 600.0
PLAN_QUEUE = "plans"
PLAN_TASK = "compute_plan"
log = logging.getLogger(__name__)

# procrastinate's defer function, as its own ``App.defer`` calls it. The lock keeps two plans
# of one tenant and day from running at once. Workers take the highest priority first, and a
# plan's priority is minus the number of its tenant's plans already waiting or running: a
# tenant that queues many plans waits behind its own, not everyone else's.
_DEFER = text(
    """
    SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(
        :queue, :task,
        -(SELECT count(*) FROM plans
          WHERE tenant_id = :t AND status IN ('queued', 'running') AND id <> :p)::int,
        :lock, NULL, CAST(:args AS jsonb), NULL)]::procrastinate_job_to_defer_v1[])
    """
)


PlanStatus = Literal["queued", "running", "done", "failed"]


@dataclass(frozen=True)
class PlanView:
    """A plan job as the API and the CLI show it."""

    id: int
    day: date
    status: PlanStatus
    progress: float
    message: str | None
    budget_s: float
    options: dict[str, Any]
    stats: dict[str, Any]
    created_at: datetime
    finished_at: datetime | None
    published_at: datetime | None = None
    """When it became the day's plan in force (:mod:`geo.routing.publishing`); None: not."""


_SELECT = (
    "SELECT id, day, status, progress, message, budget_s, options, stats, created_at, "
    "finished_at, published_at FROM plans WHERE tenant_id = :t"
)


def create_plan(
    session: Session,
    *,
    tenant_id: int,
    day: date,
    budget_s: float,
    replan: bool = False,
    absent: Sequence[int] = (),
    pins: Mapping[int, int] | None = None,
    queue: bool = True,
) -> PlanView:
    """Create a plan and queue its job. ``replan``: plan the rest of today from now and from
    where agents are, leaving out the ``absent`` agents and the cases already visited today.
    ``pins``: cases fixed to an agent (case id to agent id), the rest planned around them.
    ``queue=False``: the caller runs it itself (:func:`run_plan`, as the CLI does)."""
    if not 0 < budget_s <= MAX_BUDGET_S:
        raise InvalidInput(f"budget_s must be in (0, {MAX_BUDGET_S:.0f}]", "budget_s")
    check_day(day, "date")
    closed = closed_day(session, tenant_id=tenant_id, day=day)
    if closed is not None:
        raise InvalidInput(
            f"Ley 2300 de 2023: {closed}; no se planean visitas de cobranza ese día", "date"
        )
    options = {
        "replan": replan,
        "absent": sorted(set(absent)),
        "now": datetime.now(UTC).isoformat(),
        "pins": {
            str(case): agent for case, agent in sorted(_checked_pins(session, tenant_id, pins))
        },
    }
    plan_id = session.execute(
        text(
            "INSERT INTO plans (tenant_id, day, budget_s, options) "
            "VALUES (:t, :d, :b, CAST(:o AS jsonb)) RETURNING id"
        ),
        {"t": tenant_id, "d": day, "b": budget_s, "o": json.dumps(options)},
    ).scalar_one()
    if queue:
        session.execute(
            _DEFER,
            {
                "queue": PLAN_QUEUE,
                "task": PLAN_TASK,
                "lock": f"plan:{tenant_id}:{day.isoformat()}",
                "args": json.dumps({"tenant_id": tenant_id, "plan_id": plan_id}),
                "t": tenant_id,
                "p": plan_id,
            },
        )
    return get_plan(session, tenant_id=tenant_id, plan_id=plan_id)


MAX_PINS = 500


def _checked_pins(
    session: Session, tenant_id: int, pins: Mapping[int, int] | None
) -> list[tuple[int, int]]:
    """Pins of this tenant's open cases to its active agents; anything else is refused by
    name rather than planned around silently."""
    if not pins:
        return []
    if len(pins) > MAX_PINS:
        raise InvalidInput(f"at most {MAX_PINS} pinned cases", "pins")
    found = session.execute(
        text(
            "SELECT q.case_id, c.status, g.active FROM unnest(CAST(:cases AS bigint[]), "
            "CAST(:agents AS bigint[])) AS q(case_id, agent_id) "
            "LEFT JOIN cases c ON c.tenant_id = :t AND c.id = q.case_id "
            "LEFT JOIN agents g ON g.tenant_id = :t AND g.id = q.agent_id"
        ),
        {"t": tenant_id, "cases": list(pins), "agents": list(pins.values())},
    ).all()
    for case_id, status, active in found:
        if status != "open":
            raise InvalidInput(f"case {case_id} is not an open case of this tenant", "pins")
        if not active:
            raise InvalidInput(f"the agent for case {case_id} is not an active agent", "pins")
    return list(pins.items())


def get_plan(session: Session, *, tenant_id: int, plan_id: int) -> PlanView:
    row = session.execute(text(_SELECT + " AND id = :p"), {"t": tenant_id, "p": plan_id}).first()
    if row is None:
        raise NotFound("plan not found", "plan_id")
    return PlanView(**row._mapping)


def list_plans(session: Session, *, tenant_id: int, day: date | None = None) -> list[PlanView]:
    rows = session.execute(
        text(_SELECT + " AND (CAST(:d AS date) IS NULL OR day = :d) ORDER BY id DESC LIMIT 200"),
        {"t": tenant_id, "d": day},
    )
    return [PlanView(**row._mapping) for row in rows]


CANCELLED = "cancelado por el despacho"


class _Cancelled(Exception):
    """The plan was cancelled while it was being computed."""


def cancel_plan(session: Session, *, tenant_id: int, plan_id: int) -> PlanView:
    """Cancel a queued or running plan: a queued one is never computed, a running one stops at
    its next step and is not stored. A finished plan is a Conflict."""
    get_plan(session, tenant_id=tenant_id, plan_id=plan_id)  # NotFound for another's
    cancelled = session.execute(
        update(Plan)
        .where(Plan.tenant_id == tenant_id, Plan.id == plan_id)
        .where(Plan.status.in_(("queued", "running")))
        .values(status="failed", message=CANCELLED, finished_at=datetime.now(UTC))
    )
    if not cancelled.rowcount:  # type: ignore[attr-defined]  # it finished meanwhile
        raise Conflict("el plan ya terminó: no se puede cancelar", "plan_id")
    return get_plan(session, tenant_id=tenant_id, plan_id=plan_id)


def _set(tenant_id: int, plan_id: int, *, was: str = "running", **values: Any) -> bool:
    """Update a plan that is still ``was``; False when it is not (it was cancelled)."""
    with tenant_session(tenant_id) as session:
        changed = session.execute(
            update(Plan)
            .where(Plan.tenant_id == tenant_id, Plan.id == plan_id, Plan.status == was)
            .values(**values)
        )
        return bool(changed.rowcount)  # type: ignore[attr-defined]


def run_plan(tenant_id: int, plan_id: int, progress: Progress | None = None) -> PlanView:
    """Compute and store a queued plan; failures are recorded on the plan, not raised."""

    def report(fraction: float, message: str) -> None:
        if not _set(tenant_id, plan_id, progress=round(fraction, 3), message=message):
            raise _Cancelled
        if progress is not None:
            progress(fraction, message)

    with tenant_session(tenant_id) as session:
        plan = get_plan(session, tenant_id=tenant_id, plan_id=plan_id)
    try:
        if plan.status in ("done", "failed"):  # cancelled, or run again after its worker died
            return plan
        if not _set(
            tenant_id,
            plan_id,
            was=plan.status,
            status="running",
            progress=0.01,
            message="iniciando",
        ):
            raise _Cancelled
        replan = None
        if plan.options.get("replan"):
            replan = Replan(
                now=datetime.fromisoformat(plan.options["now"]),
                absent=frozenset(plan.options.get("absent", [])),
            )
        started = time.perf_counter()
        with tenant_session(tenant_id) as session:  # read, commit, then compute
            pins = {int(c): int(a) for c, a in plan.options.get("pins", {}).items()}
            inputs = plan_inputs(session, tenant_id, plan.day, replan, pins)
        solved = compute_plan(
            inputs,
            budget_s=plan.budget_s,
            progress=report,
            inputs_s=time.perf_counter() - started,
            memory_mib=get_settings().plan_memory_mib,
        )
        with tenant_session(tenant_id) as session:
            still = session.execute(
                text("SELECT status FROM plans WHERE tenant_id = :t AND id = :p FOR UPDATE"),
                {"t": tenant_id, "p": plan_id},
            ).scalar_one()
            if still != "running":
                raise _Cancelled
            stats = store_plan(
                session, tenant_id=tenant_id, plan_id=plan_id, day=plan.day, solved=solved
            )
            session.execute(
                text(
                    "UPDATE plans SET status = 'done', progress = 1, message = :m, "
                    "stats = CAST(:s AS jsonb), finished_at = now() "
                    "WHERE tenant_id = :t AND id = :p"
                ),
                {
                    "m": f"{stats['planned']} visitas en {stats['routes']} rutas",
                    "s": json.dumps(stats),
                    "t": tenant_id,
                    "p": plan_id,
                },
            )
        if progress is not None:
            progress(1.0, "plan guardado")
    except _Cancelled:
        log.info("plan %s cancelled", plan_id, extra={"tenant": tenant_id})
    except (CampoError, RuntimeError, ValueError) as exc:
        message = exc.message if isinstance(exc, CampoError) else str(exc)
        log.warning("plan %s failed: %s", plan_id, message, extra={"tenant": tenant_id})
        _set(
            tenant_id,
            plan_id,
            status="failed",
            message=message[:500],
            finished_at=datetime.now(UTC),
        )
    except Exception:
        # A bug, not bad input: keep the traceback for us and a plain word for the dispatcher.
        log.exception("plan %s crashed", plan_id, extra={"tenant": tenant_id})
        _set(
            tenant_id,
            plan_id,
            status="failed",
            message="error interno del planificador",
            finished_at=datetime.now(UTC),
        )
    with tenant_session(tenant_id) as session:
        return get_plan(session, tenant_id=tenant_id, plan_id=plan_id)


_GEOJSON = text(
    """
    WITH routes AS (
        SELECT jsonb_build_object('type', 'Feature', 'geometry', ST_AsGeoJSON(r.geometry, 7)::jsonb,
               'properties', jsonb_build_object('kind', 'route', 'agent_id', r.agent_id,
                   'agent', g.code, 'starts_at', r.starts_at, 'ends_at', r.ends_at,
                   'distance_m', round(r.distance_m::numeric, 1),
                   'ride_m', round(r.ride_m::numeric, 1), 'walk_m', round(r.walk_m::numeric, 1),
                   'duration_s', r.duration_s,
                   'stops', (SELECT count(*) FROM plan_stops s WHERE s.tenant_id = r.tenant_id
                             AND s.plan_id = r.plan_id AND s.agent_id = r.agent_id))) AS f
        FROM plan_routes r JOIN agents g ON g.tenant_id = r.tenant_id AND g.id = r.agent_id
        WHERE r.tenant_id = :t AND r.plan_id = :p
    ), stops AS (
        SELECT jsonb_build_object('type', 'Feature', 'geometry', ST_AsGeoJSON(a.point, 7)::jsonb,
               'properties', jsonb_build_object('kind', 'stop', 'case_id', s.case_id,
                   'agent_id', s.agent_id, 'seq', s.seq, 'eta', s.eta, 'etd', s.etd,
                   'debtor', d.full_name, 'outstanding_cop', c.outstanding_cop,
                   'bucket', c.bucket, 'priority', c.priority,
                   'window', CASE WHEN c.visit_from IS NOT NULL
                                  THEN to_char(c.visit_from, 'HH24:MI') || '–'
                                       || to_char(c.visit_until, 'HH24:MI') END)) AS f
        FROM plan_stops s
        JOIN cases c ON c.tenant_id = s.tenant_id AND c.id = s.case_id
        JOIN debtors d ON d.tenant_id = c.tenant_id AND d.id = c.debtor_id
        JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
        WHERE s.tenant_id = :t AND s.plan_id = :p
    ), unplanned AS (
        SELECT jsonb_build_object('type', 'Feature', 'geometry', ST_AsGeoJSON(a.point, 7)::jsonb,
               'properties', jsonb_build_object('kind', 'unplanned', 'case_id', u.case_id,
                   'reason', u.reason, 'priority', c.priority)) AS f
        FROM plan_unplanned u
        JOIN cases c ON c.tenant_id = u.tenant_id AND c.id = u.case_id
        JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
        WHERE u.tenant_id = :t AND u.plan_id = :p
    )
    SELECT coalesce(jsonb_agg(f), '[]'::jsonb) FROM (
        SELECT f FROM routes UNION ALL SELECT f FROM stops UNION ALL SELECT f FROM unplanned
    ) everything
    """
)


def plan_geojson(session: Session, *, tenant_id: int, plan_id: int) -> dict[str, Any]:
    """A plan as an RFC 7946 FeatureCollection: routes (street LineStrings), stops, unplanned."""
    plan = get_plan(session, tenant_id=tenant_id, plan_id=plan_id)
    features = session.execute(_GEOJSON, {"t": tenant_id, "p": plan_id}).scalar_one()
    summary = {
        "id": plan.id,
        "day": plan.day.isoformat(),
        "status": plan.status,
        "stats": plan.stats,
    }
    return {"type": "FeatureCollection", "features": features, "plan": summary}
