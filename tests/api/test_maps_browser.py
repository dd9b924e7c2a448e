"""Map pages in a real headless Chromium (Debian's chromium and chromium-driver), against a
real server on loopback, with no internet: the data layers must draw from the vendored
Leaflet; only background tiles may fail. A screenshot of each map is left in
``tests/artifacts/``."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from selenium import webdriver
from selenium.webdriver.common.by import By

from geo.core.spanish import clock
from tests.api.conftest import ARTIFACTS
from tests.conftest import World
from tests.console import sign_in
from tests.gps import app_fix, on_shift
from tests.server import Server

pytestmark = [
    pytest.mark.clock,
    pytest.mark.usefixtures("worker"),  # plans are computed by a job worker
]


def _open(browser: webdriver.Chrome, server: Server, world: World, path: str, shot: str) -> Any:
    browser.get(f"{server.url}/health")
    browser.delete_all_cookies()
    browser.add_cookie({"name": "campo_token", "value": world.tokens["dispatcher"], "path": "/"})
    browser.get_log("browser")  # drop what the /health page logged (its missing favicon)
    browser.get(f"{server.url}{path}")
    deadline = time.monotonic() + 15
    while not browser.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers"):
        assert time.monotonic() < deadline, "the map never drew its layer control"
        time.sleep(0.2)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / shot))
    errors = [
        entry["message"]
        for entry in browser.get_log("browser")
        if entry["level"] == "SEVERE" and "tile.openstreetmap.org" not in entry["message"]
    ]
    assert errors == [], errors
    return browser


def _count(browser: webdriver.Chrome, css: str) -> int:
    return len(browser.find_elements(By.CSS_SELECTOR, css))


def test_live_map(
    browser: webdriver.Chrome, server: Server, client: TestClient, world: World
) -> None:
    low = app_fix(on_shift(), accuracy_m=12, battery_pct=15, charging=False, speed_mps=3)
    client.post("/v1/me/sync", json={"fixes": [low]}, headers=world.auth("agent"))
    _open(browser, server, world, "/maps/live", "live.png")
    assert _count(browser, "path.campo-agent") == 1
    assert _count(browser, "path.campo-stale") == 1  # yesterday's fix
    assert _count(browser, "path.campo-accuracy") == 1
    assert _count(browser, ".campo-legend") == 1
    assert "Batería" in browser.find_element(By.CSS_SELECTOR, ".campo-legend").text


def test_plan_map(
    browser: webdriver.Chrome, server: Server, client: TestClient, aguascalientes: World
) -> None:
    world = aguascalientes
    made = client.post(
        "/v1/plans", json={"date": "2026-11-24", "budget_s": 2}, headers=world.auth("dispatcher")
    ).json()
    deadline = time.monotonic() + 60
    while (plan := client.get(f"/v1/plans/{made['id']}", headers=world.auth("dispatcher")).json())[
        "status"
    ] not in {"done", "failed"}:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert plan["status"] == "done", plan["message"]
    _open(browser, server, world, f"/maps/plans/{plan['id']}", "plan.png")
    assert _count(browser, "path.campo-route") == 1
    assert _count(browser, ".campo-stop") == plan["stats"]["planned"]
    assert _count(browser, "path.campo-unplanned") == plan["stats"]["unplanned"]
    assert _count(browser, "path.campo-base") == 1
    assert _count(browser, "path.campo-territory") == 1
    labels = browser.find_element(By.CSS_SELECTOR, ".leaflet-control-layers").text
    for layer in ("Territorios", "Rutas", "Visitas", "Bases", "Sin planear"):
        assert layer in labels
    # A stop's popup reads in the tenant's zone (Aguascalientes), 24-hour.
    stops = client.get(f"/v1/plans/{plan['id']}/geojson", headers=world.auth("dispatcher")).json()
    zone = ZoneInfo("America/Mexico_City")
    first = next(f for f in stops["features"] if f["properties"].get("seq") == 1)
    marker = next(e for e in browser.find_elements(By.CSS_SELECTOR, ".campo-stop") if e.text == "1")
    browser.execute_script("arguments[0].click();", marker)
    deadline, shown = time.monotonic() + 10, ""
    while not shown:  # the popup is built when it opens
        found = browser.find_elements(By.CSS_SELECTOR, ".leaflet-popup-content")
        shown = found[0].text if found else ""
        assert shown or time.monotonic() < deadline, "the stop's popup stayed empty"
        time.sleep(0.1)
    assert f"Llegada {clock(first['properties']['eta'], zone)}" in shown, shown
    assert "Saldo $ 1.000.000" in shown, shown


def test_map_pages_need_staff(server: Server, world: World) -> None:
    import httpx2

    cookie = {"campo_token": world.tokens["agent"]}
    assert httpx2.get(f"{server.url}/maps/live", cookies=cookie).status_code == 403
    assert httpx2.get(f"{server.url}/maps/live").status_code == 401
    forged = httpx2.post(
        f"{server.url}/v1/plans",
        json={"date": "2026-11-24"},
        cookies={"campo_token": world.tokens["admin"]},
    )
    assert forged.status_code == 401  # the cookie only ever reads
    with httpx2.Client(base_url=server.url) as browser_like:  # the console's sign-in
        signed = sign_in(browser_like, world, "dispatcher")
        assert signed.status_code == 303, signed.text
        assert "httponly" in signed.headers["set-cookie"].lower()
        assert browser_like.get("/maps/live").status_code == 200


def test_trail_map_and_dispatcher_page(
    browser: webdriver.Chrome, server: Server, client: TestClient, world: World
) -> None:
    from tests.visits import check_in, fix_at

    start = on_shift(minute=-30)
    walk = [
        fix_at(start + timedelta(seconds=30 * k), 600 - 10 * k, battery_pct=60 - k * 0.8)
        for k in range(58)
    ]
    client.post("/v1/me/sync", json={"fixes": walk}, headers=world.auth("agent"))
    accepted = check_in(client, world, fix_at(start + timedelta(minutes=29, seconds=50), 15))
    assert accepted.json()["verdict"] == "accepted", accepted.text
    day = start.date().isoformat()
    _open(browser, server, world, f"/maps/agents/{world.agent_id}/trail?date={day}", "trail.png")
    assert _count(browser, "path.campo-path") >= 2  # green, then amber as the battery drains
    assert _count(browser, "path.campo-checkin.campo-accepted") == 1
    assert _count(browser, "path.campo-geofence") == 1
    assert _count(browser, "path.campo-now") == 1
    slider = browser.find_element(By.CSS_SELECTOR, ".campo-slider input")
    first = browser.find_element(By.CSS_SELECTOR, ".campo-slider span").text
    browser.execute_script(
        "arguments[0].value = arguments[0].max; arguments[0].dispatchEvent(new Event('input'))",
        slider,
    )
    assert browser.find_element(By.CSS_SELECTOR, ".campo-slider span").text != first
    browser.get(f"{server.url}/maps?date={day}")
    assert _count(browser, "a.campo-live-link") == 1
    assert _count(browser, "a.campo-trail-link") == 1


def test_contact_heat_map(browser: webdriver.Chrome, server: Server, world: World) -> None:
    from sqlalchemy import text

    from geo.core.db import tenant_session

    with tenant_session(world.tenant_id) as session:
        for k, outcome in enumerate(("contact", "promise_to_pay", "no_one_home")):
            session.execute(
                text(
                    "INSERT INTO visits (tenant_id, client_id, case_id, agent_id, checkin_at, "
                    "checkin_point, distance_m, verdict, status, outcome, checkout_at) VALUES (:t, "
                    "gen_random_uuid(), :c, :a, now() - make_interval(hours => :k), "
                    "ST_SetSRID(ST_MakePoint(-74.06 + :k * 0.001, 4.65), 4326), 5, 'accepted', "
                    "'completed', :o, now())"
                ),
                {
                    "t": world.tenant_id,
                    "c": world.case_ids[0],
                    "a": world.agent_id,
                    "k": k,
                    "o": outcome,
                },
            )
    _open(browser, server, world, "/maps/contacts", "contacts.png")
    assert _count(browser, "canvas.leaflet-heatmap-layer") == 1
    assert "Contactos: 2" in browser.find_element(By.CSS_SELECTOR, ".campo-legend").text


HOSTILE = "${window.__pwned=1}`;window.__pwned=2;`<img src=x onerror=window.__pwned=3>\\u{"
"""Text from a creditor's file that would run in a page if a popup or tooltip trusted it."""


