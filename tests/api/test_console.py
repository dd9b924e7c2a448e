"""The dispatcher's console in a real headless Chromium against a real server: signing in and
out, today's board with the feed arriving by itself, reviewing a doubtful check-in, the CSRF
token, and values from data shown escaped. Screenshots go to ``tests/artifacts/``."""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import gpxpy
import httpx2
import psycopg
import pytest
from fastapi.testclient import TestClient
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.expected_conditions import staleness_of
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import text

from geo.accounts.agents import create_agent
from geo.accounts.users import create_user
from geo.contacts.rules import next_contact_day
from geo.core.db import libpq_url, tenant_session
from geo.core.tenant_settings import parse_settings
from geo.dispatch.notices import APPLICATION_NAME, MAX_STREAMS_PER_USER
from geo.routing.jobs import create_plan, run_plan
from tests.api.conftest import ARTIFACTS
from tests.conftest import OWNER_URL, PASSWORD, World
from tests.gps import on_shift
from tests.server import Server
from tests.visits import check_in, fix_at


def _wait_for(browser: webdriver.Chrome, css: str, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := browser.find_elements(By.CSS_SELECTOR, css)):
        assert time.monotonic() < deadline, f"{css} never appeared on {browser.current_url}"
        time.sleep(0.2)
    return found[0]


def _text_of(browser: webdriver.Chrome, element_id: str) -> str:
    """An element's text read in one step: htmx may swap it between a lookup and a read."""
    found = browser.execute_script(
        "const e = document.getElementById(arguments[0]); return e ? e.innerText : '';",
        element_id,
    )
    return str(found)


def _submit(browser: webdriver.Chrome, button: Any) -> None:
    """Click a form's button and wait for the next page (not a status of the page before)."""
    page = browser.find_element(By.TAG_NAME, "html")
    button.click()
    WebDriverWait(browser, 20).until(staleness_of(page))


def _shot(browser: webdriver.Chrome, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / name))


def _errors(browser: webdriver.Chrome) -> list[str]:
    return [
        entry["message"]
        for entry in browser.get_log("browser")  # type: ignore[no-untyped-call]
        if entry["level"] == "SEVERE" and "tile.openstreetmap.org" not in entry["message"]
    ]


def _sign_in(browser: webdriver.Chrome, server: Server, world: World, role: str) -> None:
    browser.get(f"{server.url}/health")
    browser.delete_all_cookies()
    _errors(browser)  # drop what the /health page logged (its missing favicon)
    browser.get(f"{server.url}/")
    assert browser.current_url.endswith("/entrar")
    browser.find_element(By.ID, "organizacion").send_keys(world.slug)
    browser.find_element(By.ID, "correo").send_keys(f"{role}@{world.slug}.co")
    browser.find_element(By.ID, "clave").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()


def _in_review(client: TestClient, world: World) -> int:
    """A check-in the rules send to review (outside the fence by less than the GPS error),
    its visit then closed with an outcome."""
    answer = check_in(client, world, fix_at(on_shift(days_ago=2), 100, accuracy_m=45)).json()
    assert answer["verdict"] == "review", answer
    outcome = client.post(
        f"/v1/visits/{answer['visit_id']}/outcome",
        json={
            "id": str(uuid.uuid4()),
            "outcome": "no_one_home",
            "questionnaire": {"key": "cobranza", "version": 1},
            "answers": {"contact_made": "no"},
        },
        headers=world.auth("agent"),
    )
    assert outcome.status_code == 200, outcome.text
    return int(answer["visit_id"])


@pytest.mark.clock  # today's board
def test_a_dispatcher_signs_in_watches_the_feed_reviews_and_signs_out(
    browser: webdriver.Chrome, server: Server, client: TestClient, world: World
) -> None:
    with tenant_session(world.tenant_id) as session:  # a name that would be markup if not escaped
        session.execute(
            text("UPDATE debtors SET full_name = :n WHERE document_number = '1001'"),
            {"n": "<img src=x onerror=alert(1)> Ana"},
        )
    review_id = _in_review(client, world)
    _sign_in(browser, server, world, "dispatcher")
    _wait_for(browser, "#gestores")
    assert browser.current_url.endswith("/tablero")
    assert "G1" in browser.find_element(By.ID, "gestores").text
    _wait_for(browser, "iframe.map")
    _shot(browser, "console-board.png")
    # A check-in posted through the API shows in the feed, the page not reloaded.
    browser.execute_script("window.campoMark = 'same page';")
    WebDriverWait(browser, 20).until(lambda b: _text_of(b, "feed-estado") == "en vivo")
    fresh = check_in(client, world, fix_at(on_shift(), 10)).json()
    row = _wait_for(browser, f"#visita-{fresh['visit_id']}")
    assert browser.execute_script("return window.campoMark;") == "same page"
    assert "<img src=x onerror=alert(1)> Ana" in row.text  # shown as text, never as markup
    assert "aceptada" in row.text
    _shot(browser, "console-feed.png")
    # The review queue: the doubtful check-in, its map and reasons; approve with a comment.
    browser.get(f"{server.url}/revision")
    browser.find_element(By.CSS_SELECTOR, f"a[href='/revision/{review_id}']").click()
    _wait_for(browser, "iframe.map")
    assert "precisión del GPS" in browser.find_element(By.TAG_NAME, "main").text
    _shot(browser, "console-review.png")
    browser.find_element(By.ID, "comentario").send_keys("El GPS del barrio es malo; sí estuvo.")
    browser.find_element(By.CSS_SELECTOR, "button[value=approved]").click()
    # Both pages have a heading: wait for the redirect itself, not for an element.
    WebDriverWait(browser, 20).until(lambda b: b.current_url.endswith("/revision"))
    _wait_for(browser, "main h1")
    assert "No hay marcaciones esperando revisión" in browser.find_element(By.TAG_NAME, "main").text
    with tenant_session(world.tenant_id) as session:
        decided = session.execute(
            text("SELECT review_decision, review_comment, reviewed_by FROM visits WHERE id = :v"),
            {"v": review_id},
        ).one()
        audit = session.execute(
            text("SELECT action, subject, after FROM audit_log WHERE tenant_id = :t"),
            {"t": world.tenant_id},
        ).one()
    assert decided.review_decision == "approved"
    assert decided.review_comment == "El GPS del barrio es malo; sí estuvo."
    assert (audit.action, audit.subject) == ("review", f"visit:{review_id}")
    assert audit.after["review_decision"] == "approved"
    assert _errors(browser) == [], _errors(browser)
    # Signing out ends the session: the board sends to sign-in again.
    browser.find_element(By.CSS_SELECTOR, "form[action='/salir'] button").click()
    _wait_for(browser, "#organizacion")
    browser.get(f"{server.url}/tablero")
    assert browser.current_url.endswith("/entrar")


