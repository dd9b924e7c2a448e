"""campo behind the project's own HTTPS proxy (``scripts/https``: Caddy) on free loopback
ports, with a campo server of its own that trusts it, for the tests of phones over HTTPS."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2

from tests.conftest import ROOT
from tests.server import Server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Proxy:
    https: str
    http: str
    root: Path
    """The root certificate of Caddy's own CA, which phones install."""
    campo: Server

    def client(self) -> httpx2.Client:
        """An HTTP client that trusts the proxy's CA, as a phone that installed it."""
        trust = ssl.create_default_context(cafile=str(self.root))
        return httpx2.Client(base_url=self.https, verify=trust, follow_redirects=False, timeout=30)


@contextlib.contextmanager
def https_proxy(folder: Path, *, site: str) -> Iterator[Proxy]:
    """Caddy for ``site`` (resolved to loopback by whoever connects) in front of a new campo
    server that trusts it; both stopped on the way out."""
    https_port, http_port = _free_port(), _free_port()
    ca_url = f"http://{site}:{http_port}/ca.crt"
    campo = Server(
        campo=True, env={"CAMPO_TRUSTED_PROXIES": "127.0.0.1", "CAMPO_LOCAL_CA_URL": ca_url}
    )
    campo.start()
    env = {
        **os.environ,
        "CAMPO_UPSTREAMS": campo.url.removeprefix("http://"),
        "CAMPO_HTTPS_PORT": str(https_port),
        "CAMPO_HTTP_PORT": str(http_port),
        "CAMPO_CADDY_DIR": str(folder / "caddy"),
        "CAMPO_READ_HEADER_TIMEOUT": "2s",
        "XDG_CONFIG_HOME": str(folder / "config"),
    }
    log = folder / "caddy.log"
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        caddy = subprocess.Popen(
            ["bash", "scripts/https", site],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    root = folder / "caddy/pki/authorities/local/root.crt"
    found = Proxy(f"https://{site}:{https_port}", f"http://{site}:{http_port}", root, campo)
    try:
        deadline = time.monotonic() + 60
        while not _answers(found):
            assert caddy.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"Caddy did not come up: {log.read_text()}"
            time.sleep(0.2)
        yield found
    finally:
        caddy.terminate()
        caddy.wait(10)
        campo.stop()


def _answers(proxy: Proxy) -> bool:
    """Whether campo answers through the proxy (the CA made, the certificate issued)."""
    if not proxy.root.exists():
        return False
    host = proxy.https.removeprefix("https://").rsplit(":", 1)[0]
    port = int(proxy.https.rsplit(":", 1)[1])
    trust = ssl.create_default_context(cafile=str(proxy.root))
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
            trust.wrap_socket(raw, server_hostname=host) as tls,
        ):
            tls.sendall(
                f"GET /health HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
            )
            return tls.recv(64).startswith(b"HTTP/1.1 200")
    except (OSError, ssl.SSLError):
        return False
