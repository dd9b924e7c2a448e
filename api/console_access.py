"""Who may open which console page and post which form, as FastAPI dependencies with one
refusal path: a visitor not signed in goes to sign in, a page of another role sends them home,
and a form of another role is refused (403) before its body is read.

A form's body is read here, after the role check and with bounded parts, so an analyst's
50 MB upload to an admin's form is refused without being parsed; then its CSRF token is
checked. Handlers receive the checked :class:`~api.deps.Caller` and, for uploads, the file.
"""

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData, UploadFile

from api.console_session import CSRF_FIELD, VisitorDep
from api.deps import Caller
from geo.core.errors import InvalidInput, PermissionDenied

AGENTS = ("agent",)
ADMINS = ("admin",)
STAFF = ("admin", "dispatcher")
WATCHERS = ("admin", "dispatcher", "analyst")
MAX_FORM_FIELDS = 1000
"""Starlette's own bound, which FastAPI applies when it parses a handler's ``Form`` fields;
the case table posts one field per selected case."""


# No ``from __future__ import annotations`` here: FastAPI reads the dependency closures'
# annotations, which name the closure's own ``roles``.


class ConsoleRedirect(Exception):
    """Send the visitor elsewhere (``303``): to sign in, or to their own home."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def _allowed(roles: tuple[str, ...], *, page: bool) -> Callable[..., Caller]:
    def check(visitor: VisitorDep) -> Caller:
        if visitor.caller is None:
            raise ConsoleRedirect("/entrar")
        if visitor.role not in roles:
            if page:
                raise ConsoleRedirect("/")
            raise PermissionDenied("Su rol no permite esta acción.")
        return visitor.caller

    return check


@dataclass(frozen=True, slots=True)
class Posted:
    """A console form as posted: who posted it (role and CSRF checked) and its fields."""

    caller: Caller
    fields: FormData

    def file(self, name: str) -> tuple[str, bytes]:
        """An uploaded file's name and bytes (the body's size was capped at the door). Read
        from its spooled file, so a plain handler on a worker thread may call it."""
        value = self.fields.get(name)
        if not isinstance(value, UploadFile) or not value.filename:
            raise InvalidInput("Elija un archivo.", name)
        value.file.seek(0)
        return value.filename, value.file.read()

    def text(self, name: str, *, pattern: str, message: str) -> str:
        """A text field that must match ``pattern`` whole, else ``message`` names it."""
        value = self.fields.get(name)
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise InvalidInput(message, name)
        return value


def _posted(roles: tuple[str, ...], *, files: int) -> Callable[..., AsyncIterator[Posted]]:
    async def check(
        caller: Annotated[Caller, Depends(_allowed(roles, page=False))],
        visitor: VisitorDep,
        request: Request,
    ) -> AsyncIterator[Posted]:
        # Read here, after the role check; a handler's own Form fields reuse this parse.
        async with request.form(max_files=files, max_fields=MAX_FORM_FIELDS) as form:
            given = form.get(CSRF_FIELD)
            visitor.check(given if isinstance(given, str) else None)
            yield Posted(caller, form)

    return check


StaffUpload = Annotated[Posted, Depends(_posted(STAFF, files=1), scope="function")]
"""A staff upload: the handler declares no ``File``, so nothing is parsed before the role."""
AdminUpload = Annotated[Posted, Depends(_posted(ADMINS, files=1), scope="function")]
_StaffPosted = Annotated[Posted, Depends(_posted(STAFF, files=0), scope="function")]
_AdminPosted = Annotated[Posted, Depends(_posted(ADMINS, files=0), scope="function")]


def _staff(posted: _StaffPosted) -> Caller:
    return posted.caller


def _admin(posted: _AdminPosted) -> Caller:
    return posted.caller


AgentPage = Annotated[Caller, Depends(_allowed(AGENTS, page=True))]
WatcherPage = Annotated[Caller, Depends(_allowed(WATCHERS, page=True))]
StaffPage = Annotated[Caller, Depends(_allowed(STAFF, page=True))]
AdminPage = Annotated[Caller, Depends(_allowed(ADMINS, page=True))]
StaffForm = Annotated[Caller, Depends(_staff, scope="function")]
"""The caller of a staff form, role then CSRF checked; the handler may declare its own
``Form`` fields, validated after this check (a wrong role gets 403, not 422)."""
AdminForm = Annotated[Caller, Depends(_admin, scope="function")]
