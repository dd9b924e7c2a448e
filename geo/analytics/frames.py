"""GeoDataFrames for analysts, read straight from PostGIS with ``geopandas.read_postgis``.

They take a tenant session (``geo.core.db.tenant_session``), so row-level security applies in a
notebook exactly as in the API.
"""

from __future__ import annotations

from datetime import datetime

import geopandas as gpd
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.core.models import Address, Agent, AgentPosition, Case, Debtor, GpsFix
from geo.tracking.trails import Trail


def cases_frame(
    session: Session, *, tenant_id: int, status: str | None = "open"
) -> gpd.GeoDataFrame:
    """One row per located case: amounts, bucket, assignment, debtor and point (EPSG:4326)."""
    query = (
        select(
            Case.id,
            Case.external_ref,
            Case.product,
            Case.outstanding_cop,
            Case.days_past_due,
            Case.bucket,
            Case.priority,
            Case.status,
            Case.assigned_agent_id,
            Debtor.full_name.label("debtor"),
            Address.raw_text.label("address"),
            Address.geocode_quality,
            Address.point.label("geometry"),
        )
        .join(Debtor, (Debtor.tenant_id == Case.tenant_id) & (Debtor.id == Case.debtor_id))
        .join(Address, (Address.tenant_id == Case.tenant_id) & (Address.id == Case.address_id))
        .where(Case.tenant_id == tenant_id, Address.point.is_not(None))
        .order_by(Case.id)
    )
    if status is not None:
        query = query.where(Case.status == status)
    frame = gpd.read_postgis(query, session.connection(), geom_col="geometry", index_col="id")
    frame["outstanding_cop"] = frame["outstanding_cop"].astype(float)
    return frame


def agents_frame(session: Session, *, tenant_id: int) -> gpd.GeoDataFrame:
    """One row per agent with its base point (EPSG:4326)."""
    query = (
        select(
            Agent.id,
            Agent.code,
            Agent.travel_mode,
            Agent.daily_capacity,
            Agent.active,
            func.to_char(Agent.shift_start, "HH24:MI").label("shift_start"),
            func.to_char(Agent.shift_end, "HH24:MI").label("shift_end"),
            Agent.base_point.label("geometry"),
        )
        .where(Agent.tenant_id == tenant_id)
        .order_by(Agent.code)
    )
    return gpd.read_postgis(query, session.connection(), geom_col="geometry", index_col="id")


def fixes_frame(
    session: Session, *, tenant_id: int, agent_id: int, start: datetime, end: datetime
) -> gpd.GeoDataFrame:
    """An agent's raw fixes in a time range, oldest first (EPSG:4326)."""
    query = (
        select(
            GpsFix.id,
            GpsFix.recorded_at,
            GpsFix.received_at,
            GpsFix.accuracy_m,
            GpsFix.speed_mps,
            GpsFix.heading_deg,
            GpsFix.altitude_m,
            GpsFix.battery_pct,
            GpsFix.charging,
            GpsFix.mock,
            GpsFix.source,
            GpsFix.point.label("geometry"),
        )
        .where(
            GpsFix.tenant_id == tenant_id,
            GpsFix.agent_id == agent_id,
            GpsFix.recorded_at >= start,
            GpsFix.recorded_at < end,
        )
        .order_by(GpsFix.recorded_at, GpsFix.id)
    )
    return gpd.read_postgis(query, session.connection(), geom_col="geometry")


def stops_frame(trail: Trail) -> gpd.GeoDataFrame:
    """The stops of a trail (:func:`geo.tracking.trails.agent_trail`), one row each (EPSG:4326)."""
    rows = [
        {"start": s.start, "end": s.end, "duration_s": s.duration_s, "fixes": s.fixes}
        for s in trail.stops
    ]
    points = gpd.points_from_xy([s.lon for s in trail.stops], [s.lat for s in trail.stops])
    return gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=["start", "end", "duration_s", "fixes"]),
        geometry=points,
        crs="EPSG:4326",
    )


def battery_frame(trail: Trail) -> pd.DataFrame:
    """The battery timeline of a trail: one row per change of level or charging state."""
    rows = [{"at": r.at, "pct": r.pct, "charging": r.charging} for r in trail.battery.timeline]
    return pd.DataFrame(rows, columns=["at", "pct", "charging"])


def live_frame(session: Session, *, tenant_id: int) -> gpd.GeoDataFrame:
    """Each agent's latest position (EPSG:4326), as on the live map."""
    query = (
        select(
            AgentPosition.agent_id,
            Agent.code,
            AgentPosition.recorded_at,
            AgentPosition.accuracy_m,
            AgentPosition.battery_pct,
            AgentPosition.charging,
            AgentPosition.speed_mps,
            AgentPosition.source,
            AgentPosition.point.label("geometry"),
        )
        .join(
            Agent,
            (Agent.tenant_id == AgentPosition.tenant_id) & (Agent.id == AgentPosition.agent_id),
        )
        .where(AgentPosition.tenant_id == tenant_id)
        .order_by(Agent.code)
    )
    return gpd.read_postgis(query, session.connection(), geom_col="geometry", index_col="agent_id")
