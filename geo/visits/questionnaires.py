"""Versioned questionnaires: definitions, the default collections form, answer validation.

A definition is JSON: ``{"title": ..., "questions": [{"name", "type", "label", "required",
"choices", "relevant", "constraint", "constraint_message", "calculation"}]}``. Questions are
asked in order; ``relevant``, ``constraint`` and a ``calculate`` question's ``calculation`` are
:mod:`geo.visits.expressions` over earlier answers (and ``${outcome}``); a calculated value is
worked out by the server, not taken from the phone. Answers are validated against the version
the app used, never the newest.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from geo.core.audit import record_update
from geo.core.bounds import FIRST_DAY, LAST_DAY
from geo.core.errors import Conflict, InvalidInput, NotFound
from geo.core.models import OUTCOMES, QUESTION_TYPES, Questionnaire
from geo.visits.expressions import (
    ExpressionError,
    evaluate,
    holds,
    parse,
    references,
    text_length,
)

DEFAULT_KEY = "cobranza"
_YES_NO = [{"name": "si", "label": "Sí"}, {"name": "no", "label": "No"}]
DEFAULT_DEFINITION: dict[str, Any] = {
    "title": "Visita de cobranza",
    "questions": [
        {
            "name": "contact_made",
            "type": "select_one",
            "label": "¿Se logró contacto?",
            "required": True,
            "choices": _YES_NO,
        },
        {
            "name": "who_answered",
            "type": "select_one",
            "label": "¿Quién atendió?",
            "required": True,
            "relevant": "${contact_made} = 'si'",
            # Ley 2300 de 2023: the debt is never disclosed to anyone but the debtor.
            "constraint": (
                ". = 'titular' or (${outcome} != 'promise_to_pay' and ${outcome} != 'paid')"
            ),
            "constraint_message": (
                "Con un familiar o un tercero no se habla de la deuda: promesas y pagos, "
                "solo con el titular"
            ),
            "choices": [
                {"name": "titular", "label": "El titular"},
                {"name": "familiar", "label": "Un familiar"},
                {"name": "tercero", "label": "Un tercero"},
            ],
        },
        {
            "name": "non_payment_reason",
            "type": "select_one",
            "label": "Motivo del no pago",
            "relevant": "${who_answered} = 'titular' and ${outcome} != 'paid'",
            "choices": [
                {"name": "desempleo", "label": "Desempleo"},
                {"name": "enfermedad", "label": "Enfermedad"},
                {"name": "sobreendeudamiento", "label": "Sobreendeudamiento"},
                {"name": "desacuerdo", "label": "No reconoce la deuda"},
                {"name": "olvido", "label": "Olvido"},
                {"name": "otro", "label": "Otro"},
            ],
        },
        {
            "name": "promise_amount",
            "type": "decimal",
            "label": "Monto prometido (COP)",
            "required": True,
            "relevant": "${outcome} = 'promise_to_pay'",
            "constraint": ". > 0",
            "constraint_message": "El monto debe ser mayor que cero",
        },
        {
            "name": "promise_date",
            "type": "date",
            "label": "Fecha del pago prometido",
            "required": True,
            "relevant": "${outcome} = 'promise_to_pay'",
            "constraint": ". >= today() and . <= today() + 90",
            "constraint_message": "La fecha debe estar entre hoy y 90 días",
        },
        {
            "name": "payment_amount",
            "type": "decimal",
            "label": "Monto pagado (COP)",
            "required": True,
            "relevant": "${outcome} = 'paid'",
            "constraint": ". > 0",
            "constraint_message": "El monto debe ser mayor que cero",
        },
        {
            "name": "new_phone",
            "type": "text",
            "label": "Nuevo teléfono",
            "constraint": "string_length(.) >= 7 and string_length(.) <= 15",
            "constraint_message": "Un teléfono tiene de 7 a 15 dígitos",
        },
        {"name": "facade_photo", "type": "photo", "label": "Foto de la fachada"},
        {"name": "comments", "type": "text", "label": "Observaciones"},
    ],
}
PROMISE_AMOUNT, PROMISE_DATE = "promise_amount", "promise_date"


@dataclass(frozen=True, slots=True)
class QuestionnaireView:
    id: int
    key: str
    version: int
    title: str
    definition: dict[str, Any]
    retired: bool = False


def _view(row: Questionnaire) -> QuestionnaireView:
    return QuestionnaireView(
        row.id, row.key, row.version, row.title, row.definition, row.retired_at is not None
    )


def definition_problems(definition: Any) -> list[tuple[str, str]]:
    """What is wrong with a definition, as (field, message) pairs; empty when it is sound."""
    if not isinstance(definition, Mapping) or not isinstance(definition.get("questions"), list):
        return [("definition.questions", "a definition has a list of questions")]
    problems: list[tuple[str, str]] = []
    known = {"outcome"}
    for index, question in enumerate(definition["questions"]):
        where = f"definition.questions.{index}"
        if not isinstance(question, Mapping) or not isinstance(question.get("name"), str):
            problems.append((where, "each question is an object with a name"))
            continue
        name = question["name"]
        if name in known:
            problems.append((f"{where}.name", f"{name!r} is used twice (or reserved)"))
        if question.get("type") not in QUESTION_TYPES:
            problems.append((f"{where}.type", f"type must be one of {', '.join(QUESTION_TYPES)}"))
        if question.get("type") in {"select_one", "select_many"}:
            choices = question.get("choices")
            if not isinstance(choices, list) or not all(
                isinstance(c, Mapping) and isinstance(c.get("name"), str) for c in choices
            ):
                problems.append((f"{where}.choices", "select questions need named choices"))
        if question.get("type") == "calculate" and not isinstance(question.get("calculation"), str):
            problems.append((f"{where}.calculation", "a calculate question needs a calculation"))
        for key in ("relevant", "constraint", "calculation"):
            source = question.get(key)
            if source is None:
                continue
            try:
                unknown = references(parse(str(source))) - known
            except ExpressionError as exc:
                problems.append((f"{where}.{key}", str(exc)))
                continue
            if unknown:
                problems.append((f"{where}.{key}", f"refers to later or unknown {sorted(unknown)}"))
        known.add(name)
    return problems


def create_questionnaire(
    session: Session,
    *,
    tenant_id: int,
    key: str,
    definition: Mapping[str, Any],
    xlsform: bytes | None = None,
) -> QuestionnaireView:
    """Store a definition as the next version of ``key``; earlier versions stay as they were.
    ``xlsform``: the workbook it came from, kept as uploaded."""
    problems = definition_problems(definition)
    if problems:
        raise InvalidInput(
            "the questionnaire definition is not valid", problems[0][0], problems=problems
        )
    latest = session.scalar(
        select(func.max(Questionnaire.version)).where(
            Questionnaire.tenant_id == tenant_id, Questionnaire.key == key
        )
    )
    row = Questionnaire(
        tenant_id=tenant_id,
        key=key,
        version=(latest or 0) + 1,
        title=str(definition.get("title") or key),
        definition=dict(definition),
        xlsform=xlsform,
    )
    session.add(row)
    session.flush()
    return _view(row)


def ensure_default_questionnaire(session: Session, *, tenant_id: int) -> None:
    """Give a tenant the default collections questionnaire if it has none."""
    exists = session.scalar(
        select(Questionnaire.id).where(
            Questionnaire.tenant_id == tenant_id, Questionnaire.key == DEFAULT_KEY
        )
    )
    if exists is None:
        create_questionnaire(
            session, tenant_id=tenant_id, key=DEFAULT_KEY, definition=DEFAULT_DEFINITION
        )


def list_questionnaires(session: Session, *, tenant_id: int) -> list[QuestionnaireView]:
    rows = session.scalars(
        select(Questionnaire)
        .where(Questionnaire.tenant_id == tenant_id)
        .order_by(Questionnaire.key, Questionnaire.version)
    )
    return [_view(r) for r in rows]


def get_questionnaire(
    session: Session, *, tenant_id: int, key: str, version: int
) -> QuestionnaireView:
    row = session.scalar(
        select(Questionnaire).where(
            Questionnaire.tenant_id == tenant_id,
            Questionnaire.key == key,
            Questionnaire.version == version,
        )
    )
    if row is None:
        raise NotFound(f"questionnaire {key!r} version {version} not found", "questionnaire")
    return _view(row)


MAX_NUMBER = Decimal(10) ** 13
MAX_TEXT = 2000
"""Longest text answer, in the phone's units (:func:`text_length`); the form carries it too."""
"""Numbers answered are below this (amounts in COP are stored as numeric(16, 2))."""


