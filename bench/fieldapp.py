"""The agent's web app on a slow phone network: a fresh phone over 3G (300 ms, 400 kbps)
through the project's HTTPS proxy, beside the same link's floor, in one run.

The demo tenant is seeded into the bench database; ``campo serve`` runs behind Caddy
(``scripts/https`` for a LAN name, its CA trusted by the browser as a phone that installed
it); a phone-sized headless Chromium with the network throttled by DevTools opens ``/app/``
with an empty cache, signs in as ``gestor01`` and waits for the day. Measured:

- the sign-in form on screen, from the first request (target <= 8 s);
- the day on screen, from the tap on *Entrar* (target <= 3 s): the sign-in and the day's
  bundle (the visit forms, the form engine and the day's file follow without holding it);
- ready to work offline: the forms prepared and every file kept by the service worker;
- bytes over the wire before sign-in (target <= 600 KB), from the page's resource timings
  (compressed sizes, headers included; the service worker's own requests are not counted);
- the baseline: one request for ``/health`` on the same throttled link from the same page,
  the floor any page pays; the ratios say how many such requests each step costs.

Run: ``.venv/bin/python -m bench.fieldapp`` (about 2 minutes; Caddy and Chromium come from
``scripts/setup``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from bench.common import ROOT, fresh_database, served
from geo.demo.portfolio import DEMO_PASSWORD, DEMO_SLUG, seed

SITE = "campo.test"
THREE_G = {
    "offline": False,
    "latency": 300,
    "downloadThroughput": 50_000,
    "uploadThroughput": 50_000,
}
"""DevTools' terms: 300 ms of latency, 400 kbit/s each way."""
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}
BYTES = "return performance.getEntries().reduce((n, e) => n + (e.transferSize || 0), 0)"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _proxy(folder: Path, upstream: str) -> Iterator[tuple[str, Path]]:
    """Caddy in front of ``upstream`` for :data:`SITE`; yields its HTTPS base and CA root."""
    https_port, http_port = _free_port(), _free_port()
    env = {
        **os.environ,
        "CAMPO_UPSTREAMS": upstream.removeprefix("http://"),
        "CAMPO_HTTPS_PORT": str(https_port),
        "CAMPO_HTTP_PORT": str(http_port),
        "CAMPO_CADDY_DIR": str(folder / "caddy"),
        "XDG_CONFIG_HOME": str(folder / "config"),
    }
    with (folder / "caddy.log").open("wb") as log:
        caddy = subprocess.Popen(  # noqa: S603 - the project's own script
            [shutil.which("bash") or "/bin/bash", "scripts/https", SITE],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=log,
        )
    root = folder / "caddy/pki/authorities/local/root.crt"
    try:
        deadline = time.monotonic() + 60
        while not root.exists() or not _answers(f"https://127.0.0.1:{https_port}", root):
            if caddy.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Caddy did not come up; see {folder / 'caddy.log'}")
            time.sleep(0.3)
        yield f"https://{SITE}:{https_port}", root
    finally:
        caddy.terminate()
        caddy.wait(timeout=30)


def _answers(base: str, root: Path) -> bool:
    """Whether campo answers through Caddy for :data:`SITE` (its CA made, its certificate
    issued), asked on loopback under that name."""
    trust = ssl.create_default_context(cafile=str(root))
    try:
        with httpx2.Client(verify=trust, timeout=2) as client:
            answer = client.get(
                f"{base}/health", headers={"Host": SITE}, extensions={"sni_hostname": SITE}
            )
    except (httpx2.TransportError, OSError):
        return False
    return answer.status_code == 200


def _engine_bytes(base: str, root: Path) -> int:
    """Bytes on the wire, compressed as Caddy sends them, of the build's files that the page
    does not need before sign-in (the form engine and the forms' styles)."""
    build = json.loads((ROOT / "api/static/fieldapp/build.json").read_text())
    first = {build["script"], build["styles"], build["manifest"]}
    total = 0
    trust = ssl.create_default_context(cafile=str(root))
    with httpx2.Client(verify=trust, timeout=30) as client:
        for name in sorted(set(build["files"]) - first):
            with client.stream(
                "GET",
                f"{base.replace(SITE, '127.0.0.1')}/static/fieldapp/{name}",
                headers={"Host": SITE, "Accept-Encoding": "zstd, br, gzip"},
                extensions={"sni_hostname": SITE},
            ) as answer:
                total += sum(len(chunk) for chunk in answer.iter_raw())
    return total


