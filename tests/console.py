"""Signing in to the console as a browser does: its sign-in page, then the form posted with
the page's CSRF token."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import PASSWORD, World


def sign_in(http: Any, world: World, role: str) -> Any:
    """The answer to the posted sign-in form (303 and the session cookie when it worked);
    ``http`` is any httpx-like client that keeps cookies."""
    page = http.get("/entrar")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None, page.text
    form = {
        "organizacion": world.slug,
        "correo": f"{role}@{world.slug}.co",
        "clave": PASSWORD,
        "csrf": csrf.group(1),
    }
    return http.post("/entrar", data=form, follow_redirects=False)
