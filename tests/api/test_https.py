"""campo behind the HTTPS proxy the project ships (``scripts/https``: Caddy, Debian's package)
on loopback ports, as a LAN install: Caddy's own CA, its root offered over plain http, HSTS,
compression, Secure cookies, forwarded addresses believed from the proxy only, and a client
that never finishes its headers cut off."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from api.routers.fieldapp import IMMUTABLE, build
from tests.conftest import World
from tests.console import sign_in
from tests.proxy import Proxy, https_proxy


@pytest.fixture
def proxy(tmp_path: Path, world: World) -> Iterator[Proxy]:
    with https_proxy(tmp_path, site="127.0.0.1") as running:
        yield running


def test_a_phone_reaches_campo_over_https_with_the_local_ca(proxy: Proxy, world: World) -> None:
    certificate = httpx2.get(f"{proxy.http}/ca.crt", timeout=10)
    assert certificate.status_code == 200
    assert certificate.headers["content-type"] == "application/x-x509-ca-cert"
    assert certificate.content == proxy.root.read_bytes()
    moved = httpx2.get(f"{proxy.http}/entrar", timeout=10, follow_redirects=False)
    assert moved.status_code == 308 or moved.status_code == 301
    assert moved.headers["location"] == f"{proxy.https}/entrar"
    with proxy.client() as phone:
        page = phone.get("/entrar")
        assert page.status_code == 200
        assert page.headers["strict-transport-security"] == "max-age=31536000"
        assert "secure" in page.headers["set-cookie"].lower()
        signed = sign_in(phone, world, "admin")
        assert signed.status_code == 303, signed.text
        assert "secure" in signed.headers["set-cookie"].lower()
        people = phone.get("/personas")
        assert people.status_code == 200
        assert f"{proxy.http}/ca.crt" in people.text  # the link, with its QR code and steps
        assert "Certificado de CA" in people.text
        app = phone.get("/app/")
        assert app.headers["cache-control"] == "no-cache"  # a new build reaches phones
        script = phone.get(
            f"/static/fieldapp/{build()['script']}", headers={"Accept-Encoding": "gzip"}
        )
        assert script.status_code == 200
        assert script.headers["content-encoding"] == "gzip"
        assert script.headers["cache-control"] == IMMUTABLE  # named for its content
        assert phone.get("/static/fieldapp/app.js").status_code == 404  # no unnamed copies


def test_behind_the_proxy_a_rotated_forwarded_address_does_not_dodge_the_limit(
    proxy: Proxy, world: World
) -> None:
    """Caddy sets X-Forwarded-For itself, and campo believes only Caddy's: a client rotating
    its own header is still one address (30 failures, then 429)."""
    with proxy.client() as attacker:
        statuses = [
            attacker.post(
                "/v1/auth/token",
                data={"username": f"nadie{n}@alfa.co", "password": "no", "client_id": "alfa"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
            ).status_code
            for n in range(32)
        ]
    assert set(statuses[:30]) == {401}
    assert 429 in statuses[30:]


def test_a_client_that_never_finishes_its_headers_is_cut_off(proxy: Proxy) -> None:
    trust = ssl.create_default_context(cafile=str(proxy.root))
    port = int(proxy.https.rsplit(":", 1)[1])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=60) as raw,
        trust.wrap_socket(raw, server_hostname="127.0.0.1") as slow,
    ):
        slow.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and nothing more
        answer = b""
        while chunk := slow.recv(4096):  # until the proxy closes the connection
            answer += chunk
    assert b"200 OK" not in answer  # never served: dropped for its missing headers
