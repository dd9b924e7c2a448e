"""device lookup with context

``campo_device_lookup`` also returns what storing a tracker's position needs (the agent's
shift and the tenant's settings), so a position costs one lookup and one insert rather than
two transactions and five more round trips.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 10:40:00
"""

from collections.abc import Sequence

from alembic import op

from geo.core.settings import get_settings

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BODY = """
        CREATE FUNCTION campo_device_lookup(p_identifier text)
        RETURNS TABLE (tenant_id bigint, device_id bigint, agent_id bigint, protocol text,
                       secret_sha256 text, active boolean{extra})
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT d.tenant_id, d.id, d.agent_id, d.protocol, d.secret_sha256,
                   d.active AND a.active{select}
            FROM devices d JOIN agents a ON a.tenant_id = d.tenant_id AND a.id = d.agent_id
                           {join}
            WHERE d.identifier = p_identifier
        $$
"""
_WITH = {
    "extra": ",\n                       shift_start time, shift_end time, settings jsonb",
    "select": ", a.shift_start, a.shift_end, t.settings",
    "join": "JOIN tenants t ON t.id = d.tenant_id",
}
_WITHOUT = {"extra": "", "select": "", "join": ""}


def _replace(parts: dict[str, str]) -> None:
    role = get_settings().app_db_role
    op.execute("DROP FUNCTION IF EXISTS campo_device_lookup(text)")
    op.execute(_BODY.format(**parts))
    op.execute("REVOKE ALL ON FUNCTION campo_device_lookup(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION campo_device_lookup(text) TO {role}")


def upgrade() -> None:
    _replace(_WITH)


def downgrade() -> None:
    _replace(_WITHOUT)
