"""The forms a phone may download: one visit form per questionnaire, at its newest version."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from geo.core.errors import NotFound
from geo.core.tenant_settings import tenant_settings
from geo.fieldkit.day_file import day_file
from geo.fieldkit.visit_form import form_id
from geo.visits.questionnaires import (
    QuestionnaireView,
    ensure_default_questionnaire,
    list_questionnaires,
)


def current_questionnaires(session: Session, *, tenant_id: int) -> list[QuestionnaireView]:
    """The newest version of each of the tenant's questionnaires (the default one at least)."""
    ensure_default_questionnaire(session, tenant_id=tenant_id)
    newest: dict[str, QuestionnaireView] = {}
    for found in list_questionnaires(session, tenant_id=tenant_id):  # by key, then version
        newest[found.key] = found
    return list(newest.values())


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
