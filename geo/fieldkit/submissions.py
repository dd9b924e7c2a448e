"""A stored ODK Collect submission derived into a visit: its trail, check-in and outcome.

A submission is one finished visit form, kept as sent (:mod:`geo.fieldkit.inbox`): the
instance XML (read with defusedxml, so entity tricks are refused) and its ``audit.csv``, whose
location events are the phone's trail during the form. It becomes exactly what the app's
offline batch sends (:func:`geo.visits.sync.sync_batch`): the trail's fixes first, then the
check-in at the door verified by every rule, then the outcome with the questionnaire's
answers, all judged against the moment it was stored. Every id is derived from the
instance's ``instanceID``, so deriving again (a resend, a later post with more photos, a
dispatcher after a fix) changes nothing already made.

Whatever cannot be made is recorded, never lost: the submission keeps its problems (and
lands in the review queue), a visit whose outcome was refused is closed as ``incomplete``
so its case can be visited again, and a phone whose clock runs ahead has its times moved back
to the moment campo received them, the skew kept and flagged.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from defusedxml import ElementTree as SafeXML
from defusedxml.common import DefusedXmlException
from sqlalchemy.orm import Session

from geo.core.bounds import parse_instant
from geo.core.errors import CampoError, InvalidInput
from geo.core.tenant_settings import tenant_settings
from geo.fieldkit.inbox import (
    StoredSubmission,
    instance_fields,
    mark_replaced,
    record_derivation,
    related_submission,
)
from geo.fieldkit.visit_form import form_id
from geo.visits.checkin import add_reason
from geo.visits.media import store_media
from geo.visits.outcomes import amend_outcome, close_incomplete
from geo.visits.questionnaires import QuestionnaireView, get_questionnaire
from geo.visits.sync import sync_batch

MAX_AUDIT_FIXES = 5000
_IDS = uuid.UUID("6f1c2a9e-5b0d-4c1e-9a53-2f0e7d4b8c11")
"""Namespace of the ids campo derives from an instance id (UUID version 5)."""


CLOCK_NOTE_S = 60
"""A phone's clock this far ahead of campo's is worth a note on its visit."""


@dataclass(frozen=True, slots=True)
class Derived:
    """What a stored submission became: its state, its problems, the check-in's verdict (or
    why it was refused) and the outcome's."""

    submission_id: int
    state: str
    problems: list[dict[str, Any]]
    visit_id: int | None
    checkin: dict[str, Any] | None
    outcome: dict[str, Any] | None
    trail_fixes: int
    clock_skew_s: float | None


@dataclass(frozen=True, slots=True)
class _Instance:
    """The answers of one instance, read and checked before anything is stored from them."""

    instance: str
    visit_id: uuid.UUID
    questionnaire: QuestionnaireView
    fields: dict[str, str]
    case: int
    ended: datetime
    taken: datetime
    trail: list[dict[str, Any]]


def _geopoint(text: str) -> dict[str, float]:
    parts = text.split()
    try:
        lat, lon = float(parts[0]), float(parts[1])
        altitude = float(parts[2]) if len(parts) > 2 else None
        accuracy = float(parts[3]) if len(parts) > 3 else None
    except (IndexError, ValueError):
        message = "checkin must be a geopoint: lat lon [altitude accuracy]"
        raise InvalidInput(message, "checkin") from None
    point: dict[str, Any] = {"lat": lat, "lon": lon, "accuracy_m": accuracy}
    if altitude is not None:
        point["altitude_m"] = altitude
    return point


