"""Password hashing with Argon2id, at the cost the settings give.

Production keeps argon2-cffi's defaults (64 MiB, 3 passes); the test suite sets a cheap cost,
since it hashes hundreds of passwords that protect nothing. A check against a missing account
still verifies a real hash, so the answer time does not reveal which e-mails have accounts.
"""

from __future__ import annotations

import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from geo.core.errors import InvalidInput
from geo.core.settings import get_settings

MIN_LENGTH = 8


@cache
def _hasher(time_cost: int, memory_kib: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    return hasher, hasher.hash("campo-timing-equaliser")


def _current() -> tuple[PasswordHasher, str]:
    settings = get_settings()
    return _hasher(settings.argon2_time_cost, settings.argon2_memory_kib)


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_LENGTH} characters", field="password")
    return _current()[0].hash(password)


def password_matches(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; a missing account costs the same as a wrong password."""
    hasher, dummy = _current()
    try:
        hasher.verify(stored_hash or dummy, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored_hash is not None


def new_password() -> str:
    """A random first or reset password (16 characters, 96 bits) for an admin to hand over."""
    return secrets.token_urlsafe(12)
