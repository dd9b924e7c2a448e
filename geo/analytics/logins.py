"""Database logins for analysts' own SQL tools (psql, QGIS, DBeaver), bound to one tenant.

Such a login belongs to ``campo_analyst``: it may read the ``analytics`` views and nothing
else, and the views show it its own tenant's rows whatever it sets (see migration 0005).
"""

from __future__ import annotations

import re
import secrets

from sqlalchemy import text
from sqlalchemy.orm import Session

from geo.core.errors import Conflict, InvalidInput

ANALYST_GROUP = "campo_analyst"
_NAME = re.compile(r"^[a-z_][a-z0-9_]{2,62}$")


def create_analyst_login(session: Session, *, tenant_id: int, role_name: str) -> str:
    """Create the login and bind it to ``tenant_id``; returns its generated password.

    Needs the schema owner's session (creating roles is not the application's right).
    """
    if not _NAME.match(role_name):
        raise InvalidInput("3-63 lowercase letters, digits or _", field="role_name")
    taken = session.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": role_name})
    if taken.first() is not None:
        raise Conflict(f"a database role {role_name!r} already exists", field="role_name")
    password = secrets.token_urlsafe(18)
    statement = session.execute(
        text(
            "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L IN ROLE %I', "
            "CAST(:n AS text), CAST(:p AS text), CAST(:g AS text))"
        ),
        {"n": role_name, "p": password, "g": ANALYST_GROUP},
    ).scalar_one()
    session.execute(text(statement))
    session.execute(
        text("INSERT INTO analyst_logins (tenant_id, role_name) VALUES (:t, :n)"),
        {"t": tenant_id, "n": role_name},
    )
    return password


def drop_analyst_login(session: Session, *, role_name: str) -> None:
    """Remove the login and its binding (owner session)."""
    found = session.execute(
        text("DELETE FROM analyst_logins WHERE role_name = :n RETURNING tenant_id"),
        {"n": role_name},
    ).first()
    if found is None:
        raise InvalidInput(f"{role_name!r} is not an analyst login", field="role_name")
    session.execute(
        text(
            session.execute(
                text("SELECT format('DROP ROLE %I', CAST(:n AS text))"), {"n": role_name}
            ).scalar_one()
        )
    )
