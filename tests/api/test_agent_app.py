"""The agent's web app in headless Chromium at phone size, as an agent works a day: sign in,
the day's route, campo out of reach, GPS emulated (DevTools) 400 m away (the form's own
distance rule refuses the check-in) and at the door, a photo chosen from a file, the visit
queued offline, campo back, everything sent once. Asserted in the database.

Out of reach means campo's server is stopped, so every request of the page and of its service
worker fails as on a phone without signal. DevTools' offline switch is not used: it also
switches off Chromium's (emulated) geolocation, which a phone without data keeps.
Screenshots go to ``tests/artifacts/``."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from sqlalchemy import text

from geo.core.db import tenant_session
from geo.provisioning.tenants import update_tenant_settings
from tests.api.conftest import ARTIFACTS, open_chromium, shift_clock
from tests.conftest import PASSWORD, ROOT, World
from tests.gps import on_shift
from tests.proxy import https_proxy
from tests.server import Server
from tests.visits import near

pytestmark = pytest.mark.clock

PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}


@pytest.fixture
def campo() -> Iterator[Server]:
    """A server of this test's own, to take down and bring back."""
    running = Server()
    running.start()
    yield running
    running.stop()


@pytest.fixture
def phone(browser: webdriver.Chrome, campo: Server) -> Iterator[webdriver.Chrome]:
    """The browser as a phone: its size, GPS permission, and a clock set to a lawful weekday
    morning (the law forbids visits on Sundays and at night; CI runs at any hour)."""
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    browser.execute_cdp_cmd(
        "Browser.grantPermissions", {"origin": campo.url, "permissions": ["geolocation"]}
    )
    clock = shift_clock(browser, on_shift(1, minute=30).timestamp() - time.time())
    yield browser
    browser.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": clock})
    browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    browser.execute_cdp_cmd("Emulation.clearGeolocationOverride", {})


def _at(browser: webdriver.Chrome, metres: float, accuracy: float = 8) -> None:
    """The phone's GPS reports a position ``metres`` east of the debtor's door."""
    lon, lat = near(metres)
    browser.execute_cdp_cmd(
        "Emulation.setGeolocationOverride",
        {"latitude": lat, "longitude": lon, "accuracy": accuracy},
    )


OFFLINE_READY = "window.campo.offlineReady().then(arguments[0])"
"""Whether the service worker keeps every file of the build (the form engine included)."""


def _sign_in(browser: webdriver.Chrome, world: World, *, kept: bool = False) -> None:
    """Signs in as the agent; with ``kept`` the company and e-mail must already be in the form
    (a second attempt, or a session that ran out) and only the password is typed."""
    _until(lambda: browser.find_elements(By.ID, "signin"), "the sign-in form")
    form = browser.find_element(By.ID, "signin")
    for name, value in (("tenant", world.slug), ("email", f"agent@{world.slug}.co")):
        field = form.find_element(By.NAME, name)
        if kept:
            assert field.get_attribute("value") == value, name
        else:
            field.send_keys(value)
    form.find_element(By.NAME, "password").send_keys(PASSWORD)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def _gps_fix_queued(browser: webdriver.Chrome, metres: float) -> None:
    """The GPS reports a position ``metres`` from the door, and the app records it."""
    queued = _waiting(browser)[1]
    for attempt in range(20):  # a GPS keeps reporting; the emulated one reports on change
        _at(browser, metres, accuracy=7 - attempt / 10)
        time.sleep(1.5)
        if _waiting(browser)[1] > queued:
            return
    pytest.fail(f"no GPS fix queued {metres:g} m away")


def _check_in_fix(browser: webdriver.Chrome, metres: float) -> None:
    """A fix ``metres`` from the door, then the agent taps the form's locate button, which
    fills the check-in question with it."""
    _gps_fix_queued(browser, metres)
    _tap(browser, "button[name=geodetect]")
    _until(
        lambda: browser.find_element(By.CSS_SELECTOR, "input[name=lat]").get_attribute("value"),
        "the check-in fix",
    )