def _phone(home: Path, root: Path) -> webdriver.Chrome:
    """A fresh phone-sized Chromium that trusts ``root`` (its own NSS store) and finds
    :data:`SITE` on loopback."""
    nssdb = home / ".pki/nssdb"
    nssdb.mkdir(parents=True)
    certutil = ["certutil", "-d", f"sql:{nssdb}"]  # from libnss3-tools (scripts/setup)
    subprocess.run([*certutil, "-N", "--empty-password"], check=True)  # noqa: S603
    trust = ["-A", "-t", "C,,", "-n", "campo", "-i", str(root)]
    subprocess.run([*certutil, *trust], check=True)  # noqa: S603
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--host-resolver-rules=MAP {SITE} 127.0.0.1",
    ):
        options.add_argument(flag)
    service = Service(
        shutil.which("chromedriver") or "chromedriver", env={**os.environ, "HOME": str(home)}
    )
    chrome = webdriver.Chrome(options=options, service=service)
    chrome.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    chrome.execute_cdp_cmd("Network.enable", {})
    chrome.execute_cdp_cmd("Network.emulateNetworkConditions", THREE_G)
    return chrome


def _until(check: Callable[[], Any], seconds: float = 180) -> float:
    """Seconds until ``check`` is truthy."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > seconds:
            raise RuntimeError("the page never got there")
        time.sleep(0.05)
    return time.monotonic() - start


def run() -> None:
    fresh_database()
    seed()
    with tempfile.TemporaryDirectory(prefix="campo-bench-app-") as tmp:
        folder = Path(tmp)
        with served(1) as (url, _pid), _proxy(folder, url) as (base, root):
            phone = _phone(folder / "home", root)
            try:
                started = time.monotonic()
                phone.get(f"{base}/app/")
                _until(lambda: phone.find_elements(By.ID, "signin"))
                signin = time.monotonic() - started
                before = int(phone.execute_script(BYTES))
                floor = float(
                    phone.execute_async_script(
                        "const done = arguments[0], t = performance.now();"
                        "fetch('/health', {cache: 'no-store'}).then(r => r.text())"
                        ".then(() => done((performance.now() - t) / 1000));"
                    )
                )
                form = phone.find_element(By.ID, "signin")
                form.find_element(By.NAME, "tenant").send_keys(DEMO_SLUG)
                form.find_element(By.NAME, "email").send_keys(f"gestor01@{DEMO_SLUG}.campo.co")
                form.find_element(By.NAME, "password").send_keys(DEMO_PASSWORD)
                form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
                day = _until(lambda: phone.find_elements(By.CSS_SELECTOR, "#app .stops, #app h2"))
                after = int(phone.execute_script(BYTES))
                ready = day + _until(
                    lambda: phone.execute_async_script(
                        "window.campo.offlineReady().then(arguments[0])"
                    )
                )
            finally:
                phone.quit()
            later = _engine_bytes(base, root)
    print("agent web app, fresh phone on 3G (300 ms, 400 kbit/s) through Caddy")
    print(f"  baseline: one /health request on the link   {floor:6.2f} s")
    print(f"  sign-in form on screen (target <= 8 s)      {signin:6.2f} s  ({signin / floor:.1f}x)")
    print(f"  bytes before sign-in (target <= 600 KB)     {before / 1000:6.0f} KB")
    print(f"  the day after Entrar (target <= 3 s)        {day:6.2f} s  ({day / floor:.1f}x)")
    print(f"  bytes up to the day                         {after / 1000:6.0f} KB")
    print(f"  ready to work offline after Entrar          {ready:6.2f} s  (forms made, files kept)")
    print(
        f"  form engine and its styles, compressed      {later / 1000:6.0f} KB"
        f"  (~{later / THREE_G['downloadThroughput']:.0f} s on this link: the service worker"
        " fetches them, and DevTools does not throttle it)"
    )


def main() -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    run()


if __name__ == "__main__":
    main()