def test_an_agent_lands_on_its_own_page_never_on_staff_pages(
    browser: webdriver.Chrome, server: Server, world: World
) -> None:
    _sign_in(browser, server, world, "agent")
    WebDriverWait(browser, 20).until(lambda b: b.current_url.endswith("/agente"))
    _wait_for(browser, "main h1")
    for staff_page in ("/tablero", "/revision"):
        browser.get(f"{server.url}{staff_page}")
        assert browser.current_url.endswith("/agente"), staff_page


def _post_sign_in(http: httpx2.Client, world: World, email: str, password: str) -> Any:
    """The sign-in form, fetched and posted with its CSRF token."""
    page = http.get("/entrar")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None
    form = {"organizacion": world.slug, "correo": email, "clave": password}
    return http.post("/entrar", data={**form, "csrf": token.group(1)})


@contextmanager
def _session(server: Server, world: World, role: str = "dispatcher") -> Iterator[httpx2.Client]:
    """An HTTP client signed in through the sign-in form, as a browser is."""
    with httpx2.Client(base_url=server.url, follow_redirects=False, timeout=10) as http:
        signed = _post_sign_in(http, world, f"{role}@{world.slug}.co", PASSWORD)
        assert signed.status_code == 303, signed.text
        cookie = signed.headers["set-cookie"]
        assert "HttpOnly" in cookie
        assert "samesite=strict" in cookie.lower()
        yield http


def test_forms_without_their_csrf_token_are_refused(
    server: Server, client: TestClient, world: World
) -> None:
    review_id = _in_review(client, world)
    with _session(server, world) as http:
        forged = http.post(
            f"/revision/{review_id}", data={"decision": "approved", "comentario": "ok"}
        )
        assert forged.status_code == 403
        wrong = http.post(
            f"/revision/{review_id}",
            data={"decision": "approved", "comentario": "ok", "csrf": "0" * 64},
        )
        assert wrong.status_code == 403
        page = http.get(f"/revision/{review_id}")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        empty = http.post(
            f"/revision/{review_id}",
            data={"decision": "approved", "comentario": "  ", "csrf": csrf.group(1)},
        )
        assert empty.status_code == 422
        assert "comentario" in empty.text
    with tenant_session(world.tenant_id) as session:
        assert (
            session.execute(
                text("SELECT review_decision FROM visits WHERE id = :v"), {"v": review_id}
            ).scalar_one()
            is None
        )
    with httpx2.Client(base_url=server.url, follow_redirects=False, timeout=10) as http:
        http.get("/entrar")
        no_token = http.post(
            "/entrar",
            data={"organizacion": world.slug, "correo": "dispatcher@alfa.co", "clave": PASSWORD},
        )
        assert no_token.status_code == 403
        assert "campo_token" not in no_token.headers.get("set-cookie", "")


def test_a_wrong_password_says_so_without_saying_which_part(server: Server, world: World) -> None:
    with httpx2.Client(base_url=server.url, follow_redirects=False, timeout=10) as http:
        wrong = _post_sign_in(http, world, "dispatcher@alfa.co", "no es")
        assert wrong.status_code == 401
        assert "Organización, correo o contraseña incorrectos" in wrong.text
        assert http.get("/tablero").headers["location"] == "/entrar"