def _until(check: Callable[[], Any], what: str, seconds: float = 30) -> Any:
    """What ``check`` returns once it is truthy; an element the app drew again between its
    lookup and its read counts as not yet."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if found := check():
                return found
        except StaleElementReferenceException:
            pass
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.2)


def _waiting(browser: webdriver.Chrome) -> tuple[int, int]:
    bar = browser.find_element(By.ID, "status")
    return int(bar.get_attribute("data-visits") or 0), int(bar.get_attribute("data-fixes") or 0)


def _shot(browser: webdriver.Chrome, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / name))


def _photo(browser: webdriver.Chrome, folder: Path) -> Path:
    """A real JPEG, drawn and encoded by the browser itself."""
    data = browser.execute_script(
        "const c = document.createElement('canvas'); c.width = 320; c.height = 240;"
        "const g = c.getContext('2d'); g.fillStyle = '#c96'; g.fillRect(0, 0, 320, 240);"
        "g.fillStyle = '#333'; g.fillRect(120, 100, 80, 140);"
        "return c.toDataURL('image/jpeg', 0.8);"
    )
    path = folder / "fachada.jpg"
    path.write_bytes(base64.b64decode(data.split(",", 1)[1]))
    return path


def _sent(browser: webdriver.Chrome) -> int:
    """Requests the page has made that carry data to campo."""
    return int(
        browser.execute_script(
            "return performance.getEntriesByType('resource').filter(e => "
            "e.name.includes('/v1/me/sync') || e.name.endsWith('/submission')).length"
        )
    )


def _tap(browser: webdriver.Chrome, css: str) -> None:
    """Tap a button as a thumb would: scrolled to mid-screen, clear of the status bar."""
    button = browser.find_element(By.CSS_SELECTOR, css)
    browser.execute_script(
        "window.scrollTo(0, arguments[0].getBoundingClientRect().top + scrollY - innerHeight / 2)",
        button,
    )
    button.click()


def _answer(browser: webdriver.Chrome, name: str, value: str) -> None:
    radio = browser.find_element(By.CSS_SELECTOR, f"input[name$='/{name}'][value='{value}']")
    radio.find_element(By.XPATH, "..").click()  # its label, as a finger taps it


def _visible(browser: webdriver.Chrome, name: str) -> bool:
    question = browser.find_element(By.CSS_SELECTOR, f"[name$='/{name}']").find_element(
        By.XPATH, "ancestor::*[contains(@class, 'question')][1]"
    )
    return bool(question.is_displayed())


def test_an_agent_works_a_day_offline_in_the_browser_and_it_syncs_once(
    phone: webdriver.Chrome, campo: Server, world: World, tmp_path: Path
) -> None:
    browser = phone
    with tenant_session(world.tenant_id) as session:  # a fix a second, for a short test
        update_tenant_settings(session, tenant_id=world.tenant_id, changes={"gps_interval_s": 1})
    _at(browser, 400)
    browser.get(f"{campo.url}/app/")
    _sign_in(browser, world)
    stop = _until(  # read in one step: the day is drawn again once its forms are ready
        lambda: browser.execute_script("return document.querySelector('.stop')?.innerText"),
        "the day's stops",
    )
    assert "Ana Gómez" in stop
    assert "$ 3.500.000" in stop
    _until(
        lambda: (
            browser.execute_script("return !!navigator.serviceWorker.controller")
            or browser.refresh()
        ),
        "the service worker in control",
    )
    _until(lambda: browser.execute_async_script(OFFLINE_READY), "every file kept for offline")
    _until(  # and the bar no longer says it is getting ready
        lambda: "Preparando" not in browser.find_element(By.ID, "status").text, "ready said"
    )
    _shot(browser, "app-day.png")

    # Out of reach from here: the page itself comes from the service worker's cache.
    campo.stop()
    browser.refresh()
    _until(lambda: browser.find_elements(By.CSS_SELECTOR, ".stop"), "the day, offline")
    _until(  # the bar says so once its first request has failed
        lambda: "Sin conexión" in browser.find_element(By.ID, "status").text, "offline shown"
    )
    _until(lambda: _waiting(browser)[1] >= 1, "a GPS fix queued 400 m away")

    browser.find_element(By.CSS_SELECTOR, f".stop[data-case='{world.case_ids[0]}']").click()
    _until(lambda: browser.find_elements(By.ID, "stopmap"), "the stop")
    assert "Registrar visita" in browser.page_source
    _shot(browser, "app-stop.png")
    browser.find_element(By.LINK_TEXT, "Registrar visita").click()
    _until(lambda: browser.find_elements(By.CSS_SELECTOR, "form.or"), "the visit form")

    # Skip logic as ODK Validate reads the form: who answered only after a contact.
    assert not _visible(browser, "who_answered")
    _answer(browser, "contact_made", "si")
    _until(lambda: _visible(browser, "who_answered"), "who answered, shown")
    _answer(browser, "contact_made", "no")
    _until(lambda: not _visible(browser, "who_answered"), "who answered, hidden")
    _answer(browser, "outcome", "no_one_home")
    photo = _photo(browser, tmp_path)
    browser.find_element(By.CSS_SELECTOR, "input[type=file][name$='/facade_photo']").send_keys(
        str(photo)
    )

    # 400 m away: the form's own distance rule refuses the check-in, saying how far the door
    # is and what is allowed; nothing is queued.
    _check_in_fix(browser, 400)
    far = _until(lambda: browser.find_elements(By.CSS_SELECTOR, ".door-distance.far"), "how far")
    assert abs(int(far[0].get_attribute("data-metres")) - 400) <= 5
    assert "se admiten" in far[0].text
    assert "acérquese a la puerta" in far[0].text
    _tap(browser, "#finish")
    _until(lambda: "Revise" in browser.find_element(By.ID, "form-error").text, "the refusal")
    assert _waiting(browser)[0] == 0
    _shot(browser, "app-form-far.png")

    # At the door: the same form is accepted and waits on the phone.
    _check_in_fix(browser, 0)
    near = _until(
        lambda: browser.find_elements(By.CSS_SELECTOR, ".door-distance:not(.far)"), "at the door"
    )
    assert int(near[0].get_attribute("data-metres")) <= 5
    _tap(browser, "#finish")
    _until(lambda: _waiting(browser)[0] == 1, "the visit queued offline")
    assert "En espera: 1 visita(s)" in browser.find_element(By.ID, "status").text
    _shot(browser, "app-waiting.png")
    with tenant_session(world.tenant_id) as session:
        assert session.scalar(text("SELECT count(*) FROM visits")) == 0

    # campo back: everything goes out, once.
    campo.start()
    browser.execute_script("return window.campo.sync()")
    _until(lambda: _waiting(browser) == (0, 0), "nothing left waiting")
    _shot(browser, "app-synced.png")
    with tenant_session(world.tenant_id) as session:
        visits = session.execute(text("SELECT * FROM visits")).mappings().all()
        fixes = session.execute(
            text("SELECT recorded_at, source FROM gps_fixes WHERE agent_id = :a"),
            {"a": world.agent_id},
        ).all()
        media = session.execute(text("SELECT content_type, size_bytes FROM visit_media")).all()
    assert len(visits) == 1
    (visit,) = visits
    assert visit["case_id"] == world.case_ids[0]
    # A browser cannot say whether its position is simulated; its own walk to the door (400 m
    # away, then there) backs it, so the honest visit is accepted, with that said.
    assert visit["verdict"] == "accepted", visit["reasons"]
    assert [r["code"] for r in visit["reasons"]] == ["mock_unknown"]
    assert "respalda" in visit["reasons"][0]["message"]
    browser.get(f"{campo.url}/app/#/")
    sent_line = _until(  # read in one step: the day is drawn again when it is downloaded
        lambda: browser.execute_script(
            "const li = document.querySelector('.results li.result');"
            "return li && [li.dataset.state, li.innerText];"
        ),
        "the sent visit",
    )
    assert sent_line[0] == "accepted"
    assert "Registrada" in sent_line[1]
    visited = browser.execute_script(
        "return document.querySelector(arguments[0])?.innerText || ''",
        f".stop[data-case='{world.case_ids[0]}']",
    )
    assert "Visitada hoy: Registrada" in visited
    assert visit["outcome"] == "no_one_home"
    assert visit["answers"]["contact_made"] == "no"
    assert "who_answered" not in visit["answers"]
    assert [(m.content_type, m.size_bytes) for m in media] == [("image/jpeg", photo.stat().st_size)]
    assert len(fixes) >= 3  # 400 m away, at the door, and the check-in's own
    assert all(f.recorded_at.date() == on_shift(1).date() for f in fixes)

    # A second sync has nothing to send, and sends nothing.
    before = _sent(browser)
    assert browser.execute_script("return window.campo.sync()")["state"] == "nothing"
    assert _sent(browser) == before
    with tenant_session(world.tenant_id) as session:
        assert session.scalar(text("SELECT count(*) FROM visits")) == 1

    # A day longer than the sign-in: with the token expired the fixes wait (they need it) and
    # the bar offers to sign in again, which keeps them, sends them, and keeps the browser's key.
    browser.execute_async_script(EXPIRE_SESSION)
    _gps_fix_queued(browser, 30)
    assert browser.execute_script("return window.campo.sync()")["state"] == "sign-in"
    assert _waiting(browser)[1] >= 1
    browser.find_element(By.ID, "relogin").click()
    _sign_in(browser, world, kept=True)  # the company and e-mail come from the old session
    _until(lambda: _waiting(browser) == (0, 0), "the fixes sent after signing in again")
    with tenant_session(world.tenant_id) as session:
        assert session.scalar(text("SELECT count(*) FROM gps_fixes")) > len(fixes)
        assert session.scalar(text("SELECT count(*) FROM devices WHERE protocol = 'web'")) == 1


EXPIRE_SESSION = """
const done = arguments[0];
const open = indexedDB.open('campo');
open.onsuccess = () => {
  const tx = open.result.transaction('kv', 'readwrite');
  const kv = tx.objectStore('kv');
  kv.get('session').onsuccess = (event) => kv.put({...event.target.result, expires: 0}, 'session');
  tx.oncomplete = () => { open.result.close(); done(true); };
};
"""


def test_the_served_bundle_is_built_from_the_sources_in_the_repository() -> None:
    """The app's files are committed (serving them needs no Node); they must be the build of
    api/fieldapp as it is (its sources, lock file and build script): scripts/build-fieldapp
    rebuilds them."""
    app = ROOT / "api" / "fieldapp"
    digest = hashlib.sha256()
    for source in sorted((app / "src").iterdir()):
        digest.update(source.name.encode())
        digest.update(source.read_bytes())
    digest.update((app / "package-lock.json").read_bytes())
    digest.update((app / "build.mjs").read_bytes())
    built = (ROOT / "api" / "static" / "fieldapp" / "SOURCES").read_text().strip()
    assert built == digest.hexdigest(), "run scripts/build-fieldapp"
    worker = (ROOT / "api" / "static" / "fieldapp" / "sw.js").read_text()
    assert "__VERSION__" not in worker
    assert "campo-app-" in worker


def _trusting(home: Path, root: Path) -> Path:
    """A home directory whose certificate store (NSS, as Chromium on Linux reads it) trusts
    ``root``, as a phone does once the agent installed campo's certificate."""
    nssdb = home / ".pki/nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", "campo", "-i", str(root)],
        check=True,
    )
    return home


