"""An ODK Collect submission made a visit: its trail, its check-in and its outcome.

A submission is one finished visit form: the instance XML (read with defusedxml, so entity
tricks are refused) and its ``audit.csv``, whose location events are the phone's trail during
the form. It becomes exactly what the app's offline batch sends (:func:`geo.visits.sync.
sync_batch`): the trail's fixes first, then the check-in at the door verified by every rule,
then the outcome with the questionnaire's answers. Every id is derived from the instance's
``instanceID``, so a resent submission is stored once and answered as the first time.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeXML
from defusedxml.common import DefusedXmlException
from sqlalchemy.orm import Session

from geo.core.bounds import parse_instant
from geo.core.errors import InvalidInput
from geo.fieldkit.visit_form import form_id
from geo.visits.media import store_media
from geo.visits.questionnaires import get_questionnaire
from geo.visits.sync import sync_batch

MAX_AUDIT_FIXES = 5000
_IDS = uuid.UUID("6f1c2a9e-5b0d-4c1e-9a53-2f0e7d4b8c11")
"""Namespace of the ids campo derives from an instance id (UUID version 5)."""


@dataclass(frozen=True, slots=True)
class Received:
    """What became of a submission: the check-in's verdict (or why it was refused) and
    the outcome's."""

    instance_id: str
    checkin: dict[str, Any]
    outcome: dict[str, Any] | None
    trail_fixes: int


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _fields(root: Element) -> dict[str, str]:
    """Every leaf of the instance by its name (groups flattened; names are unique in a form)."""
    found: dict[str, str] = {}
    for node in root.iter():
        if len(node) == 0 and node is not root:
            found[_local(node.tag)] = (node.text or "").strip()
    return found


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


def receive_submission(
    session: Session,
    *,
    tenant_id: int,
    agent_id: int,
    xml: bytes,
    audit: bytes | None = None,
    files: Mapping[str, bytes] | None = None,
    mock_reported: bool = True,
    now: datetime | None = None,
) -> Received:
    """Store one submission of the visit form as the agent's trail, check-in, outcome and the
    photos its answers name (``files``: the attachments by name; Collect may spread a large
    submission over several posts, each kept as it comes).

    ``mock_reported``: whether the client can tell a simulated position (Android can, and
    Collect refuses mock locations itself); a browser cannot, and the tenant's policy decides.
    """
    try:
        root = SafeXML.fromstring(xml)
    except (DefusedXmlException, SafeXML.ParseError):
        raise InvalidInput(
            "the submission is not a well-formed, safe XML instance", "xml"
        ) from None
    fields = _fields(root)
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
    questionnaire = get_questionnaire(session, tenant_id=tenant_id, key=key, version=int(version))
    ended = parse_instant(fields.get("end", ""), "end")
    case = fields.get("case", "")
    if not case.isdigit() or len(case) > 18:
        raise InvalidInput("case must be a case of the day's file", "case")
    # The fix was taken when the agent left the check-in question; without the audit log,
    # when the form was finished.
    taken = _answered_at(audit, "checkin") or ended
    fix = {
        "id": str(uuid.uuid5(_IDS, f"{instance}/checkin")),
        "recorded_at": taken.isoformat(),
        **_geopoint(fields.get("checkin", "")),
        **({} if mock_reported else {"mock": None}),
    }
    outcome = {
        "id": str(uuid.uuid5(_IDS, f"{instance}/outcome")),
        "checkin_id": str(visit_id),
        "outcome": fields.get("outcome", ""),
        "questionnaire": {"key": questionnaire.key, "version": questionnaire.version},
        "answers": _answers(questionnaire.definition, fields),
        "checkout_at": ended.isoformat(),
    }
    trail = _trail(audit, instance)
    result = sync_batch(
        session,
        tenant_id=tenant_id,
        agent_id=agent_id,
        fixes=trail,
        checkins=[
            {
                "id": str(visit_id),
                "case_id": int(case),
                "fix": fix,
                "checked_in_at": fix["recorded_at"],
            }
        ],
        outcomes=[outcome],
        now=now,
    )
    (checkin,) = result.checkins
    done = checkin.get("status") == "done" and checkin.get("verdict") != "rejected"
    if done and files:
        photos = [q["name"] for q in questionnaire.definition["questions"] if q["type"] == "photo"]
        for name in {fields.get(p, "") for p in photos} & set(files):
            store_media(
                session,
                tenant_id=tenant_id,
                visit_id=int(checkin["visit_id"]),
                filename=name,
                data=files[name],
            )
    return Received(instance, checkin, result.outcomes[0] if done else None, len(trail))
