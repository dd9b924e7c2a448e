"""The OpenRosa form server ODK Collect talks to, under ``/openrosa/key/{key}``: the form list,
each visit form and its manifest, the agent's day as the form's media file, and submissions.

The key in the path is the phone's credential (a registered ``odk`` device), as ODK Central's
app users have theirs; every answer carries ``X-OpenRosa-Version``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from geo.core.errors import InvalidInput
from geo.fieldkit.forms import servable_forms, today_file, visit_form_questionnaire
from geo.fieldkit.inbox import MAX_ATTACHMENTS, Attachment, store_submission
from geo.fieldkit.openrosa import (
    OPENROSA_VERSION,
    ListedForm,
    form_list,
    manifest,
    response,
)
from geo.fieldkit.phones import phone_session
from geo.fieldkit.receipts import derive_stored, receipt
from geo.fieldkit.visit_form import DAY_FILE, form_id, visit_xform

router = APIRouter(prefix="/openrosa/key/{key}", tags=["ODK Collect (OpenRosa)"])
Key = Annotated[str, Path(min_length=20, max_length=100, pattern="^[A-Za-z0-9_-]+$")]
FormId = Annotated[str, Path(pattern="^campo-[a-z0-9_-]{2,40}$")]
MAX_SUBMISSION = 30 * 1024 * 1024


def _xml(body: str, status: int = 200) -> Response:
    return Response(
        body,
        status_code=status,
        media_type="text/xml; charset=utf-8",
        headers={"X-OpenRosa-Version": OPENROSA_VERSION},
    )


def _base(request: Request, key: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/openrosa/key/{key}"


@router.get("/formList")
def forms(request: Request, key: Key) -> Response:
    """The visit forms, one per questionnaire at its newest version, with their hashes."""
    with phone_session(key) as (session, phone):
        base = _base(request, key)
        listed = [
            ListedForm(
                form_id=form_id(q.key),
                name=f"{q.title} (v{q.version})",
                version=str(q.version),
                xml=xml,
                download_url=f"{base}/forms/{form_id(q.key)}.xml",
                manifest_url=f"{base}/forms/{form_id(q.key)}/manifest",
            )
            for q, xml in servable_forms(session, tenant_id=phone.tenant_id)
        ]
    return _xml(form_list(listed))


@router.get("/forms/{form}.xml")
def form(key: Key, form: FormId) -> Response:
    with phone_session(key) as (session, phone):
        found = visit_form_questionnaire(session, tenant_id=phone.tenant_id, form=form)
        xml = visit_xform(session, tenant_id=phone.tenant_id, questionnaire=found)
    return _xml(xml)


@router.get("/forms/{form}/manifest")
def form_manifest(request: Request, key: Key, form: FormId) -> Response:
    """The form's media: the agent's cases of today (its hash changes with the route)."""
    with phone_session(key) as (session, phone):
        visit_form_questionnaire(session, tenant_id=phone.tenant_id, form=form)
        cases = today_file(session, tenant_id=phone.tenant_id, agent_id=phone.agent_id)
    url = f"{_base(request, key)}/forms/{form}/{DAY_FILE}"
    return _xml(manifest([(DAY_FILE, cases, url)]))


@router.get("/forms/{form}/cases.csv")
def form_cases(key: Key, form: FormId) -> Response:
    with phone_session(key) as (session, phone):
        visit_form_questionnaire(session, tenant_id=phone.tenant_id, form=form)
        cases = today_file(session, tenant_id=phone.tenant_id, agent_id=phone.agent_id)
    return Response(cases, media_type="text/csv; charset=utf-8")


@router.head("/submission")
def submission_probe(key: Key) -> Response:
    """Collect asks before sending: 204, and how large a submission may be."""
    with phone_session(key):
        pass
    return Response(
        status_code=204,
        headers={
            "X-OpenRosa-Version": OPENROSA_VERSION,
            "X-OpenRosa-Accept-Content-Length": str(MAX_SUBMISSION),
        },
    )


@router.post("/submission", status_code=201, response_class=Response)
async def submission(request: Request, key: Key) -> Response:
    """A finished visit form: ``xml_submission_file`` and its attachments (``audit.csv``,
    photos). Kept as sent first; answered 201 once kept, whatever deriving it then finds."""
    async with request.form(max_files=MAX_ATTACHMENTS + 1, max_fields=20) as parts:
        instance = parts.get("xml_submission_file")
        if not isinstance(instance, UploadFile):
            raise InvalidInput("xml_submission_file is required", "xml_submission_file")
        xml = await instance.read()
        files = {
            name: Attachment(await part.read(), part.content_type or "")
            for name, part in parts.multi_items()
            if isinstance(part, UploadFile) and name != "xml_submission_file"
        }

    def work() -> tuple[str, str]:
        with phone_session(key) as (session, phone):
            stored = store_submission(
                session,
                tenant_id=phone.tenant_id,
                agent_id=phone.agent_id,
                device_id=phone.device_id,
                xml=xml,
                files=files,
                now=datetime.now(UTC),
            )
        with phone_session(key) as (session, phone):
            derived = derive_stored(session, tenant_id=phone.tenant_id, submission_id=stored)
        return receipt(derived)

    message, state = await run_in_threadpool(work)
    return _xml(response(message, state=state), 201)
