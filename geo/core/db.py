"""Engines and sessions, and the tenant context that row-level security reads.

Two roles touch the database. The *owner* (``DATABASE_URL``) runs migrations and creates
tenants. The *application role* owns nothing and cannot bypass row-level security: every
session it opens is bound to one tenant, and each transaction starts by setting
``app.tenant_id``, which the policies in the schema compare against every row.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from geo.core.settings import Settings, get_settings

TENANT_SETTING = "app.tenant_id"


@lru_cache(maxsize=8)
def _engine(url: str, parallel_workers: int | None = None) -> Engine:
    options = {}
    if parallel_workers is not None:
        options["options"] = f"-c max_parallel_workers_per_gather={int(parallel_workers)}"
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=20, connect_args=options
    )


def owner_engine(settings: Settings | None = None) -> Engine:
    """Engine of the schema owner (bypasses RLS: admin tasks only)."""
    return _engine((settings or get_settings()).owner_url)


def app_engine(settings: Settings | None = None) -> Engine:
    """Engine of the application role (RLS applies), its parallel query capped by
    ``db_parallel_workers``."""
    settings = settings or get_settings()
    return _engine(settings.app_url, settings.db_parallel_workers)


class TenantSession(Session):
    """A session whose every transaction is scoped to ``info['tenant_id']``."""


@event.listens_for(TenantSession, "after_begin")
def _set_tenant(session: Session, _tx: SessionTransaction, connection: Connection) -> None:
    tenant_id = session.info.get("tenant_id")
    # An unset tenant leaves the setting empty: the policies then match no row at all.
    connection.execute(
        text("SELECT set_config(:name, :value, true)"),
        {"name": TENANT_SETTING, "value": "" if tenant_id is None else str(int(tenant_id))},
    )


def enter_tenant(session: Session, tenant_id: int) -> None:
    """Scope a session opened without a tenant to ``tenant_id`` from here on, this
    transaction included: for requests that learn their tenant from a first query (a tracker
    names a device, the device its tenant)."""
    session.info["tenant_id"] = tenant_id
    session.execute(
        text("SELECT set_config(:name, :value, true)"),
        {"name": TENANT_SETTING, "value": str(int(tenant_id))},
    )


def plan_once(session: Session) -> None:
    """Let this transaction's prepared statements run on their generic plan.

    psycopg prepares a statement a connection has run five times; PostgreSQL still plans
    such a statement anew for each run while it guesses a plan for the actual values would be
    better. For the check-in's statements over partitioned fixes that planning took as long as
    running them (about 4 ms), and their plans do not depend on the values: the agent, the
    case and a window of minutes. Only for such statements: elsewhere values do matter.
    """
    session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))


_factory = sessionmaker(class_=TenantSession, expire_on_commit=False)


@contextmanager
def _transaction(session: Session) -> Iterator[Session]:
    """Commit if the block succeeds, roll back if anything (even Ctrl-C) escapes it."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def tenant_session(
    tenant_id: int | None, *, engine: Engine | None = None
) -> AbstractContextManager[Session]:
    """A session of the application role scoped to one tenant; commits on success."""
    return _transaction(_factory(bind=engine or app_engine(), info={"tenant_id": tenant_id}))


def owner_session(*, engine: Engine | None = None) -> AbstractContextManager[Session]:
    """A session of the schema owner; commits on success. Not for tenant data paths."""
    return _transaction(Session(bind=engine or owner_engine(), expire_on_commit=False))


def on_database(url: str, name: str) -> str:
    """The same server and credentials, another database (tests and benchmarks use their own)."""
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL as plain libpq understands it, for direct ``psycopg.connect`` calls."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
