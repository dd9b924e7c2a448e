"""The day bundle: what the field app downloads each morning to work offline.

Today it carries the agent's open cases and the tracking policy, so how often the phone
records a fix (and how much less on low battery) is set from the server, not on each phone.
Route stops join it when plans exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

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


@dataclass(frozen=True, slots=True)
class DayBundle:
    date: date
    agent: AgentView
    tracking: Tracking
    cases: list[CaseView]


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
    )
    where = CaseFilter(status="open", assigned_agent_id=agent_id)
    cases = list_cases(session, tenant_id=tenant_id, where=where, limit=MAX_BUNDLE_CASES)
    cases.sort(key=lambda c: (-c.priority, c.id))
    today = datetime.now(settings.zone).date()
    return DayBundle(date=day or today, agent=agent, tracking=tracking, cases=cases)
