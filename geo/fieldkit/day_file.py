"""The agent's day as the CSV file the visit form chooses its case from.

Published route first, in visiting order with each stop's number and window, then the
agent's other open cases by priority; with each case's point and fence radius, which the form
checks the check-in against offline. A changed route or assignment changes the file, and so
its hash, which tells ODK Collect to download it again.
"""

from __future__ import annotations

import csv
import io
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.spanish import money
from geo.core.tenant_settings import tenant_settings
from geo.routing.publishing import published_plan_id

COLUMNS = ("name", "label", "lat", "lon", "radius", "window", "amount", "bucket")
MAX_CASES = 1000

# A polygon fence is given to the phone as the circle that holds it: the form's offline test
# is the looser one, and the server measures against the polygon itself.
_DAY = text(
    """
    SELECT c.id, s.seq, d.full_name, a.raw_text, ST_Y(a.point) AS lat, ST_X(a.point) AS lon,
           CASE WHEN a.geofence IS NOT NULL
                THEN ST_Length(ST_LongestLine(a.point, a.geofence)::geography)
                ELSE coalesce(a.geofence_radius_m, :radius) END AS radius,
           c.visit_from, c.visit_until, c.outstanding_cop::float8 AS amount, c.bucket
    FROM cases c
    JOIN debtors d ON d.tenant_id = c.tenant_id AND d.id = c.debtor_id
    JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id
    LEFT JOIN plan_stops s ON s.tenant_id = c.tenant_id AND s.plan_id = :plan
         AND s.case_id = c.id AND s.agent_id = :a
    WHERE c.tenant_id = :t AND c.assigned_agent_id = :a AND c.status = 'open'
      AND a.point IS NOT NULL
    ORDER BY s.seq NULLS LAST, c.priority DESC, c.id
    LIMIT :limit
    """
)


def day_file(session: Session, *, tenant_id: int, agent_id: int, day: date) -> str:
    """The CSV of the agent's cases for ``day`` (columns :data:`COLUMNS`)."""
    settings = tenant_settings(session, tenant_id)
    plan = published_plan_id(session, tenant_id=tenant_id, day=day)
    rows = session.execute(
        _DAY,
        {
            "t": tenant_id,
            "a": agent_id,
            "plan": plan or 0,
            "radius": settings.geofence_radius_m,
            "limit": MAX_CASES,
        },
    )
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        window = (
            f"{r.visit_from:%H:%M}–{r.visit_until:%H:%M}" if r.visit_from and r.visit_until else ""
        )
        parts = [str(r.seq) if r.seq is not None else "", r.full_name, r.raw_text or "", window]
        writer.writerow(
            (
                r.id,
                " · ".join(p for p in parts if p),
                # Exactly the numbers the server judges with (the shortest text that reads
                # back as the same double), so the form's door check at the door is its own.
                repr(float(r.lat)),
                repr(float(r.lon)),
                repr(float(r.radius)),
                window,
                money(r.amount),
                r.bucket,
            )
        )
    return out.getvalue()
