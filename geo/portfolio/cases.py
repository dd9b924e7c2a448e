"""The portfolio as dispatchers read and change it: cases with their debtor and address."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, cast, func, literal_column, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from geo.core.audit import record_update
from geo.core.errors import InvalidInput, NotFound
from geo.core.models import BUCKETS, CASE_STATUSES, Address, Agent, Case, Debtor, Zone

_UNSET: Any = object()


@dataclass(frozen=True, slots=True)
class CaseView:
    id: int
    external_ref: str
    product: str
    outstanding_cop: Decimal
    days_past_due: int
    bucket: str
    priority: int
    status: str
    assigned_agent_id: int | None
    assigned_at: datetime | None
    closed_at: datetime | None
    debtor_id: int
    debtor_name: str
    document_type: str
    document_number: str
    phone: str | None
    address_id: int | None
    address: str | None
    city: str | None
    lon: float | None
    lat: float | None
    geocode_quality: str | None
    geofence_radius_m: float | None
    visit_from: time | None = None
    visit_until: time | None = None


@dataclass(frozen=True, slots=True)
class CaseFilter:
    status: str | None = None
    bucket: str | None = None
    assigned_agent_id: int | None = None
    unassigned: bool = False
    product: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    """west, south, east, north in degrees (GeoJSON order)."""
    text: str | None = None
    """Part of the debtor's name or document number, or of the case's reference."""
    zone_id: int | None = None
    """An area zone the address lies in."""
    area: dict[str, Any] | None = None
    """A GeoJSON polygon (lon/lat) the address lies in: an area a dispatcher drew."""


def _cases(tenant_id: int) -> Select[Any]:
    return _joined(
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
            Case.assigned_at,
            Case.closed_at,
            Case.debtor_id,
            Debtor.full_name.label("debtor_name"),
            Debtor.document_type,
            Debtor.document_number,
            Debtor.phone,
            Case.address_id,
            Address.raw_text.label("address"),
            Address.city,
            func.ST_X(Address.point).label("lon"),
            func.ST_Y(Address.point).label("lat"),
            Address.geocode_quality,
            Address.geofence_radius_m,
            Case.visit_from,
            Case.visit_until,
        ),
        tenant_id,
    )


def _joined(query: Select[Any], tenant_id: int) -> Select[Any]:
    """A query over the tenant's cases with their debtor and (if any) address."""
    return (
        query.select_from(Case)
        .join(Debtor, (Debtor.tenant_id == Case.tenant_id) & (Debtor.id == Case.debtor_id))
        .outerjoin(Address, (Address.tenant_id == Case.tenant_id) & (Address.id == Case.address_id))
        .where(Case.tenant_id == tenant_id)
    )