def test_a_phone_reaches_the_app_through_the_https_proxy_by_name(
    world: World, tmp_path: Path
) -> None:
    """The real path of a LAN install: a name that is not localhost (resolved to loopback by
    Chromium's host rules), Caddy's CA trusted as the agent installed it, the app working
    offline after a reload, and an honest visit at the door accepted with its photo."""
    with tenant_session(world.tenant_id) as session:  # a fix a second, for a short test
        update_tenant_settings(session, tenant_id=world.tenant_id, changes={"gps_interval_s": 1})
    with https_proxy(tmp_path, site="campo.test") as proxy:
        home = _trusting(tmp_path / "home", proxy.root)
        browser = open_chromium("--host-resolver-rules=MAP campo.test 127.0.0.1", home=home)
        try:
            browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
            browser.execute_cdp_cmd(
                "Browser.grantPermissions",
                {"origin": proxy.https, "permissions": ["geolocation"]},
            )
            shift_clock(browser, on_shift(1, minute=30).timestamp() - time.time())
            _at(browser, 300)
            browser.get(f"{proxy.https}/app/")
            assert browser.execute_script("return window.isSecureContext") is True
            _sign_in(browser, world)
            _until(lambda: browser.find_elements(By.CSS_SELECTOR, ".stop"), "the day's stops")
            _until(
                lambda: (
                    browser.execute_script("return !!navigator.serviceWorker.controller")
                    or browser.refresh()
                ),
                "the service worker in control over HTTPS",
            )
            _until(
                lambda: browser.execute_async_script(OFFLINE_READY), "every file kept for offline"
            )
            proxy.campo.stop()  # out of reach: the reload comes from the phone itself
            browser.refresh()
            _until(lambda: browser.find_elements(By.CSS_SELECTOR, ".stop"), "the day, offline")
            _gps_fix_queued(browser, 300)
            _gps_fix_queued(browser, 40)
            browser.get(f"{proxy.https}/app/#/visita/{world.case_ids[0]}")
            _until(lambda: browser.find_elements(By.CSS_SELECTOR, "form.or"), "the visit form")
            _answer(browser, "contact_made", "no")
            _answer(browser, "outcome", "no_one_home")
            photo = _photo(browser, tmp_path)
            browser.find_element(
                By.CSS_SELECTOR, "input[type=file][name$='/facade_photo']"
            ).send_keys(str(photo))
            _check_in_fix(browser, 0)
            _tap(browser, "#finish")
            _until(lambda: _waiting(browser)[0] == 1, "the visit queued offline")
            proxy.campo.start()  # the proxy's health check sees it back within 10 s

            def sent() -> bool:
                browser.execute_script("return window.campo.sync()")
                return _waiting(browser) == (0, 0)

            _until(sent, "everything sent through the proxy", seconds=60)
            _shot(browser, "app-https.png")
        finally:
            browser.quit()
    with tenant_session(world.tenant_id) as session:
        visit = session.execute(text("SELECT verdict, reasons, outcome FROM visits")).one()
        media = session.execute(text("SELECT size_bytes FROM visit_media")).scalars().all()
    assert visit.verdict == "accepted", visit.reasons
    assert visit.outcome == "no_one_home"
    assert media == [photo.stat().st_size]