def test_a_dispatcher_filters_cases_and_assigns_the_selection(
    browser: webdriver.Chrome, server: Server, world: World, other_world: World
) -> None:
    _sign_in(browser, server, world, "dispatcher")
    _wait_for(browser, "#gestores")
    browser.get(f"{server.url}/casos")
    _wait_for(browser, "#casos")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#casos tbody input[type=checkbox]")) == 3
    browser.find_element(By.ID, "q").send_keys("pérez")  # Luis Pérez, any case, accents kept
    _submit(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/casos'] button"))
    boxes = browser.find_elements(By.CSS_SELECTOR, "#casos tbody input[type=checkbox]")
    assert len(boxes) == 1
    assert "ALFA-2" in browser.find_element(By.ID, "casos").text
    _wait_for(browser, "iframe.map")
    _shot(browser, "console-cases.png")
    boxes[0].click()
    browser.find_element(By.CSS_SELECTOR, "button[value=asignar]").click()
    _wait_for(browser, "p[role=status]")
    assert "1 caso(s) actualizados" in browser.find_element(By.TAG_NAME, "main").text
    assert "G1" in browser.find_element(By.ID, "casos").text  # the filter kept, now assigned
    with tenant_session(world.tenant_id) as session:
        assigned = session.execute(
            text("SELECT assigned_agent_id FROM cases WHERE external_ref = 'ALFA-2'")
        ).scalar_one()
        audited = session.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'assign'")
        ).scalar_one()
    assert (assigned, audited) == (world.agent_id, 1)
    assert _errors(browser) == [], _errors(browser)
    # Another tenant's case ids in the form change nothing there.
    with tenant_session(other_world.tenant_id) as session:
        theirs = list(session.scalars(text("SELECT id FROM cases ORDER BY id")))
    with _session(server, world) as http:
        page = http.get("/casos")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        answer = http.post(
            "/casos/asignar",
            data={
                "caso": [str(i) for i in theirs],
                "gestor": str(world.agent_id),
                "accion": "asignar",
                "csrf": csrf.group(1),
            },
        )
        assert answer.status_code == 303
        assert answer.headers["location"].endswith("hecho=0")
        forged = http.post("/casos/asignar", data={"caso": [str(theirs[0])], "accion": "quitar"})
        assert forged.status_code == 403
        no_agent = http.post(  # assigning to nobody is refused, not read as unassigning
            "/casos/asignar",
            data={"caso": [str(world.case_ids[1])], "accion": "asignar", "csrf": csrf.group(1)},
        )
        assert no_agent.status_code == 422
        assert no_agent.json()["error"]["fields"][0]["field"] == "gestor"
    with tenant_session(other_world.tenant_id) as session:
        untouched = session.execute(
            text("SELECT count(*) FROM cases WHERE assigned_agent_id IS NOT NULL")
        ).scalar_one()
    assert untouched == 1  # beta's own first case, as its world was built


def _draw_rectangle_around(browser: webdriver.Chrome, lat: float, lon: float) -> None:
    """In the map of the page, with the rectangle tool, a box of 60 px around a point."""
    frame = _wait_for(browser, "iframe.map")
    browser.switch_to.frame(frame)
    try:
        map_element = _wait_for(browser, ".folium-map")
        _wait_for(browser, ".leaflet-draw-draw-rectangle").click()
        x, y = browser.execute_script(
            "var m = window[arguments[0]]; var p = m.latLngToContainerPoint([arguments[1], "
            "arguments[2]]); var s = m.getSize(); return [p.x - s.x / 2, p.y - s.y / 2];",
            map_element.get_attribute("id"),
            lat,
            lon,
        )
        ActionChains(browser).move_to_element_with_offset(
            map_element, int(x) - 30, int(y) - 30
        ).click_and_hold().move_by_offset(30, 30).move_by_offset(30, 30).release().perform()
    finally:
        browser.switch_to.default_content()


