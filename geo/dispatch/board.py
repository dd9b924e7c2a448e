"""Today's board: each agent's shift, last signal, battery and visits done of planned, and the
feed of the day's visits, in the tenant's zone.

One statement per view. "Planned" counts the stops of the day's newest finished plan; "done",
the agent's visits of the day that were not rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.contacts.ledger import local_day
from geo.core.tenant_settings import tenant_settings

_AGENTS = text(
    """
    WITH plan AS (
        SELECT id FROM plans WHERE tenant_id = :t AND day = :day AND status = 'done'
        ORDER BY finished_at DESC NULLS LAST, id DESC LIMIT 1)
    SELECT g.id, g.code, u.full_name AS name, g.shift_start, g.shift_end,
           p.recorded_at AS last_seen, p.battery_pct, p.charging,
           (SELECT count(*) FROM plan_stops s, plan
            WHERE s.tenant_id = g.tenant_id AND s.plan_id = plan.id AND s.agent_id = g.id)
               AS planned,
           (SELECT count(*) FROM visits v
            WHERE v.tenant_id = g.tenant_id AND v.agent_id = g.id AND v.verdict <> 'rejected'
              AND v.checkin_at >= :start AND v.checkin_at < :end) AS done
    FROM agents g
    JOIN users u ON u.tenant_id = g.tenant_id AND u.id = g.user_id
    LEFT JOIN agent_positions p ON p.tenant_id = g.tenant_id AND p.agent_id = g.id
    WHERE g.tenant_id = :t AND g.active
    ORDER BY g.code
    """
)


@dataclass(frozen=True, slots=True)
class AgentToday:
    id: int
    code: str
    name: str
    on_shift: bool
    shift: str
    """``08:00–17:00``."""
    last_seen: datetime | None
    """Local time in the tenant's zone."""
    stale: bool
    battery_pct: float | None
    charging: bool | None
    done: int
    planned: int


def agents_today(
    session: Session, *, tenant_id: int, now: datetime | None = None
) -> list[AgentToday]:
    """Every active agent's state now, and its visits done of planned today."""
    settings = tenant_settings(session, tenant_id)
    zone = settings.zone
    at = now or datetime.now(UTC)
    local = at.astimezone(zone)
    start, end = local_day(local.date(), zone)
    rows = session.execute(
        _AGENTS, {"t": tenant_id, "day": local.date(), "start": start, "end": end}
    )
    out = []
    for r in rows:
        seen = None if r.last_seen is None else r.last_seen.astimezone(zone)
        # Elapsed time between instants, not wall clocks: an hour that happens twice when
        # clocks go back must not make an agent silent for 45 minutes look heard 15 ago.
        stale = r.last_seen is None or (at - r.last_seen).total_seconds() > (
            settings.live_stale_min * 60
        )
        out.append(
            AgentToday(
                id=r.id,
                code=r.code,
                name=r.name,
                on_shift=_within(local.time(), r.shift_start, r.shift_end),
                shift=f"{r.shift_start:%H:%M}–{r.shift_end:%H:%M}",
                last_seen=seen,
                stale=stale,
                battery_pct=r.battery_pct,
                charging=r.charging,
                done=r.done,
                planned=r.planned,
            )
        )
    return out


def _within(moment: time, start: time, end: time) -> bool:
    return start <= moment.replace(tzinfo=None) < end


_FEED = text(
    """
    SELECT v.id, v.checkin_at, v.verdict, v.outcome, v.status, v.review_decision,
           g.code AS agent, d.full_name AS debtor, c.external_ref, c.outstanding_cop::float8
               AS outstanding_cop
    FROM visits v
    JOIN agents g ON g.tenant_id = v.tenant_id AND g.id = v.agent_id
    JOIN cases c ON c.tenant_id = v.tenant_id AND c.id = v.case_id
    JOIN debtors d ON d.tenant_id = c.tenant_id AND d.id = c.debtor_id
    WHERE v.tenant_id = :t AND (CAST(:ids AS bigint[]) IS NULL OR v.id = ANY(:ids))
      AND (CAST(:ids AS bigint[]) IS NOT NULL OR v.checkin_at >= :since)
    ORDER BY v.checkin_at DESC, v.id DESC
    LIMIT :limit
    """
)


@dataclass(frozen=True, slots=True)
class FeedItem:
    visit_id: int
    at: datetime
    """Local time of the check-in."""
    agent: str
    debtor: str
    case_ref: str
    outstanding_cop: float
    verdict: str
    outcome: str | None
    review_decision: str | None


def feed(
    session: Session,
    *,
    tenant_id: int,
    visit_ids: list[int] | None = None,
    limit: int = 30,
    now: datetime | None = None,
) -> list[FeedItem]:
    """The day's newest visits (check-ins and their outcomes), or the ones named, newest
    first."""
    zone = tenant_settings(session, tenant_id).zone
    since = local_day((now or datetime.now(UTC)).astimezone(zone).date(), zone)[0]
    rows = session.execute(
        _FEED, {"t": tenant_id, "ids": visit_ids, "since": since, "limit": limit}
    )
    return [_item(r, zone) for r in rows]


def _item(r: Any, zone: Any) -> FeedItem:
    return FeedItem(
        visit_id=r.id,
        at=r.checkin_at.astimezone(zone),
        agent=r.agent,
        debtor=r.debtor,
        case_ref=r.external_ref,
        outstanding_cop=r.outstanding_cop,
        verdict=r.verdict,
        outcome=r.outcome,
        review_decision=r.review_decision,
    )
