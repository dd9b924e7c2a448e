"""Questionnaires as XLSForm and XForm, the formats ODK Collect, KoboToolbox and ODK Central
users already write and run.

An uploaded XLSForm (its ``survey``, ``choices`` and ``settings`` sheets) becomes a campo
definition, which the server validates answers with; a definition becomes an XForm through
pyxform, the reference converter, so the phone runs exactly the questions the server checks.
Only what both sides understand is accepted: a row of another type, or an expression with a
function campo's evaluator lacks, is refused with its sheet row named, so the server and the
phone never disagree about an answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pyxform.errors import PyXFormError
from pyxform.xls2xform import convert
from sqlalchemy.orm import Session

from geo.core.errors import InvalidInput
from geo.core.models import OUTCOMES
from geo.core.workbooks import open_workbook
from geo.visits.expressions import to_xpath
from geo.visits.mail import OUTCOME_LABELS
from geo.visits.questionnaires import (
    MAX_TEXT,
    QuestionnaireView,
    create_questionnaire,
    definition_problems,
    questionnaire_by_id,
)

# XLSForm type → campo question type. Metadata rows are the phone's own and carry no answer.
_TYPES = {
    "text": "text",
    "integer": "integer",
    "decimal": "decimal",
    "date": "date",
    "image": "photo",
    "geopoint": "geopoint",
    "select_one": "select_one",
    "select_multiple": "select_many",
    "calculate": "calculate",
}
_META = {"start", "end", "today", "deviceid", "phonenumber", "username", "email", "audit", "note"}
# campo question type → XLSForm type (photos are images to Collect).
_XLS_TYPES = {campo: xls for xls, campo in _TYPES.items()}
MAX_ROWS = 500
MAX_COLUMNS = 200
"""Columns of a sheet that are read (translations included, far fewer in any real form)."""
MAX_PHOTO_PIXELS = 2560
"""Longest side of a photo the phone sends (Collect's and Enketo's ``max-pixels``): a JPEG of
that size is a few MiB, well under ``CAMPO_MEDIA_MAX_MIB``."""
MAX_SHEET_ROWS = 20 * MAX_ROWS
"""Rows of a sheet, blank ones included, past which it is no form."""

Workbook = dict[str, list[dict[str, Any]]]
"""Sheets by name, each a list of rows (column → value), as pyxform reads a workbook."""


def read_xlsform(data: bytes) -> Workbook:
    """The sheets of an ``.xlsx`` XLSForm, each row with its sheet row number (``_row``)."""
    book = open_workbook(data)
    sheets: Workbook = {}
    for name in ("survey", "choices", "settings"):
        if name not in book.sheetnames:
            continue
        rows = book[name].iter_rows(values_only=True, max_col=MAX_COLUMNS)
        header = [str(h).strip() if h is not None else "" for h in next(rows, ())]
        found = []
        for number, values in enumerate(rows, start=2):
            cells = {k: v for k, v in zip(header, values, strict=False) if k and v is not None}
            if cells:  # blank rows, as pyxform skips them, count for nothing
                found.append({**cells, "_row": number})
            if len(found) > MAX_ROWS or number > MAX_SHEET_ROWS:
                raise InvalidInput(f"{name}: more than {MAX_ROWS} rows", "file")
        sheets[name] = found
    if "survey" not in sheets:
        raise InvalidInput("an XLSForm needs a 'survey' sheet", "file")
    return sheets


def definition_from_xlsform(book: Workbook) -> dict[str, Any]:
    """The campo definition of an XLSForm, or InvalidInput naming the first row at fault."""
    choices: dict[str, list[dict[str, str]]] = {}
    for row in book.get("choices", []):
        choices.setdefault(str(row.get("list_name", "")).strip(), []).append(
            {"name": str(row.get("name", "")).strip(), "label": _label(row)}
        )
    questions, rows = [], []
    groups: list[str | None] = []  # the relevance of each open group, innermost last
    for row in book["survey"]:
        kind, _, list_name = str(row.get("type", "")).strip().partition(" ")
        where = f"survey row {row['_row']}"
        kind = {"begin_group": "begin", "end_group": "end"}.get(kind, kind)
        if kind == "begin" and list_name.strip() == "group":
            relevant = row.get("relevant")
            groups.append(str(relevant).strip() if relevant not in (None, "") else None)
            continue
        if kind == "end" and list_name.strip() == "group":
            if not groups:
                raise InvalidInput(f"{where}: end group without a begin group", "file")
            groups.pop()
            continue
        if kind in _META:
            continue
        if kind not in _TYPES:
            raise InvalidInput(f"{where}: type {kind!r} is not one campo can check", "file")
        question: dict[str, Any] = {
            "name": str(row.get("name", "")).strip(),
            "type": _TYPES[kind],
            "label": _label(row),
        }
        if kind == "calculate":
            if row.get("calculation") in (None, ""):
                raise InvalidInput(f"{where}: a calculate row needs a calculation", "file")
            question["calculation"] = str(row["calculation"]).strip()
        if str(row.get("required", "")).strip().lower() in {"yes", "true", "true()", "1"}:
            question["required"] = True
        for key in ("relevant", "constraint", "constraint_message"):
            if row.get(key) not in (None, ""):
                question[key] = str(row[key]).strip()
        # A question in a group is asked only where its groups are: their relevance joins its own.
        conditions = [c for c in [*groups, question.get("relevant")] if c]
        if len(conditions) > 1:
            question["relevant"] = " and ".join(f"({c})" for c in conditions)
        elif conditions:
            question["relevant"] = conditions[0]
        if kind.startswith("select"):
            if list_name.strip() not in choices:
                raise InvalidInput(f"{where}: no choices named {list_name.strip()!r}", "file")
            question["choices"] = choices[list_name.strip()]
        questions.append(question)
        rows.append(row["_row"])
    if groups:
        raise InvalidInput("a group is begun and never ended", "file")
    settings = (book.get("settings") or [{}])[0]
    definition = {"title": str(settings.get("form_title") or "Visita"), "questions": questions}
    problems = definition_problems(definition)
    if problems:
        field, message = problems[0]
        index = int(field.split(".")[2]) if field.count(".") >= 2 else 0
        row_number = rows[index] if index < len(rows) else "?"
        raise InvalidInput(f"survey row {row_number}: {message}", "file")
    return definition


def _label(row: Mapping[str, Any]) -> str:
    label = row.get("label") or next(
        (v for k, v in row.items() if str(k).startswith("label::")), ""
    )
    return str(label).strip()


OUTCOME_ROW = {
    "type": "select_one outcome",
    "name": "outcome",
    "label": "Resultado",
    "required": "yes",
}


def question_rows(
    definition: Mapping[str, Any],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The XLSForm ``survey`` and ``choices`` rows of a definition: the visit's outcome first
    (the questions' expressions read it as ``${outcome}``), then the questions."""
    survey: list[dict[str, Any]] = [dict(OUTCOME_ROW)]
    choices: list[dict[str, Any]] = [
        {"list_name": "outcome", "name": name, "label": OUTCOME_LABELS[name]} for name in OUTCOMES
    ]
    for question in definition["questions"]:
        row = {"type": _XLS_TYPES[question["type"]], "name": question["name"]}
        if question["type"] == "calculate":
            row["calculation"] = to_xpath(question["calculation"])
        else:
            row["label"] = question.get("label") or question["name"]
        if question["type"] in {"select_one", "select_many"}:
            list_name = f"{question['name']}_choices"
            row["type"] = f"{row['type']} {list_name}"
            choices += [
                {"list_name": list_name, "name": c["name"], "label": c.get("label") or c["name"]}
                for c in question["choices"]
            ]
        if question.get("required"):
            row["required"] = "yes"
        for key in ("relevant", "constraint"):
            if question.get(key):
                row[key] = to_xpath(question[key])
        if question["type"] == "photo":  # the phone scales a photo down to what campo keeps
            row["parameters"] = f"max-pixels={MAX_PHOTO_PIXELS}"
        if question["type"] == "text":  # the server's bound, so the phone refuses it first
            bound = f"string-length(.) <= {MAX_TEXT}"
            row["constraint"] = (
                f"({row['constraint']}) and {bound}" if "constraint" in row else bound
            )
        if question.get("constraint_message"):
            row["constraint_message"] = question["constraint_message"]
        survey.append(row)
    return survey, choices