def _trail(audit: bytes | None, instance: str) -> list[dict[str, Any]]:
    """The location events of Collect's audit log as the app's fixes (one id per event)."""
    if not audit:
        return []
    try:
        rows = csv.DictReader(io.StringIO(audit.decode("utf-8")))
        fixes: list[dict[str, Any]] = []
        for index, row in enumerate(rows):
            if not row.get("latitude") or not row.get("longitude"):
                continue
            if len(fixes) >= MAX_AUDIT_FIXES:
                break
            moment = datetime.fromtimestamp(int(row["start"]) / 1000, UTC)
            fixes.append(
                {
                    "id": str(uuid.uuid5(_IDS, f"{instance}/audit/{index}")),
                    "recorded_at": moment.isoformat(),
                    "lat": float(row["latitude"]),
                    "lon": float(row["longitude"]),
                    "accuracy_m": float(row["accuracy"]) if row.get("accuracy") else None,
                }
            )
    except (UnicodeDecodeError, ValueError, KeyError, csv.Error):
        raise InvalidInput("audit.csv is not Collect's audit log", "audit") from None
    return fixes


def _answered_at(audit: bytes | None, node: str) -> datetime | None:
    """When the agent last left a question, from the audit log's question events (their
    ``end`` in epoch milliseconds): for the check-in, when the fix was taken at the door."""
    if not audit:
        return None
    try:
        rows = csv.DictReader(io.StringIO(audit.decode("utf-8")))
        ends = [
            int(row.get("end") or row["start"])
            for row in rows
            if row.get("event") == "question" and str(row.get("node", "")).endswith(f"/{node}")
        ]
    except (UnicodeDecodeError, ValueError, KeyError, csv.Error):
        raise InvalidInput("audit.csv is not Collect's audit log", "audit") from None
    return datetime.fromtimestamp(max(ends) / 1000, UTC) if ends else None


def _answers(definition: Mapping[str, Any], fields: Mapping[str, str]) -> dict[str, Any]:
    """The questionnaire's answers typed as the JSON API takes them; unanswered ones left out."""
    answers: dict[str, Any] = {}
    for question in definition["questions"]:
        raw = fields.get(question["name"], "")
        if raw == "" or question["type"] == "calculate":  # calculated by campo itself
            continue
        kind = question["type"]
        if kind == "select_many":
            answers[question["name"]] = raw.split()
        elif kind == "integer":
            answers[question["name"]] = int(raw) if raw.lstrip("-").isdigit() else raw
        elif kind == "decimal":
            try:
                answers[question["name"]] = float(raw)
            except ValueError:
                answers[question["name"]] = raw
        else:
            answers[question["name"]] = raw
    return answers


def _problem(code: str, field: str | None, message: str) -> dict[str, Any]:
    return {"code": code, "field": field, "message": message}


def _read(session: Session, submission: StoredSubmission) -> _Instance:
    try:
        root = SafeXML.fromstring(submission.xml)
    except (DefusedXmlException, SafeXML.ParseError):
        raise InvalidInput(
            "the submission is not a well-formed, safe XML instance", "xml"
        ) from None
    fields = instance_fields(root)
    instance = fields.get("instanceID", "")
    if not instance.startswith("uuid:"):
        raise InvalidInput("the submission has no meta/instanceID", "instanceID")
    try:
        visit_id = uuid.UUID(instance.removeprefix("uuid:"))
    except ValueError:
        raise InvalidInput("instanceID is not uuid:<UUID>", "instanceID") from None
    key = str(root.get("id", "")).removeprefix("campo-")
    version = str(root.get("version", ""))
    if root.get("id") != form_id(key) or not version.isdigit():
        raise InvalidInput("the submission is not of a campo visit form", "form")
    questionnaire = get_questionnaire(
        session, tenant_id=submission.tenant_id, key=key, version=int(version)
    )
    ended = parse_instant(fields.get("end", ""), "end")
    case = fields.get("case", "")
    if not case.isdigit() or len(case) > 18:
        raise InvalidInput("case must be a case of the day's file", "case")
    audit = submission.files.get("audit.csv")
    trail = _trail(audit.data if audit else None, instance)
    # The fix was taken when the agent left the check-in question; without the audit log,
    # when the form was finished.
    taken = _answered_at(audit.data if audit else None, "checkin") or ended
    return _Instance(instance, visit_id, questionnaire, fields, int(case), ended, taken, trail)


