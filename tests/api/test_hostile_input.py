"""Hostile input, replayed: each is a clear 4xx (or a rejected item) and nothing stored is lost."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import World
from tests.gps import on_shift, stored_fixes
from tests.visits import check_in, fix_at, sync

V1 = {"key": "cobranza", "version": 1}
EDGE_TIMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1999-12-31T00:00:00Z"]


@pytest.mark.parametrize("stamp", EDGE_TIMES)
def test_a_fix_at_the_edge_of_time_is_one_rejected_item(
    client: TestClient, world: World, stamp: str
) -> None:
    good = fix_at(on_shift(), 5)
    bad = {**fix_at(on_shift(minute=1), 5), "recorded_at": stamp}
    answer = sync(client, world, fixes=[good, bad])
    assert [f["status"] for f in answer["fixes"]] == ["stored", "rejected"]
    assert answer["fixes"][1]["field"] == "recorded_at"
    assert [str(f["id"]) for f in stored_fixes(world.tenant_id)] == [good["id"]]


def test_bad_check_ins_and_outcomes_in_a_batch_sink_nothing_else(
    client: TestClient, world: World
) -> None:
    start = on_shift()
    fixes = [fix_at(start + timedelta(seconds=30 * k), 300 - 40 * k) for k in range(8)]
    checkin = {
        "id": str(uuid.uuid4()),
        "case_id": world.case_ids[0],
        "fix": fixes[-1],
        "checked_in_at": (start + timedelta(minutes=4)).isoformat(),
    }
    edge = {**checkin, "id": str(uuid.uuid4()), "checked_in_at": "0001-01-01T00:00:00+14:00"}
    huge = {
        "id": str(uuid.uuid4()),
        "checkin_id": checkin["id"],
        "questionnaire": V1,
        "outcome": "promise_to_pay",
        "checkout_at": (start + timedelta(minutes=20)).isoformat(),
        "answers": {
            "contact_made": "si",
            "who_answered": "titular",
            "promise_amount": 1e15,
            "promise_date": (start.date() + timedelta(days=5)).isoformat(),
        },
    }
    late = {**huge, "id": str(uuid.uuid4()), "checkout_at": "9999-12-31T23:59:59-14:00"}
    answer = sync(client, world, fixes=fixes, checkins=[checkin, edge], outcomes=[huge, late])
    assert {f["status"] for f in answer["fixes"]} == {"stored"}
    assert [c["status"] for c in answer["checkins"]] == ["done", "rejected"]
    assert answer["checkins"][1]["field"] == "checked_in_at"
    assert [o["status"] for o in answer["outcomes"]] == ["rejected", "rejected"]
    assert answer["outcomes"][0]["field"] == "answers.promise_amount"
    assert answer["outcomes"][1]["field"] == "checkout_at"
    assert len(stored_fixes(world.tenant_id)) == 8


def _define(client: TestClient, world: World, constraint: str) -> Any:
    """A one-question questionnaire whose answer must meet ``constraint``."""
    question = {"name": "q", "type": "integer", "constraint": constraint}
    definition = {"title": "x", "questions": [question]}
    return client.post(
        "/v1/questionnaires",
        json={"key": "hostile", "definition": definition},
        headers=world.auth("admin"),
    )


@pytest.mark.parametrize(
    "constraint",
    [
        "(" * 200 + "1" + ")" * 200,
        "not " * 2000 + "true",
        "-" * 3000 + "1",
        " + ".join(["1"] * 5000),
        "9" * 600001 + " * " + "9" * 600001,
        "12345678901234567890 > 1",
    ],
    ids=["parentheses", "not", "minus", "sum", "big-product", "long-number"],
)
def test_expressions_past_their_bounds_are_refused_at_definition(
    client: TestClient, world: World, constraint: str
) -> None:
    answer = _define(client, world, constraint)
    assert answer.status_code in {413, 422}, answer.text[:300]
    if answer.status_code == 422:
        assert answer.json()["error"]["fields"][0]["field"].startswith("definition.questions.0")


@pytest.mark.parametrize(
    ("constraint", "value"),
    [
        ("today() + 100000000 > today()", 1),
        (". * . * . * . > 0", 99999999),
        ("today() + . > today()", 2_900_000),
    ],
)
def test_expressions_that_overflow_when_answered_are_a_422_naming_the_answer(
    client: TestClient, world: World, constraint: str, value: int
) -> None:
    made = _define(client, world, constraint)
    if made.status_code == 422:  # refused where it was defined: as good
        return
    assert made.status_code == 201, made.text
    visit = check_in(client, world, fix_at(on_shift(), 10)).json()["visit_id"]
    answer = client.post(
        f"/v1/visits/{visit}/outcome",
        json={
            "id": str(uuid.uuid4()),
            "questionnaire": {"key": "hostile", "version": 1},
            "outcome": "contact",
            "checkout_at": on_shift(minute=20).isoformat(),
            "answers": {"q": value},
        },
        headers=world.auth("agent"),
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["fields"][0]["field"] == "answers.q"


@pytest.mark.parametrize(
    "query",
    [
        "date=9999-12-31",
        "date=0001-01-01",
        "date=0",
        "date=2026-1-1",
        "start=9999-12-31T23:00:00%2B00:00&end=9999-12-31T23:59:59-14:00",
        "start=0001-01-01T00:00:00%2B14:00&end=0001-01-02T00:00:00%2B00:00",
    ],
)
def test_days_and_times_at_the_edges_are_422(client: TestClient, world: World, query: str) -> None:
    for path in (f"/v1/agents/{world.agent_id}/trail", f"/maps/agents/{world.agent_id}/trail"):
        answer = client.get(f"{path}?{query}", headers=world.auth("dispatcher"))
        assert answer.status_code == 422, (path, query, answer.text)
        assert answer.json()["error"]["fields"][0]["field"] in {"date", "start", "end"}


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "0"])
def test_a_plan_for_a_day_out_of_range_is_refused(
    client: TestClient, world: World, day: str
) -> None:
    answer = client.post("/v1/plans", json={"date": day}, headers=world.auth("dispatcher"))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["fields"][0]["field"] == "date"
    assert client.get("/v1/plans", headers=world.auth("dispatcher")).json() == []


def test_an_online_check_in_at_year_one_is_a_422(client: TestClient, world: World) -> None:
    fix = {**fix_at(on_shift(), 5), "recorded_at": "0001-01-01T00:00:00+14:00"}
    body: dict[str, Any] = {"id": str(uuid.uuid4()), "case_id": world.case_ids[0], "fix": fix}
    answer = client.post("/v1/visits/check-in", json=body, headers=world.auth("agent"))
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"][0]["field"] == "fix.recorded_at"


def test_payment_files_that_would_book_to_the_wrong_case_are_refused(
    client: TestClient, world: World
) -> None:
    shifted = "case_ref,paid_on,case_ref,amount_cop\nALFA-1,2026-10-09,ALFA-2,1000\n"
    answer = client.post(
        "/v1/payments/import",
        files={"file": ("pagos.csv", shifted, "text/csv")},
        headers=world.auth("admin"),
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"][0]["field"] == "case_ref"
    old = "case_ref;paid_on;amount_cop\nALFA-1;0001-01-01;1000\nALFA-1;2026-10-09;1.500\n"
    mixed = client.post(
        "/v1/payments/import",
        files={"file": ("pagos.csv", old.encode("cp1252"), "text/csv")},
        headers=world.auth("admin"),
    ).json()
    assert mixed["stored"] == 1
    assert [(e["line"], e["column"]) for e in mixed["errors"]] == [(2, "paid_on")]
