"""Submissions kept exactly as a phone sent them, before anything is derived from them.

As in ODK Central, the instance XML and its attachments are the truth: they are stored in a
transaction of their own, so the phone hears 201 only once they are durable and nothing
derived afterwards (a visit, an outcome, a refusal) can cost them. A resend is the same
submission (``meta/instanceID``): it keeps the first XML and adds the attachments it brings,
as Collect spreads a large submission over several posts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeXML
from defusedxml.common import DefusedXmlException
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from geo.core.errors import InvalidInput, NotFound
from geo.core.models import SUBMISSION_STATES as SUBMISSION_STATES
from geo.core.models import Agent, Device, Submission, SubmissionFile
from geo.core.tenant_settings import tenant_settings
from geo.fieldkit.visit_form import FORM_INTERNALS
from geo.visits.media import sniff

MAX_ATTACHMENTS = 100
"""Files one submission may carry in all its posts (Collect sends one per media answer)."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """What identifies an instance, read before it is stored."""

    instance_id: str
    deprecated_id: str | None
    form_id: str
    form_version: str


@dataclass(frozen=True, slots=True)
class Attachment:
    data: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class StoredSubmission:
    id: int
    tenant_id: int
    agent_id: int
    instance_id: str
    deprecated_id: str | None
    xml: bytes
    files: dict[str, Attachment]
    received_at: datetime
    browser: bool
    """Sent by campo's web app (its positions cannot say whether they are simulated)."""
    state: str
    visit_id: int | None
    user_id: int
    """The agent's user, who answers for what the submission changes (an edit)."""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def instance_fields(root: Element) -> dict[str, str]:
    """Every leaf of an instance by its name (groups flattened; names are unique in a form)."""
    return {
        _local(node.tag): (node.text or "").strip()
        for node in root.iter()
        if len(node) == 0 and node is not root
    }


def read_envelope(xml: bytes) -> Envelope:
    """The instance's ids and form; InvalidInput when it is no safe, well-formed instance with
    an ``instanceID`` (then there is nothing to keep it under)."""
    try:
        root = SafeXML.fromstring(xml)
    except (DefusedXmlException, SafeXML.ParseError):
        raise InvalidInput(
            "the submission is not a well-formed, safe XML instance", "xml_submission_file"
        ) from None
    meta = instance_fields(root)
    instance = meta.get("instanceID", "")
    if not 1 <= len(instance) <= 200:
        raise InvalidInput("the submission has no meta/instanceID", "instanceID")
    return Envelope(
        instance_id=instance,
        deprecated_id=meta.get("deprecatedID") or None,
        form_id=str(root.get("id", ""))[:200],
        form_version=str(root.get("version", ""))[:200],
    )


def store_submission(
    session: Session,
    *,
    tenant_id: int,
    agent_id: int,
    device_id: int,
    xml: bytes,
    files: Mapping[str, Attachment],
    now: datetime,
) -> int:
    """Keep a submission and the attachments of this post; its id. The caller commits before
    deriving anything, so what was sent survives whatever deriving it finds."""
    envelope = read_envelope(xml)
    for name in files:
        if not 1 <= len(name) <= 200 or "/" in name or "\\" in name:
            raise InvalidInput("an attachment's name is 1 to 200 characters, no folders", name)
    submission_id = session.scalar(
        insert(Submission)
        .values(
            tenant_id=tenant_id,
            agent_id=agent_id,
            device_id=device_id,
            instance_id=envelope.instance_id,
            deprecated_id=envelope.deprecated_id,
            form_id=envelope.form_id,
            form_version=envelope.form_version,
            xml=xml,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "instance_id"])
        .returning(Submission.id)
    )
    if submission_id is None:  # a resend: the first XML stays
        submission_id = session.scalar(
            select(Submission.id).where(
                Submission.tenant_id == tenant_id, Submission.instance_id == envelope.instance_id
            )
        )
    held = session.scalar(
        select(func.count()).where(
            SubmissionFile.tenant_id == tenant_id, SubmissionFile.submission_id == submission_id
        )
    )
    if int(held or 0) + len(files) > MAX_ATTACHMENTS:
        raise InvalidInput(
            f"a submission carries at most {MAX_ATTACHMENTS} files", "xml_submission_file"
        )
    if files:
        session.execute(
            insert(SubmissionFile)
            .values(
                [
                    {
                        "tenant_id": tenant_id,
                        "submission_id": submission_id,
                        "name": name,
                        "content_type": file.content_type[:200] or "application/octet-stream",
                        "size_bytes": len(file.data),
                        "sha256": hashlib.sha256(file.data).hexdigest(),
                        "data": file.data,
                        "received_at": now,
                    }
                    for name, file in files.items()
                ]
            )
            .on_conflict_do_nothing()
        )
    return int(submission_id or 0)