def _moved_back(read: _Instance, received_at: datetime) -> tuple[_Instance, float | None]:
    """The instance with its times moved back by how far the phone's clock ran ahead of the
    moment campo received it (a phone's time can be late, never after its own upload)."""
    stamps = [read.ended, read.taken] + [
        datetime.fromisoformat(f["recorded_at"]) for f in read.trail
    ]
    ahead = max(stamps) - received_at
    if ahead <= timedelta(0):
        return read, None
    trail = [
        {**f, "recorded_at": (datetime.fromisoformat(f["recorded_at"]) - ahead).isoformat()}
        for f in read.trail
    ]
    moved = replace(read, ended=read.ended - ahead, taken=read.taken - ahead, trail=trail)
    return moved, ahead.total_seconds()


def derive_submission(
    session: Session, *, submission: StoredSubmission, now: datetime | None = None
) -> Derived:
    """Make (or find, when made before) the visit, trail, outcome and photos of a stored
    submission, and record on it what became of it. Judged as of when it was received."""
    now = now or datetime.now(UTC)
    tenant_id, at = submission.tenant_id, submission.received_at
    try:
        read = _read(session, submission)
    except CampoError as exc:
        return _recorded(session, submission, [_problem(exc.code, exc.field, exc.message)], now)
    read, skew = _moved_back(read, at)
    later = related_submission(session, tenant_id=tenant_id, edits=submission.instance_id)
    if later is not None:  # its edit arrived first and stands in its place
        mark_replaced(session, tenant_id=tenant_id, submission_id=submission.id, now=now)
        return Derived(submission.id, "replaced", [], later[1], None, None, 0, skew)
    edited = submission.deprecated_id and related_submission(
        session, tenant_id=tenant_id, instance_id=submission.deprecated_id
    )
    if edited:
        mark_replaced(session, tenant_id=tenant_id, submission_id=edited[0], now=now)
        if edited[1] is not None:
            return _edit(session, submission, read, edited[1], skew, now)
    fix = {
        "id": str(uuid.uuid5(_IDS, f"{read.instance}/checkin")),
        "recorded_at": read.taken.isoformat(),
        **_geopoint(read.fields.get("checkin", "")),
        **({"mock": None} if submission.browser else {}),
    }
    outcome = _outcome(read)
    result = sync_batch(
        session,
        tenant_id=tenant_id,
        agent_id=submission.agent_id,
        fixes=read.trail,
        checkins=[
            {
                "id": str(read.visit_id),
                "case_id": read.case,
                "fix": fix,
                "checked_in_at": fix["recorded_at"],
            }
        ],
        outcomes=[outcome],
        now=at,
    )
    (checkin,) = result.checkins
    if checkin.get("status") != "done":
        problem = _problem(str(checkin.get("code")), checkin.get("field"), checkin["message"])
        return _recorded(session, submission, [problem], now, checkin, len(read.trail), skew)
    visit_id = int(checkin["visit_id"])
    problems = _judged(session, submission, read, checkin, result.outcomes[0], skew)
    return _recorded(
        session,
        submission,
        problems,
        now,
        checkin,
        len(read.trail),
        skew,
        visit_id,
        result.outcomes[0],
    )


def _outcome(read: _Instance) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(_IDS, f"{read.instance}/outcome")),
        "checkin_id": str(read.visit_id),
        "outcome": read.fields.get("outcome", ""),
        "questionnaire": {"key": read.questionnaire.key, "version": read.questionnaire.version},
        "answers": _answers(read.questionnaire.definition, read.fields),
        "checkout_at": read.ended.isoformat(),
    }