def test_a_dispatcher_draws_an_area_and_assigns_every_case_in_it(
    browser: webdriver.Chrome, server: Server, world: World
) -> None:
    _sign_in(browser, server, world, "dispatcher")
    _wait_for(browser, "#gestores")
    browser.get(f"{server.url}/casos")
    _wait_for(browser, "#casos")
    assert "3 caso(s) coinciden" in browser.find_element(By.TAG_NAME, "main").text
    _draw_rectangle_around(browser, 4.6565, -74.0589)  # ALFA-1's address; the others have none
    deadline = time.monotonic() + 10
    zona = browser.find_element(By.CSS_SELECTOR, "form[action='/casos'] input[name=zona]")
    while not zona.get_attribute("value"):
        assert time.monotonic() < deadline, "the drawn area never reached the form"
        time.sleep(0.2)
    assert "Área dibujada" in browser.find_element(By.CSS_SELECTOR, "[data-drawn-status]").text
    _submit(browser, browser.find_element(By.CSS_SELECTOR, "form[action='/casos'] button"))
    assert "1 caso(s) coinciden" in browser.find_element(By.TAG_NAME, "main").text
    assert [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#casos tbody a")] == ["ALFA-1"]
    _wait_for(browser, "iframe.map")
    _shot(browser, "console-cases-area.png")
    _submit(
        browser,
        browser.find_element(
            By.CSS_SELECTOR, "form[action='/casos/asignar-filtrados'] button[value=quitar]"
        ),
    )
    assert "1 caso(s) actualizados" in browser.find_element(By.TAG_NAME, "main").text
    assert "1 caso(s) coinciden" in browser.find_element(By.TAG_NAME, "main").text  # area kept
    Select(browser.find_element(By.ID, "asignar-todos")).select_by_value(str(world.agent_id))
    _submit(
        browser,
        browser.find_element(
            By.CSS_SELECTOR, "form[action='/casos/asignar-filtrados'] button[value=asignar]"
        ),
    )
    with tenant_session(world.tenant_id) as session:
        changes = session.execute(
            text(
                "SELECT subject, after->>'assigned_agent_id' FROM audit_log "
                "WHERE action = 'assign' ORDER BY id"
            )
        ).all()
    alfa_1 = f"case:{world.case_ids[0]}"
    assert changes == [(alfa_1, None), (alfa_1, str(world.agent_id))]
    assert _errors(browser) == [], _errors(browser)
    # A drawn area that is not a polygon is a clear 422 naming the field, not a 500.
    with _session(server, world) as http:
        bad = http.get("/casos", params={"zona": '{"type": "Polygon", "coordinates": [[1, 2]]}'})
        assert bad.status_code == 200
        assert "no es un polígono válido" in bad.text
        page = http.get("/casos")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        refused = http.post(
            "/casos/asignar-filtrados",
            data={"zona": "[]", "accion": "quitar", "csrf": csrf.group(1)},
        )
        assert refused.status_code == 422
        assert refused.json()["error"]["fields"][0]["field"] == "zona"
    # A zone of the tenant's map filters the same way (and is offered by name).
    with tenant_session(world.tenant_id) as session:
        zone = session.execute(
            text(
                "INSERT INTO zones (tenant_id, name, kind, geom) VALUES (:t, 'Chapinero', 'area', "
                "ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(-74.0589, 4.6565), 4326), 0.01))) "
                "RETURNING id"
            ),
            {"t": world.tenant_id},
        ).scalar_one()
    with _session(server, world) as http:
        page = http.get("/casos", params={"sector": str(zone)})
    assert "Chapinero" in page.text
    assert re.search(r"<strong id=\"total\">1</strong> caso\(s\) coinciden", page.text)


def test_a_dispatcher_draws_a_geofence_and_sets_visiting_hours_on_a_case(
    browser: webdriver.Chrome, server: Server, world: World
) -> None:
    case_id = world.case_ids[0]  # ALFA-1, the located one
    _sign_in(browser, server, world, "dispatcher")
    _wait_for(browser, "#gestores")
    browser.get(f"{server.url}/casos/{case_id}")
    assert "radio de la organización" in _wait_for(browser, "#geocerca-actual").text
    _draw_rectangle_around(browser, 4.6565, -74.0589)
    status = browser.find_element(By.CSS_SELECTOR, "[data-drawn-status]")
    deadline = time.monotonic() + 10
    while "Área dibujada" not in status.text:
        assert time.monotonic() < deadline, status.text
        time.sleep(0.2)
    _submit(browser, browser.find_element(By.CSS_SELECTOR, "button[value=poligono]"))
    assert "Polígono dibujado" in browser.find_element(By.ID, "geocerca-actual").text
    _wait_for(browser, "iframe.map")
    _shot(browser, "console-case.png")
    for field, value in (("desde", "14:00"), ("hasta", "18:30")):
        box = browser.find_element(By.ID, field)
        browser.execute_script("arguments[0].value = arguments[1]", box, value)
    _submit(browser, browser.find_element(By.CSS_SELECTOR, "button[value=guardar]"))
    with tenant_session(world.tenant_id) as session:
        fence = session.execute(
            text(
                "SELECT ST_GeometryType(a.geofence), ST_Covers(a.geofence, a.point), "
                "c.visit_from::text, c.visit_until::text FROM cases c "
                "JOIN addresses a ON a.tenant_id = c.tenant_id AND a.id = c.address_id "
                "WHERE c.id = :c"
            ),
            {"c": case_id},
        ).one()
        actions = list(
            session.scalars(
                text("SELECT action FROM audit_log WHERE subject = :s ORDER BY id"),
                {"s": f"case:{case_id}"},
            )
        )
    assert tuple(fence) == ("ST_Polygon", True, "14:00:00", "18:30:00")
    assert actions == ["geofence", "update"]
    assert _errors(browser) == [], _errors(browser)
    # Hours the wrong way round: a page saying why, in Spanish, with the way back; no change.
    for field, value in (("desde", "19:00"), ("hasta", "08:00")):
        box = browser.find_element(By.ID, field)
        browser.execute_script("arguments[0].value = arguments[1]", box, value)
    browser.find_element(By.CSS_SELECTOR, "button[value=guardar]").click()
    alert = _wait_for(browser, "p[role=alert]")
    assert "No se pudo completar" in browser.find_element(By.TAG_NAME, "h1").text
    assert alert.text
    browser.find_element(By.LINK_TEXT, "Volver").click()
    _wait_for(browser, "#geocerca-actual")
    with tenant_session(world.tenant_id) as session:
        kept = session.execute(
            text("SELECT visit_from::text FROM cases WHERE id = :c"), {"c": case_id}
        ).scalar_one()
    assert kept == "14:00:00"


@pytest.mark.usefixtures("worker")  # the plan asked for from the page is computed by a worker
@pytest.mark.clock  # the day's plan, by default today
def test_a_dispatcher_plans_a_day_publishes_it_and_opens_a_route_sheet(
    browser: webdriver.Chrome, server: Server, client: TestClient, world: World
) -> None:
    today = datetime.now(ZoneInfo("America/Bogota")).date()
    day = next_contact_day(today + timedelta(days=1), settings=parse_settings({}), step=1)
    _sign_in(browser, server, world, "dispatcher")
    _wait_for(browser, "#gestores")
    browser.get(f"{server.url}/planes?fecha={day.isoformat()}")
    browser.find_element(By.ID, "planificar").click()
    deadline = time.monotonic() + 90
    while "terminado" not in (shown := _text_of(browser, "planes")):  # htmx polls
        assert time.monotonic() < deadline, shown
        time.sleep(0.5)
    browser.find_element(By.CSS_SELECTOR, "form[action$='/publicar'] button").click()
    _wait_for(browser, "#planes strong.accepted")
    assert "en vigor" in browser.find_element(By.ID, "planes").text
    _shot(browser, "console-plans.png")
    browser.find_element(By.CSS_SELECTOR, "a[href*='/hoja/']").click()
    sheet = _wait_for(browser, "#hoja")
    stops = sheet.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert stops, "the route sheet lists the agent's stops"
    assert "google.com/maps/dir/" in stops[0].find_element(
        By.LINK_TEXT, "Google Maps"
    ).get_attribute("href")
    _shot(browser, "console-route-sheet.png")
    assert _errors(browser) == [], _errors(browser)
    plan_id = int(re.search(r"/planes/(\d+)/hoja/", browser.current_url).group(1))  # type: ignore[union-attr]
    with _session(server, world) as http:
        gpx = gpxpy.parse(http.get(f"/planes/{plan_id}/gpx/{world.agent_id}").text)
    assert len(gpx.waypoints) == len(stops)
    assert gpx.tracks[0].segments[0].points
    # Reassigning a published stop's case takes it off its former agent's route.
    with tenant_session(world.tenant_id) as session:
        first = session.execute(
            text("SELECT case_id FROM plan_stops WHERE plan_id = :p ORDER BY seq LIMIT 1"),
            {"p": plan_id},
        ).scalar_one()
    moved = client.patch(
        f"/v1/cases/{first}", json={"assigned_agent_id": None}, headers=world.auth("dispatcher")
    )
    assert moved.status_code == 200, moved.text
    with tenant_session(world.tenant_id) as session:
        still = session.execute(
            text("SELECT count(*) FROM plan_stops WHERE plan_id = :p AND case_id = :c"),
            {"p": plan_id, "c": first},
        ).scalar_one()
        reason = session.execute(
            text("SELECT reason FROM plan_unplanned WHERE plan_id = :p AND case_id = :c"),
            {"p": plan_id, "c": first},
        ).scalar_one()
    assert (still, reason) == (0, "reassigned")
    # Publishing another plan of the day withdraws this one, which stays.
    with tenant_session(world.tenant_id) as session:
        other = create_plan(session, tenant_id=world.tenant_id, day=day, budget_s=1, queue=False)
    assert run_plan(world.tenant_id, other.id).status == "done"
    published = client.post(f"/v1/plans/{other.id}/publish", headers=world.auth("dispatcher"))
    assert published.status_code == 200, published.text
    with tenant_session(world.tenant_id) as session:
        rows = dict(
            session.execute(
                text("SELECT id, published_at IS NOT NULL FROM plans WHERE day = :d"), {"d": day}
            )
            .tuples()
            .all()
        )
    assert rows == {plan_id: False, other.id: True}


@pytest.mark.usefixtures("worker")
@pytest.mark.clock  # the day's plan, by default today
def test_a_dispatcher_moves_a_stop_to_another_agent_and_the_day_is_planned_around_it(
    browser: webdriver.Chrome, server: Server, world: World
) -> None:
    today = datetime.now(ZoneInfo("America/Bogota")).date()
    day = next_contact_day(today + timedelta(days=1), settings=parse_settings({}), step=1)
    with tenant_session(world.tenant_id) as session:
        user = create_user(
            session,
            tenant_id=world.tenant_id,
            email="beto@alfa.co",
            full_name="Beto Ruiz",
            role="agent",
            password=PASSWORD,
        )
        session.flush()
        second = create_agent(
            session,
            tenant_id=world.tenant_id,
            user_id=user.id,
            code="G2",
            lon=-74.06,
            lat=4.66,
            travel_mode="motorbike",
        ).id
        plan = create_plan(session, tenant_id=world.tenant_id, day=day, budget_s=1, queue=False)
    assert run_plan(world.tenant_id, plan.id).status == "done"
    with tenant_session(world.tenant_id) as session:
        case_id, agent_id = session.execute(
            text(
                "SELECT case_id, agent_id FROM plan_stops WHERE plan_id = :p ORDER BY case_id LIMIT 1"
            ),
            {"p": plan.id},
        ).one()
    other = second if agent_id == world.agent_id else world.agent_id
    _sign_in(browser, server, world, "dispatcher")
    _wait_for(browser, "#gestores")
    browser.get(f"{server.url}/planes/{plan.id}/hoja/{agent_id}")
    _wait_for(browser, "#hoja")
    assert "waze.com/ul?ll=" in browser.find_element(By.LINK_TEXT, "Waze").get_attribute("href")
    Select(browser.find_element(By.ID, f"fijar-{case_id}")).select_by_value(str(other))
    _submit(
        browser,
        browser.find_element(By.CSS_SELECTOR, f"form[action='/planes/{plan.id}/fijar'] button"),
    )
    deadline = time.monotonic() + 90
    while (
        "terminado" not in (shown := _text_of(browser, "planes"))
        or len(browser.find_elements(By.CSS_SELECTOR, "#planes form[action$='/publicar']")) < 2
    ):
        assert time.monotonic() < deadline, shown
        time.sleep(0.5)
    with tenant_session(world.tenant_id) as session:
        again = session.execute(
            text("SELECT id, options->'pins' FROM plans WHERE id <> :p"), {"p": plan.id}
        ).one()
        moved_to = session.execute(
            text("SELECT agent_id FROM plan_stops WHERE plan_id = :p AND case_id = :c"),
            {"p": again[0], "c": case_id},
        ).scalar_one()
        audited = session.execute(
            text("SELECT subject, after->>'pinned_agent_id' FROM audit_log WHERE action = 'pin'")
        ).one()
    assert again[1] == {str(case_id): other}
    assert moved_to == other
    assert audited == (f"case:{case_id}", str(other))
    assert _errors(browser) == [], _errors(browser)


def test_an_admin_changes_a_setting_and_a_bad_value_changes_nothing(
    browser: webdriver.Chrome, server: Server, world: World
) -> None:
    _sign_in(browser, server, world, "admin")
    _wait_for(browser, "#gestores")
    browser.get(f"{server.url}/ajustes")
    radius = _wait_for(browser, "#k-geofence_radius_m")
    radius.clear()
    radius.send_keys("120")
    browser.find_element(By.CSS_SELECTOR, "form[action='/ajustes'] button[type=submit]").click()
    _wait_for(browser, "p[role=status]")
    assert "1 ajuste(s) guardados" in browser.find_element(By.TAG_NAME, "main").text
    _shot(browser, "console-settings.png")
    accuracy = browser.find_element(By.ID, "k-checkin_max_accuracy_m")
    accuracy.clear()
    accuracy.send_keys("-5")  # out of range
    timezone = browser.find_element(By.ID, "k-timezone")
    timezone.clear()
    timezone.send_keys("America/Lima")
    browser.find_element(By.CSS_SELECTOR, "form[action='/ajustes'] button[type=submit]").click()
    error = _wait_for(browser, "#error-checkin_max_accuracy_m")
    assert "no válido" in error.text
    # The refused form answers 422, which the browser logs; nothing else may be logged.
    assert [e for e in _errors(browser) if "status of 422" not in e] == []
    with tenant_session(world.tenant_id) as session:
        stored = session.execute(
            text("SELECT settings FROM tenants WHERE id = :t"), {"t": world.tenant_id}
        ).scalar_one()
    assert stored.get("geofence_radius_m") == 120
    assert "timezone" not in stored  # the whole form was refused with the bad value
    assert "checkin_max_accuracy_m" not in stored
    with _session(server, world) as http:  # a dispatcher is not an admin
        assert http.get("/ajustes").headers["location"] == "/"
        refused = http.post("/ajustes", data={"geofence_radius_m": "1"})
        assert refused.status_code == 403
    with tenant_session(world.tenant_id) as session:
        assert (
            session.execute(
                text("SELECT settings FROM tenants WHERE id = :t"), {"t": world.tenant_id}
            ).scalar_one()["geofence_radius_m"]
            == 120
        )


def test_an_analyst_reads_the_reports_of_a_period(
    browser: webdriver.Chrome, server: Server, client: TestClient, world: World
) -> None:
    check_in(client, world, fix_at(on_shift(), 10))
    _sign_in(browser, server, world, "analyst")
    _wait_for(browser, "#gestores")
    day = on_shift().date()
    browser.get(f"{server.url}/informes?desde={day}&hasta={day}&agrupar=agent")
    kpis = _wait_for(browser, "#kpis")
    assert "G1" in kpis.text  # grouped by agent
    assert "Incumplimientos de la Ley 2300" in kpis.text
    assert "1 contactos, 0 incumplimientos" in browser.find_element(By.ID, "cumplimiento").text
    assert browser.find_elements(By.CSS_SELECTOR, "#horas tbody tr")
    _shot(browser, "console-reports.png")
    nav = browser.find_element(By.TAG_NAME, "nav").text
    assert "Informes" in nav
    assert "Casos" not in nav  # staff pages are not offered to an analyst
    assert _errors(browser) == [], _errors(browser)
    browser.get(f"{server.url}/informes?desde={day}&hasta=2000-01-01")
    assert "must not be before" in _wait_for(browser, "p.error").text


def test_a_case_shows_its_history_and_the_audit_log_who_changed_what(
    browser: webdriver.Chrome, server: Server, client: TestClient, world: World
) -> None:
    visit = check_in(client, world, fix_at(on_shift(), 10)).json()["visit_id"]
    client.post(
        f"/v1/visits/{visit}/outcome",
        json={
            "id": str(uuid.uuid4()),
            "outcome": "contact",
            "questionnaire": {"key": "cobranza", "version": 1},
            "answers": {"contact_made": "si", "who_answered": "titular", "comments": "<b>x</b>"},
        },
        headers=world.auth("agent"),
    )
    _sign_in(browser, server, world, "admin")
    _wait_for(browser, "#gestores")
    browser.get(f"{server.url}/casos")
    _wait_for(browser, "#casos")
    browser.find_element(By.CSS_SELECTOR, f"#caso-{world.case_ids[1]}").click()
    browser.find_element(By.CSS_SELECTOR, "button[value=asignar]").click()
    _wait_for(browser, "p[role=status]")
    browser.find_element(By.LINK_TEXT, "ALFA-1").click()
    visits = _wait_for(browser, "#visitas")
    assert "Contacto" in visits.text
    assert "comments: <b>x</b>" in visits.text  # answers shown as text
    browser.get(f"{server.url}/casos/{world.case_ids[1]}")
    changes = _wait_for(browser, "#cambios")
    assert "asignación" in changes.text
    assert "admin alfa" in changes.text
    browser.get(f"{server.url}/auditoria")
    table = _wait_for(browser, "#auditoria")
    assert f"case:{world.case_ids[1]}" in table.text
    _shot(browser, "console-audit.png")
    assert _errors(browser) == [], _errors(browser)


def test_an_admin_adds_an_agent_registers_its_phone_with_a_qr_and_takes_access_away(
    browser: webdriver.Chrome, server: Server, world: World
) -> None:
    _sign_in(browser, server, world, "admin")
    _wait_for(browser, "#gestores")
    browser.get(f"{server.url}/personas")
    _wait_for(browser, "#personas")
    for field, value in (
        ("nuevo-correo", "Carla@Alfa.co"),
        ("nuevo-nombre", "Carla <b>Díaz</b>"),
        ("nuevo-codigo", "G7"),
        ("nuevo-lat", "4.65"),
        ("nuevo-lon", "-74.08"),
    ):
        browser.find_element(By.ID, field).send_keys(value)
    Select(browser.find_element(By.ID, "nuevo-rol")).select_by_value("agent")
    browser.find_element(By.CSS_SELECTOR, "form[action='/personas'] button").click()
    shown = _wait_for(browser, "#una-vez")
    password = shown.find_elements(By.CSS_SELECTOR, "td code")[1].text  # shown once
    assert len(password) >= 16
    assert "<b>" in browser.find_element(By.TAG_NAME, "h1").text  # escaped, not bold
    with httpx2.Client(base_url=server.url) as http:
        token = http.post(
            "/v1/auth/token",
            data={"username": "carla@alfa.co", "password": password, "client_id": world.slug},
        )
    assert token.status_code == 200, token.text
    with tenant_session(world.tenant_id) as session:
        agent_id, user_id = session.execute(
            text("SELECT id, user_id FROM agents WHERE code = 'G7'")
        ).one()
    browser.get(f"{server.url}/personas")
    row = _wait_for(browser, f"#persona-{user_id}")
    Select(row.find_element(By.NAME, "app")).select_by_value("owntracks")
    row.find_element(
        By.CSS_SELECTOR, f"form[action='/gestores/{agent_id}/dispositivos'] button"
    ).click()
    shown = _wait_for(browser, "#una-vez")
    assert shown.find_element(By.TAG_NAME, "svg")  # the QR code
    link = shown.find_element(By.PARTIAL_LINK_TEXT, "owntracks:///config?inline=").text
    configuration = json.loads(base64.b64decode(link.split("inline=", 1)[1]))
    assert configuration["_type"] == "configuration"
    assert configuration["mode"] == 3
    assert configuration["url"].endswith("/owntracks")
    _shot(browser, "console-device-qr.png")
    # The phone set up from the code is accepted by campo's OwnTracks endpoint.
    with httpx2.Client(base_url=server.url) as http:
        sent = http.post(
            "/owntracks",
            auth=(configuration["username"], configuration["password"]),
            headers={
                "X-Limit-U": configuration["username"],
                "X-Limit-D": configuration["deviceId"],
            },
            json={
                "_type": "location",
                "lat": 4.65,
                "lon": -74.08,
                "tst": int(time.time()),
                "acc": 8,
            },
        )
    assert sent.status_code == 200, sent.text
    # Taking the agent off the field and deactivating the user: its token stops working.
    browser.get(f"{server.url}/personas")
    row = _wait_for(browser, f"#persona-{user_id}")
    row.find_element(
        By.CSS_SELECTOR, f"form[action='/personas/{user_id}'] button[value=desactivar]"
    ).click()
    _wait_for(browser, "p[role=status]")
    with httpx2.Client(base_url=server.url) as http:
        me = http.get("/v1/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.status_code == 401
    with tenant_session(world.tenant_id) as session:
        actions = list(
            session.scalars(
                text("SELECT action FROM audit_log WHERE subject = :s ORDER BY id"),
                {"s": f"user:{user_id}"},
            )
        )
    assert actions == ["create", "update"]
    # A phone for ODK Collect: its code holds Collect's settings, pointing at its form server.
    with _session(server, world, "admin") as http:
        page = http.get("/personas")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        shown = http.post(
            f"/gestores/{world.agent_id}/dispositivos",
            data={"app": "odk", "csrf": csrf.group(1)},
        )
    assert shown.status_code == 200
    assert "<svg" in shown.text
    assert re.search(r"/openrosa/key/[A-Za-z0-9_-]{40,}", shown.text)
    assert shown.headers["cache-control"] == "no-store"
    # An admin cannot lock themselves out.
    with _session(server, world, "admin") as http:
        page = http.get("/personas")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        with tenant_session(world.tenant_id) as session:
            admin_id = session.execute(
                text("SELECT id FROM users WHERE role = 'admin' ORDER BY id LIMIT 1")
            ).scalar_one()
        refused = http.post(
            f"/personas/{admin_id}", data={"accion": "desactivar", "csrf": csrf.group(1)}
        )
        assert refused.status_code == 409
    assert _errors(browser) == [], _errors(browser)


def test_people_change_through_the_api_too_audited_and_tenant_private(
    client: TestClient, world: World, other_world: World
) -> None:
    admin = world.auth("admin")
    with tenant_session(world.tenant_id) as session:
        dispatcher = session.execute(
            text("SELECT id FROM users WHERE role = 'dispatcher'")
        ).scalar_one()
    renamed = client.patch(f"/v1/users/{dispatcher}", json={"full_name": "Dora"}, headers=admin)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["full_name"] == "Dora"
    reset = client.post(f"/v1/users/{dispatcher}/password-reset", headers=admin)
    assert reset.status_code == 200
    signed_in = client.post(
        "/v1/auth/token",
        data={
            "username": f"dispatcher@{world.slug}.co",
            "password": reset.json()["password"],
            "client_id": world.slug,
        },
    )
    assert signed_in.status_code == 200
    moved = client.patch(
        f"/v1/agents/{world.agent_id}",
        json={"shift_start": "07:00", "shift_end": "15:00", "daily_capacity": 12},
        headers=admin,
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["shift_start"], moved.json()["daily_capacity"]) == ("07:00:00", 12)
    half = client.patch(f"/v1/agents/{world.agent_id}", json={"shift_end": "16:00"}, headers=admin)
    assert half.status_code == 422
    # Another tenant's user or agent, guessed by id: not found, nothing changed there.
    theirs = client.patch(
        f"/v1/agents/{other_world.agent_id}", json={"active": False}, headers=admin
    )
    assert theirs.status_code == 404
    with tenant_session(other_world.tenant_id) as session:
        their_user = session.execute(text("SELECT id FROM users LIMIT 1")).scalar_one()
        still = session.execute(text("SELECT bool_and(active) FROM agents")).scalar_one()
    assert client.post(f"/v1/users/{their_user}/password-reset", headers=admin).status_code == 404
    assert still is True
    with tenant_session(world.tenant_id) as session:
        actions = sorted(session.scalars(text("SELECT action FROM audit_log")))
    assert actions == ["password_reset", "update", "update"]
    assert (
        client.patch(
            f"/v1/users/{dispatcher}", json={"role": "admin"}, headers=world.auth("dispatcher")
        ).status_code
        == 403
    )


def test_a_dispatcher_imports_a_portfolio_from_the_browser_and_sees_the_bad_rows(
    browser: webdriver.Chrome, server: Server, world: World, tmp_path: Path, client: TestClient
) -> None:
    portfolio = tmp_path / "cartera.csv"
    portfolio.write_text(
        "external_ref,document_type,document_number,full_name,phone,product,outstanding_cop,"
        "days_past_due,address,city,lat,lon\n"
        "N-1,CC,501,Rosa <i>Pinto</i>,,libranza,1200000,30,Calle 80 # 20-10,Bogotá D.C.,"
        "4.667,-74.06\n"
        "N-2,XX,502,Pedro Gil,,libranza,abc,30,Calle 81 # 20-10,Bogotá D.C.,,\n"
        f"{world.slug.upper()}-1,CC,1001,Ana Gómez,,tarjeta_credito,1,1,Calle 72,Bogotá D.C.,,\n",
        encoding="utf-8",
    )
    _sign_in(browser, server, world, "dispatcher")
    _wait_for(browser, "#gestores")
    browser.get(f"{server.url}/importar")
    browser.find_element(By.ID, "archivo-cartera").send_keys(str(portfolio))
    browser.find_element(By.CSS_SELECTOR, "form[action='/importar/cartera'] button").click()
    result = _wait_for(browser, "#resultado")
    assert "1 fila(s) guardadas" in result.text
    rows = [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#errores tbody tr")]
    assert rows == [
        "3 document_type debe ser uno de: CC, CE, NIT, PP, TI",
        "4 external_ref ya existe: el caso se cargó antes",
    ], rows
    _shot(browser, "console-import.png")
    assert not browser.find_elements(By.ID, "archivo-pagos")  # payments: admins only
    assert _errors(browser) == [], _errors(browser)
    with tenant_session(world.tenant_id) as session:
        stored = session.execute(
            text(
                "SELECT d.full_name FROM cases c JOIN debtors d ON d.id = c.debtor_id "
                "WHERE c.external_ref = 'N-1'"
            )
        ).scalar_one()
    assert stored == "Rosa <i>Pinto</i>"  # kept as typed, shown escaped
    # The same file through the API: nothing new, the same rows refused, in English.
    again = client.post(
        "/v1/cases/import",
        files={"file": ("cartera.csv", portfolio.read_bytes(), "text/csv")},
        headers=world.auth("dispatcher"),
    )
    assert again.status_code == 200, again.text
    assert again.json()["stored"] == 0
    assert [e["reason"] for e in again.json()["errors"]][-1] == "already exists"
    refused = client.post(
        "/v1/cases/import",
        files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")},
        headers=world.auth("dispatcher"),
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["fields"][0]["field"] == "external_ref"


def test_an_admin_uploads_an_xlsform_from_the_console(server: Server, world: World) -> None:
    from tests.api.test_xlsform import CHOICES, SURVEY, XLSX, _xlsx

    with _session(server, world, "admin") as http:
        page = http.get("/cuestionarios")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert csrf is not None
        sent = http.post(
            "/cuestionarios",
            data={"clave": "visita-corta", "csrf": csrf.group(1)},
            files={"archivo": ("visita.xlsx", _xlsx(SURVEY, CHOICES), XLSX)},
        )
        assert sent.status_code == 303, sent.text
        listed = http.get(sent.headers["location"])
        assert "visita-corta-v1" in listed.text
        assert "contact_made, people, facade, comments" in listed.text
        bad = http.post(
            "/cuestionarios",
            data={"clave": "visita-corta", "csrf": csrf.group(1)},
            files={"archivo": ("v.xlsx", _xlsx([SURVEY[0], ["range", "n", "N"]]), XLSX)},
            headers={"Accept": "text/html"},
        )
        assert bad.status_code == 422
        assert "survey row 2" in bad.text


def _feed_connections() -> int:
    with psycopg.connect(libpq_url(OWNER_URL), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
            (APPLICATION_NAME,),
        ).fetchone()
    return int(row[0]) if row else 0


def test_open_boards_share_one_database_connection(server: Server, world: World) -> None:
    """Twenty live streams of two users cost the database one connection, and it closes when
    the last tab does; a user's eleventh tab is told to come back in 30 s (ten per user)."""
    with ExitStack() as streams:
        readers = []  # each stream's reader kept: dropping one closes its stream
        for role in ("analyst", "dispatcher"):
            http = streams.enter_context(_session(server, world, role))
            for _ in range(MAX_STREAMS_PER_USER):
                answer = streams.enter_context(http.stream("GET", "/tablero/eventos"))
                assert answer.status_code == 200
                readers.append(answer.iter_lines())
                assert next(readers[-1]) == ": conectado"
            with http.stream("GET", "/tablero/eventos") as over:
                lines = over.iter_lines()
                assert [next(lines), next(lines)] == [": conectado", ""]
                assert next(lines) == "retry: 30000"
        deadline = time.monotonic() + 10
        while _feed_connections() != 1:
            assert time.monotonic() < deadline, _feed_connections()
            time.sleep(0.1)
    deadline = time.monotonic() + 60
    while _feed_connections() != 0:  # the server notices the streams are gone
        assert time.monotonic() < deadline, _feed_connections()
        time.sleep(0.2)
