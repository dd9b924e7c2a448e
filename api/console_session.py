"""The console's session and its protection against forged requests.

The session is the signed token the API issues, kept in an HttpOnly, SameSite=Strict cookie
(``campo_token``) for as long as the token lives (``CAMPO_JWT_TTL_MINUTES``); signing out
deletes the cookie. Every form that changes something carries a CSRF token derived from the
session with the server's secret (HMAC), checked on submission; the sign-in form, which has no
session yet, carries a random one that must equal its cookie (double submit).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api.deps import TOKEN_COOKIE, Caller, SettingsDep
from api.security import read_token
from geo.accounts.users import load_principal
from geo.core.db import tenant_session
from geo.core.errors import CampoError, PermissionDenied
from geo.core.settings import Settings

CSRF_FIELD = "csrf"
SIGN_IN_COOKIE = "campo_signin"


def csrf_token(session_token: str, settings: Settings) -> str:
    """The CSRF token of a session: only the server can make it, only for that session."""
    key = settings.jwt_secret.encode()
    return hmac.new(key, b"csrf:" + session_token.encode(), hashlib.sha256).hexdigest()


def new_sign_in_token() -> str:
    return secrets.token_urlsafe(24)


def same(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who opened a console page: signed in (with a caller and a CSRF token) or not."""

    caller: Caller | None
    csrf: str = ""

    @property
    def role(self) -> str | None:
        return self.caller.principal.role if self.caller else None

    def check(self, given: str | None) -> None:
        """Refuse a form submission whose CSRF token is not this session's."""
        if not same(self.csrf, given):
            raise PermissionDenied("the form's CSRF token is missing or wrong: reload the page")


def _visitor(request: Request, settings: SettingsDep) -> Iterator[Visitor]:
    token = request.cookies.get(TOKEN_COOKIE)
    if not token:
        yield Visitor(None)
        return
    try:
        tenant_id, user_id = read_token(token, settings)
    except CampoError:  # expired or forged: sign in again
        yield Visitor(None)
        return
    with tenant_session(tenant_id) as session:
        try:
            principal = load_principal(session, tenant_id=tenant_id, user_id=user_id)
        except CampoError:  # the user was deactivated or removed
            principal = None
        if principal is None:
            yield Visitor(None)
            return
        request.state.principal = principal
        yield Visitor(Caller(principal, session), csrf_token(token, settings))


VisitorDep = Annotated[Visitor, Depends(_visitor, scope="function")]
