"""The ``analytics`` views as GeoDataFrames, for notebooks.

Each function reads one documented view (``docs/analytics.md``) with
``geopandas.read_postgis`` through a tenant session, so a notebook sees what the API sees and
nothing of other tenants. Dates are local days of the tenant.
"""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.analytics.contact_hours import HOUR_COLUMNS, contact_hours
from geo.analytics.kpis import GroupBy, kpi_report

# view → its column of local days, for the period filter
VIEWS: dict[str, str | None] = {
    "cases": None,
    "visits": "local_date",
    "contacts": "local_date",
    "promises": "due_date",
    "payments": "paid_on",
    "agent_days": "local_date",
}


def view_frame(
    session: Session, view: str, *, date_from: date | None = None, date_to: date | None = None
) -> gpd.GeoDataFrame:
    """One analytics view, optionally cut to local days ``date_from``..``date_to``."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; one of {', '.join(VIEWS)}")
    day = VIEWS[view]
    where = ""
    if day is not None and date_from is not None and date_to is not None:
        where = f" WHERE {day} BETWEEN :date_from AND :date_to"
    query = text(f"SELECT * FROM analytics.{view}{where}")  # noqa: S608 - names from VIEWS
    frame = gpd.read_postgis(
        query,
        session.connection(),
        geom_col="geom",
        params={"date_from": date_from, "date_to": date_to},
    )
    return frame.set_crs(4326, allow_override=True)  # also when every geometry is empty


def cases_frame(session: Session) -> gpd.GeoDataFrame:
    return view_frame(session, "cases")


def visits_frame(session: Session, *, date_from: date, date_to: date) -> gpd.GeoDataFrame:
    return view_frame(session, "visits", date_from=date_from, date_to=date_to)


def contacts_frame(session: Session, *, date_from: date, date_to: date) -> gpd.GeoDataFrame:
    return view_frame(session, "contacts", date_from=date_from, date_to=date_to)


def promises_frame(session: Session, *, date_from: date, date_to: date) -> gpd.GeoDataFrame:
    """Promises falling due in the period."""
    return view_frame(session, "promises", date_from=date_from, date_to=date_to)


def payments_frame(session: Session, *, date_from: date, date_to: date) -> gpd.GeoDataFrame:
    return view_frame(session, "payments", date_from=date_from, date_to=date_to)


def agent_days_frame(session: Session, *, date_from: date, date_to: date) -> gpd.GeoDataFrame:
    return view_frame(session, "agent_days", date_from=date_from, date_to=date_to)


def zones_frame(session: Session) -> gpd.GeoDataFrame:
    """The tenant's area zones (polygons), to draw or join."""
    query = text("SELECT id, name, geom FROM zones WHERE kind = 'area' ORDER BY name")
    return gpd.read_postgis(query, session.connection(), geom_col="geom", index_col="id")


def kpi_frame(
    session: Session, *, date_from: date, date_to: date, group_by: GroupBy = "none"
) -> pd.DataFrame:
    """The KPI report as a table: one row per KPI and group."""
    rows = kpi_report(session, date_from=date_from, date_to=date_to, group_by=group_by)
    return pd.DataFrame(
        [
            {
                "kpi": r.kpi,
                "label": r.label,
                "unit": r.unit,
                "group": r.group,
                "numerator": r.numerator,
                "denominator": r.denominator,
                "value": r.value,
            }
            for r in rows
        ],
        columns=["kpi", "label", "unit", "group", "numerator", "denominator", "value"],
    )


def contact_hours_frame(
    session: Session, *, date_from: date, date_to: date, by_zone: bool = False
) -> pd.DataFrame:
    """Contact hours with rates and Wilson intervals, one row per (zone,) weekday and hour."""
    cells = contact_hours(session, date_from=date_from, date_to=date_to, by_zone=by_zone)
    return pd.DataFrame([c.row() for c in cells], columns=list(HOUR_COLUMNS))
