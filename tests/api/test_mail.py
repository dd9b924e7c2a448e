"""The completion e-mail through a real SMTP server on loopback (aiosmtpd), down and back."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.core.db import owner_session, tenant_session
from geo.core.settings import Settings
from geo.visits.mail import deliver_due
from tests.api.conftest import Inbox
from tests.conftest import World, start_worker, stop
from tests.gps import on_shift
from tests.visits import check_in, fix_at

pytestmark = pytest.mark.clock


def _complete_a_visit(client: TestClient, world: World) -> int:
    with tenant_session(world.tenant_id) as session:
        session.execute(
            text(
                "UPDATE tenants SET settings = settings || "
                '\'{"notify_emails": ["jefe@alfa.co", "riesgo@alfa.co"]}\''
            )
        )
    visit_id = check_in(client, world, fix_at(on_shift(), 12)).json()["visit_id"]
    due = (on_shift().date() + timedelta(days=7)).isoformat()
    answer = client.post(
        f"/v1/visits/{visit_id}/outcome",
        headers=world.auth("agent"),
        json={
            "id": str(uuid.uuid4()),
            "outcome": "promise_to_pay",
            "questionnaire": {"key": "cobranza", "version": 1},
            "answers": {
                "contact_made": "si",
                "who_answered": "titular",
                "promise_amount": 350000,
                "promise_date": due,
                "comments": "Pagará <b>el lunes</b>",
            },
            "checkout_at": on_shift(minute=18).isoformat(),
        },
    )
    assert answer.json()["notified"] is True, answer.text
    return int(visit_id)


def _outbox() -> Any:
    with owner_session() as session:
        return session.execute(
            text("SELECT status, attempts, next_attempt_at, last_error FROM outbox")
        ).one()


def test_the_email_waits_for_the_server_then_arrives_once(
    client: TestClient, world: World, smtp: tuple[Inbox, Controller, Settings]
) -> None:
    inbox, controller, settings = smtp
    _complete_a_visit(client, world)
    now = datetime.now(UTC)
    down = deliver_due(now=now, settings=settings)  # nothing listens on the port yet
    assert (down.sent, down.failed) == (0, 1)
    status, attempts, next_attempt, error = _outbox()
    assert (status, attempts) == ("pending", 1)
    assert next_attempt > now
    assert "Connection" in error or "refused" in error.lower()
    controller.start()
    assert deliver_due(now=now, settings=settings).sent == 0  # still backing off
    assert deliver_due(now=now + timedelta(minutes=5), settings=settings).sent == 1
    assert deliver_due(now=now + timedelta(hours=2), settings=settings).sent == 0  # never twice
    assert _outbox()[0] == "sent"
    ((rcpts, message),) = inbox.received
    assert sorted(rcpts) == ["jefe@alfa.co", "riesgo@alfa.co"]
    assert message["Subject"] == "Visita promesa de pago: Ana Gómez (ALFA-1)"
    assert message["From"] == "campo <avisos@campo.test>"
    plain = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    for expected in (
        "Gestor: agent alfa (G1)",
        "Ana Gómez — CC 1001",
        "Calle 72 # 10-34",
        "Resultado: Promesa de pago",
        "Marcación: aceptada, a 12 m (geocerca de 75 m)",
        "Tiempo en sitio: 18 min",
        "- Monto prometido (COP): 350000",
        "openstreetmap.org/?mlat=4.65",
    ):
        assert expected in plain, expected
    assert "Pagará &lt;b&gt;el lunes&lt;/b&gt;" in html  # answers are escaped in HTML
    assert "<table>" in html


def test_no_recipients_no_message(client: TestClient, world: World) -> None:
    visit_id = check_in(client, world, fix_at(on_shift(), 12)).json()["visit_id"]
    answer = client.post(
        f"/v1/visits/{visit_id}/outcome",
        headers=world.auth("agent"),
        json={
            "id": str(uuid.uuid4()),
            "outcome": "no_one_home",
            "questionnaire": {"key": "cobranza", "version": 1},
            "answers": {"contact_made": "no"},
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["notified"] is False
    with owner_session() as session:
        assert session.scalar(text("SELECT count(*) FROM outbox")) == 0


def _poisoned_then_good(client: TestClient, world: World, other_world: World) -> None:
    """Two messages: the first world's cannot be made (a row from an older version with a
    header-breaking recipient), the other world's can."""
    _complete_a_visit(client, world)
    with owner_session() as session:
        session.execute(
            text("UPDATE outbox SET recipients = ARRAY[:r]"), {"r": "x@y.co\r\nBcc: z@q.co"}
        )
    _complete_a_visit(client, other_world)


