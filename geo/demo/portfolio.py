"""A deterministic, realistic Bogotá portfolio for the demo and for tests at city scale.

Cases cluster where people live (weighted by localidad), stay inside the urban area and west
of the Carrera 7 ridge, carry grid addresses that geocode back to their point, and have the
amounts, products and delinquency mix of a Colombian consumer-credit portfolio. The same seed
always gives the same portfolio.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import time

import numpy as np
from shapely import Polygon, contains_xy, prepare
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from geo.accounts.agents import create_agent
from geo.accounts.users import create_user
from geo.core.db import owner_session, tenant_session
from geo.core.models import Tenant
from geo.core.tenancy import tenant_tables
from geo.portfolio.imports import REQUIRED_COLUMNS, ImportReport, import_cases
from geo.portfolio.nomenclature import BOGOTA
from geo.provisioning.tenants import create_tenant

DEMO_SLUG = "demo"
DEMO_PASSWORD = "campo-demo-2026"  # noqa: S105 - published demo credentials, demo tenant only


def _ridge(calle: float) -> tuple[float, float]:
    return BOGOTA.to_lonlat(calle, 7)


URBAN_AREA = Polygon(
    [
        (-74.060, 4.800),
        (-74.095, 4.780),
        (-74.120, 4.760),
        (-74.125, 4.720),
        (-74.145, 4.715),
        (-74.130, 4.690),
        (-74.170, 4.680),
        (-74.170, 4.665),
        (-74.200, 4.650),
        (-74.215, 4.630),
        (-74.215, 4.605),
        (-74.195, 4.585),
        (-74.165, 4.560),
        (-74.150, 4.540),
        (-74.125, 4.500),
        (-74.105, 4.495),
        (-74.095, 4.530),
        (-74.080, 4.555),
        (-74.070, 4.575),
        *(_ridge(c) for c in (10, 26, 50, 72, 100, 127, 150, 170, 200, 230)),
    ]
)
"""Approximate urban Bogotá: the Río Bogotá on the west, Usme on the south, and on the east the
Carrera 7 line of the grid model (west of the real Séptima in the north, so never in the hills)."""
prepare(URBAN_AREA)

# (lon, lat, weight): population centres of the localidades where collections happen.
_CENTRES = np.array(
    [
        (-74.150, 4.628, 1.00),
        (-74.085, 4.742, 1.10),
        (-74.110, 4.700, 0.80),
        (-74.190, 4.615, 0.70),
        (-74.150, 4.560, 0.55),
        (-74.045, 4.715, 0.40),
        (-74.145, 4.672, 0.40),
        (-74.115, 4.570, 0.35),
        (-74.090, 4.565, 0.30),
        (-74.115, 4.615, 0.25),
        (-74.065, 4.655, 0.12),
        (-74.085, 4.640, 0.15),
        (-74.075, 4.672, 0.20),
        (-74.135, 4.582, 0.20),
        (-74.083, 4.607, 0.15),
        (-74.110, 4.515, 0.30),
        (-74.100, 4.590, 0.10),
    ]
)

_PRODUCTS = (  # product, share, median COP, log-sigma
    ("tarjeta_credito", 0.38, 3_200_000, 0.8),
    ("libre_inversion", 0.25, 11_000_000, 0.7),
    ("microcredito", 0.15, 2_500_000, 0.6),
    ("libranza", 0.12, 9_000_000, 0.6),
    ("vehiculo", 0.06, 38_000_000, 0.5),
    ("hipotecario", 0.04, 95_000_000, 0.5),
)
_DPD_BANDS = ((1, 30, 0.35), (31, 60, 0.22), (61, 90, 0.15), (91, 180, 0.16), (181, 720, 0.12))
_FIRST = (
    "María",
    "José",
    "Luis",
    "Carlos",
    "Ana",
    "Juan",
    "Diana",
    "Andrés",
    "Paola",
    "Jorge",
    "Sandra",
    "Camilo",
    "Laura",
    "Andrea",
    "Óscar",
    "Claudia",
    "Diego",
    "Natalia",
    "Fernando",
    "Liliana",
    "Julián",
    "Marcela",
    "Édgar",
    "Yolanda",
    "Jhon",
    "Leidy",
    "Wilson",
    "Yeimy",
    "Héctor",
    "Nelly",
)
_LAST = (
    "Rodríguez",
    "Gómez",
    "González",
    "Martínez",
    "García",
    "López",
    "Hernández",
    "Sánchez",
    "Ramírez",
    "Pérez",
    "Díaz",
    "Muñoz",
    "Rojas",
    "Moreno",
    "Jiménez",
    "Vargas",
    "Castro",
    "Gutiérrez",
    "Romero",
    "Ortiz",
    "Suárez",
    "Torres",
    "Castillo",
    "Cárdenas",
    "Rincón",
    "Beltrán",
    "Parra",
    "Cifuentes",
)
_COMPLEMENTS = ("", "", "", " Apto 302", " Interior 2", " Torre 3 Apto 504", " Casa 12", " Local 1")
_MODES = (("motorbike", 0.6, 18), ("walk", 0.25, 12), ("car", 0.15, 15))
_CONSENTS = ("visita|llamada", "visita|llamada|whatsapp", "visita", "llamada|sms", "")
_CONSENT_SHARES = (0.55, 0.25, 0.13, 0.04, 0.03)
"""What debtors authorised: most a visit and a call; a few only remote channels, or nothing on
record (the planner leaves those out, with the reason)."""


@dataclass(frozen=True, slots=True)
class DemoAgent:
    code: str
    full_name: str
    email: str
    lon: float
    lat: float
    base_address: str
    travel_mode: str
    daily_capacity: int
    shift_start: time
    shift_end: time
    skills: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DemoPortfolio:
    cases: list[dict[str, str]]
    agents: list[DemoAgent]

    def cases_csv(self) -> str:
        """The cases in campo's import format, exactly what ``campo import cases`` reads."""
        out = io.StringIO()
        writer = csv.DictWriter(
            out,
            fieldnames=[
                *REQUIRED_COLUMNS,
                "phone",
                "lat",
                "lon",
                "authorised_channels",
                "agreed_hours",
            ],
        )
        writer.writeheader()
        writer.writerows(self.cases)
        return out.getvalue()


