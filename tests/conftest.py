"""Test harness: a fresh PostGIS database with migrations applied, each test on clean tables.

There is no skip path: if PostgreSQL or PostGIS is missing the session fails with the reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.core.db import libpq_url, on_database
from geo.core.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[1]


def recreate_database(owner_url: str, name: str) -> None:
    """Drop and create ``name`` with PostGIS, or fail loudly."""
    with psycopg.connect(libpq_url(on_database(owner_url, "postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(libpq_url(on_database(owner_url, name)), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as exc:
        pytest.exit(f"PostGIS is not available ({exc}); run scripts/setup", returncode=3)


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["url"] = url
    config.attributes["configure_logger"] = False
    return config


_base = Settings()
TEST_DB = _base.test_database
OWNER_URL = on_database(_base.owner_url, TEST_DB)
APP_URL = on_database(_base.app_url, TEST_DB)
os.environ["DATABASE_URL"] = OWNER_URL
os.environ["CAMPO_APP_DATABASE_URL"] = APP_URL
os.environ["CAMPO_ENVIRONMENT"] = "test"
os.environ.setdefault("CAMPO_JWT_SECRET", "test-secret-" + "x" * 40)
# The passwords of test users protect nothing: hash them at the cheapest cost Argon2 allows.
os.environ["CAMPO_ARGON2_TIME_COST"] = "1"
os.environ["CAMPO_ARGON2_MEMORY_KIB"] = "32"
# Files sent with visits go to a scratch folder, not the checkout.
os.environ["CAMPO_MEDIA_DIR"] = tempfile.mkdtemp(prefix="campo-test-media-")
get_settings.cache_clear()


def pytest_sessionstart(session: pytest.Session) -> None:
    """The test database, fresh and migrated to head, before any test module is collected:
    collecting the schema fuzz starts the app, whose start-up already opens the database."""
    recreate_database(_base.owner_url, TEST_DB)
    command.upgrade(alembic_config(OWNER_URL), "head")


@pytest.fixture(scope="session", autouse=True)
def database() -> str:
    """The test database's owner URL (created by :func:`pytest_sessionstart`)."""
    return OWNER_URL


@pytest.fixture(autouse=True)
def clean_tables(database: str) -> Iterator[None]:
    yield
    from geo.core.db import owner_engine
    from geo.core.tenancy import tenant_tables

    with owner_engine().begin() as conn:
        conn.execute(
            text(f"TRUNCATE tenants, {', '.join(tenant_tables())}, procrastinate_jobs CASCADE")
        )


def start_worker(**env: str) -> subprocess.Popen[bytes]:
    """``campo worker`` in its own process, on the test database, as a deployment runs it."""
    return subprocess.Popen(
        [str(Path(sys.executable).parent / "campo"), "worker"],
        cwd=ROOT,
        env={**os.environ, "CAMPO_JOB_STALLED_AFTER_S": "3", **env},
    )


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def worker(database: str) -> Iterator[subprocess.Popen[bytes]]:
    """A job worker for the tests that post plans and wait for them."""
    process = start_worker()
    yield process
    stop(process)


@pytest.fixture
def client() -> Iterator[TestClient]:
    from api.main import create_app

    with TestClient(create_app()) as test_client:
        yield test_client


@dataclass(frozen=True)
class World:
    """A tenant with one user of each role, one field agent and three cases."""

    slug: str
    tenant_id: int
    agent_id: int
    case_ids: list[int]
    tokens: dict[str, str]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


PASSWORD = "correct horse battery"

CASES_CSV = """external_ref,document_type,document_number,full_name,phone,product,outstanding_cop,days_past_due,address,city,lat,lon,authorised_channels
{p}-1,CC,1001,Ana Gómez,3001112233,tarjeta_credito,3500000,45,Calle 72 # 10-34,Bogotá D.C.,4.6565,-74.0589,visita|llamada
{p}-2,CC,1002,Luis Pérez,,libranza,9000000,120,Carrera 15 # 100-20,Bogotá D.C.,,,visita
{p}-3,CE,77,Marta Ruiz,,microcredito,800000,10,Vereda El Hato,La Calera,,,visita|sms
"""


def build_world(slug: str) -> World:
    """Create a tenant through the CLI-level functions, with a token for each of its users."""

    from api.security import issue_token
    from geo.accounts.agents import create_agent
    from geo.accounts.users import Principal, create_user
    from geo.core.db import owner_session, tenant_session
    from geo.portfolio.cases import update_case
    from geo.portfolio.imports import import_cases
    from geo.provisioning.tenants import create_tenant

    with owner_session() as session:
        tenant_id = create_tenant(session, slug=slug, name=f"Tenant {slug}").id
    with tenant_session(tenant_id) as session:
        users = {
            role: create_user(
                session,
                tenant_id=tenant_id,
                email=f"{role}@{slug}.co",
                full_name=f"{role} {slug}",
                role=role,
                password=PASSWORD,
            )
            for role in ("admin", "dispatcher", "analyst", "agent")
        }
        agent = create_agent(
            session,
            tenant_id=tenant_id,
            user_id=users["agent"].id,
            code="G1",
            lon=-74.08,
            lat=4.65,
            travel_mode="motorbike",
        )
        report = import_cases(session, tenant_id=tenant_id, source=CASES_CSV.format(p=slug.upper()))
        assert report.stored == 3, report.errors
        case_ids = sorted(
            session.scalars(text("SELECT id FROM cases WHERE tenant_id = :t"), {"t": tenant_id})
        )
        update_case(session, tenant_id=tenant_id, case_id=case_ids[0], assigned_agent_id=agent.id)
    # Minted as sign-in mints them (tests/api/test_auth.py signs in over HTTP).
    tokens = {
        role: issue_token(
            Principal(tenant_id, user.id, role, agent.id if role == "agent" else None),
            get_settings(),
        )[0]
        for role, user in users.items()
    }
    return World(slug, tenant_id, agent.id, case_ids, tokens)


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world("alfa")


@pytest.fixture
def other_world(client: TestClient) -> World:
    return build_world("beta")
