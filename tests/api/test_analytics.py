"""KPIs, contact hours and windows over HTTP, their CSV and XLSX exports, the payments import,
and an analyst's own database login that sees one tenant only."""

from __future__ import annotations

import csv
import io

import psycopg
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import text
from sqlalchemy.engine import make_url

from geo.analytics.logins import create_analyst_login, drop_analyst_login
from geo.core.db import libpq_url, owner_session
from geo.core.settings import get_settings
from tests.analytics import FIRST, LAST, PASSWORD, Portfolio, build_portfolio

pytestmark = pytest.mark.clock

PERIOD = {"date_from": FIRST.isoformat(), "date_to": LAST.isoformat()}


def _auth(client: TestClient, portfolio: Portfolio, role: str) -> dict[str, str]:
    answer = client.post(
        "/v1/auth/token",
        data={
            "username": f"{role}@{portfolio.slug}.co",
            "password": PASSWORD,
            "client_id": portfolio.slug,
        },
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture
def portfolio() -> Portfolio:
    return build_portfolio()


def test_kpis_as_json_csv_and_xlsx(client: TestClient, portfolio: Portfolio) -> None:
    auth = _auth(client, portfolio, "analyst")
    answer = client.get("/v1/analytics/kpis", params={**PERIOD, "group_by": "agent"}, headers=auth)
    assert answer.status_code == 200, answer.text
    rows = {(r["kpi"], r["group"]): r for r in answer.json()["rows"]}
    assert rows["contactability", "A1"]["value"] == pytest.approx(2 / 3)
    assert rows["recovery_rate", "A1"]["label"] == "Tasa de recuperación"

    exported = client.get("/v1/analytics/kpis", params={**PERIOD, "format": "csv"}, headers=auth)
    assert exported.headers["content-type"].startswith("text/csv")
    assert "kpis_2026-10-05_2026-10-18.csv" in exported.headers["content-disposition"]
    table = {r["kpi"]: r for r in csv.DictReader(io.StringIO(exported.text))}
    assert float(table["contactability"]["value"]) == pytest.approx(0.8)
    assert table["contactability"]["group"] == ""

    book = client.get(
        "/v1/analytics/kpis",
        params={**PERIOD, "format": "xlsx", "kpi": ["retention", "promises_kept"]},
        headers=auth,
    )
    sheet = load_workbook(io.BytesIO(book.content)).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == ("kpi", "label", "unit", "group", "numerator", "denominator", "value")
    assert [(r[0], r[4], r[5], r[6]) for r in values[1:]] == [
        ("promises_kept", 1, 2, 0.5),
        ("retention", 1, 2, 0.5),
    ]


def test_bad_parameters_name_their_field(client: TestClient, portfolio: Portfolio) -> None:
    auth = _auth(client, portfolio, "dispatcher")
    cases = (
        ({**PERIOD, "group_by": "city"}, "group_by"),
        ({**PERIOD, "date_to": "2026-10-01"}, "date_to"),
        ({**PERIOD, "date_from": "05/10/2026"}, "date_from"),
        ({**PERIOD, "kpi": "happiness"}, "kpi"),
        ({**PERIOD, "format": "pdf"}, "format"),
    )
    for params, field in cases:
        answer = client.get("/v1/analytics/kpis", params=params, headers=auth)
        assert answer.status_code == 422, (params, answer.text)
        assert field in [f["field"] for f in answer.json()["error"]["fields"]], answer.text


def test_agents_may_not_read_analytics(client: TestClient, portfolio: Portfolio) -> None:
    answer = client.post(
        "/v1/auth/token",
        data={
            "username": f"A1@{portfolio.slug}.co",
            "password": "x" * 12,
            "client_id": portfolio.slug,
        },
    )
    auth = {"Authorization": f"Bearer {answer.json()['access_token']}"}
    assert client.get("/v1/analytics/kpis", params=PERIOD, headers=auth).status_code == 403


def test_contact_hours_and_windows(client: TestClient, portfolio: Portfolio) -> None:
    auth = _auth(client, portfolio, "analyst")
    answer = client.get(
        "/v1/analytics/contact-hours", params={**PERIOD, "by_zone": True}, headers=auth
    )
    cells = {(c["zone"], c["dow"], c["hour"]): c for c in answer.json()["rows"]}
    # Tuesday 10-06 at 09:30 in Norte: one attempt, no one home.
    assert cells["Norte", 2, 9]["attempts"] == 1
    assert cells["Norte", 2, 9]["contacts"] == 0
    assert cells["Norte", 2, 9]["ci_high"] == pytest.approx(0.7935, abs=1e-4)
    assert sum(c["attempts"] for c in cells.values()) == 5
    windows = client.get(
        "/v1/analytics/suggested-windows", params={**PERIOD, "format": "csv"}, headers=auth
    )
    assert windows.status_code == 200
    assert windows.text.startswith("zone_id,zone,dow,start_hour,end_hour")  # too few to suggest


def test_payments_import(client: TestClient, portfolio: Portfolio) -> None:
    auth = _auth(client, portfolio, "dispatcher")
    body = (
        "case_ref,paid_on,amount_cop,reference\n"
        "C1,2026-10-09,250000,R-1\n"
        "C9,2026-10-09,1000,\n"
        "C2,9/10/2026,1000,\n"
        "C2,2026-10-09,-5,\n"
        "C2,2999-01-01,5,\n"
        "C4,2026-10-16,300000,\n"
    )
    files = {"file": ("pagos.csv", body, "text/csv")}
    assert client.post("/v1/payments/import", files=files, headers=auth).status_code == 403
    admin = _admin(client, portfolio)
    first = client.post("/v1/payments/import", files=files, headers=admin).json()
    assert first["stored"] == 2
    assert [(e["line"], e["column"]) for e in first["errors"]] == [
        (3, "case_ref"),
        (4, "paid_on"),
        (5, "amount_cop"),
        (6, "paid_on"),
    ]
    again = client.post("/v1/payments/import", files=files, headers=admin).json()
    assert (again["stored"], again["already_stored"]) == (0, 2)
    # P2 (300,000 due 10-15, grace 3 days) is now kept by the 10-16 payment.
    kept = client.get(
        "/v1/analytics/kpis", params={**PERIOD, "kpi": "promises_kept"}, headers=auth
    ).json()["rows"]
    assert kept[0]["numerator"] == 2
    other = build_portfolio("otra")  # a guessed reference of another tenant's case
    with owner_session() as session:
        session.execute(
            text(
                "UPDATE cases SET external_ref = 'OTRA-5' WHERE tenant_id = :t "
                "AND external_ref = 'C5'"
            ),
            {"t": other.tenant_id},
        )
    guessed = client.post(
        "/v1/payments/import",
        headers=admin,
        files={
            "file": ("x.csv", "case_ref,paid_on,amount_cop\nOTRA-5,2026-10-09,1000\n", "text/csv")
        },
    )
    assert guessed.json()["stored"] == 0
    assert guessed.json()["errors"][0]["reason"] == "no case with this reference"
    huge = "case_ref,paid_on,amount_cop\nC1,2026-10-09," + "9" * 200_000 + "\n"  # over csv's limit
    binary = client.post(
        "/v1/payments/import", headers=admin, files={"file": ("x.csv", huge, "text/csv")}
    )
    assert binary.status_code == 422
    assert binary.json()["error"]["fields"][0]["field"] == "file"
    missing = client.post(
        "/v1/payments/import", headers=admin, files={"file": ("x.csv", "case,amount\n", "text/csv")}
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["fields"][0]["field"] == "case_ref"


def _admin(client: TestClient, portfolio: Portfolio) -> dict[str, str]:
    from geo.accounts.users import create_user

    with owner_session() as session:
        create_user(
            session,
            tenant_id=portfolio.tenant_id,
            email=f"admin@{portfolio.slug}.co",
            full_name="admin",
            role="admin",
            password=PASSWORD,
        )
    return _auth(client, portfolio, "admin")


def test_analyst_login_sees_its_tenant_only(portfolio: Portfolio) -> None:
    other = build_portfolio("otra")
    with owner_session() as session:
        password = create_analyst_login(
            session, tenant_id=portfolio.tenant_id, role_name="ana_test_sql"
        )
    try:
        owner = make_url(get_settings().owner_url)
        url = libpq_url(
            owner.set(username="ana_test_sql", password=password).render_as_string(
                hide_password=False
            )
        )
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("ana_test_sql",)
            assert conn.execute("SELECT count(*) FROM analytics.visits").fetchone() == (7,)
            conn.execute(f"SET app.tenant_id = '{other.tenant_id}'")  # trying the other one
            seen = conn.execute("SELECT DISTINCT case_id FROM analytics.cases").fetchall()
            assert len(seen) == 5
            assert conn.execute("SELECT count(*) FROM analytics.payments").fetchone() == (4,)
            for table in ("cases", "visits", "gps_fixes", "analyst_logins"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(f"SELECT 1 FROM public.{table} LIMIT 1")  # noqa: S608
    finally:
        with owner_session() as session:
            drop_analyst_login(session, role_name="ana_test_sql")