def _filtered(query: Select[Any], where: CaseFilter) -> Select[Any]:
    if where.status is not None:
        if where.status not in CASE_STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(CASE_STATUSES)}", "status")
        query = query.where(Case.status == where.status)
    if where.bucket is not None:
        if where.bucket not in BUCKETS:
            raise InvalidInput(f"bucket must be one of {', '.join(BUCKETS)}", field="bucket")
        query = query.where(Case.bucket == where.bucket)
    if where.assigned_agent_id is not None:
        query = query.where(Case.assigned_agent_id == where.assigned_agent_id)
    if where.unassigned:
        query = query.where(Case.assigned_agent_id.is_(None))
    if where.product is not None:
        query = query.where(Case.product == where.product)
    if where.text:
        if len(where.text) > 100:
            raise InvalidInput("text is at most 100 characters", field="text")
        pattern = (
            "%" + where.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        query = query.where(
            Debtor.full_name.ilike(pattern)
            | Debtor.document_number.ilike(pattern)
            | Case.external_ref.ilike(pattern)
        )
    if where.zone_id is not None:
        query = query.where(
            select(Zone.id)
            .where(
                Zone.tenant_id == Case.tenant_id,
                Zone.id == where.zone_id,
                func.ST_Covers(Zone.geom, Address.point),
            )
            .exists()
        )
    if where.area is not None:
        query = query.where(_inside(where.area))
    if where.bbox is not None:
        west, south, east, north = where.bbox
        if not (west < east and south < north):
            raise InvalidInput("bbox must be west,south,east,north", field="bbox")
        envelope = func.ST_MakeEnvelope(west, south, east, north, 4326)
        query = query.where(Address.point.op("&&")(envelope))
    return query


def _inside(area: dict[str, Any]) -> Any:
    """Addresses covered by a drawn polygon. Its rings are closed if the drawing left them
    open and its self-crossings are repaired (``ST_MakeValid``), so that whatever a hand drew
    selects what it encloses instead of failing; the box test first is the cheap part."""
    if area.get("type") != "Polygon" or not area.get("coordinates"):
        raise InvalidInput("the area must be a GeoJSON Polygon", field="area")
    rings = [
        list(ring) + ([ring[0]] if ring[0] != ring[-1] else []) for ring in area["coordinates"]
    ]
    lons = [p[0] for p in rings[0]]
    lats = [p[1] for p in rings[0]]
    shape = func.ST_MakeValid(
        func.ST_SetSRID(
            func.ST_GeomFromGeoJSON(json.dumps({"type": "Polygon", "coordinates": rings})), 4326
        )
    )
    box = func.ST_MakeEnvelope(min(lons), min(lats), max(lons), max(lats), 4326)
    return Address.point.op("&&")(box) & func.ST_Covers(shape, Address.point)


def list_cases(
    session: Session,
    *,
    tenant_id: int,
    where: CaseFilter = CaseFilter(),
    after_id: int | None = None,
    limit: int = 100,
) -> list[CaseView]:
    """A page of cases by id (keyset pagination: stable under concurrent inserts)."""
    query = _filtered(_cases(tenant_id), where).order_by(Case.id).limit(limit)
    if after_id is not None:
        query = query.where(Case.id > after_id)
    return [CaseView(**row._mapping) for row in session.execute(query)]


def filtered_case_ids(
    session: Session, *, tenant_id: int, where: CaseFilter, limit: int = 5000
) -> list[int]:
    """The ids of every case the filter matches (not a page), up to ``limit``: what a bulk
    action from the console acts on."""
    query = _filtered(_joined(select(Case.id), tenant_id), where)
    return list(session.scalars(query.order_by(Case.id).limit(limit)))


def count_cases(session: Session, *, tenant_id: int, where: CaseFilter) -> int:
    """How many cases the filter matches."""
    matching = _filtered(_joined(select(Case.id), tenant_id), where).subquery()
    return int(session.scalar(select(func.count()).select_from(matching)) or 0)


def get_case(
    session: Session, *, tenant_id: int, case_id: int, agent_id: int | None = None
) -> CaseView:
    """One case; with ``agent_id``, only if it is assigned to that agent."""
    query = _cases(tenant_id).where(Case.id == case_id)
    if agent_id is not None:
        query = query.where(Case.assigned_agent_id == agent_id)
    row = session.execute(query).one_or_none()
    if row is None:
        raise NotFound("case not found")
    return CaseView(**row._mapping)


def update_case(
    session: Session,
    *,
    tenant_id: int,
    case_id: int,
    priority: int | None = None,
    status: str | None = None,
    assigned_agent_id: int | None = _UNSET,
    visit_window: tuple[time, time] | None = _UNSET,
    user_id: int | None = None,
) -> CaseView:
    """Change priority, status, assignment or the hours the debtor may be visited (``None``
    unassigns or clears the window; omit to leave as is). With ``user_id`` (a person, through
    the API), what changed is audited with its values before and after."""
    values: dict[str, Any] = {"updated_at": func.now()}
    if priority is not None:
        if not 0 <= priority <= 100:
            raise InvalidInput("priority must be between 0 and 100", field="priority")
        values["priority"] = priority
    if status is not None:
        if status not in CASE_STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(CASE_STATUSES)}", "status")
        values["status"] = status
        values["closed_at"] = None if status == "open" else datetime.now(UTC)
    if visit_window is not _UNSET:
        start, end = visit_window if visit_window is not None else (None, None)
        if start is not None and end is not None and not start < end:
            raise InvalidInput("visit_window must start before it ends", "visit_window")
        values["visit_from"], values["visit_until"] = start, end
    if assigned_agent_id is not _UNSET:
        if assigned_agent_id is not None and not session.scalar(
            select(Agent.active).where(Agent.tenant_id == tenant_id, Agent.id == assigned_agent_id)
        ):
            # Another tenant's agent, a missing one and an inactive one read the same.
            raise InvalidInput("no active agent with this id", field="assigned_agent_id")
        values["assigned_agent_id"] = assigned_agent_id
        values["assigned_at"] = None if assigned_agent_id is None else func.now()
    before = get_case(session, tenant_id=tenant_id, case_id=case_id)
    session.execute(
        update(Case).where(Case.tenant_id == tenant_id, Case.id == case_id).values(**values)
    )
    after = get_case(session, tenant_id=tenant_id, case_id=case_id)
    if user_id is not None:
        _audit(session, tenant_id, user_id, case_id, before, after)
    return after