def to_xform(book: Mapping[str, list[dict[str, Any]]]) -> str:
    """An XLSForm (as sheets of rows) written as an XForm by pyxform."""
    written: str = convert(xlsform=dict(book), form_name="data").xform
    return written


def xform(definition: Mapping[str, Any], *, form_id: str, version: str) -> str:
    """The XForm of a definition on its own: its outcome and questions."""
    survey, choices = question_rows(definition)
    settings = {"form_title": definition.get("title", form_id), "form_id": form_id}
    return to_xform(
        {"survey": survey, "choices": choices, "settings": [{**settings, "version": version}]}
    )


def import_xlsform(session: Session, *, tenant_id: int, key: str, data: bytes) -> QuestionnaireView:
    """An uploaded XLSForm as the next version of questionnaire ``key``: checked row by row,
    converted once by pyxform (so a form it cannot write is refused now, not on the phone),
    and stored with its workbook."""
    definition = definition_from_xlsform(read_xlsform(data))
    try:
        xform(definition, form_id=key, version="0")
    except (
        PyXFormError,
        ValueError,
        KeyError,
        TypeError,
    ) as exc:  # what pyxform raises on bad input
        raise InvalidInput(f"pyxform: {exc}", "file") from None
    return create_questionnaire(
        session, tenant_id=tenant_id, key=key, definition=definition, xlsform=data
    )


def questionnaire_xform(session: Session, *, tenant_id: int, questionnaire_id: int) -> str:
    """The XForm of a stored questionnaire version (its form id the key, its version the
    version), written from the definition the server checks answers with."""
    found = questionnaire_by_id(session, tenant_id=tenant_id, questionnaire_id=questionnaire_id)
    return xform(found.definition, form_id=found.key, version=str(found.version))