def _edit(
    session: Session,
    submission: StoredSubmission,
    read: _Instance,
    visit_id: int,
    skew: float | None,
    now: datetime,
) -> Derived:
    """An edit (``deprecatedID``) of a submission that made a visit: its outcome and answers
    replace that visit's; the door was judged once, when the agent was there."""
    try:
        with session.begin_nested():
            result = amend_outcome(
                session,
                tenant_id=submission.tenant_id,
                visit_id=visit_id,
                body=_outcome(read),
                user_id=submission.user_id,
                now=submission.received_at,
            )
    except CampoError as exc:
        problem = _problem(exc.code, exc.field, exc.message)
        return _recorded(session, submission, [problem], now, visit_id=visit_id)
    problems = _photos(session, submission, read, visit_id)
    outcome = {"status": "done", **asdict(result)}
    return _recorded(session, submission, problems, now, None, 0, skew, visit_id, outcome)


def _judged(
    session: Session,
    submission: StoredSubmission,
    read: _Instance,
    checkin: dict[str, Any],
    outcome: dict[str, Any],
    skew: float | None,
) -> list[dict[str, Any]]:
    """The problems of a submission whose check-in was stored: a rejected door, a refused
    outcome (its visit then closed as incomplete), a refused photo, a clock far ahead."""
    tenant_id, visit_id = submission.tenant_id, int(checkin["visit_id"])
    problems: list[dict[str, Any]] = []
    if checkin.get("verdict") == "rejected":
        reasons = "; ".join(r["message"] for r in checkin.get("reasons", []))
        problems.append(_problem("checkin_rejected", "checkin", f"Marcación rechazada: {reasons}"))
    elif outcome.get("status") != "done":
        problems.append(
            _problem(str(outcome.get("code")), outcome.get("field"), outcome["message"])
        )
        close_incomplete(session, tenant_id=tenant_id, visit_id=visit_id, at=read.ended)
    if skew is not None and skew > CLOCK_NOTE_S:
        limit = tenant_settings(session, tenant_id).phone_clock_skew_min * 60
        message = (
            f"El reloj del teléfono iba {skew / 60:.0f} min adelantado: "
            "sus horas se tomaron al recibir el envío"
        )
        add_reason(
            session,
            tenant_id=tenant_id,
            visit_id=visit_id,
            code="phone_clock_ahead",
            message=message,
            review=skew > limit,
        )
        if skew > limit:
            problems.append(_problem("phone_clock_ahead", "end", message))
    if checkin.get("verdict") != "rejected":
        problems += _photos(session, submission, read, visit_id)
    return problems


def _photos(
    session: Session, submission: StoredSubmission, read: _Instance, visit_id: int
) -> list[dict[str, Any]]:
    """The photos the answers name, kept with the visit; a refused one is a problem, named."""
    problems = []
    questions = read.questionnaire.definition["questions"]
    named = {read.fields.get(q["name"], "") for q in questions if q["type"] == "photo"}
    for name in sorted(named & set(submission.files)):
        try:
            with session.begin_nested():
                store_media(
                    session,
                    tenant_id=submission.tenant_id,
                    visit_id=visit_id,
                    filename=name,
                    data=submission.files[name].data,
                )
        except CampoError as exc:
            problems.append(_problem("media_refused", name, exc.message))
    return problems


def _recorded(
    session: Session,
    submission: StoredSubmission,
    problems: list[dict[str, Any]],
    now: datetime,
    checkin: dict[str, Any] | None = None,
    trail_fixes: int = 0,
    skew: float | None = None,
    visit_id: int | None = None,
    outcome: dict[str, Any] | None = None,
) -> Derived:
    state = "derived" if not problems else ("refused" if visit_id is None else "problems")
    record_derivation(
        session,
        tenant_id=submission.tenant_id,
        submission_id=submission.id,
        state=state,
        problems=problems,
        visit_id=visit_id,
        clock_skew_s=skew,
        now=now,
    )
    return Derived(submission.id, state, problems, visit_id, checkin, outcome, trail_fixes, skew)
