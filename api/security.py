"""Bearer tokens: JWTs signed with the tenant-independent secret from Settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt

from geo.accounts.users import Principal
from geo.core.errors import AuthenticationFailed
from geo.core.settings import Settings

ALGORITHM = "HS256"


def issue_token(principal: Principal, settings: Settings) -> tuple[str, int]:
    """A signed token and its lifetime in seconds."""
    ttl = timedelta(minutes=settings.jwt_ttl_minutes)
    now = datetime.now(UTC)
    claims = {
        "sub": str(principal.user_id),
        "tid": principal.tenant_id,
        "role": principal.role,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM), int(ttl.total_seconds())


def read_token(token: str, settings: Settings) -> tuple[int, int]:
    """(tenant_id, user_id) from a valid token; the role is re-read from the database."""
    try:
        claims = jwt.decode(
            token, settings.jwt_secret, algorithms=[ALGORITHM], options={"require": ["exp"]}
        )
        return int(claims["tid"]), int(claims["sub"])
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise AuthenticationFailed("invalid or expired token") from exc
