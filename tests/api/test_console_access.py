"""Who may post which console form: every post of the console walked, the role refused (403)
before the body is read or validated, a visitor signed out sent to sign in."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

import api.routers
from api.console_session import CSRF_FIELD, csrf_token
from geo.core.settings import get_settings
from tests.conftest import World

OPEN_POSTS = {"/entrar", "/salir"}
"""Sign-in and sign-out take anyone: they are how one becomes someone."""


def _console_posts() -> list[str]:
    """Every POST of the console's routers (they have no prefix), path parameters as 1."""
    paths = [
        re.sub(r"\{[^}]+\}", "1", route.path)
        for found in pkgutil.iter_modules(api.routers.__path__)
        if found.name.startswith("console")
        for route in importlib.import_module(f"api.routers.{found.name}").router.routes
        if isinstance(route, APIRoute) and "POST" in route.methods
    ]
    return sorted(p for p in paths if p not in OPEN_POSTS)


def test_the_console_has_posts_to_walk() -> None:
    posts = _console_posts()
    assert len(posts) >= 19
    assert {"/importar/cartera", "/importar/pagos", "/cuestionarios", "/ajustes"} <= set(posts)


@pytest.mark.parametrize("role", ["agent", "analyst"])
def test_a_role_without_the_right_gets_403_before_its_form_is_checked(
    client: TestClient, world: World, role: str
) -> None:
    """No console post is an agent's or an analyst's: each is refused with 403 whatever the
    body, a missing field included (which would otherwise be 422)."""
    client.cookies.set("campo_token", world.tokens[role])
    try:
        for path in _console_posts():
            answer = client.post(path, data={})
            assert answer.status_code == 403, (path, answer.status_code, answer.text)
            assert answer.json()["error"]["code"] == "forbidden", path
    finally:
        client.cookies.clear()


def test_an_upload_of_the_wrong_role_is_refused_without_parsing_its_body(
    client: TestClient, world: World
) -> None:
    """Two files where a form takes one: the parser refuses that (400) for an admin, whose
    upload it parses; a dispatcher's is refused for the role (403) before any parsing."""
    files = [("archivo", ("a.csv", b"a")), ("archivo", ("b.csv", b"b"))]
    client.cookies.set("campo_token", world.tokens["dispatcher"])
    try:
        for path in ("/importar/pagos", "/cuestionarios", "/personas"):
            refused = client.post(path, files=files)
            assert refused.status_code == 403, (path, refused.text)
    finally:
        client.cookies.clear()
    client.cookies.set("campo_token", world.tokens["admin"])
    try:
        parsed = client.post("/importar/pagos", files=files)
        assert parsed.status_code == 400, parsed.text
    finally:
        client.cookies.clear()


def test_an_admin_upload_without_a_file_names_the_field_in_spanish(
    client: TestClient, world: World
) -> None:
    token = world.tokens["admin"]
    client.cookies.set("campo_token", token)
    try:
        csrf = csrf_token(token, get_settings())
        missing = client.post("/importar/pagos", data={CSRF_FIELD: csrf})
        assert missing.status_code == 422, missing.text
        assert missing.json()["error"]["fields"] == [
            {"field": "archivo", "message": "Elija un archivo."}
        ]
        forged = client.post(
            "/importar/pagos", files={"archivo": ("pagos.csv", b"x")}, data={CSRF_FIELD: "no"}
        )
        assert forged.status_code == 403, forged.text
    finally:
        client.cookies.clear()


def test_a_visitor_signed_out_is_sent_to_sign_in(client: TestClient) -> None:
    for path in _console_posts():
        answer = client.post(path, data={}, follow_redirects=False)
        assert answer.status_code == 303, (path, answer.status_code)
        assert answer.headers["location"] == "/entrar", path
    page = client.get("/personas", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/entrar")
