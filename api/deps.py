"""Request dependencies: settings, the tenant-scoped session, the caller and role checks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from api.security import read_token
from geo.accounts.users import Principal, load_principal
from geo.core.db import tenant_session
from geo.core.errors import AuthenticationFailed, PermissionDenied
from geo.core.settings import Settings, get_settings

SettingsDep = Annotated[Settings, Depends(get_settings)]
_bearer = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)
TOKEN_COOKIE = "campo_token"  # noqa: S105 - a cookie name, not a secret
"""Map pages open in a browser tab, which sends a cookie but no Authorization header. The
cookie is honoured on GET only: reads change nothing, so a forged cross-site request cannot
use it to act."""


def secure_cookies(request: Request, settings: Settings) -> bool:
    """Whether cookies get ``Secure``: always in production, and whenever the request came
    over HTTPS (directly, or through a trusted proxy that says so)."""
    return settings.environment == "production" or request.url.scheme == "https"


def keep_session(
    request: Request, response: Response, token: str, ttl: int, settings: Settings
) -> None:
    """The token as the session cookie: HttpOnly (no script reads it), SameSite=Strict (no
    other site's page sends it), Secure behind HTTPS, for the token's lifetime."""
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        max_age=ttl,
        httponly=True,
        samesite="strict",
        secure=secure_cookies(request, settings),
    )


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated principal and its tenant-scoped session."""

    principal: Principal
    session: Session

    @property
    def tenant_id(self) -> int:
        return self.principal.tenant_id


def _caller(
    request: Request, bearer: Annotated[str | None, Depends(_bearer)], settings: SettingsDep
) -> Iterator[Caller]:
    token = bearer or (request.cookies.get(TOKEN_COOKIE) if request.method == "GET" else None)
    if not token:
        raise AuthenticationFailed("sign in: a bearer token (or the campo_token cookie) is needed")
    tenant_id, user_id = read_token(token, settings)
    with tenant_session(tenant_id) as session:
        principal = load_principal(session, tenant_id=tenant_id, user_id=user_id)
        request.state.principal = principal  # for the request's log line
        yield Caller(principal, session)


def _anonymous() -> Iterator[Session]:
    with tenant_session(None) as session:
        yield session


# "function" scope: the transaction commits before the answer leaves, so a failed commit is
# an error answer rather than a success the client was already told about.
CallerDep = Annotated[Caller, Depends(_caller, scope="function")]
AnonymousSessionDep = Annotated[Session, Depends(_anonymous, scope="function")]


def require(*roles: str) -> Callable[[Caller], Caller]:
    """A dependency admitting only the given roles."""

    def check(caller: CallerDep) -> Caller:
        if caller.principal.role not in roles:
            raise PermissionDenied(f"this needs one of the roles: {', '.join(roles)}")
        return caller

    return check


Staff = Annotated[Caller, Depends(require("admin", "dispatcher"))]
Admin = Annotated[Caller, Depends(require("admin"))]
Watcher = Annotated[Caller, Depends(require("admin", "dispatcher", "analyst"))]
Reader = Annotated[Caller, Depends(require("admin", "dispatcher", "analyst", "agent"))]
AgentCaller = Annotated[Caller, Depends(require("agent"))]


def agent_id_of(caller: Caller) -> int:
    """The caller's field agent id; a user of role agent without an agent row is refused."""
    if caller.principal.agent_id is None:
        raise PermissionDenied("this user is not set up as a field agent")
    return caller.principal.agent_id
