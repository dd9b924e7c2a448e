"""Tenancy by construction: which tables belong to a tenant, and the DDL that isolates one.

A tenant table is any table of the model with a ``tenant_id`` column, so a new table is
covered by the row-level-security test and the clean-up code the moment it is declared. The
migrations call :func:`isolation_ddl` for each table they create, so every policy is the same.
"""

from __future__ import annotations

from sqlalchemy import MetaData

from geo.core.models import Base

CURRENT_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::bigint"
"""The tenant the transaction is bound to (``geo.core.db`` sets it); unset matches no row."""
APP_GRANT = "SELECT, INSERT, UPDATE, DELETE"


def tenant_tables(metadata: MetaData = Base.metadata) -> tuple[str, ...]:
    """Every table scoped by ``tenant_id``, each after the tables it references."""
    return tuple(t.name for t in metadata.sorted_tables if "tenant_id" in t.c)


def isolation_ddl(table: str, *, role: str, grant: str | None = APP_GRANT) -> list[str]:
    """Enable RLS on ``table`` with the one tenant policy, and grant ``role`` what it needs
    (``None``: nothing, for tables the application only reaches through functions)."""
    statements = [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} "
        f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})",
    ]
    if grant is not None:
        statements.append(f"GRANT {grant} ON {table} TO {role}")
    return statements