def _bounded(number: Decimal) -> Decimal:
    if abs(number) >= MAX_NUMBER:
        raise ValueError("número fuera de rango")
    return number


def _typed(question: Mapping[str, Any], value: Any) -> Any:
    """The answer as the expressions see it, or ValueError saying what was expected."""
    kind = question["type"]
    if kind in {"text", "photo"}:
        if not isinstance(value, str) or not value.strip() or text_length(value) > MAX_TEXT:
            raise ValueError("se espera un texto")
        return value
    if kind == "integer":
        if type(value) is not int:
            raise ValueError("se espera un número entero")
        return _bounded(Decimal(value))
    if kind == "decimal":
        if type(value) not in {int, float} or not math.isfinite(value):
            raise ValueError("se espera un número")
        return _bounded(Decimal(str(value)))
    names = [c["name"] for c in question.get("choices", [])]
    if kind == "select_one":
        if value not in names:
            raise ValueError(f"opción no válida; opciones: {', '.join(names)}")
        return value
    if kind == "select_many":
        if not isinstance(value, list) or not all(v in names for v in value):
            raise ValueError(f"se espera una lista de opciones: {', '.join(names)}")
        if len(set(value)) != len(value):
            raise ValueError("opciones repetidas")
        return list(value)
    if kind == "date":
        try:
            day = date.fromisoformat(value)
        except (TypeError, ValueError):
            raise ValueError("se espera una fecha AAAA-MM-DD") from None
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(f"la fecha debe estar entre {FIRST_DAY} y {LAST_DAY}")
        return day
    # geopoint: [lon, lat], GeoJSON order
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(type(v) in {int, float} and math.isfinite(v) for v in value)
        or not (-180 <= value[0] <= 180 and -90 <= value[1] <= 90)
    ):
        raise ValueError("se espera [lon, lat]")
    return [float(value[0]), float(value[1])]