def test_a_poisoned_message_waits_and_the_next_one_is_delivered(
    client: TestClient,
    world: World,
    other_world: World,
    smtp: tuple[Inbox, Controller, Settings],
) -> None:
    inbox, controller, settings = smtp
    controller.start()
    _poisoned_then_good(client, world, other_world)
    report = deliver_due(now=datetime.now(UTC) + timedelta(minutes=1), settings=settings)
    assert (report.sent, report.failed) == (1, 1)
    with owner_session() as session:
        states = dict(session.execute(text("SELECT tenant_id, status FROM outbox")).tuples().all())
    assert states == {world.tenant_id: "pending", other_world.tenant_id: "sent"}
    assert len(inbox.received) == 1


def test_a_debtor_name_with_a_line_break_makes_a_one_line_subject(
    client: TestClient, world: World, smtp: tuple[Inbox, Controller, Settings]
) -> None:
    inbox, controller, settings = smtp
    controller.start()
    with tenant_session(world.tenant_id) as session:
        session.execute(
            text("UPDATE debtors SET full_name = :n"), {"n": "Ana\r\nBcc: intruso@mal.co"}
        )
    _complete_a_visit(client, world)
    assert deliver_due(now=datetime.now(UTC) + timedelta(minutes=1), settings=settings).sent == 1
    recipients, message = inbox.received[0]
    assert sorted(recipients) == ["jefe@alfa.co", "riesgo@alfa.co"]
    assert message["Subject"].startswith("Visita promesa de pago: Ana Bcc: intruso@mal.co")
    assert message["Bcc"] is None


def test_each_message_is_a_job_a_worker_sends_at_once_and_a_poisoned_one_fails_alone(
    client: TestClient,
    world: World,
    other_world: World,
    smtp: tuple[Inbox, Controller, Settings],
) -> None:
    inbox, controller, settings = smtp
    controller.start()
    _poisoned_then_good(client, world, other_world)
    with owner_session() as session:
        jobs = session.execute(
            text("SELECT args FROM procrastinate_jobs WHERE task_name = 'send_email'")
        ).scalars()
        assert sorted(j["tenant_id"] for j in jobs) == sorted(
            [world.tenant_id, other_world.tenant_id]
        )
    worker = start_worker(
        CAMPO_SMTP_HOST=settings.smtp_host,
        CAMPO_SMTP_PORT=str(settings.smtp_port),
        CAMPO_MAIL_FROM=settings.mail_from,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with owner_session() as session:
                attempts = dict(
                    session.execute(text("SELECT tenant_id, attempts FROM outbox")).tuples().all()
                )
            if all(attempts.values()):
                break
            time.sleep(0.2)
    finally:
        stop(worker)
    with owner_session() as session:
        states = dict(session.execute(text("SELECT tenant_id, status FROM outbox")).tuples().all())
        jobs = session.execute(
            text("SELECT status FROM procrastinate_jobs WHERE task_name = 'send_email'")
        ).scalars()
        assert list(jobs) == ["succeeded", "succeeded"]  # the failure is the outbox's to retry
    assert states == {world.tenant_id: "pending", other_world.tenant_id: "sent"}
    ((recipients, _message),) = inbox.received
    assert sorted(recipients) == ["jefe@alfa.co", "riesgo@alfa.co"]
