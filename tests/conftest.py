"""Test harness: a fresh PostGIS database with migrations applied, each test on clean tables.

There is no skip path: if PostgreSQL or PostGIS is missing the session fails with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.db import libpq_url, on_database
from geo.settings import Settings, get_settings

ROOT = Path(__file__).resolve().parents[1]
TEST_DB = "campo_test"


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
OWNER_URL = on_database(_base.owner_url, TEST_DB)
APP_URL = on_database(_base.app_url, TEST_DB)
os.environ["DATABASE_URL"] = OWNER_URL
os.environ["CAMPO_APP_DATABASE_URL"] = APP_URL
os.environ["CAMPO_ENVIRONMENT"] = "test"
os.environ.setdefault("CAMPO_JWT_SECRET", "test-secret-" + "x" * 40)
get_settings.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def database() -> Iterator[str]:
    """The test database, migrated to head once per session."""
    recreate_database(_base.owner_url, TEST_DB)
    command.upgrade(alembic_config(OWNER_URL), "head")
    return OWNER_URL


@pytest.fixture(autouse=True)
def clean_tables(database: str) -> Iterator[None]:
    yield
    from geo.db import owner_engine
    from geo.models import TENANT_TABLES

    with owner_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE tenants, {', '.join(TENANT_TABLES)} CASCADE"))


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

CASES_CSV = """external_ref,document_type,document_number,full_name,phone,product,outstanding_cop,days_past_due,address,city,lat,lon
{p}-1,CC,1001,Ana Gómez,3001112233,tarjeta_credito,3500000,45,Calle 72 # 10-34,Bogotá D.C.,4.6565,-74.0589
{p}-2,CC,1002,Luis Pérez,,libranza,9000000,120,Carrera 15 # 100-20,Bogotá D.C.,,
{p}-3,CE,77,Marta Ruiz,,microcredito,800000,10,Vereda El Hato,La Calera,,
"""


def build_world(client: TestClient, slug: str) -> World:
    """Create a tenant through the CLI-level functions, then sign in through the API."""
    import io

    from geo.accounts import create_tenant, create_user
    from geo.agents import create_agent
    from geo.cases import update_case
    from geo.db import owner_session, tenant_session
    from geo.importer import import_cases

    with owner_session() as session:
        tenant_id = create_tenant(session, slug=slug, name=f"Tenant {slug}").id
    with tenant_session(tenant_id) as session:
        users = {
            role: create_user(
                session, tenant_id=tenant_id, email=f"{role}@{slug}.co",
                full_name=f"{role} {slug}", role=role, password=PASSWORD,
            )
            for role in ("admin", "dispatcher", "analyst", "agent")
        }  # fmt: skip
        agent = create_agent(
            session, tenant_id=tenant_id, user_id=users["agent"].id, code="G1",
            lon=-74.08, lat=4.65, travel_mode="motorbike",
        )  # fmt: skip
        report = import_cases(
            session, tenant_id=tenant_id, source=io.StringIO(CASES_CSV.format(p=slug.upper()))
        )
        assert report.stored == 3, report.errors
        case_ids = sorted(
            session.scalars(text("SELECT id FROM cases WHERE tenant_id = :t"), {"t": tenant_id})
        )
        update_case(session, tenant_id=tenant_id, case_id=case_ids[0], assigned_agent_id=agent.id)
    tokens = {}
    for role in users:
        answer = client.post(
            "/v1/auth/token",
            data={"username": f"{role}@{slug}.co", "password": PASSWORD, "client_id": slug},
        )
        assert answer.status_code == 200, answer.text
        tokens[role] = answer.json()["access_token"]
    return World(slug, tenant_id, agent.id, case_ids, tokens)


@pytest.fixture
def world(client: TestClient) -> World:
    return build_world(client, "alfa")


@pytest.fixture
def other_world(client: TestClient) -> World:
    return build_world(client, "beta")