def _stored(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def check_answers(
    definition: Mapping[str, Any], answers: Any, *, outcome: str, today: date
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Validate answers against a definition.

    Returns (answers as stored, typed values for the caller). Answers to questions that are
    not relevant are dropped, as the app hides them. Raises :class:`InvalidInput` listing
    every question at fault.
    """
    if outcome not in OUTCOMES:
        raise InvalidInput(f"outcome must be one of {', '.join(OUTCOMES)}", "outcome")
    if not isinstance(answers, Mapping):
        raise InvalidInput("answers must be an object keyed by question name", "answers")
    questions = {q["name"]: q for q in definition["questions"]}
    problems = [
        (f"answers.{name}", "no existe esa pregunta") for name in answers if name not in questions
    ]
    typed: dict[str, Any] = {"outcome": outcome}
    for name, question in questions.items():
        relevant = question.get("relevant")
        try:
            if relevant and not holds(parse(relevant), typed, today=today):
                continue
        except ExpressionError as exc:
            problems.append((f"answers.{name}", f"no se pudo decidir si aplica: {exc}"))
            continue
        if question["type"] == "calculate":
            # Worked out here from the answers, whatever the phone computed, so what is
            # stored follows the server's reading of the form.
            try:
                computed = evaluate(parse(question["calculation"]), typed, today=today)
            except ExpressionError as exc:
                problems.append((f"answers.{name}", f"el cálculo no se pudo hacer: {exc}"))
                continue
            if computed is not None and computed != "":
                typed[name] = computed
            continue
        value = answers.get(name)
        if value is None or value == "" or value == []:
            if question.get("required"):
                problems.append((f"answers.{name}", "respuesta obligatoria"))
            continue
        try:
            typed[name] = _typed(question, value)
        except ValueError as exc:
            problems.append((f"answers.{name}", str(exc)))
            continue
        constraint = question.get("constraint")
        try:
            kept = not constraint or holds(parse(constraint), typed, typed[name], today=today)
        except ExpressionError as exc:
            problems.append((f"answers.{name}", f"la condición no se pudo evaluar: {exc}"))
            continue
        if not kept:
            message = question.get("constraint_message") or "la respuesta no cumple la condición"
            problems.append((f"answers.{name}", str(message)))
    if problems:
        raise InvalidInput("some answers are not valid", problems[0][0], problems=problems)
    del typed["outcome"]
    return {k: _stored(v) for k, v in typed.items()}, typed


def set_retired(
    session: Session,
    *,
    tenant_id: int,
    questionnaire_id: int,
    retired: bool,
    actor_id: int,
    now: datetime,
) -> QuestionnaireView:
    """Take a version out of use, or back; audited. The default questionnaire keeps one
    version in use, since every visit form falls back on it."""
    row = session.scalar(
        select(Questionnaire)
        .where(Questionnaire.tenant_id == tenant_id, Questionnaire.id == questionnaire_id)
        .with_for_update()
    )
    if row is None:
        raise NotFound("questionnaire not found", "questionnaire_id")
    before = row.retired_at is not None
    if retired and not before and row.key == DEFAULT_KEY:
        in_use = session.scalar(
            select(func.count()).where(
                Questionnaire.tenant_id == tenant_id,
                Questionnaire.key == DEFAULT_KEY,
                Questionnaire.retired_at.is_(None),
            )
        )
        if in_use == 1:
            raise Conflict(
                "the default questionnaire keeps one version in use: upload another first",
                "retired",
            )
    if retired != before:
        row.retired_at = now if retired else None
        session.flush()
        record_update(
            session,
            tenant_id=tenant_id,
            user_id=actor_id,
            subject=f"questionnaire:{questionnaire_id}",
            before={"retired": before},
            after={"retired": retired},
        )
    return _view(row)


def questionnaire_by_id(
    session: Session, *, tenant_id: int, questionnaire_id: int
) -> QuestionnaireView:
    row = session.scalar(
        select(Questionnaire).where(
            Questionnaire.tenant_id == tenant_id, Questionnaire.id == questionnaire_id
        )
    )
    if row is None:
        raise NotFound("questionnaire not found", "questionnaire_id")
    return _view(row)
