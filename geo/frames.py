"""GeoDataFrames for analysts, read straight from PostGIS with ``geopandas.read_postgis``.

They take a tenant session (``geo.db.tenant_session``), so row-level security applies in a
notebook exactly as in the API.
"""

from __future__ import annotations

import geopandas as gpd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.models import Address, Agent, Case, Debtor


def cases_frame(
    session: Session, *, tenant_id: int, status: str | None = "open"
) -> gpd.GeoDataFrame:
    """One row per located case: amounts, bucket, assignment, debtor and point (EPSG:4326)."""
    query = (
        select(
            Case.id, Case.external_ref, Case.product, Case.outstanding_cop, Case.days_past_due,
            Case.bucket, Case.priority, Case.status, Case.assigned_agent_id,
            Debtor.full_name.label("debtor"), Address.raw_text.label("address"),
            Address.geocode_quality, Address.point.label("geometry"),
        )
        .join(Debtor, (Debtor.tenant_id == Case.tenant_id) & (Debtor.id == Case.debtor_id))
        .join(Address, (Address.tenant_id == Case.tenant_id) & (Address.id == Case.address_id))
        .where(Case.tenant_id == tenant_id, Address.point.is_not(None))
        .order_by(Case.id)
    )  # fmt: skip
    if status is not None:
        query = query.where(Case.status == status)
    frame = gpd.read_postgis(query, session.connection(), geom_col="geometry", index_col="id")
    frame["outstanding_cop"] = frame["outstanding_cop"].astype(float)
    return frame


def agents_frame(session: Session, *, tenant_id: int) -> gpd.GeoDataFrame:
    """One row per agent with its base point (EPSG:4326)."""
    query = (
        select(
            Agent.id, Agent.code, Agent.travel_mode, Agent.daily_capacity, Agent.active,
            func.to_char(Agent.shift_start, "HH24:MI").label("shift_start"),
            func.to_char(Agent.shift_end, "HH24:MI").label("shift_end"),
            Agent.base_point.label("geometry"),
        )
        .where(Agent.tenant_id == tenant_id)
        .order_by(Agent.code)
    )  # fmt: skip
    return gpd.read_postgis(query, session.connection(), geom_col="geometry", index_col="id")
