"""Tenants, users and signing in.

Passwords are hashed with Argon2id. A :class:`Principal` is what the rest of campo knows about
the caller: tenant, user, role, and the agent it is (for field agents).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from geo.models import ROLES, Agent, Tenant, User
from geo.questionnaires import ensure_default_questionnaire

_hasher = PasswordHasher()
# Verifying against a real hash when the user does not exist keeps the timing the same, so the
# answer time does not reveal which e-mails have accounts.
_DUMMY_HASH = _hasher.hash("campo-timing-equaliser")

DEFAULT_TENANT_SETTINGS: dict[str, Any] = {
    "timezone": "America/Bogota",
    "locale": "es-CO",
    "geofence_radius_m": 75,
    "notify_emails": [],
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller."""

    tenant_id: int
    user_id: int
    role: str
    agent_id: int | None = None


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise InvalidInput("password must have at least 8 characters", field="password")
    return _hasher.hash(password)


def create_tenant(session: Session, *, slug: str, name: str) -> Tenant:
    """Create a tenant. Needs an owner session: the application role cannot insert tenants."""
    tenant = Tenant(slug=slug, name=name, settings=dict(DEFAULT_TENANT_SETTINGS))
    session.add(tenant)
    try:
        session.flush()
    except IntegrityError as exc:
        session.rollback()
        if "uq_tenants_slug" in str(exc.orig):
            raise Conflict(f"tenant {slug!r} already exists", field="slug") from exc
        raise InvalidInput(
            "slug must be 2-63 lowercase letters, digits or dashes", field="slug"
        ) from exc
    ensure_default_questionnaire(session, tenant_id=tenant.id)
    return tenant


def tenant_by_slug(session: Session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"tenant {slug!r} not found", field="slug")
    return tenant


def create_user(
    session: Session, *, tenant_id: int, email: str, full_name: str, role: str, password: str
) -> User:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
    user = User(
        tenant_id=tenant_id,
        email=email.strip().lower(),
        full_name=full_name.strip(),
        role=role,
        password_hash=hash_password(password),
    )
    session.add(user)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a user with e-mail {user.email!r} already exists", field="email") from exc
    return user


def list_users(session: Session, *, tenant_id: int) -> list[User]:
    return list(session.scalars(select(User).where(User.tenant_id == tenant_id).order_by(User.id)))


def authenticate(session: Session, *, tenant_slug: str, email: str, password: str) -> Principal:
    """Check a password; one error for every failure so nothing leaks about accounts."""
    row = session.execute(
        text("SELECT * FROM campo_login_lookup(:slug, :email)"),
        {"slug": tenant_slug, "email": email.strip()},
    ).one_or_none()
    try:
        _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        row = None
    if row is None or not row.active:
        raise AuthenticationFailed("incorrect tenant, e-mail or password")
    # Tenant context is not set yet for this session: resolve the agent id on its own terms.
    session.info["tenant_id"] = row.tenant_id
    session.commit()
    return load_principal(session, tenant_id=row.tenant_id, user_id=row.user_id)


def load_principal(session: Session, *, tenant_id: int, user_id: int) -> Principal:
    """The caller as stored now: a deactivated user or a changed role takes effect at once."""
    row = session.execute(
        select(User.role, User.active, Agent.id)
        .outerjoin(Agent, (Agent.tenant_id == User.tenant_id) & (Agent.user_id == User.id))
        .where(User.tenant_id == tenant_id, User.id == user_id)
    ).one_or_none()
    if row is None or not row.active:
        raise AuthenticationFailed("the account no longer exists or is disabled")
    return Principal(tenant_id=tenant_id, user_id=user_id, role=row.role, agent_id=row[2])
