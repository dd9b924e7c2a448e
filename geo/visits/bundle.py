"""The day bundle: what the field app downloads each morning to work offline.

It carries the agent's open cases, the day's published route first in visiting order and
then the rest by priority, and the tracking policy, so how often the phone records a fix (and
how much less on low battery) is set from the server, not on each phone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.accounts.agents import AgentView, get_agent
from geo.core.tenant_settings import tenant_settings
from geo.portfolio.cases import CaseFilter, CaseView, list_cases

MAX_BUNDLE_CASES = 1000


@dataclass(frozen=True, slots=True)
class Tracking:
    """The tracking settings the app applies for the day."""

    interval_s: int
    low_battery_pct: float
    low_battery_interval_s: int
    shift_only: bool
    shift_start: time
    shift_end: time
    shift_margin_min: float
    upload_horizon_days: float
    timezone: str
    checkin_max_accuracy_m: float
    checkin_max_fix_age_s: float


@dataclass(frozen=True, slots=True)
class Stop:
    """A case's place in the day's published route, with its estimated arrival."""

    seq: int
    eta: datetime
    etd: datetime


@dataclass(frozen=True, slots=True)
class DayBundle:
    date: date
    agent: AgentView
    tracking: Tracking
    cases: list[CaseView]
    stops: dict[int, Stop]
    """The published route's stops by case id (cases not in it have none)."""


def day_bundle(
    session: Session, *, tenant_id: int, agent_id: int, day: date | None = None
) -> DayBundle:
    """The bundle of one agent for one day (today in the tenant's time zone by default)."""
    agent = get_agent(session, tenant_id=tenant_id, agent_id=agent_id)
    settings = tenant_settings(session, tenant_id)
    tracking = Tracking(
        interval_s=settings.gps_interval_s,
        low_battery_pct=settings.gps_low_battery_pct,
        low_battery_interval_s=settings.gps_low_battery_interval_s,
        shift_only=settings.gps_shift_only,
        shift_start=agent.shift_start,
        shift_end=agent.shift_end,
        shift_margin_min=settings.gps_shift_margin_min,
        upload_horizon_days=settings.gps_horizon_days,
        timezone=settings.timezone,
        checkin_max_accuracy_m=settings.checkin_max_accuracy_m,
        checkin_max_fix_age_s=settings.checkin_max_fix_age_s,
    )
    where = CaseFilter(status="open", assigned_agent_id=agent_id)
    cases = list_cases(session, tenant_id=tenant_id, where=where, limit=MAX_BUNDLE_CASES)
    today = datetime.now(settings.zone).date()
    stops = _route(session, tenant_id, agent_id, day or today)
    last = len(stops) + 1
    cases.sort(key=lambda c: (stops[c.id].seq if c.id in stops else last, -c.priority, c.id))
    return DayBundle(date=day or today, agent=agent, tracking=tracking, cases=cases, stops=stops)


def _route(session: Session, tenant_id: int, agent_id: int, day: date) -> dict[int, Stop]:
    """The agent's stops in the day's published plan, by case id."""
    rows = session.execute(
        text(
            "SELECT s.case_id, s.seq, s.eta, s.etd FROM plan_stops s JOIN plans p "
            "ON p.tenant_id = s.tenant_id AND p.id = s.plan_id WHERE s.tenant_id = :t "
            "AND s.agent_id = :a AND p.day = :d AND p.published_at IS NOT NULL"
        ),
        {"t": tenant_id, "a": agent_id, "d": day},
    )
    return {int(r.case_id): Stop(int(r.seq), r.eta, r.etd) for r in rows}