_AUDITED = ("priority", "status", "assigned_agent_id", "visit_from", "visit_until")


def _audit(
    session: Session, tenant_id: int, user_id: int, case_id: int, before: CaseView, after: CaseView
) -> None:
    record_update(
        session,
        tenant_id=tenant_id,
        user_id=user_id,
        subject=f"case:{case_id}",
        before={k: getattr(before, k) for k in _AUDITED},
        after={k: getattr(after, k) for k in _AUDITED},
    )


def cases_geojson(
    session: Session,
    *,
    tenant_id: int,
    where: CaseFilter = CaseFilter(),
    limit: int = 10_000,
) -> dict[str, Any]:
    """Located cases as an RFC 7946 FeatureCollection, built by PostGIS in one query."""
    inner = (
        _filtered(_cases(tenant_id), where)
        .add_columns(Address.point.label("geom"))
        .where(Address.point.is_not(None))
        .order_by(Case.id)
        .limit(limit)
        .subquery()
    )
    properties = func.jsonb_build_object(
        "id",
        inner.c.id,
        "external_ref",
        inner.c.external_ref,
        "debtor",
        inner.c.debtor_name,
        "address",
        inner.c.address,
        "product",
        inner.c.product,
        "outstanding_cop",
        inner.c.outstanding_cop,
        "bucket",
        inner.c.bucket,
        "priority",
        inner.c.priority,
        "status",
        inner.c.status,
        "assigned_agent_id",
        inner.c.assigned_agent_id,
    )
    feature = func.jsonb_build_object(
        "type",
        "Feature",
        "id",
        inner.c.id,
        "geometry",
        cast(func.ST_AsGeoJSON(inner.c.geom, 7), JSONB),
        "properties",
        properties,
    )
    empty: Any = literal_column("'[]'::jsonb")  # a bound "[]" would be the JSON *string* "[]"
    features = session.scalar(select(func.coalesce(func.jsonb_agg(feature), empty)))
    return {"type": "FeatureCollection", "features": features}


def assign_cases(
    session: Session,
    *,
    tenant_id: int,
    case_ids: Sequence[int],
    agent_id: int | None,
    user_id: int,
) -> int:
    """Assign (or, with ``None``, unassign) many open cases at once, as a dispatcher does
    from the console, each change audited; returns how many changed. Ids of another tenant or
    of closed cases change nothing."""
    if agent_id is not None and not session.scalar(
        select(Agent.active).where(Agent.tenant_id == tenant_id, Agent.id == agent_id)
    ):
        raise InvalidInput("no active agent with this id", field="assigned_agent_id")
    changed = session.execute(
        text(
            """
            WITH before AS (
                SELECT id, assigned_agent_id FROM cases
                WHERE tenant_id = :t AND id = ANY(:ids) AND status = 'open'
                  AND assigned_agent_id IS DISTINCT FROM :a
                FOR UPDATE
            ), moved AS (
                UPDATE cases c SET assigned_agent_id = :a,
                       assigned_at = CASE WHEN :a IS NULL THEN NULL ELSE now() END,
                       updated_at = now()
                FROM before b WHERE c.tenant_id = :t AND c.id = b.id
                RETURNING c.id, b.assigned_agent_id AS was
            )
            INSERT INTO audit_log (tenant_id, user_id, action, subject, before, after)
            SELECT :t, :u, 'assign', 'case:' || id,
                   jsonb_build_object('assigned_agent_id', was),
                   jsonb_build_object('assigned_agent_id', CAST(:a AS bigint))
            FROM moved
            """
        ),
        {"t": tenant_id, "ids": list(case_ids), "a": agent_id, "u": user_id},
    )
    return int(changed.rowcount)  # type: ignore[attr-defined]