def stored_submission(
    session: Session, *, tenant_id: int, submission_id: int, lock: bool = False
) -> StoredSubmission:
    """A stored submission with its attachments; NotFound for another tenant's.

    ``lock``: held until the transaction ends, so two posts of one submission (or a post and
    a dispatcher's re-derivation) derive it one after the other."""
    query = (
        select(Submission, Device.protocol, Agent.user_id)
        .join(
            Device,
            (Device.tenant_id == Submission.tenant_id) & (Device.id == Submission.device_id),
        )
        .join(Agent, (Agent.tenant_id == Submission.tenant_id) & (Agent.id == Submission.agent_id))
        .where(Submission.tenant_id == tenant_id, Submission.id == submission_id)
    )
    row = session.execute(query.with_for_update(of=Submission) if lock else query).one_or_none()
    if row is None:
        raise NotFound("no such submission", "submission_id")
    found, protocol, user_id = row
    files = session.execute(
        select(SubmissionFile.name, SubmissionFile.data, SubmissionFile.content_type).where(
            SubmissionFile.tenant_id == tenant_id, SubmissionFile.submission_id == submission_id
        )
    )
    return StoredSubmission(
        id=found.id,
        tenant_id=found.tenant_id,
        agent_id=found.agent_id,
        instance_id=found.instance_id,
        deprecated_id=found.deprecated_id,
        xml=found.xml,
        files={f.name: Attachment(f.data, f.content_type) for f in files},
        received_at=found.received_at,
        browser=protocol == "web",
        state=found.state,
        visit_id=found.visit_id,
        user_id=user_id,
    )


def related_submission(
    session: Session, *, tenant_id: int, instance_id: str | None = None, edits: str | None = None
) -> tuple[int, int | None] | None:
    """The submission (id, visit) with ``instance_id``, or the one that ``edits`` an instance
    (its ``deprecatedID``); None when there is none."""
    where = (
        Submission.instance_id == instance_id
        if instance_id is not None
        else Submission.deprecated_id == edits
    )
    row = session.execute(
        select(Submission.id, Submission.visit_id)
        .where(Submission.tenant_id == tenant_id, where)
        .order_by(Submission.id)
        .limit(1)
    ).one_or_none()
    return None if row is None else (row.id, row.visit_id)


def mark_replaced(session: Session, *, tenant_id: int, submission_id: int, now: datetime) -> None:
    """An edit replaced this submission: it stays, as history, out of the review queue."""
    session.execute(
        update(Submission)
        .where(Submission.tenant_id == tenant_id, Submission.id == submission_id)
        .values(state="replaced", derived_at=now)
    )


def record_derivation(
    session: Session,
    *,
    tenant_id: int,
    submission_id: int,
    state: str,
    problems: list[dict[str, Any]],
    visit_id: int | None,
    clock_skew_s: float | None,
    now: datetime,
) -> None:
    """What deriving the submission made of it, kept beside it."""
    session.execute(
        update(Submission)
        .where(Submission.tenant_id == tenant_id, Submission.id == submission_id)
        .values(
            state=state,
            problems=problems,
            visit_id=visit_id,
            clock_skew_s=clock_skew_s,
            derived_at=now,
        )
    )


NEEDING_REVIEW = ("stored", "problems", "refused")
"""What a dispatcher should look at: not derived yet (deriving failed), or derived with
problems, or refused."""


