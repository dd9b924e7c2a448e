"""Live positions: where every agent is now, from ``agent_positions`` (one row per agent).

The row is moved forward on ingest (see :mod:`geo.tracking.telemetry`), so this query reads as
many rows as the tenant has agents, whatever the size of the GPS history.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.tenant_settings import tenant_settings

LIVE_SQL = text(
    """
    SELECT jsonb_build_object(
        'type', 'FeatureCollection',
        'features', coalesce(jsonb_agg(jsonb_build_object(
            'type', 'Feature', 'id', p.agent_id,
            'geometry', ST_AsGeoJSON(p.point, 7)::jsonb,
            'properties', jsonb_build_object(
                'agent_id', p.agent_id, 'code', a.code, 'name', u.full_name,
                'last_seen', p.recorded_at, 'received_at', p.received_at,
                'age_s', round(extract(epoch FROM now.at - p.recorded_at)),
                'stale', p.recorded_at < now.at - make_interval(secs => :stale_s),
                'accuracy_m', p.accuracy_m, 'battery_pct', p.battery_pct,
                'charging', p.charging, 'speed_mps', p.speed_mps,
                'heading_deg', p.heading_deg, 'source', p.source)
        ) ORDER BY a.code), '[]'::jsonb))
    FROM agent_positions p
    CROSS JOIN (SELECT CAST(:now AS timestamptz) AS at) now
    JOIN agents a ON a.tenant_id = p.tenant_id AND a.id = p.agent_id
    JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.user_id
    WHERE p.tenant_id = :tenant_id AND a.active
    """
)


def live_positions(
    session: Session, *, tenant_id: int, now: datetime | None = None
) -> dict[str, Any]:
    """Every active agent's latest fix as an RFC 7946 FeatureCollection.

    ``stale`` is true after the tenant's ``live_stale_min`` minutes of silence (default 15).
    """
    stale_s = tenant_settings(session, tenant_id).live_stale_min * 60
    collection: dict[str, Any] = session.scalar(
        LIVE_SQL, {"tenant_id": tenant_id, "now": now or datetime.now(UTC), "stale_s": stale_s}
    )
    collection["stale_after_s"] = stale_s
    return collection
