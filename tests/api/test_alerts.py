"""Alerts over a scripted day, with the clock under the test's control: each rule raised,
not repeated while it holds, and resolved when it ends; served to staff, tenant by tenant."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.alerts.rules import evaluate_alerts
from geo.core.db import tenant_session
from geo.core.settings import Settings
from geo.visits.mail import deliver_due
from tests.api.conftest import Inbox
from tests.conftest import World
from tests.gps import app_fix, on_shift
from tests.visits import check_in, fix_at, sync

pytestmark = pytest.mark.clock

V1 = {"key": "cobranza", "version": 1}


def _evaluate(world: World, now: datetime) -> list[int]:
    with tenant_session(world.tenant_id) as session:
        return evaluate_alerts(session, tenant_id=world.tenant_id, now=now).raised


def _open(client: TestClient, world: World) -> dict[str, str]:
    answer = client.get("/v1/alerts", headers=world.auth("dispatcher"))
    assert answer.status_code == 200, answer.text
    return {a["rule"]: a["message"] for a in answer.json()}


def test_an_agent_gone_silent_and_a_dying_battery(client: TestClient, world: World) -> None:
    ten = on_shift()  # 10:00, two hours into the shift, no fix yet
    assert _evaluate(world, ten)
    assert _evaluate(world, ten + timedelta(minutes=1)) == []  # raised once, not every minute
    assert set(_open(client, world)) == {"silent_agent"}
    assert "no envía posición GPS" in _open(client, world)["silent_agent"]
    sync(client, world, fixes=[app_fix(ten + timedelta(minutes=2), battery_pct=9.0)])
    assert _evaluate(world, ten + timedelta(minutes=3))  # the low battery, new
    assert set(_open(client, world)) == {"low_battery"}  # and the silence over
    assert "9 %" in _open(client, world)["low_battery"]
    charged = app_fix(ten + timedelta(minutes=4), battery_pct=9.0, charging=True)
    sync(client, world, fixes=[charged])
    _evaluate(world, ten + timedelta(minutes=5))
    assert _open(client, world) == {}
    # Silent again 40 minutes later: a new occurrence, raised again.
    assert _evaluate(world, ten + timedelta(minutes=45))
    everything = client.get("/v1/alerts?open=false", headers=world.auth("dispatcher")).json()
    assert sorted(a["rule"] for a in everything) == ["low_battery", "silent_agent", "silent_agent"]
    assert sum(a["resolved_at"] is None for a in everything) == 1


def test_a_rejected_check_in_until_one_at_the_door(client: TestClient, world: World) -> None:
    rejected = check_in(client, world, fix_at(on_shift(), 800))
    assert rejected.json()["verdict"] == "rejected"
    _evaluate(world, on_shift(minute=1))
    assert "Marcación rechazada" in _open(client, world)["rejected_checkin"]
    accepted = check_in(client, world, fix_at(on_shift(minute=5), 10))
    assert accepted.json()["verdict"] == "accepted"
    _evaluate(world, on_shift(minute=6))
    assert "rejected_checkin" not in _open(client, world)


def _promise(client: TestClient, world: World, due: str) -> None:
    visit = check_in(client, world, fix_at(on_shift(), 10)).json()["visit_id"]
    body: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "questionnaire": V1,
        "checkout_at": on_shift(minute=25).isoformat(),
        "outcome": "promise_to_pay",
        "answers": {
            "contact_made": "si",
            "who_answered": "titular",
            "promise_amount": 350000,
            "promise_date": due,
        },
    }
    answer = client.post(f"/v1/visits/{visit}/outcome", json=body, headers=world.auth("agent"))
    assert answer.status_code == 200, answer.text


def test_a_promise_due_tomorrow_with_nothing_paid(
    client: TestClient, world: World, other_world: World
) -> None:
    evening = on_shift(minute=8 * 60)  # 18:00, after the shift: only the promise can alert
    _promise(client, world, (evening.date() + timedelta(days=1)).isoformat())
    _evaluate(world, evening)
    message = _open(client, world)["unpaid_promise"]
    assert "$ 350.000" in message
    assert "vence mañana" in message
    assert client.get("/v1/alerts", headers=other_world.auth("dispatcher")).json() == []
    assert client.get("/v1/alerts", headers=world.auth("agent")).status_code == 403
    with tenant_session(world.tenant_id) as session:
        session.execute(
            text(
                "INSERT INTO payments (tenant_id, case_id, paid_on, amount_cop) "
                "VALUES (:t, :c, :d, 350000)"
            ),
            {"t": world.tenant_id, "c": world.case_ids[0], "d": evening.date()},
        )
    _evaluate(world, evening + timedelta(minutes=1))
    assert _open(client, world) == {}


def test_each_raised_alert_is_e_mailed_to_the_supervisors_once(
    client: TestClient, world: World, smtp: tuple[Inbox, Controller, Settings]
) -> None:
    inbox, controller, settings = smtp
    controller.start()
    answer = client.patch(
        "/v1/tenant/settings",
        json={"alert_emails": ["jefa@alfa.co"]},
        headers=world.auth("admin"),
    )
    assert answer.status_code == 200, answer.text
    ten = on_shift()
    _evaluate(world, ten)
    _evaluate(world, ten + timedelta(minutes=1))  # still open: no second e-mail
    assert deliver_due(now=datetime.now(UTC) + timedelta(minutes=1), settings=settings).sent == 1
    ((to, message),) = inbox.received
    assert to == ["jefa@alfa.co"]
    assert message["Subject"].startswith("campo · Gestor sin señal: El gestor")
    body = message.get_body(("plain",))
    assert body is not None
    assert "no envía posición GPS" in body.get_content()