def sample_points(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` (lon, lat) points where people live, inside :data:`URBAN_AREA`, off the axes."""
    weights = _CENTRES[:, 2] / _CENTRES[:, 2].sum()
    points = np.empty((0, 2))
    while len(points) < n:
        picks = rng.choice(len(_CENTRES), size=2 * n, p=weights)
        batch = _CENTRES[picks, :2] + rng.normal(0.0, 0.011, size=(2 * n, 2))
        inside = contains_xy(URBAN_AREA, batch[:, 0], batch[:, 1])
        calle, carrera = BOGOTA.to_grid(batch[:, 0], batch[:, 1])
        # The strips between Calle 1 and 1 Sur, and Carrera 1 and 1 Este, have no exact address.
        addressable = (np.abs(calle) >= 1) & (np.abs(carrera) >= 1)
        points = np.vstack([points, batch[inside & addressable]])
    return points[:n]


def _name(rng: np.random.Generator) -> str:
    first, last1, last2 = rng.choice(_FIRST), rng.choice(_LAST), rng.choice(_LAST)
    return f"{first} {last1} {last2}"


def _address(rng: np.random.Generator, lon: float, lat: float) -> str:
    street = BOGOTA.address_of(lon, lat, on_calle=bool(rng.random() < 0.5))
    return street + str(rng.choice(_COMPLEMENTS))


def generate(*, seed: int = 7, n_cases: int = 2000, n_agents: int = 20) -> DemoPortfolio:
    """The demo portfolio; coordinates are given for 85 % of cases, the rest are geocoded."""
    rng = np.random.default_rng(seed)
    points = sample_points(rng, n_cases + n_agents)
    shares = np.array([p[1] for p in _PRODUCTS])
    bands = np.array([b[2] for b in _DPD_BANDS])
    cases = []
    for i in range(n_cases):
        lon, lat = points[i]
        product, _share, median, sigma = _PRODUCTS[rng.choice(len(_PRODUCTS), p=shares)]
        low, high, _w = _DPD_BANDS[rng.choice(len(_DPD_BANDS), p=bands)]
        with_coordinates = rng.random() < 0.85
        cases.append(
            {
                "external_ref": f"BOG-{i + 1:06d}",
                "document_type": "CC",
                "document_number": str(int(rng.integers(10_000_000, 1_099_999_999))),
                "full_name": _name(rng),
                "phone": f"3{rng.integers(0, 3)}{rng.integers(0, 10)} {rng.integers(100, 999)} "
                f"{rng.integers(1000, 9999)}",
                "product": product,
                "outstanding_cop": str(round(float(median * rng.lognormal(0.0, sigma)))),
                "days_past_due": str(int(rng.integers(low, high + 1))),
                "address": _address(rng, lon, lat),
                "city": "Bogotá D.C.",
                "lat": f"{lat:.6f}" if with_coordinates else "",
                "lon": f"{lon:.6f}" if with_coordinates else "",
            }
        )
    # Drawn apart, so the rest of the portfolio stays what it was before the law's columns.
    consent = np.random.default_rng(seed + 1)
    for case in cases:
        case["authorised_channels"] = str(consent.choice(_CONSENTS, p=_CONSENT_SHARES))
        agreed = consent.random() < 0.02
        case["agreed_hours"] = "lun-vie 14:00-16:30; sáb 09:00-12:00" if agreed else ""
    mode_shares = np.array([m[1] for m in _MODES])
    agents = []
    for j in range(n_agents):
        lon, lat = points[n_cases + j]
        mode, _share, capacity = _MODES[rng.choice(len(_MODES), p=mode_shares)]
        early = rng.random() < 0.5
        agents.append(
            DemoAgent(
                code=f"G{j + 1:02d}",
                full_name=_name(rng),
                email=f"gestor{j + 1:02d}@demo.campo.co",
                lon=float(lon),
                lat=float(lat),
                base_address=BOGOTA.address_of(lon, lat, on_calle=True),
                travel_mode=mode,
                daily_capacity=capacity,
                shift_start=time(7, 30) if early else time(8, 0),
                shift_end=time(16, 30) if early else time(17, 0),
                skills=("alto_monto",) if rng.random() < 0.3 else (),
            )
        )
    return DemoPortfolio(cases=cases, agents=agents)


def delete_tenant(session: Session, slug: str) -> bool:
    """Remove a tenant and all its rows (owner session). ``False`` if it did not exist."""
    tenant_id = session.scalar(select(Tenant.id).where(Tenant.slug == slug))
    if tenant_id is None:
        return False
    for table in reversed(tenant_tables()):
        session.execute(text(f"DELETE FROM {table} WHERE tenant_id = :t"), {"t": tenant_id})  # noqa: S608
    session.execute(delete(Tenant).where(Tenant.id == tenant_id))
    return True


def seed(*, portfolio: DemoPortfolio | None = None, reset: bool = True) -> ImportReport | None:
    """Create the ``demo`` tenant with its staff, agents and portfolio.

    Returns ``None`` when the tenant exists and ``reset`` is false (seeding is then a no-op).
    """
    portfolio = portfolio or generate()
    with owner_session() as session:
        exists = session.scalar(select(Tenant.id).where(Tenant.slug == DEMO_SLUG)) is not None
        if exists and not reset:
            return None
        delete_tenant(session, DEMO_SLUG)
        tenant_id = create_tenant(session, slug=DEMO_SLUG, name="Cobranzas Demo S.A.S.").id
    with tenant_session(tenant_id) as session:
        for email, name, role in (
            ("admin@demo.campo.co", "Administración Demo", "admin"),
            ("despacho@demo.campo.co", "Despacho Demo", "dispatcher"),
            ("analista@demo.campo.co", "Analítica Demo", "analyst"),
        ):
            create_user(
                session,
                tenant_id=tenant_id,
                email=email,
                full_name=name,
                role=role,
                password=DEMO_PASSWORD,
            )
        for agent in portfolio.agents:
            user = create_user(
                session,
                tenant_id=tenant_id,
                email=agent.email,
                full_name=agent.full_name,
                role="agent",
                password=DEMO_PASSWORD,
            )
            create_agent(
                session,
                tenant_id=tenant_id,
                user_id=user.id,
                code=agent.code,
                lon=agent.lon,
                lat=agent.lat,
                base_address=agent.base_address,
                travel_mode=agent.travel_mode,
                shift_start=agent.shift_start,
                shift_end=agent.shift_end,
                daily_capacity=agent.daily_capacity,
                skills=list(agent.skills),
            )
        return import_cases(session, tenant_id=tenant_id, source=portfolio.cases_csv())
