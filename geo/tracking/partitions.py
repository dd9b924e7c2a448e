"""Monthly partitions of ``gps_fixes``: created ahead so an insert never finds its month
missing, and dropped a month at a time once past the retention horizon."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import event, text
from sqlalchemy.orm import Session

_ENSURED: dict[str, set[tuple[int, int]]] = {}
"""Per database, the months this process has seen a committed partition for: partitions are
created ahead and dropped only once far past the retention horizon (never the months fixes
may still arrive for), so asking the database again on every insert is a wasted round trip."""
_PENDING = "campo_partition_months"


def _months(first: datetime, last: datetime) -> list[tuple[int, int]]:
    months, (year, month) = [], (first.year, first.month)
    while (year, month) <= (last.year, last.month):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def ensure_months(session: Session, *, oldest: datetime, now: datetime | None = None) -> None:
    """Make sure partitions exist from ``oldest``'s month to next month; remembered per
    process, so only the first insert into a new month asks the database."""
    now = now or datetime.now(UTC)
    first, ahead = min(oldest, now), now + timedelta(days=31)
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    known = _ENSURED.setdefault(database, set())
    needed = _months(first, ahead)
    if known.issuperset(needed):
        return
    _create(session, first, ahead)
    # Remembered once the transaction commits; any rollback first, a savepoint's included,
    # may have undone what was created, so it forgets them (the next insert asks again).
    session.info.setdefault(_PENDING, set()).update((database, m) for m in needed)


@event.listens_for(Session, "after_commit")
def _remember(session: Session) -> None:
    for database, month in session.info.pop(_PENDING, ()):
        _ENSURED.setdefault(database, set()).add(month)


@event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, _previous: object) -> None:
    session.info.pop(_PENDING, None)


def forget_months() -> None:
    """After partitions were dropped: ask the database again before the next insert."""
    _ENSURED.clear()


def ensure_gps_partitions(
    session: Session, *, months_back: int = 1, months_ahead: int = 3, now: datetime | None = None
) -> int:
    """Create any missing partition from ``months_back`` ago to ``months_ahead`` from now.

    Idempotent and cheap when nothing is missing; returns how many partitions it created.
    Works from the application role too (the SQL function runs as the schema owner). "Now" is
    campo's clock, not the database's, like every other instant campo decides with.
    """
    now = now or datetime.now(UTC)
    return _create(session, _add_months(now, -months_back), _add_months(now, months_ahead))


def _create(session: Session, first: datetime, last: datetime) -> int:
    created = session.scalar(
        text("SELECT campo_ensure_gps_partitions(:first, :last)"), {"first": first, "last": last}
    )
    return int(created or 0)


def _add_months(at: datetime, months: int) -> datetime:
    """``at`` moved by whole months, on the first of its month (all a partition needs)."""
    index = at.year * 12 + at.month - 1 + months
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


_PARTITION = re.compile(r"^gps_fixes_y(\d{4})m(\d{2})$")


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    starts: datetime
    ends: datetime


def gps_partitions(session: Session) -> list[Partition]:
    """The monthly partitions of ``gps_fixes``, oldest first."""
    names = session.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'gps_fixes'::regclass"
        )
    )
    found = []
    for name in names:
        match = _PARTITION.match(name)
        if match:
            year, month = int(match[1]), int(match[2])
            starts = datetime(year, month, 1, tzinfo=UTC)
            ends = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
            found.append(Partition(name, starts, ends))
    return sorted(found, key=lambda p: p.starts)


def prune_gps_partitions(
    session: Session, *, keep_days: int, now: datetime | None = None, dry_run: bool = False
) -> list[Partition]:
    """Drop every monthly partition whose whole month is older than ``keep_days``.

    Dropping a partition is instant and leaves no bloat, unlike deleting rows; a month that
    still holds a fix inside the retention window is kept whole. Needs the schema owner.
    """
    cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    doomed = [p for p in gps_partitions(session) if p.ends <= cutoff]
    if not dry_run:
        for partition in doomed:  # names come from the catalogue and match _PARTITION
            session.execute(text(f'DROP TABLE "{partition.name}"'))
        forget_months()
    return doomed
