"""Users and signing in.

A :class:`Principal` is what the rest of campo knows about the caller: tenant, user, role, and
the agent it is (for field agents).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from geo.accounts.passwords import hash_password, new_password, password_matches
from geo.accounts.throttle import LoginThrottle
from geo.core.audit import record, record_update
from geo.core.errors import AuthenticationFailed, Conflict, InvalidInput, NotFound
from geo.core.models import ROLES, Agent, Tenant, User
from geo.core.tenant_settings import remember_settings


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller."""

    tenant_id: int
    user_id: int
    role: str
    agent_id: int | None = None


def tenant_by_slug(session: Session, slug: str) -> Tenant:
    tenant = session.scalar(select(Tenant).where(Tenant.slug == slug))
    if tenant is None:
        raise NotFound(f"tenant {slug!r} not found", field="slug")
    return tenant


def create_user(
    session: Session,
    *,
    tenant_id: int,
    email: str,
    full_name: str,
    role: str,
    password: str,
    actor_id: int | None = None,
) -> User:
    """A user of the tenant; with ``actor_id`` (a person creating it), audited."""
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
    if actor_id is not None:
        record(
            session,
            tenant_id=tenant_id,
            user_id=actor_id,
            action="create",
            subject=f"user:{user.id}",
            before=None,
            after={"email": user.email, "full_name": user.full_name, "role": role},
        )
    return user


def list_users(session: Session, *, tenant_id: int) -> list[User]:
    return list(session.scalars(select(User).where(User.tenant_id == tenant_id).order_by(User.id)))


def authenticate(
    session: Session,
    *,
    tenant_slug: str,
    email: str,
    password: str,
    client: str,
    throttle: LoginThrottle,
) -> Principal:
    """Check a password; one error for every failure so nothing leaks about accounts.

    ``client`` is the caller's address: failures are throttled per account and per address
    (:mod:`geo.accounts.throttle`), before any hash is computed.
    """
    account = f"{tenant_slug}/{email.strip().lower()}"
    with throttle.attempt(account=account, address=client) as attempt:
        row = session.execute(
            text("SELECT * FROM campo_login_lookup(:slug, :email)"),
            {"slug": tenant_slug, "email": email.strip()},
        ).one_or_none()
        matches = password_matches(row.password_hash if row else None, password)
        attempt.ok = bool(matches and row is not None and row.active)
    if not attempt.ok or row is None:
        raise AuthenticationFailed("incorrect tenant, e-mail or password")
    # Tenant context is not set yet for this session: resolve the agent id on its own terms.
    session.info["tenant_id"] = row.tenant_id
    session.commit()
    return load_principal(session, tenant_id=row.tenant_id, user_id=row.user_id)


def load_principal(session: Session, *, tenant_id: int, user_id: int) -> Principal:
    """The caller as stored now: a deactivated user or a changed role takes effect at once."""
    row = session.execute(
        select(
            User.role, User.active, Agent.id, Agent.active.label("agent_active"), Tenant.settings
        )
        .join(Tenant, Tenant.id == User.tenant_id)
        .outerjoin(Agent, (Agent.tenant_id == User.tenant_id) & (Agent.user_id == User.id))
        .where(User.tenant_id == tenant_id, User.id == user_id)
    ).one_or_none()
    # A deactivated field agent is as signed out as a deactivated user: it may not sync,
    # check in or read its day any more.
    if row is None or not row.active or row.agent_active is False:
        raise AuthenticationFailed("the account no longer exists or is disabled")
    remember_settings(session, tenant_id, row.settings)  # one round trip for both
    return Principal(tenant_id=tenant_id, user_id=user_id, role=row.role, agent_id=row[2])


def update_user(
    session: Session,
    *,
    tenant_id: int,
    user_id: int,
    actor_id: int,
    full_name: str | None = None,
    role: str | None = None,
    active: bool | None = None,
) -> User:
    """Rename, change the role of, deactivate or reactivate a user; audited. Nobody takes
    their own admin rights or account away, and a tenant always keeps an active admin."""
    user = session.scalar(select(User).where(User.tenant_id == tenant_id, User.id == user_id))
    if user is None:
        raise NotFound("user not found", "user_id")
    before = {"full_name": user.full_name, "role": user.role, "active": user.active}
    if full_name is not None:
        if not 1 <= len(full_name.strip()) <= 200:
            raise InvalidInput("full_name must have 1 to 200 characters", "full_name")
        user.full_name = full_name.strip()
    if role is not None:
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
        user.role = role
    if active is not None:
        user.active = active
    losing_admin = before["role"] == "admin" and (user.role != "admin" or not user.active)
    if losing_admin and user_id == actor_id:
        raise Conflict("an admin cannot take away their own access", "role")
    if losing_admin and not session.scalar(
        select(func.count()).where(
            User.tenant_id == tenant_id, User.role == "admin", User.active, User.id != user_id
        )
    ):
        raise Conflict("the organisation must keep an active admin", "role")
    if user.role != "agent" and session.scalar(
        select(Agent.id).where(Agent.tenant_id == tenant_id, Agent.user_id == user_id)
    ):
        raise Conflict("this user is a field agent: deactivate the agent instead", "role")
    session.flush()
    record_update(
        session,
        tenant_id=tenant_id,
        user_id=actor_id,
        subject=f"user:{user_id}",
        before=before,
        after={"full_name": user.full_name, "role": user.role, "active": user.active},
    )
    return user


def reset_password(session: Session, *, tenant_id: int, user_id: int, actor_id: int) -> str:
    """A new random password for a user, returned once for the admin to hand over; the old
    one stops working at once. Audited (without the password)."""
    user = session.scalar(select(User).where(User.tenant_id == tenant_id, User.id == user_id))
    if user is None:
        raise NotFound("user not found", "user_id")
    password = new_password()
    user.password_hash = hash_password(password)
    session.flush()
    record(
        session,
        tenant_id=tenant_id,
        user_id=actor_id,
        action="password_reset",
        subject=f"user:{user_id}",
        before=None,
        after=None,
    )
    return password