@dataclass(frozen=True, slots=True)
class SubmissionView:
    id: int
    instance_id: str
    deprecated_id: str | None
    agent: str
    form_id: str
    form_version: str
    received_at: datetime
    """Local time in the tenant's zone."""
    state: str
    problems: list[dict[str, Any]]
    clock_skew_s: float | None
    visit_id: int | None
    files: list[tuple[str, int]]
    """Each attachment's name and size in bytes."""
    answers: dict[str, str]
    """The instance's answers as sent (empty when it is not readable XML)."""
    entered: dict[str, str]
    """What the agent entered (the answers given, without what the form fills by itself),
    for a supervisor to read when the submission made no visit or its check-in was refused."""


def list_submissions(
    session: Session, *, tenant_id: int, states: tuple[str, ...] = NEEDING_REVIEW, limit: int = 200
) -> list[SubmissionView]:
    """Submissions in ``states``, oldest first."""
    for state in states:
        if state not in SUBMISSION_STATES:
            raise InvalidInput(f"state must be one of {', '.join(SUBMISSION_STATES)}", "state")
    ids = session.scalars(
        select(Submission.id)
        .where(Submission.tenant_id == tenant_id, Submission.state.in_(states))
        .order_by(Submission.received_at, Submission.id)
        .limit(limit)
    )
    return [submission_view(session, tenant_id=tenant_id, submission_id=i) for i in ids]


def submission_view(session: Session, *, tenant_id: int, submission_id: int) -> SubmissionView:
    """One submission as staff see it; NotFound for another tenant's."""
    row = session.execute(
        select(Submission, Agent.code)
        .join(Agent, (Agent.tenant_id == Submission.tenant_id) & (Agent.id == Submission.agent_id))
        .where(Submission.tenant_id == tenant_id, Submission.id == submission_id)
    ).one_or_none()
    if row is None:
        raise NotFound("no such submission", "submission_id")
    found, agent = row
    files = session.execute(
        select(SubmissionFile.name, SubmissionFile.size_bytes)
        .where(SubmissionFile.tenant_id == tenant_id, SubmissionFile.submission_id == submission_id)
        .order_by(SubmissionFile.name)
    )
    try:
        answers = instance_fields(SafeXML.fromstring(found.xml))
    except (DefusedXmlException, SafeXML.ParseError):
        answers = {}
    return SubmissionView(
        id=found.id,
        instance_id=found.instance_id,
        deprecated_id=found.deprecated_id,
        agent=agent,
        form_id=found.form_id,
        form_version=found.form_version,
        received_at=found.received_at.astimezone(tenant_settings(session, tenant_id).zone),
        state=found.state,
        problems=list(found.problems),
        clock_skew_s=found.clock_skew_s,
        visit_id=found.visit_id,
        files=[(f.name, f.size_bytes) for f in files],
        answers=answers,
        entered={k: v for k, v in answers.items() if v and k not in FORM_INTERNALS},
    )


def submission_photo(
    session: Session, *, tenant_id: int, submission_id: int, name: str
) -> tuple[str, bytes]:
    """A photo a phone sent with a submission, its type sniffed from its bytes (never the
    phone's word): the rejected check-in's facade photo a supervisor looks at, kept as sent.
    NotFound for another tenant's, for a missing file or for one that is no image."""
    data = session.scalar(
        select(SubmissionFile.data).where(
            SubmissionFile.tenant_id == tenant_id,
            SubmissionFile.submission_id == submission_id,
            SubmissionFile.name == name,
        )
    )
    kind = sniff(bytes(data)) if data is not None else None
    if data is None or kind is None:
        raise NotFound("no such photo in this submission", "name")
    return kind, bytes(data)


def submission_xml(session: Session, *, tenant_id: int, submission_id: int) -> bytes:
    """The instance XML exactly as the phone sent it; NotFound for another tenant's."""
    xml = session.scalar(
        select(Submission.xml).where(
            Submission.tenant_id == tenant_id, Submission.id == submission_id
        )
    )
    if xml is None:
        raise NotFound("no such submission", "submission_id")
    return bytes(xml)
