"""Ley 2300 de 2023 through the API: plans refused or trimmed, check-ins judged, the ledger
imported with its bad rows named, and the compliance report worked out by hand."""

from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import text

from geo.core.db import tenant_session
from geo.routing.jobs import create_plan, run_plan
from geo.routing.planner import law_held, plan_inputs
from tests.conftest import World
from tests.gps import BOGOTA, on_shift
from tests.visits import check_in, fix_at

pytestmark = pytest.mark.clock


def _import(client: TestClient, world: World, csv: str) -> Any:
    answer = client.post(
        "/v1/contacts/import",
        files={"file": ("contactos.csv", csv.encode(), "text/csv")},
        headers=world.auth("dispatcher"),
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _working_hours(world: World, start: str = "06:00", end: str = "22:00") -> None:
    """The agent works long days, so that only the law decides what is outside hours."""
    with tenant_session(world.tenant_id) as session:
        session.execute(
            text("UPDATE agents SET shift_start = :s, shift_end = :e"), {"s": start, "e": end}
        )


def test_a_sunday_or_a_holiday_plan_is_refused(client: TestClient, world: World) -> None:
    for day, why in (("2026-11-29", "domingo"), ("2026-12-08", "Inmaculada Concepción")):
        answer = client.post(
            "/v1/plans", json={"date": day, "budget_s": 1}, headers=world.auth("dispatcher")
        )
        assert answer.status_code == 422, answer.text
        error = answer.json()["error"]
        assert error["fields"][0]["field"] == "date"
        assert why in error["message"]
        assert "Ley 2300" in error["message"]
    saturday = client.post(
        "/v1/plans", json={"date": "2026-11-28", "budget_s": 1}, headers=world.auth("dispatcher")
    )
    assert saturday.status_code == 202, saturday.text


def test_a_debtor_called_this_morning_is_left_out_of_today_s_plan_with_the_reason(
    client: TestClient, world: World
) -> None:
    report = _import(
        client,
        world,
        "channel,contacted_at,source,document_type,document_number,result\n"
        "llamada,2026-11-25 09:10,call_center,CC,1001,contacto\n",
    )
    assert (report["stored"], report["errors"]) == (1, [])
    day = date(2026, 11, 25)
    with tenant_session(world.tenant_id) as session:
        inputs = plan_inputs(session, world.tenant_id, day)
        held = law_held(inputs)
        plan = create_plan(session, tenant_id=world.tenant_id, day=day, budget_s=1, queue=False)
    assert held == {world.case_ids[0]: "second_contact_today"}
    assert run_plan(world.tenant_id, plan.id).status == "done"
    with tenant_session(world.tenant_id) as session:
        reasons = dict(
            session.execute(
                text("SELECT case_id, reason FROM plan_unplanned WHERE plan_id = :p"),
                {"p": plan.id},
            )
            .tuples()
            .all()
        )
        planned = set(
            session.scalars(
                text("SELECT case_id FROM plan_stops WHERE plan_id = :p"), {"p": plan.id}
            )
        )
    assert reasons[world.case_ids[0]] == "second_contact_today"
    assert world.case_ids[0] not in planned
    # The next day a visit would be a second channel that week; the next week, it is fine.
    with tenant_session(world.tenant_id) as session:
        held = law_held(plan_inputs(session, world.tenant_id, day + timedelta(days=1)))
        assert held == {world.case_ids[0]: "second_channel_this_week"}
        assert law_held(plan_inputs(session, world.tenant_id, day + timedelta(days=7))) == {}


def test_a_saturday_plan_keeps_every_visit_inside_8_to_15(client: TestClient, world: World) -> None:
    _working_hours(world)
    with tenant_session(world.tenant_id) as session:
        plan = create_plan(
            session, tenant_id=world.tenant_id, day=date(2026, 11, 28), budget_s=1, queue=False
        )
    assert run_plan(world.tenant_id, plan.id).status == "done"
    with tenant_session(world.tenant_id) as session:
        stops = session.execute(
            text("SELECT starts_at, etd FROM plan_stops WHERE plan_id = :p"), {"p": plan.id}
        ).all()
    assert stops
    for start, end in stops:
        assert start.astimezone(BOGOTA).time() >= datetime(2026, 1, 1, 8).time()
        assert end.astimezone(BOGOTA) <= datetime(2026, 11, 28, 15, tzinfo=BOGOTA)


def _check_in_at(client: TestClient, world: World, at: datetime) -> Any:
    answer = check_in(client, world, fix_at(at, 5))
    assert answer.status_code == 201, answer.text
    return answer.json()


def _codes(answer: Any) -> set[str]:
    return {r["code"] for r in answer["reasons"]}


def test_a_check_in_outside_the_legal_hours_is_rejected_to_the_minute(
    client: TestClient, world: World
) -> None:
    _working_hours(world)
    day = on_shift().date()
    late = datetime(day.year, day.month, day.day, 19 if day.weekday() < 5 else 15, 0, tzinfo=BOGOTA)
    refused = _check_in_at(client, world, late + timedelta(seconds=-20))
    assert refused["verdict"] == "rejected"
    assert "outside_contact_hours" in _codes(refused)
    assert any("fuera del horario" in r["message"] for r in refused["reasons"])
    on_time = _check_in_at(client, world, late - timedelta(minutes=2))
    assert "outside_contact_hours" not in _codes(on_time), on_time


def test_a_second_contact_the_same_day_is_rejected_or_reviewed_by_policy(
    client: TestClient, world: World
) -> None:
    at = on_shift()
    _import(
        client,
        world,
        "channel,contacted_at,source,case_ref\n"  # another company's visit, an hour earlier
        f"visita,{(at - timedelta(hours=1)).isoformat()},agencia_externa,ALFA-1\n",
    )
    first = _check_in_at(client, world, at)
    assert first["verdict"] == "rejected"
    assert _codes(first) == {"second_contact_today"}
    with tenant_session(world.tenant_id) as session:
        session.execute(
            text('UPDATE tenants SET settings = settings || \'{"contact_breach": "review"}\'')
        )
    again = _check_in_at(client, world, at + timedelta(minutes=30))
    assert again["verdict"] == "review"
    assert _codes(again) == {"second_contact_today"}


def test_a_second_channel_in_the_same_week_is_refused(client: TestClient, world: World) -> None:
    at = on_shift()
    monday = at - timedelta(days=at.weekday())
    earlier = monday if at.weekday() > 0 else at - timedelta(hours=2)
    _import(
        client,
        world,
        "channel,contacted_at,source,document_type,document_number\n"
        f"sms,{earlier.replace(hour=9).isoformat()},sms_gateway,CC,1001\n",
    )
    answer = _check_in_at(client, world, at)
    assert answer["verdict"] == "rejected"
    assert "second_channel_this_week" in _codes(answer)
    assert any("SMS" in r["message"] for r in answer["reasons"])


def test_an_agreed_schedule_is_honoured(client: TestClient, world: World) -> None:
    _working_hours(world, "06:00", "23:00")
    debtor = _debtor_of(world, world.case_ids[0])
    answer = client.put(
        f"/v1/debtors/{debtor}/contact-preferences",
        json={"authorised_channels": ["visit"], "agreed_hours": "lun-sáb 19:30-21:30"},
        headers=world.auth("dispatcher"),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["agreed_hours"]["mon"] == ["19:30:00", "21:30:00"]
    day = on_shift().date()
    evening = datetime(day.year, day.month, day.day, 20, 0, tzinfo=BOGOTA)
    assert "outside_contact_hours" not in _codes(_check_in_at(client, world, evening))
    with tenant_session(world.tenant_id) as session:
        session.execute(text("UPDATE visits SET verdict = 'rejected', status = 'rejected'"))
    morning = _check_in_at(client, world, evening.replace(hour=10))
    assert "outside_contact_hours" in _codes(morning)  # the legal hours no longer apply to them
    bad = client.put(
        f"/v1/debtors/{debtor}/contact-preferences",
        json={"authorised_channels": ["visit", "fax"], "agreed_hours": None},
        headers=world.auth("dispatcher"),
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "authorised_channels"
    bad = client.put(
        f"/v1/debtors/{debtor}/contact-preferences",
        json={"authorised_channels": None, "agreed_hours": "lun 21:00-20:00"},
        headers=world.auth("dispatcher"),
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["fields"][0]["field"] == "agreed_hours"


def _debtor_of(world: World, case_id: int) -> int:
    with tenant_session(world.tenant_id) as session:
        return int(
            session.execute(
                text("SELECT debtor_id FROM cases WHERE id = :c"), {"c": case_id}
            ).scalar_one()
        )


def test_a_debtor_with_no_authorisation_is_not_visited_unless_the_tenant_says_so(
    client: TestClient, world: World
) -> None:
    with tenant_session(world.tenant_id) as session:
        session.execute(text("UPDATE debtors SET authorised_channels = NULL"))
    answer = _check_in_at(client, world, on_shift())
    assert answer["verdict"] == "rejected"
    assert _codes(answer) == {"no_authorisation_on_record"}
    with tenant_session(world.tenant_id) as session:
        held = law_held(plan_inputs(session, world.tenant_id, date(2026, 11, 25)))
        assert set(held.values()) == {"no_authorisation_on_record"}
        session.execute(
            text("UPDATE tenants SET settings = settings || '{\"contact_unauthorised\": true}'")
        )
    with tenant_session(world.tenant_id) as session:
        assert law_held(plan_inputs(session, world.tenant_id, date(2026, 11, 25))) == {}


def test_the_ledger_import_names_its_bad_rows_and_stores_a_repeat_once(
    client: TestClient, world: World, other_world: World
) -> None:
    future = (datetime.now(BOGOTA) + timedelta(days=2)).strftime("%Y-%m-%d %H:%M")
    csv = (
        "channel,contacted_at,source,document_type,document_number,case_ref,agent_code,external_id\n"
        "llamada,2026-11-24 10:00,call_center,CC,1001,,,c-1\n"  # 2: good
        "fax,2026-11-24 10:00,call_center,CC,1001,,,c-2\n"  # 3: no such channel
        f"sms,{future},sms_gateway,CC,1001,,,c-3\n"  # 4: in the future
        "sms,ayer,sms_gateway,CC,1001,,,c-4\n"  # 5: not a date
        "sms,2026-11-24 10:00,,CC,1001,,,c-5\n"  # 6: no source
        "sms,2026-11-24 10:00,sms_gateway,CC,999,,,c-6\n"  # 7: no such debtor
        "sms,2026-11-24 10:00,sms_gateway,,,BETA-1,,c-7\n"  # 8: another tenant's case
        "sms,2026-11-24 10:00,sms_gateway,CC,1001,ALFA-2,,c-8\n"  # 9: not this debtor's case
        "sms,2026-11-24 10:00,sms_gateway,,,ALFA-2,G9,c-9\n"  # 10: no such agent
        "sms,2026-11-24 10:00,sms_gateway,CC,,,,c-10\n"  # 11: half a document
        "carta,2026-11-24T10:00:00-05:00,correo_fisico,,,ALFA-3,G1,\n"  # 12: good
    )
    report = _import(client, world, csv)
    assert report["stored"] == 2
    assert [(e["line"], e["column"]) for e in report["errors"]] == [
        (3, "channel"),
        (4, "contacted_at"),
        (5, "contacted_at"),
        (6, "source"),
        (7, "document_number"),
        (8, "case_ref"),
        (9, "case_ref"),
        (10, "agent_code"),
        (11, "document_number"),
    ]
    again = _import(client, world, csv)
    assert (again["stored"], again["already_stored"]) == (0, 2)
    listed = client.get(
        "/v1/contacts",
        params={"date_from": "2026-11-24", "date_to": "2026-11-24"},
        headers=world.auth("analyst"),
    ).json()
    assert sorted(c["channel"] for c in listed) == ["call", "letter"]
    assert (
        client.get(
            "/v1/contacts",
            params={"date_from": "2026-11-24", "date_to": "2026-11-24"},
            headers=other_world.auth("analyst"),
        ).json()
        == []
    )
    json_answer = client.post(
        "/v1/contacts",
        json={
            "contacts": [
                {"channel": "whatsapp", "source": "bot", "case_ref": "ALFA-1"},
                {
                    "channel": "whatsapp",
                    "source": "bot",
                    "case_ref": 7,
                    "contacted_at": "2026-11-24 10:00",
                },
            ]
        },
        headers=world.auth("dispatcher"),
    ).json()
    assert json_answer["stored"] == 0
    assert [(e["line"], e["column"]) for e in json_answer["errors"]] == [
        (1, "contacted_at"),
        (2, "case_ref"),
    ]
    not_objects = client.post(
        "/v1/contacts", json={"contacts": [7]}, headers=world.auth("dispatcher")
    )
    assert not_objects.status_code == 422


# Worked out by hand: the week of Monday 23 November 2026, and the Friday before it.
REPORT_CSV = """channel,contacted_at,source,document_type,document_number
sms,2026-11-20 10:00,sms_gateway,CE,77
llamada,2026-11-23 09:00,call_center,CC,1001
llamada,2026-11-23 15:00,call_center,CC,1001
llamada,2026-11-24 10:00,call_center,CC,1001
llamada,2026-11-25 20:00,call_center,CC,1001
sms,2026-11-26 10:00,sms_gateway,CC,1001
llamada,2026-11-24 10:00,call_center,CC,1002
llamada,2026-11-23 10:00,call_center,CE,77
sms,2026-11-28 14:59,sms_gateway,CE,77
sms,2026-11-29 06:00,sms_gateway,CE,77
"""
# Ana (CC 1001, visit and call authorised): Mon 9:00 fine; Mon 15:00 second contact that day;
# Tue fine; Wed 20:00 after hours; Thu SMS a second channel that week, and not authorised.
# Luis (CC 1002, visits only): the call is not an authorised channel.
# Marta (CE 77, visit and SMS): Friday's SMS is the week before (not reported, no breach);
# Monday's call is not authorised; Saturday 14:59 SMS is inside the hours but a second
# channel that week; Sunday's SMS is outside the hours, its channel already used that week.
EXPECTED = [
    ("2026-11-23 10:00", "channel_not_authorised", "CE 77"),
    ("2026-11-23 15:00", "second_contact_today", "CC 1001"),
    ("2026-11-24 10:00", "channel_not_authorised", "CC 1002"),
    ("2026-11-25 20:00", "outside_contact_hours", "CC 1001"),
    ("2026-11-26 10:00", "channel_not_authorised", "CC 1001"),
    ("2026-11-26 10:00", "second_channel_this_week", "CC 1001"),
    ("2026-11-28 14:59", "second_channel_this_week", "CE 77"),
    ("2026-11-29 06:00", "outside_contact_hours", "CE 77"),
]


def test_the_compliance_report_as_worked_out_by_hand(client: TestClient, world: World) -> None:
    assert _import(client, world, REPORT_CSV)["stored"] == 10
    period = {"date_from": "2026-11-23", "date_to": "2026-11-29"}
    report = client.get(
        "/v1/contacts/compliance", params=period, headers=world.auth("analyst")
    ).json()
    assert (report["contacts"], report["breaches"]) == (9, 8)
    found = [(r["contacted_at"], r["rule"], r["document"]) for r in report["rows"]]
    assert sorted(found) == sorted(EXPECTED)
    assert report["by_source"] == {"call_center": 4, "sms_gateway": 4}
    assert report["by_rule"] == {
        "Canal no autorizado": 3,
        "Fuera del horario permitido": 2,
        "Más de un canal en la semana": 2,
        "Más de un contacto en el día": 1,
    }
    counts = client.get(
        "/v1/contacts/compliance",
        params={**period, "table": "contacts"},
        headers=world.auth("analyst"),
    ).json()["rows"]
    ana_monday = [r for r in counts if r["document"] == "CC 1001" and r["day"] == "2026-11-23"]
    assert ana_monday == [
        {
            "debtor_id": ana_monday[0]["debtor_id"],
            "document": "CC 1001",
            "day": "2026-11-23",
            "week": "2026-W48",
            "channel": "call",
            "contacts": 2,
        }
    ]
    sheet = client.get(
        "/v1/contacts/compliance",
        params={**period, "format": "xlsx"},
        headers=world.auth("analyst"),
    )
    rows = list(load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert len(rows) == 9
    assert rows[0][:2] == ("contacted_at", "rule")
    csv = client.get(
        "/v1/contacts/compliance", params={**period, "format": "csv"}, headers=world.auth("analyst")
    )
    assert csv.text.count("\r\n") == 9
    kpis = client.get(
        "/v1/analytics/kpis",
        params={**period, "kpi": "compliance_breaches"},
        headers=world.auth("analyst"),
    ).json()["rows"]
    assert [(k["numerator"], k["denominator"]) for k in kpis] == [(8, 9)]


def test_what_is_said_to_a_relative_never_includes_the_debt(
    client: TestClient, world: World
) -> None:
    visit_id = _check_in_at(client, world, on_shift())["visit_id"]
    outcome = {
        "id": str(uuid.uuid4()),
        "outcome": "promise_to_pay",
        "questionnaire": {"key": "cobranza", "version": 1},
        "answers": {
            "contact_made": "si",
            "who_answered": "familiar",
            "promise_amount": 100000,
            "promise_date": (on_shift().date() + timedelta(days=3)).isoformat(),
        },
    }
    refused = client.post(
        f"/v1/visits/{visit_id}/outcome", json=outcome, headers=world.auth("agent")
    )
    assert refused.status_code == 422, refused.text
    assert "answers.who_answered" in refused.text
    outcome["outcome"] = "contact"
    outcome["answers"] = {
        "contact_made": "si",
        "who_answered": "tercero",
        "non_payment_reason": "desempleo",
    }
    stored = client.post(
        f"/v1/visits/{visit_id}/outcome", json=outcome, headers=world.auth("agent")
    )
    assert stored.status_code == 200, stored.text
    with tenant_session(world.tenant_id) as session:
        answers = session.execute(
            text("SELECT answers FROM visits WHERE id = :v"), {"v": visit_id}
        ).scalar_one()
    assert answers == {"contact_made": "si", "who_answered": "tercero"}
