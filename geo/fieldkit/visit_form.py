"""The visit form ODK Collect runs: the case chosen from the agent's day, a check-in fix at
the door, the outcome and the questionnaire, with the phone's trail during the visit.

It wraps a questionnaire version (:mod:`geo.visits.xlsform` writes its questions) in what a
visit needs, written as an XLSForm and converted by pyxform. The form itself refuses a
check-in farther outside the case's fence than the fix's own accuracy, the server's rule
(ODK's ``distance()`` against the case's point from the day's file), and waits for the
accuracy the tenant asks for, so an agent offline learns at the door; the server checks the
same fix again with every rule when it arrives.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from geo.core.tenant_settings import TenantSettings, tenant_settings
from geo.visits.questionnaires import QuestionnaireView
from geo.visits.xlsform import question_rows, to_xform

DAY_FILE = "cases.csv"
"""The day's cases, a media file of the form (:mod:`geo.fieldkit.day_file`)."""
AUDIT_INTERVAL_S = 10
FORM_INTERNALS = frozenset(
    {"start", "end", "deviceid", "audit", "case_lat", "case_lon", "case_radius", "instanceID"}
)
"""What the form fills by itself (metadata, the case's point from the day's file): left out
when staff read what an agent entered."""


def form_id(questionnaire_key: str) -> str:
    return f"campo-{questionnaire_key}"


def visit_xlsform(questionnaire: QuestionnaireView, settings: TenantSettings) -> dict[str, Any]:
    """The visit form as XLSForm sheets, for one questionnaire version."""
    item = "instance('cases')/root/item[name = ${case}]"
    # The server's own door rule (geo.visits.checkin_rules): a fix farther outside the fence
    # than its own accuracy is rejected; within it, the server may still send it to review
    # (poor accuracy, ...), which the phone cannot judge. "Not farther than", rather than
    # "nearer than": Enketo's distance() is NaN for two identical points (an agent exactly
    # on the geocoded spot), which must not refuse.
    fix_rule = (
        "not(distance(concat(${case_lat}, ' ', ${case_lon}, ';', .)) > "
        "${case_radius} + selected-at(., 3))"
    )
    survey: list[dict[str, Any]] = [
        {"type": "start", "name": "start"},
        {"type": "end", "name": "end"},
        {"type": "deviceid", "name": "deviceid"},
        {
            "type": "audit",
            "name": "audit",
            "parameters": (
                "location-priority=high-accuracy "
                f"location-min-interval={AUDIT_INTERVAL_S} location-max-age=60"
            ),
        },
        {
            "type": f"select_one_from_file {DAY_FILE}",
            "name": "case",
            "label": "Caso (parada · deudor · dirección · horario)",
            "required": "yes",
            "appearance": "search",
        },
        {"type": "calculate", "name": "case_lat", "calculation": f"{item}/lat"},
        {"type": "calculate", "name": "case_lon", "calculation": f"{item}/lon"},
        {"type": "calculate", "name": "case_radius", "calculation": f"{item}/radius"},
        {
            "type": "geopoint",
            "name": "checkin",
            "label": "Marcación en la puerta",
            "required": "yes",
            "body::accuracyThreshold": f"{settings.checkin_max_accuracy_m:g}",
            "constraint": fix_rule,
            "constraint_message": (
                "Está lejos de la dirección del caso, o el GPS no es preciso: acérquese a la "
                "puerta y espere una mejor señal"
            ),
        },
    ]
    questions, choices = question_rows(questionnaire.definition)
    title = f"{questionnaire.title} (v{questionnaire.version})"
    settings_row = {
        "form_title": title,
        "form_id": form_id(questionnaire.key),
        "version": str(questionnaire.version),
        "instance_name": "concat(${case}, ' · ', ${outcome})",
    }
    return {"survey": survey + questions, "choices": choices, "settings": [settings_row]}


def visit_xform(session: Session, *, tenant_id: int, questionnaire: QuestionnaireView) -> str:
    """The XForm of the visit form for one questionnaire version."""
    return to_xform(visit_xlsform(questionnaire, tenant_settings(session, tenant_id)))
