"""Fixtures shared by the API tests."""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from aiosmtpd.controller import Controller
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from sqlalchemy import text

from geo.core.db import tenant_session
from geo.core.settings import Settings
from tests.conftest import World
from tests.server import Server

EXTRACT = Path(__file__).resolve().parents[1] / "data" / "aguascalientes.osm.pbf"


@pytest.fixture
def aguascalientes(world: World, tmp_path: Path) -> World:
    """The world's tenant moved onto the extract: 40 cases and two agents on its streets."""
    rng = np.random.default_rng(5)
    with tenant_session(world.tenant_id) as session:
        settings = {
            "street_network": str(EXTRACT),
            "visit_service_min": 15,
            "timezone": "America/Mexico_City",
            "contact_holidays": "MX",
        }
        session.execute(
            text("UPDATE tenants SET settings = settings || CAST(:s AS jsonb)"),
            {"s": json.dumps(settings)},
        )
        session.execute(
            text(
                "UPDATE agents SET base_point = ST_SetSRID(ST_MakePoint(-102.2739, 21.8704), 4326), "
                "daily_capacity = 12, shift_start = '09:00', shift_end = '13:00', "
                "skills = ARRAY['legal']"
            )
        )
        for k in range(40):
            debtor = session.execute(
                text(
                    "INSERT INTO debtors (tenant_id, document_type, document_number, full_name, "
                    "authorised_channels) VALUES (:t, 'PP', :n, :n, '{visit}') RETURNING id"
                ),
                {"t": world.tenant_id, "n": f"MX{k:03d}"},
            ).scalar_one()
            lon, lat = -102.2739 + rng.uniform(-0.005, 0.005), 21.8704 + rng.uniform(-0.005, 0.005)
            address = session.execute(
                text(
                    "INSERT INTO addresses (tenant_id, debtor_id, raw_text, city, point, "
                    "geocode_quality) VALUES (:t, :d, :r, 'Aguascalientes', "
                    "ST_SetSRID(ST_MakePoint(:x, :y), 4326), 'provided') RETURNING id"
                ),
                {"t": world.tenant_id, "d": debtor, "r": f"Calle {k}", "x": lon, "y": lat},
            ).scalar_one()
            session.execute(
                text(
                    "INSERT INTO cases (tenant_id, external_ref, debtor_id, address_id, product, "
                    "outstanding_cop, days_past_due, priority) VALUES (:t, :r, :d, :a, 'libranza', "
                    "1000000, 40, :p)"
                ),
                {"t": world.tenant_id, "r": f"AGS-{k}", "d": debtor, "a": address, "p": k * 2},
            )
        session.execute(
            text(
                "UPDATE cases SET status = 'paid', closed_at = now() "
                "WHERE external_ref NOT LIKE 'AGS-%'"
            )
        )
    return world


class Inbox:
    """An SMTP handler keeping what it receives (a real SMTP server on loopback, aiosmtpd)."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, Controller, Settings]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    yield (
        inbox,
        controller,
        Settings(
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_timeout_s=3,
            mail_from="campo <avisos@campo.test>",
        ),
    )
    if getattr(controller, "_thread", None) is not None:
        controller.stop()


ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
"""Screenshots the browser tests leave behind."""


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server()
    running.start()
    yield running
    running.stop()


def open_chromium(*flags: str, home: Path | None = None) -> webdriver.Chrome:
    """Headless Chromium with campo's usual flags and ``flags``; ``home`` gives it another home
    directory (its certificate store, ``~/.pki/nssdb``, included)."""
    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if binary is None or driver is None:
        pytest.fail("Chromium is missing: scripts/setup installs chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1280,900",
        "--disable-dev-shm-usage",
        *flags,
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    env = {**os.environ, "HOME": str(home)} if home else None
    chrome = webdriver.Chrome(options=options, service=Service(executable_path=driver, env=env))
    if offset := os.environ.get("CAMPO_TEST_CLOCK_OFFSET_S"):  # scripts/test-clocks: pages
        shift_clock(chrome, float(offset))  # live at the run's shifted time, like the servers
    return chrome


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    chrome = open_chromium()
    yield chrome
    chrome.quit()


def shift_clock(browser: webdriver.Chrome, seconds: float) -> str:
    """Every page opened from now on reads ``Date`` ``seconds`` away from the browser's clock
    (the pages' scripts read time only through ``Date``); returns the script's id, to remove
    it. Chromium cannot be run under libfaketime (its timers spin), so its pages are shifted
    instead; stacked shifts add up."""
    shift_ms = round(seconds * 1000)
    source = f"""(() => {{
  const Real = Date, shift = {shift_ms};
  class Shifted extends Real {{
    constructor(...a) {{ if (a.length) super(...a); else super(Real.now() + shift); }}
    static now() {{ return Real.now() + shift; }}
  }}
  window.Date = Shifted;
}})();"""
    added = browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": source})
    return str(added["identifier"])
