"""Files sent with a visit, photos mostly: checked, kept once, and given back to staff only.

A file's type is read from its first bytes, never from its name or the phone's say-so, and
only images are kept. The bytes are stored on disk under their SHA-256 (written to a
temporary name, then renamed, so a half-written file is never served); the database lists
which visit and answer each belongs to, under the tenant's row-level security, so a file is
reachable only through a visit of the caller's tenant. Deleting a visit deletes its list;
the bytes of a file no visit lists any more are removed by :func:`prune_media`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from geo.core.errors import InvalidInput, NotFound
from geo.core.models import Visit, VisitMedia
from geo.core.settings import get_settings

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


@dataclass(frozen=True, slots=True)
class StoredMedia:
    visit_id: int
    filename: str
    sha256: str
    content_type: str
    size_bytes: int


def sniff(data: bytes) -> str | None:
    """The image type the bytes begin with (JPEG, PNG, WebP), or None."""
    for magic, kind in SIGNATURES:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _path(sha256: str) -> Path:
    return get_settings().media_dir / sha256[:2] / sha256


def store_media(
    session: Session, *, tenant_id: int, visit_id: int, filename: str, data: bytes
) -> StoredMedia:
    """Keep one file of a visit; the same name sent again (a resend) is kept once."""
    cap = get_settings().media_max_mib * 1024 * 1024
    if not 0 < len(data) <= cap:
        raise InvalidInput(f"{filename}: a file must have 1 byte to {cap:,.0f} bytes", filename)
    kind = sniff(data)
    if kind is None:
        raise InvalidInput(f"{filename}: only JPEG, PNG or WebP images are kept", filename)
    if not 1 <= len(filename) <= 200 or "/" in filename or "\\" in filename:
        raise InvalidInput("a file name is 1 to 200 characters, no folders", "filename")
    digest = hashlib.sha256(data).hexdigest()
    target = _path(digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, target)
    session.execute(
        text(
            "INSERT INTO visit_media (tenant_id, visit_id, filename, sha256, content_type, "
            "size_bytes) VALUES (:t, :v, :f, :s, :c, :n) ON CONFLICT DO NOTHING"
        ),
        {"t": tenant_id, "v": visit_id, "f": filename, "s": digest, "c": kind, "n": len(data)},
    )
    return StoredMedia(visit_id, filename, digest, kind, len(data))


def media_file(
    session: Session, *, tenant_id: int, visit_id: int, filename: str
) -> tuple[Path, str]:
    """Where a visit's file is and its type; NotFound for anything not of this tenant."""
    row = session.execute(
        select(VisitMedia.sha256, VisitMedia.content_type).where(
            VisitMedia.tenant_id == tenant_id,
            VisitMedia.visit_id == visit_id,
            VisitMedia.filename == filename,
        )
    ).one_or_none()
    if row is None or not _path(row.sha256).exists():
        raise NotFound("no such file of this visit", "filename")
    return _path(row.sha256), row.content_type


def prune_media(session: Session) -> int:
    """Remove the stored files no visit of any tenant lists (as the schema owner); how many."""
    listed = set(session.scalars(text("SELECT DISTINCT sha256 FROM visit_media")))
    removed = 0
    root = get_settings().media_dir
    for path in root.glob("??/*") if root.exists() else ():
        if path.name.startswith(".") or path.name in listed:
            continue
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def attach_media(
    session: Session, *, tenant_id: int, agent_id: int, visit_id: int, filename: str, data: bytes
) -> StoredMedia:
    """A file the agent sends for one of its own visits (the app's photo answers); another's
    visit reads as missing."""
    owner = session.scalar(
        select(Visit.agent_id).where(Visit.tenant_id == tenant_id, Visit.id == visit_id)
    )
    if owner != agent_id:
        raise NotFound("visit not found", "visit_id")
    return store_media(
        session, tenant_id=tenant_id, visit_id=visit_id, filename=filename, data=data
    )
