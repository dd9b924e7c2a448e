"""The door: bodies capped per route before parsing, writes refused before their body when
unauthenticated, and the security headers."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient

from tests.conftest import World

MIB = 1024 * 1024


def test_an_unauthenticated_write_is_refused_before_its_body_is_read(client: TestClient) -> None:
    read = 0

    def body() -> Iterator[bytes]:
        nonlocal read
        for _ in range(20):
            read += 1
            yield b"[" + b"1," * (MIB // 2) + b"1]"

    answer = client.post("/v1/cases", content=body(), headers={"content-type": "application/json"})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "not_authenticated"
    assert read <= 1


def test_bodies_are_capped_per_route(client: TestClient, world: World) -> None:
    big = b"x" * (300 * 1024)
    agent = client.post(
        "/v1/agents",
        content=big,
        headers={**world.auth("admin"), "content-type": "application/json"},
    )
    assert agent.status_code == 413
    assert agent.json()["error"]["code"] == "too_large"
    owntracks = client.post("/owntracks", content=b"{" + b" " * (3 * MIB) + b"}")
    assert owntracks.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it streams
        for _ in range(5):
            yield b" " * (100 * 1024)

    streamed = client.post(
        "/v1/tenant/settings",
        content=chunks(),
        headers={**world.auth("admin"), "content-type": "application/json"},
    )
    assert streamed.status_code == 413
    sync = client.post(
        "/v1/me/sync", json={"fixes": [], "note": "x" * (MIB)}, headers=world.auth("agent")
    )
    assert sync.status_code == 422  # within its cap: read, then refused for the unknown field


def test_long_text_fields_are_refused_naming_them(client: TestClient, world: World) -> None:
    answer = client.post(
        "/v1/agents",
        json={
            "user_id": 1,
            "code": "G9",
            "base": [-74.1, 4.6],
            "travel_mode": "walk",
            "base_address": "Calle " * 100,
        },
        headers=world.auth("admin"),
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["fields"][0]["field"] == "base_address"


def test_security_headers(client: TestClient, world: World) -> None:
    api = client.get("/v1/cases", headers=world.auth("dispatcher"))
    assert api.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" not in api.headers
    page = client.get("/maps/live", headers=world.auth("dispatcher"))
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'self'" in policy  # the console frames its own maps only
    assert page.headers["x-frame-options"] == "SAMEORIGIN"
