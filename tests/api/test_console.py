"""The dispatcher's console in a real headless Chromium against a real server: signing in and
out, today's board with the feed arriving by itself, reviewing a doubtful check-in, the CSRF
token, and values from data shown escaped. Screenshots go to ``tests/artifacts/``."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
from fastapi.testclient import TestClient
from selenium import webdriver
from selenium.webdriver.common.by import By
from sqlalchemy import text

from geo.core.db import tenant_session
from tests.api.conftest import ARTIFACTS
from tests.conftest import PASSWORD, World
from tests.gps import on_shift
from tests.server import Server
from tests.visits import check_in, fix_at


def _wait_for(browser: webdriver.Chrome, css: str, seconds: float = 20) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := browser.find_elements(By.CSS_SELECTOR, css)):
        assert time.monotonic() < deadline, f"{css} never appeared on {browser.current_url}"
        time.sleep(0.2)
    return found[0]


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
    time.sleep(1.5)  # the event stream is open
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
    _wait_for(browser, "main h1")
    assert browser.current_url.endswith("/revision")
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
    _wait_for(browser, "main h1")
    assert browser.current_url.endswith("/agente")
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
