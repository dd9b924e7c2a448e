"""Domain errors. They say what went wrong, never which HTTP status it becomes (``api/`` maps)."""

from __future__ import annotations


class CampoError(Exception):
    """Base of every error campo raises on purpose."""

    code = "error"

    def __init__(
        self,
        message: str,
        field: str | None = None,
        *,
        problems: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.problems = problems or ([(field, message)] if field else [])
        """Every (field, message) at fault, when there are several."""


class NotFound(CampoError):
    """The row does not exist *for this tenant* (another tenant's row is indistinguishable)."""

    code = "not_found"


class Conflict(CampoError):
    """The request contradicts stored state (duplicate key, wrong status)."""

    code = "conflict"


class InvalidInput(CampoError):
    """Input that passed the schema but breaks a domain rule; ``field`` names the culprit."""

    code = "invalid"


class AuthenticationFailed(CampoError):
    """Unknown tenant, user or password, or a bad token: deliberately not more specific."""

    code = "not_authenticated"


class PermissionDenied(CampoError):
    """Authenticated, but the role may not do this."""

    code = "forbidden"


class TooManyAttempts(CampoError):
    """Too many failed sign-ins (or too many at once): try again after ``retry_after_s``."""

    code = "too_many_attempts"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"demasiados intentos: vuelva a intentar en {retry_after_s} s")
        self.retry_after_s = retry_after_s


class Refused(CampoError):
    """The message as a whole cannot be taken (unknown device, malformed tracker report)."""

    code = "refused"