def test_names_from_data_never_run_as_script(
    browser: webdriver.Chrome, server: Server, client: TestClient, aguascalientes: World
) -> None:
    from sqlalchemy import text

    from geo.core.db import tenant_session
    from tests.visits import check_in, fix_at

    world = aguascalientes
    with tenant_session(world.tenant_id) as session:
        session.execute(text("UPDATE debtors SET full_name = :n"), {"n": HOSTILE})
        session.execute(text("UPDATE agents SET code = :n"), {"n": HOSTILE[:60]})
        session.execute(text("UPDATE users SET full_name = :n"), {"n": HOSTILE})
    made = client.post(
        "/v1/plans", json={"date": "2026-11-24", "budget_s": 1}, headers=world.auth("dispatcher")
    ).json()
    deadline = time.monotonic() + 60
    while client.get(f"/v1/plans/{made['id']}", headers=world.auth("dispatcher")).json()[
        "status"
    ] not in {"done", "failed"}:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    start = on_shift(minute=-5)
    walk = [fix_at(start + timedelta(seconds=30 * k), 100 - 10 * k) for k in range(9)]
    client.post("/v1/me/sync", json={"fixes": walk}, headers=world.auth("agent"))
    check_in(client, world, fix_at(start + timedelta(minutes=4, seconds=50), 5))
    day = start.date().isoformat()
    maps = {
        "hostile-plan.png": f"/maps/plans/{made['id']}",
        "hostile-trail.png": f"/maps/agents/{world.agent_id}/trail?date={day}",
        "hostile-live.png": "/maps/live",
    }
    for shot, path in maps.items():
        _open(browser, server, world, path, shot)
        for drawn in browser.find_elements(By.CSS_SELECTOR, "path.leaflet-interactive")[:20]:
            browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('mouseover'))", drawn)
        assert browser.execute_script("return window.__pwned") is None, path
    browser.find_element(By.CSS_SELECTOR, "path.campo-agent").click()
    deadline = time.monotonic() + 10
    while not (shown := browser.find_element(By.CSS_SELECTOR, ".leaflet-popup-content").text):
        assert time.monotonic() < deadline, "the agent's popup never opened"
        time.sleep(0.2)
    assert "${window.__pwned=1}" in shown  # shown as the text it is
    browser.get(f"{server.url}/maps?date={day}")
    assert browser.execute_script("return window.__pwned") is None
