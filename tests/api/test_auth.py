"""Signing in, tokens, and what a bad token or a disabled account gets."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx2
import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.core.db import tenant_session
from geo.core.settings import get_settings
from tests.conftest import PASSWORD, World
from tests.server import Server

pytestmark = pytest.mark.clock


def _login(client: TestClient, **form: str) -> tuple[int, dict[str, object]]:
    answer = client.post("/v1/auth/token", data=form)
    return answer.status_code, answer.json()


def test_failures_all_look_the_same(client: TestClient, world: World) -> None:
    wrong_password = _login(
        client, username="admin@alfa.co", password="nope nope", client_id="alfa"
    )
    no_user = _login(client, username="ghost@alfa.co", password=PASSWORD, client_id="alfa")
    no_tenant = _login(client, username="admin@alfa.co", password=PASSWORD, client_id="zeta")
    assert wrong_password == no_user == no_tenant
    assert wrong_password[0] == 401


def test_missing_tenant_names_the_field(client: TestClient, world: World) -> None:
    status, body = _login(client, username="admin@alfa.co", password=PASSWORD)
    assert status == 422
    assert body["error"]["fields"][0]["field"] == "client_id"  # type: ignore[index]


def test_email_is_case_insensitive(client: TestClient, world: World) -> None:
    status, _ = _login(client, username="Admin@ALFA.co", password=PASSWORD, client_id="alfa")
    assert status == 200


def test_forged_expired_and_missing_tokens_are_401(client: TestClient, world: World) -> None:
    claims = {"sub": "1", "tid": world.tenant_id, "exp": datetime.now(UTC) + timedelta(hours=1)}
    forged = jwt.encode(claims, "not-the-secret-" * 4, algorithm="HS256")
    expired = jwt.encode(
        {**claims, "exp": datetime.now(UTC) - timedelta(seconds=5)},
        get_settings().jwt_secret,
        algorithm="HS256",
    )
    client.cookies.clear()  # signing in left the browser-style cookie: this caller has none
    for headers in (
        {"Authorization": f"Bearer {forged}"},
        {"Authorization": f"Bearer {expired}"},
        {},
    ):
        answer = client.get("/v1/cases", headers=headers)
        assert answer.status_code == 401
        assert answer.json()["error"]["code"] == "not_authenticated"


def test_a_token_for_another_tenant_cannot_be_forged_by_changing_tid(
    client: TestClient, world: World, other_world: World
) -> None:
    """Even with the secret, a user id is only valid inside its own tenant."""
    claims = {
        "sub": str(_user_id(client, world)),
        "tid": other_world.tenant_id,
        "exp": datetime.now(UTC) + timedelta(hours=1),
    }
    token = jwt.encode(claims, get_settings().jwt_secret, algorithm="HS256")
    assert client.get("/v1/cases", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_disabled_user_loses_access_at_once(client: TestClient, world: World) -> None:
    assert client.get("/v1/cases", headers=world.auth("dispatcher")).status_code == 200
    with tenant_session(world.tenant_id) as session:
        session.execute(text("UPDATE users SET active = false WHERE email = 'dispatcher@alfa.co'"))
    assert client.get("/v1/cases", headers=world.auth("dispatcher")).status_code == 401


def _user_id(client: TestClient, world: World) -> int:
    return int(client.get("/v1/me", headers=world.auth("admin")).json()["user_id"])


def test_signed_tokens_with_odd_claims_are_401(client: TestClient, world: World) -> None:
    """Signed with the real secret, but not as campo issues them: still refused, never a 500."""
    now = datetime.now(UTC)
    good = {"sub": "1", "tid": world.tenant_id, "iat": now, "exp": now + timedelta(hours=1)}
    secret = get_settings().jwt_secret
    odd = [
        {**good, "tid": None},
        {**good, "tid": "1"},
        {**good, "tid": 2**70},
        {**good, "sub": "abc"},
        {**good, "sub": None},
        {**good, "exp": 1e20},
        {key: value for key, value in good.items() if key != "iat"},
    ]
    client.cookies.clear()
    for claims in odd:
        token = jwt.encode(claims, secret, algorithm="HS256")
        answer = client.get("/v1/cases", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, (claims, answer.text)


def test_a_deactivated_agent_can_no_longer_sync_or_read_its_day(
    client: TestClient, world: World
) -> None:
    assert client.get("/v1/me/day", headers=world.auth("agent")).status_code == 200
    with tenant_session(world.tenant_id) as session:
        session.execute(text("UPDATE agents SET active = false"))
    assert client.get("/v1/me/day", headers=world.auth("agent")).status_code == 401
    answer = client.post("/v1/me/sync", json={"fixes": []}, headers=world.auth("agent"))
    assert answer.status_code == 401


def test_wrong_passwords_are_throttled_per_account_and_address(
    client: TestClient, world: World
) -> None:
    wrong = {"username": "admin@alfa.co", "password": "x" * 12, "client_id": "alfa"}
    statuses = [_login(client, **wrong)[0] for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    answer = client.post("/v1/auth/token", data={**wrong, "password": PASSWORD})
    assert answer.status_code == 429  # even the right password waits: the account is locked
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.json()["error"]["code"] == "too_many_attempts"
    other = {**wrong, "username": "dispatcher@alfa.co", "password": PASSWORD}
    assert _login(client, **other)[0] == 200  # another account from the same address


def test_a_sign_in_posted_from_another_sites_page_is_refused(
    client: TestClient, world: World
) -> None:
    """Login CSRF: a page elsewhere must not sign this browser into someone else's account."""
    form = {"username": "analyst@alfa.co", "password": PASSWORD, "client_id": "alfa"}
    forged = client.post("/v1/auth/token", data=form, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert forged.json()["error"]["fields"][0]["field"] == "origin"
    own = client.post("/v1/auth/token", data=form, headers={"Origin": "http://testserver"})
    assert own.status_code == 200
    assert "set-cookie" not in own.headers  # tokens only: the console's cookie is its own form's
    assert client.post("/v1/auth/token", data=form).status_code == 200  # not a browser


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"])
def test_forwarded_addresses_count_only_from_a_trusted_proxy(world: World, trusted: str) -> None:
    """A client rotating X-Forwarded-For must not dodge the per-address limit (30 failures),
    unless the header comes from the proxy campo is told to trust."""
    server = Server(campo=True, env={"CAMPO_TRUSTED_PROXIES": trusted})
    server.start()
    try:
        statuses = [
            httpx2.post(
                f"{server.url}/v1/auth/token",
                data={"username": f"nadie{n}@alfa.co", "password": "nope", "client_id": "alfa"},
                headers={"X-Forwarded-For": f"203.0.113.{n}"},
                timeout=30,
            ).status_code
            for n in range(35)
        ]
    finally:
        server.stop()
    assert set(statuses[:30]) == {401}
    assert (429 in statuses[30:]) is (not trusted)  # behind its proxy, each is its own client


def test_cookies_are_secure_over_https(world: World) -> None:
    from api.main import create_app

    form = {"organizacion": "alfa", "correo": "analyst@alfa.co", "clave": PASSWORD}
    for base, secure in (("https://campo.example", True), ("http://127.0.0.1:8000", False)):
        with TestClient(create_app(), base_url=base, follow_redirects=False) as browser:
            page = browser.get("/entrar")
            assert ("secure" in page.headers["set-cookie"].lower()) is secure
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf is not None
            signed = browser.post("/entrar", data={**form, "csrf": csrf.group(1)})
            assert signed.status_code == 303, signed.text
            assert "campo_token" in signed.headers["set-cookie"]
            assert ("secure" in signed.headers["set-cookie"].lower()) is secure
