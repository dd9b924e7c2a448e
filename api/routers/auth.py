"""Signing in (OAuth2 password flow) and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from api.deps import AnonymousSessionDep, CallerDep, SettingsDep
from api.schemas import Me, Token
from api.security import issue_token, same_origin
from geo.accounts.users import authenticate
from geo.core.errors import PermissionDenied

router = APIRouter(prefix="/v1", tags=["auth"])


@router.post("/auth/token", response_model=Token)
def token(
    session: AnonymousSessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(description="The user's e-mail.")],
    password: Annotated[str, Form()],
    client_id: Annotated[str, Form(description="The tenant's slug, e.g. `demo`.")],
    request: Request,
    grant_type: Annotated[str, Form(pattern="^password$")] = "password",
) -> Token:
    """OAuth2 password grant: e-mail, password and the tenant (as ``client_id``).

    Tokens only: no cookie is set here. A browser's session cookie comes from the console's
    own sign-in form (``/entrar``) with its CSRF token, so no other site's page can sign a
    browser into someone else's account; a post from another site's page is refused too.
    """
    if not same_origin(request.headers.get("origin"), str(request.base_url)):
        raise PermissionDenied("sign-in from another site's page is refused", "origin")
    principal = authenticate(
        session,
        tenant_slug=client_id,
        email=username,
        password=password,
        client=request.client.host if request.client else "unknown",
        throttle=request.app.state.logins,
    )
    access, ttl = issue_token(principal, settings)
    return Token(access_token=access, expires_in=ttl)


@router.get("/me", response_model=Me)
def me(caller: CallerDep) -> Me:
    p = caller.principal
    return Me(user_id=p.user_id, tenant_id=p.tenant_id, role=p.role, agent_id=p.agent_id)
