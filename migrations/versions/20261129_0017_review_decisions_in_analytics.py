"""review decisions in analytics

``analytics.visits`` gains ``review_decision`` (approved, rejected, or null while a check-in in
review waits for a supervisor), so the KPIs count what reviewers decided. The view is replaced
with the column appended; its other columns are as before.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-29 15:20:00
"""

from collections.abc import Sequence

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


def _view() -> str:
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
               c.product, c.bucket, az.zone_id, az.zone_name, v.checkin_point AS geom, v.review_decision
        FROM public.visits v
        JOIN public.tenants t ON t.id = v.tenant_id
        JOIN public.cases c ON c.tenant_id = v.tenant_id AND c.id = v.case_id
        LEFT JOIN public.agents g ON g.tenant_id = v.tenant_id AND g.id = v.agent_id
        LEFT JOIN analytics.address_zones az ON az.address_id = c.address_id
        WHERE v.tenant_id = {_ME}
    """


def upgrade() -> None:
    op.execute(_view())
    quoted = _COMMENT.replace("'", "''")
    op.execute(f"COMMENT ON VIEW analytics.visits IS '{quoted}'")


def downgrade() -> None:
    """The column stays: PostgreSQL takes a column out of a view only by dropping it and the
    views built on it (``analytics.agent_days``), and the schema of 0016 reads it harmlessly."""
