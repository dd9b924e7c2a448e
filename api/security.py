"""Bearer tokens: JWTs signed with the tenant-independent secret from Settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

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
    """(tenant_id, user_id) from a valid token; the role is re-read from the database.

    A token must say when it was issued and live no longer than tokens are issued for, so a
    signed claim of a far expiry (``exp`` of 1e20) is refused like a forged one.
    """
    try:
        claims = jwt.decode(
            token, settings.jwt_secret, algorithms=[ALGORITHM], options={"require": ["exp", "iat"]}
        )
        issued, expires = float(claims["iat"]), float(claims["exp"])
        if expires - issued > settings.jwt_ttl_minutes * 60 + 1:
            raise ValueError("lifetime longer than issued")
        tenant_id, user_id = claims["tid"], claims["sub"]
        if type(tenant_id) is not int or not isinstance(user_id, str) or not user_id.isdigit():
            raise ValueError("malformed subject")
        if not (0 < tenant_id < 2**63 and 0 < int(user_id) < 2**63):
            raise ValueError("ids out of range")
        return tenant_id, int(user_id)
    except (jwt.PyJWTError, KeyError, ValueError, TypeError, OverflowError) as exc:
        raise AuthenticationFailed("invalid or expired token") from exc


def same_origin(origin: str | None, base_url: str) -> bool:
    """Whether a browser's ``Origin`` is this server's own (no ``Origin``: not a browser's
    cross-site request, which always carries one on a POST)."""
    if origin is None:
        return True
    given, own = urlsplit(origin), urlsplit(base_url)
    return (given.scheme, given.netloc) == (own.scheme, own.netloc)
