"""The field kit for ODK Collect: the visit form passes ODK Validate, the day file lists the
published route first, and both change when what they show changes."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pyxform.validators.odk_validate import check_xform
from sqlalchemy import text

from geo.contacts.rules import next_contact_day
from geo.core.db import tenant_session
from geo.core.tenant_settings import parse_settings
from geo.fieldkit.day_file import day_file
from geo.fieldkit.visit_form import visit_xform
from geo.routing.jobs import create_plan, run_plan
from geo.routing.publishing import publish_plan
from geo.visits.questionnaires import DEFAULT_KEY, ensure_default_questionnaire, list_questionnaires
from geo.visits.xlsform import MAX_PHOTO_PIXELS
from tests.conftest import World

pytestmark = pytest.mark.clock


def test_the_visit_form_passes_odk_validate(world: World, tmp_path: Path) -> None:
    with tenant_session(world.tenant_id) as session:
        ensure_default_questionnaire(session, tenant_id=world.tenant_id)
        (questionnaire,) = [
            q
            for q in list_questionnaires(session, tenant_id=world.tenant_id)
            if q.key == DEFAULT_KEY
        ]
        xml = visit_xform(session, tenant_id=world.tenant_id, questionnaire=questionnaire)
    assert 'id="campo-cobranza"' in xml
    assert "jr://file-csv/cases.csv" in xml
    assert "distance(" in xml
    assert "odk:location-min-interval" in xml or "location-min-interval" in xml
    assert f'orx:max-pixels="{MAX_PHOTO_PIXELS}"' in xml  # photos scaled to what campo keeps
    assert shutil.which("java"), "ODK Validate needs java (scripts/setup installs it)"
    path = tmp_path / "visita.xml"
    path.write_text(xml, encoding="utf-8")
    check_xform(str(path))


def test_the_day_file_lists_the_published_route_first(client: TestClient, world: World) -> None:
    today = datetime.now(ZoneInfo("America/Bogota")).date()
    day = next_contact_day(today, settings=parse_settings({}), step=1)  # plans skip Sundays
    with tenant_session(world.tenant_id) as session:
        before = day_file(session, tenant_id=world.tenant_id, agent_id=world.agent_id, day=day)
        session.execute(  # both located cases to the agent; ALFA-2 gets a place too
            text(
                "UPDATE addresses SET point = ST_SetSRID(ST_MakePoint(-74.06, 4.66), 4326) "
                "WHERE id = (SELECT address_id FROM cases WHERE external_ref = 'ALFA-2')"
            )
        )
        session.execute(
            text(
                "UPDATE cases SET assigned_agent_id = :a, assigned_at = now() "
                "WHERE external_ref = 'ALFA-2'"
            ),
            {"a": world.agent_id},
        )
    rows = list(csv.DictReader(io.StringIO(before)))
    assert [r["name"] for r in rows] == [str(world.case_ids[0])]
    assert rows[0]["label"].startswith("Ana Gómez · Calle 72")  # not on a route: no stop number
    assert (rows[0]["lat"], rows[0]["lon"], rows[0]["radius"]) == (
        "4.6565",
        "-74.0589",
        "75.0",
    )  # as stored
    with tenant_session(world.tenant_id) as session:
        plan = create_plan(session, tenant_id=world.tenant_id, day=day, budget_s=1, queue=False)
    run_plan(world.tenant_id, plan.id)
    with tenant_session(world.tenant_id) as session:
        admin = session.execute(text("SELECT id FROM users WHERE role = 'admin'")).scalar_one()
        publish_plan(session, tenant_id=world.tenant_id, plan_id=plan.id, user_id=admin)
        after = day_file(session, tenant_id=world.tenant_id, agent_id=world.agent_id, day=day)
        stops = list(
            session.scalars(
                text("SELECT case_id FROM plan_stops WHERE plan_id = :p ORDER BY seq"),
                {"p": plan.id},
            )
        )
    rows = list(csv.DictReader(io.StringIO(after)))
    assert after != before
    assert [int(r["name"]) for r in rows[: len(stops)]] == stops
    assert rows[0]["label"].startswith("1 · ")
    # The app's day bundle follows the same order.
    bundle = client.get(
        "/v1/me/day", params={"date": day.isoformat()}, headers=world.auth("agent")
    ).json()
    assert [c["id"] for c in bundle["cases"]][: len(stops)] == stops
    # ...with each stop's place and estimated arrival, which the web app shows.
    routed = bundle["cases"][: len(stops)]
    assert [c["stop"]["seq"] for c in routed] == list(range(1, len(stops) + 1))
    assert all(c["stop"]["eta"] <= c["stop"]["etd"] for c in routed)
    assert all(c["stop"] is None for c in bundle["cases"][len(stops) :])
