"""device lookup refuses a deactivated user

A phone or tracker works only while its device, its agent and the agent's user account are
all active: deactivating the person who left switches off every phone of theirs at once
(ODK Collect, the web app, Traccar Client, OwnTracks), as it already signs them out.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

from alembic import op

from geo.core.settings import get_settings

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BODY = """
        CREATE FUNCTION campo_device_lookup(p_identifier text)
        RETURNS TABLE (tenant_id bigint, device_id bigint, agent_id bigint, protocol text,
                       secret_sha256 text, active boolean,
                       shift_start time, shift_end time, settings jsonb)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
            SELECT d.tenant_id, d.id, d.agent_id, d.protocol, d.secret_sha256,
                   d.active AND a.active{user}, a.shift_start, a.shift_end, t.settings
            FROM devices d JOIN agents a ON a.tenant_id = d.tenant_id AND a.id = d.agent_id
                           {join}
                           JOIN tenants t ON t.id = d.tenant_id
            WHERE d.identifier = p_identifier
        $$
"""


def _replace(user: str, join: str) -> None:
    role = get_settings().app_db_role
    op.execute("DROP FUNCTION IF EXISTS campo_device_lookup(text)")
    op.execute(_BODY.format(user=user, join=join))
    op.execute("REVOKE ALL ON FUNCTION campo_device_lookup(text) FROM PUBLIC")
    op.execute(f"GRANT EXECUTE ON FUNCTION campo_device_lookup(text) TO {role}")


def upgrade() -> None:
    _replace(" AND u.active", "JOIN users u ON u.tenant_id = a.tenant_id AND u.id = a.user_id")


def downgrade() -> None:
    _replace("", "")
