"""The forms a phone may download: one visit form per questionnaire, at its newest version,
and the check that a new version becomes one (so no version can break the form list)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from pyxform.errors import PyXFormError
from sqlalchemy.orm import Session

from geo.core.errors import InvalidInput, NotFound
from geo.core.tenant_settings import tenant_settings
from geo.fieldkit.day_file import day_file
from geo.fieldkit.visit_form import form_id, visit_xform
from geo.visits.questionnaires import (
    QuestionnaireView,
    create_questionnaire,
    ensure_default_questionnaire,
    list_questionnaires,
)
from geo.visits.xlsform import import_xlsform

log = logging.getLogger(__name__)


def add_questionnaire(
    session: Session, *, tenant_id: int, key: str, definition: dict[str, Any]
) -> QuestionnaireView:
    """A new version of ``key``, refused unless the visit form phones will download from it
    converts (pyxform reads ``${name}`` in a title or label as a reference: an unknown one
    would otherwise make every phone of the tenant fail to list its forms)."""
    view = create_questionnaire(session, tenant_id=tenant_id, key=key, definition=definition)
    ensure_servable(session, tenant_id=tenant_id, questionnaire=view)
    return view


def import_form(session: Session, *, tenant_id: int, key: str, data: bytes) -> QuestionnaireView:
    """An XLSForm workbook as the next version of ``key``, refused unless it becomes a visit
    form (see :func:`add_questionnaire`)."""
    view = import_xlsform(session, tenant_id=tenant_id, key=key, data=data)
    ensure_servable(session, tenant_id=tenant_id, questionnaire=view)
    return view


def ensure_servable(session: Session, *, tenant_id: int, questionnaire: QuestionnaireView) -> None:
    """InvalidInput, with pyxform's reason, when the version cannot become a visit form; the
    caller's transaction then stores nothing."""
    try:
        visit_xform(session, tenant_id=tenant_id, questionnaire=questionnaire)
    except (PyXFormError, ValueError, KeyError, TypeError) as exc:  # pyxform on bad input
        raise InvalidInput(f"the visit form cannot be written: {exc}", "definition") from None


def current_questionnaires(session: Session, *, tenant_id: int) -> list[QuestionnaireView]:
    """The newest version in use of each of the tenant's questionnaires (the default one at
    least); a retired version gives way to the one before it."""
    ensure_default_questionnaire(session, tenant_id=tenant_id)
    newest: dict[str, QuestionnaireView] = {}
    for found in list_questionnaires(session, tenant_id=tenant_id):  # by key, then version
        if not found.retired:
            newest[found.key] = found
    return list(newest.values())


def servable_forms(session: Session, *, tenant_id: int) -> list[tuple[QuestionnaireView, str]]:
    """Each current questionnaire with its visit form's XML; one that cannot be written (a
    version stored before campo checked them) is left out and logged, never a failed list."""
    forms = []
    for questionnaire in current_questionnaires(session, tenant_id=tenant_id):
        try:
            xml = visit_xform(session, tenant_id=tenant_id, questionnaire=questionnaire)
        except (PyXFormError, ValueError, KeyError, TypeError):
            log.exception("questionnaire %s cannot become a visit form", questionnaire.id)
            continue
        forms.append((questionnaire, xml))
    return forms


def version_states(session: Session, *, tenant_id: int) -> dict[int, str]:
    """What each version is to the phones: ``serving``, ``broken`` (current, but it cannot
    be written as a form, so phones do not get it: the admins' console says so),
    ``superseded`` by a newer one, or ``retired``."""
    serving = {q.id for q, _xml in servable_forms(session, tenant_id=tenant_id)}
    current = {q.id for q in current_questionnaires(session, tenant_id=tenant_id)}
    return {
        q.id: "retired"
        if q.retired
        else "serving"
        if q.id in serving
        else "broken"
        if q.id in current
        else "superseded"
        for q in list_questionnaires(session, tenant_id=tenant_id)
    }


def visit_form_questionnaire(session: Session, *, tenant_id: int, form: str) -> QuestionnaireView:
    """The questionnaire behind a visit form id; NotFound for any other."""
    for found in current_questionnaires(session, tenant_id=tenant_id):
        if form_id(found.key) == form:
            return found
    raise NotFound("no such form", "form_id")


def today_file(session: Session, *, tenant_id: int, agent_id: int) -> str:
    """The agent's day file for today in the tenant's time zone."""
    today = datetime.now(UTC).astimezone(tenant_settings(session, tenant_id).zone).date()
    return day_file(session, tenant_id=tenant_id, agent_id=agent_id, day=today)
