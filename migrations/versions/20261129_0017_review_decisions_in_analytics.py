"""review decisions in analytics

``analytics.visits`` gains ``review_decision`` (approved, rejected, or null while a check-in in
review waits for a supervisor), so the KPIs count what reviewers decided. The view is replaced
with the column appended; its other columns are as before.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 15:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TZ = "coalesce(t.settings ->> 'timezone', 'America/Bogota')"
_CONTACT = "v.outcome IN ('contact', 'refused', 'promise_to_pay', 'paid')"
_AGREEMENT = "v.outcome IN ('promise_to_pay', 'paid')"
_ME = "(SELECT analytics.tenant())"
_COMMENT = (
    "Every check-in with its local day, hour and ISO weekday, verdict, outcome, contact "
    "(someone reached: contact, refused, promise_to_pay, paid), agreement (promise_to_pay, "
    "paid), time on site, case segment and zone; geom is where the agent checked in; "
    "review_decision: a supervisor's decision on a check-in sent to review."
)


def _view(decision: str) -> str:
    return f"""
        CREATE OR REPLACE VIEW analytics.visits WITH (security_barrier) AS
        SELECT v.id AS visit_id, v.case_id, v.agent_id, g.code AS agent_code,
               v.checkin_at, v.checkout_at,
               (v.checkin_at AT TIME ZONE {_TZ})::date AS local_date,
               extract(hour FROM v.checkin_at AT TIME ZONE {_TZ})::int AS local_hour,
               extract(isodow FROM v.checkin_at AT TIME ZONE {_TZ})::int AS local_dow,
               v.status, v.verdict, v.outcome,
               coalesce({_CONTACT}, false) AS contact,
               coalesce({_AGREEMENT}, false) AS agreement,
               v.distance_m, extract(epoch FROM v.checkout_at - v.checkin_at) AS time_on_site_s,
               c.product, c.bucket, az.zone_id, az.zone_name, v.checkin_point AS geom{decision}
        FROM public.visits v
        JOIN public.tenants t ON t.id = v.tenant_id
        JOIN public.cases c ON c.tenant_id = v.tenant_id AND c.id = v.case_id
        LEFT JOIN public.agents g ON g.tenant_id = v.tenant_id AND g.id = v.agent_id
        LEFT JOIN analytics.address_zones az ON az.address_id = c.address_id
        WHERE v.tenant_id = {_ME}
    """


def _comment(text: str) -> str:
    quoted = text.replace("'", "''")
    return f"COMMENT ON VIEW analytics.visits IS '{quoted}'"


def upgrade() -> None:
    op.execute(_view(", v.review_decision"))
    op.execute(_comment(_COMMENT))


_DEPENDENTS = """
    SELECT DISTINCT d.oid::regclass::text AS name, pg_get_viewdef(d.oid) AS body,
           obj_description(d.oid, 'pg_class') AS comment,
           coalesce(array_to_string(d.reloptions, ', '), '') AS options,
           (SELECT coalesce(array_agg(DISTINCT g.grantee::regrole::text), '{}')
            FROM aclexplode(d.relacl) g WHERE g.privilege_type = 'SELECT'
              AND g.grantee <> d.relowner) AS readers
    FROM pg_depend p JOIN pg_rewrite r ON r.oid = p.objid
    JOIN pg_class d ON d.oid = r.ev_class
    WHERE p.refobjid = 'analytics.visits'::regclass AND d.oid <> p.refobjid
"""


def downgrade() -> None:
    """A view loses a column only by being made again, and with it the views built on it
    (their definitions, options, comments and readers are read back from the catalogue)."""
    bind = op.get_bind()
    dependents = bind.execute(sa.text(_DEPENDENTS)).all()
    for view in dependents:
        op.execute(f"DROP VIEW {view.name}")
    op.execute("DROP VIEW analytics.visits")
    op.execute(_view(""))
    op.execute(_comment(_COMMENT.split("; review_decision")[0] + "."))
    op.execute("GRANT SELECT ON analytics.visits TO " + ", ".join(_readers(bind)))
    for view in dependents:
        options = f" WITH ({view.options})" if view.options else ""
        op.execute(f"CREATE VIEW {view.name}{options} AS {view.body}")
        if view.comment:
            quoted = view.comment.replace("'", "''")
            op.execute(f"COMMENT ON VIEW {view.name} IS '{quoted}'")
        if view.readers:
            op.execute(f"GRANT SELECT ON {view.name} TO {', '.join(view.readers)}")


def _readers(bind: sa.Connection) -> list[str]:
    """Who may read the analytics views: whoever may read their schema's cases view."""
    rows = bind.execute(
        sa.text(
            "SELECT DISTINCT g.grantee::regrole::text FROM pg_class c, aclexplode(c.relacl) g "
            "WHERE c.oid = 'analytics.cases'::regclass AND g.privilege_type = 'SELECT' "
            "AND g.grantee <> c.relowner"
        )
    ).scalars()
    return list(rows)
