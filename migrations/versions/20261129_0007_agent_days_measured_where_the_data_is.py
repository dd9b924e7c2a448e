"""agent days measured where the data is

``analytics.agent_days`` measured every tenant's paths in EPSG:9377, made for Colombia: about
20 % long far from it. The path is now simplified (10 m) in the local projection PostGIS picks
for the day's own fixes (``_ST_BestSRID``, which its geography functions use: the UTM zone, or
a polar projection) and its length measured on the spheroid.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 08:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = "coalesce(t.settings ->> 'timezone', 'America/Bogota')"
_ME = "(SELECT analytics.tenant())"
_PATH = {
    "new": "ST_Transform(ST_Simplify(ST_Transform(f.line, _ST_BestSRID(f.line::geography)), 10), "
    "4326)",
    "old": "ST_Simplify(ST_Transform(f.line, 9377), 10)",
}
_LENGTH = {"new": "ST_Length(m.path::geography)", "old": "ST_Length(m.path)"}
_GEOM = {"new": "m.path", "old": "ST_Transform(m.path, 4326)"}
_COMMENT = {
    "new": "One row per agent and local day: distance along the fixes (accuracy 50 m or better, "
    "no mock locations; simplified at 10 m in a projection made for where they are, so jitter "
    "at rest mostly drops out; measured on the spheroid), visits, completed, contacts, time on "
    "site; geom is the path.",
    "old": "One row per agent and local day: distance along the fixes (accuracy 50 m or better, "
    "no mock locations; simplified at 10 m in EPSG:9377 so jitter at rest mostly drops out), "
    "visits, completed, contacts, time on site; geom is the path.",
}


def _view(which: str) -> str:
    return f"""
        CREATE OR REPLACE VIEW analytics.agent_days WITH (security_barrier) AS
        WITH lines AS (
            SELECT f.agent_id, (f.recorded_at AT TIME ZONE {_TZ})::date AS local_date,
                   count(*) AS fixes, min(f.battery_pct) AS min_battery_pct,
                   ST_MakeLine(f.point ORDER BY f.recorded_at) AS line
            FROM public.gps_fixes f JOIN public.tenants t ON t.id = f.tenant_id
            WHERE f.tenant_id = {_ME} AND NOT f.mock
              AND (f.accuracy_m IS NULL OR f.accuracy_m <= 50)
            GROUP BY 1, 2
        ), moves AS (
            SELECT f.agent_id, f.local_date, f.fixes, f.min_battery_pct,
                   {_PATH[which]} AS path
            FROM lines f
        ), work AS (
            SELECT agent_id, local_date, count(*) AS visits,
                   count(*) FILTER (WHERE status = 'completed') AS completed,
                   count(*) FILTER (WHERE contact) AS contacts,
                   coalesce(sum(time_on_site_s), 0) AS time_on_site_s
            FROM analytics.visits GROUP BY 1, 2
        )
        SELECT d.agent_id, g.code AS agent_code, d.local_date,
               coalesce({_LENGTH[which]}, 0) AS distance_m, coalesce(m.fixes, 0) AS fixes,
               m.min_battery_pct, coalesce(w.visits, 0) AS visits,
               coalesce(w.completed, 0) AS completed, coalesce(w.contacts, 0) AS contacts,
               coalesce(w.time_on_site_s, 0) AS time_on_site_s,
               {_GEOM[which]} AS geom
        FROM (SELECT agent_id, local_date FROM moves UNION SELECT agent_id, local_date FROM work) d
        JOIN public.agents g ON g.tenant_id = {_ME} AND g.id = d.agent_id
        LEFT JOIN moves m ON m.agent_id = d.agent_id AND m.local_date = d.local_date
        LEFT JOIN work w ON w.agent_id = d.agent_id AND w.local_date = d.local_date
    """


def _apply(which: str) -> None:
    op.execute(_view(which))
    quoted = _COMMENT[which].replace("'", "''")
    op.execute(f"COMMENT ON VIEW analytics.agent_days IS '{quoted}'")


def upgrade() -> None:
    _apply("new")


def downgrade() -> None:
    _apply("old")
