"""One offline batch from the field app: fixes first, then check-ins, then outcomes.

Fixes go first so a check-in is verified against the trail recorded before it, exactly as it
would have been online. The check-ins are verified together, in a fixed number of statements
(:func:`geo.visits.checkin.check_in_batch`); each outcome runs in its own savepoint. One
refused item is reported and the rest of the batch, fixes included, is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from geo.core.errors import CampoError
from geo.tracking.telemetry import ItemResult, sync_fixes
from geo.visits.checkin import CheckinResult, check_in, check_in_batch
from geo.visits.outcomes import record_outcome, visit_of_checkin

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyncResult:
    fixes: list[ItemResult]
    checkins: list[dict[str, Any]]
    outcomes: list[dict[str, Any]]


def _each(
    session: Session, items: Sequence[Any], work: Callable[[Mapping[str, Any]], dict[str, Any]]
) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, Mapping):
            answers.append(_rejected(None, "invalid", "item", "each item must be a JSON object"))
            continue
        item_id = item.get("id")
        try:
            with session.begin_nested():
                answers.append({"id": item_id, "status": "done", **work(item)})
        except CampoError as exc:
            answers.append(_rejected(item_id, exc.code, exc.field, exc.message))
        except DBAPIError as exc:  # a value the schema refuses (out of a column's range)
            log.warning("sync item %s refused by the database: %s", item_id, exc.orig)
            answers.append(_rejected(item_id, "invalid", None, "a value is out of range"))
        except Exception:
            # A bug must not make the phone resend the whole batch forever: this item is
            # answered, the others are kept, and the traceback is ours to read.
            log.exception("sync item %s failed", item_id)
            answers.append(_rejected(item_id, "internal", None, "error interno con este elemento"))
    return answers


def _answer(item: Mapping[str, Any], answer: CheckinResult | CampoError) -> dict[str, Any]:
    if isinstance(answer, CampoError):
        return _rejected(item.get("id"), answer.code, answer.field, answer.message)
    return {"id": item.get("id"), "status": "done", **asdict(answer)}


def _rejected(item_id: Any, code: str, field: str | None, message: str) -> dict[str, Any]:
    return {"id": item_id, "status": "rejected", "code": code, "field": field, "message": message}


def sync_batch(
    session: Session,
    *,
    tenant_id: int,
    agent_id: int,
    fixes: Sequence[Any] = (),
    checkins: Sequence[Any] = (),
    outcomes: Sequence[Any] = (),
    now: datetime | None = None,
) -> SyncResult:
    """Store a batch; every item gets an answer, in order, per list."""
    now = now or datetime.now(UTC)
    fix_results = (
        sync_fixes(session, tenant_id=tenant_id, agent_id=agent_id, items=fixes, now=now)
        if fixes
        else []
    )

    def one_checkin(item: Mapping[str, Any]) -> dict[str, Any]:
        result = check_in(
            session,
            tenant_id=tenant_id,
            agent_id=agent_id,
            client_id=item.get("id"),
            case_id=item.get("case_id"),
            raw_fix=item.get("fix"),
            checked_in_at=item.get("checked_in_at"),
            now=now,
        )
        return asdict(result)

    def all_checkins() -> list[dict[str, Any]]:
        """The batch's check-ins in four statements; one at a time if the database refuses
        a value in the batch, so that one item is reported and the others kept."""
        objects = [item for item in checkins if isinstance(item, Mapping)]
        try:
            with session.begin_nested():
                answers = iter(
                    check_in_batch(
                        session, tenant_id=tenant_id, agent_id=agent_id, items=objects, now=now
                    )
                )
        except DBAPIError as exc:
            log.warning("a sync batch's check-ins refused by the database: %s", exc.orig)
            return _each(session, checkins, one_checkin)
        return [
            _answer(item, next(answers))
            if isinstance(item, Mapping)
            else _rejected(None, "invalid", "item", "each item must be a JSON object")
            for item in checkins
        ]

    def one_outcome(item: Mapping[str, Any]) -> dict[str, Any]:
        visit_id = visit_of_checkin(
            session, tenant_id=tenant_id, agent_id=agent_id, checkin_id=item.get("checkin_id")
        )
        result = record_outcome(
            session,
            tenant_id=tenant_id,
            agent_id=agent_id,
            visit_id=visit_id,
            body=dict(item),
            now=now,
        )
        answer = asdict(result)
        answer["visit_status"] = answer.pop("status")  # "status" is the item's own
        return answer

    return SyncResult(
        fixes=fix_results,
        checkins=all_checkins() if checkins else [],
        outcomes=_each(session, outcomes, one_outcome),
    )