def test_over_plain_http_by_name_the_app_says_why_it_cannot_take_the_position(
    campo: Server, world: World
) -> None:
    """What a tester met on the office network: http to a name, not a secure origin, so no
    position. The agent is told what to do, on the bar and at the locate button."""
    browser = open_chromium("--host-resolver-rules=MAP campo.test 127.0.0.1")
    try:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
        site = campo.url.replace("127.0.0.1", "campo.test")
        browser.get(f"{site}/app/")
        assert browser.execute_script("return window.isSecureContext") is False
        _until(lambda: browser.find_elements(By.ID, "signin"), "the sign-in form")
        form = browser.find_element(By.ID, "signin")
        form.find_element(By.NAME, "tenant").send_keys(world.slug)
        form.find_element(By.NAME, "email").send_keys(f"agent@{world.slug}.co")
        form.find_element(By.NAME, "password").send_keys("no es")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        _until(  # read in one step: the form is drawn again when the refusal comes
            lambda: (
                "incorrectos"
                in browser.execute_script(
                    "return document.querySelector('#signin .error')?.textContent || ''"
                )
            ),
            "the refusal",
        )
        _sign_in(browser, world, kept=True)  # only the password is asked again
        _until(lambda: browser.find_elements(By.CSS_SELECTOR, ".stop"), "the day's stops")
        bar = _until(
            lambda: (
                "no es segura" in browser.find_element(By.ID, "status").text
                and browser.find_element(By.ID, "status")
            ),
            "the insecure origin explained",
        )
        assert "https://" in bar.text
        assert bar.get_attribute("data-gps") == "problem"
        browser.get(f"{site}/app/#/visita/{world.case_ids[0]}")
        _until(lambda: browser.find_elements(By.CSS_SELECTOR, "form.or"), "the visit form")
        _tap(browser, "button[name=geodetect]")
        said = browser.find_element(By.ID, "gps-problem").text
        assert "no es segura" in said, said
        assert browser.find_element(By.CSS_SELECTOR, "input[name=lat]").get_attribute("value") == ""
        locate = browser.find_element(By.CSS_SELECTOR, "button[name=geodetect]")
        assert locate.get_attribute("aria-label") == "Tomar mi ubicación actual"
    finally:
        browser.quit()