MAX_TILE_ZOOM = 22


FINE_ZOOM = 15
"""From this zoom a tile keeps every case where it is; below it, the cases in one cell of a
coarser grid become one dot with their count."""


def _tile_grid(z: int) -> int:
    """Cells across a tile: every case's place from :data:`FINE_ZOOM`; zoomed out, cells of
    2 screen pixels (4 for a whole city), less than a dot's width, so a tile stays small."""
    return 4096 if z >= FINE_ZOOM else 128 if z >= FINE_ZOOM - 2 else 64


def cases_tile(
    session: Session, *, tenant_id: int, where: CaseFilter, z: int, x: int, y: int
) -> bytes:
    """The located cases matching ``where`` in one web-map tile, as a Mapbox Vector Tile
    built by PostGIS (layer ``cases``: ``n`` cases at a point, ``assigned`` when all of them
    are, and the ``id`` and ``external_ref`` of a lone one): how a map shows a hundred
    thousand cases without sending them all to the browser. Zoomed out, nearby cases are one
    dot (:func:`_tile_grid`)."""
    if not (0 <= z <= MAX_TILE_ZOOM and 0 <= x < 2**z and 0 <= y < 2**z):
        raise InvalidInput("no such tile", field="z")
    envelope = func.ST_TileEnvelope(z, x, y)
    extent = _tile_grid(z)
    located = (
        _filtered(
            _joined(
                select(
                    Case.id,
                    Case.external_ref,
                    Case.assigned_agent_id,
                    func.ST_AsMVTGeom(
                        func.ST_Transform(Address.point, 3857), envelope, extent, 0
                    ).label("geom"),
                ),
                tenant_id,
            ),
            where,
        )
        .where(Address.point.op("&&")(func.ST_Transform(envelope, 4326)))
        .subquery("located")
    )
    lone = func.count() == 1
    dots = (
        select(
            located.c.geom,
            func.count().label("n"),
            func.bool_and(located.c.assigned_agent_id.is_not(None)).label("assigned"),
            case((lone, func.min(located.c.id))).label("id"),
            case((lone, func.min(located.c.external_ref))).label("external_ref"),
        )
        .where(located.c.geom.is_not(None))
        .group_by(located.c.geom)
        .subquery("tile")
    )
    tile = session.scalar(
        select(func.ST_AsMVT(literal_column("tile"), "cases", extent)).select_from(dots)
    )
    return bytes(tile or b"")


def located_extent(
    session: Session, *, tenant_id: int, where: CaseFilter
) -> tuple[int, tuple[float, float, float, float] | None]:
    """How many matching cases have a location, and the box around them (west, south, east,
    north), in one query: whether a map can take them as one layer, and where to look."""
    inner = (
        _filtered(_joined(select(Address.point.label("point")), tenant_id), where)
        .where(Address.point.is_not(None))
        .subquery()
    )
    row = session.execute(
        select(
            func.count(),
            func.ST_XMin(func.ST_Extent(inner.c.point)),
            func.ST_YMin(func.ST_Extent(inner.c.point)),
            func.ST_XMax(func.ST_Extent(inner.c.point)),
            func.ST_YMax(func.ST_Extent(inner.c.point)),
        ).select_from(inner)
    ).one()
    count, *box = row
    return int(count), (None if count == 0 else (box[0], box[1], box[2], box[3]))
