"""What ODK Collect sends is kept before it is judged: a phone whose clock runs fast, a forged
outcome, an emoji note, large and many attachments, a case not the agent's — each stored once,
answered 201, its case still visitable, its problems in front of a dispatcher with the raw XML,
and derived again after a fix."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from defusedxml import ElementTree as SafeXML
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from api.main import create_app
from geo.cli.commands import app
from geo.core.db import tenant_session
from geo.visits.expressions import evaluate, parse
from geo.visits.questionnaires import MAX_TEXT
from tests.collect import RESPONSE, audit_csv, instance_xml, phone, send
from tests.conftest import PASSWORD, World
from tests.console import sign_in
from tests.gps import on_shift

pytestmark = pytest.mark.clock

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


def _message(answer: object) -> str:
    found = SafeXML.fromstring(answer.content).find(f"{RESPONSE}message")  # type: ignore[attr-defined]
    assert found is not None
    return str(found.text)


def _visit_at(client: TestClient, world: World, key: str, at: datetime) -> Any:
    """A visit at the door of the world's first case, finished at ``at``, as Collect sends it."""
    xml = instance_xml(world, at, metres=8, instance=f"uuid:{uuid.uuid4()}")
    return send(client, key, xml, audit_csv(at, 8))


def _unassign(world: World) -> None:
    with tenant_session(world.tenant_id) as session:
        session.execute(
            text("UPDATE cases SET assigned_agent_id = NULL, assigned_at = NULL WHERE id = :c"),
            {"c": world.case_ids[0]},
        )


def _fast_phone(
    client: TestClient, world: World, key: str, *, ahead: timedelta
) -> tuple[object, datetime]:
    """A visit finished now by a phone whose clock runs ``ahead``: every time it writes (the
    form's end, the audit log) is that far in campo's future."""
    received = on_shift(1, minute=30)
    phone_now = received + ahead
    xml = instance_xml(world, phone_now, metres=8, instance=f"uuid:{uuid.uuid4()}")
    with time_machine.travel(received, tick=False):
        sent = send(client, key, xml, audit_csv(phone_now, 8))
    return sent, received


def test_a_phone_eight_minutes_fast_is_recorded_with_its_skew(
    client: TestClient, world: World
) -> None:
    key = phone(client, world)
    sent, received = _fast_phone(client, world, key, ahead=timedelta(minutes=8))
    assert sent.status_code == 201, sent.text
    assert "aceptada" in _message(sent)
    with tenant_session(world.tenant_id) as session:
        visit = session.execute(
            text("SELECT status, verdict, reasons, checkin_at, checkout_at FROM visits")
        ).one()
        state, skew = session.execute(text("SELECT state, clock_skew_s FROM submissions")).one()
    assert (visit.status, visit.verdict, state) == ("completed", "accepted", "derived")
    assert skew == pytest.approx(480)
    assert "phone_clock_ahead" in {r["code"] for r in visit.reasons}
    assert visit.checkout_at == received  # the form's end, moved back to when it arrived
    assert visit.checkin_at == received - timedelta(minutes=2)


def test_a_phone_hours_fast_is_kept_and_sent_to_review(client: TestClient, world: World) -> None:
    key = phone(client, world)
    sent, _ = _fast_phone(client, world, key, ahead=timedelta(hours=3))
    assert sent.status_code == 201, sent.text
    with tenant_session(world.tenant_id) as session:
        status, verdict = session.execute(text("SELECT status, verdict FROM visits")).one()
        state, problems = session.execute(text("SELECT state, problems FROM submissions")).one()
    assert (status, verdict, state) == ("completed", "review", "problems")
    assert [p["code"] for p in problems] == ["phone_clock_ahead"]


def test_a_refused_outcome_closes_the_visit_and_the_case_stays_visitable(
    client: TestClient, world: World, other_world: World
) -> None:
    key = phone(client, world)
    at = on_shift(2)
    forged = instance_xml(world, at, metres=8, instance=f"uuid:{uuid.uuid4()}").replace(
        b"<outcome>no_one_home</outcome>", b"<outcome>pago_total_inventado</outcome>"
    )
    sent = send(client, key, forged, audit_csv(at, 8))
    assert sent.status_code == 201, sent.text
    assert "incompleta" in _message(sent)
    with tenant_session(world.tenant_id) as session:
        status = session.execute(text("SELECT status FROM visits")).scalar_one()
        submission_id, state = session.execute(text("SELECT id, state FROM submissions")).one()
    assert (status, state) == ("incomplete", "problems")
    # The case is not blocked: the agent's next visit there, the next working day, is recorded.
    later = on_shift(1)
    again = _visit_at(client, world, key, later)
    assert again.status_code == 201
    assert "aceptada" in _message(again)
    with tenant_session(world.tenant_id) as session:
        statuses = session.execute(text("SELECT status FROM visits ORDER BY id")).scalars()
        assert list(statuses) == ["incomplete", "completed"]
    # A dispatcher sees it, with its answers and the XML as sent; nobody else does.
    listed = client.get("/v1/submissions", headers=world.auth("dispatcher"))
    assert listed.status_code == 200, listed.text
    (item,) = listed.json()
    assert item["id"] == submission_id
    assert item["answers"]["outcome"] == "pago_total_inventado"
    assert item["problems"][0]["field"] == "outcome"
    raw = client.get(f"/v1/submissions/{submission_id}/xml", headers=world.auth("admin"))
    assert raw.status_code == 200
    assert raw.content == forged
    assert (
        client.get(f"/v1/submissions/{submission_id}/xml", headers=world.auth("agent")).status_code
        == 403
    )
    guessed = client.get(f"/v1/submissions/{submission_id}", headers=other_world.auth("admin"))
    assert guessed.status_code == 404


def test_a_note_counts_its_length_as_the_phone_does(client: TestClient, world: World) -> None:
    """JavaRosa counts UTF-16 units: four 📞 are 8 there, so 8 here, and the form carries the
    server's bound on a note's length so the phone refuses what the server would."""
    four_phones = "📞📞📞📞"
    assert evaluate(parse("string_length(.) = 8"), {}, four_phones) is True
    key = phone(client, world)
    form = client.get(f"/openrosa/key/{key}/forms/campo-cobranza.xml").text
    assert f"string-length(.) &lt;= {MAX_TEXT}" in form


def test_a_case_assigned_after_the_visit_is_derived_again_by_a_dispatcher(
    client: TestClient, world: World
) -> None:
    key = phone(client, world)
    at = on_shift()
    _unassign(world)
    sent = _visit_at(client, world, key, at)
    assert sent.status_code == 201
    assert "no se pudo registrar" in _message(sent)
    with tenant_session(world.tenant_id) as session:
        submission_id, state = session.execute(text("SELECT id, state FROM submissions")).one()
        assert session.execute(text("SELECT count(*) FROM visits")).scalar_one() == 0
    assert state == "refused"
    assigned = client.patch(
        f"/v1/cases/{world.case_ids[0]}",
        json={"assigned_agent_id": world.agent_id},
        headers=world.auth("dispatcher"),
    )
    assert assigned.status_code == 200, assigned.text
    # The dispatcher finds it on the console's review page and derives it again from there.
    with TestClient(create_app(), base_url="https://testserver") as http:
        page = http.get("/entrar")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None
        form = {"organizacion": world.slug, "correo": f"dispatcher@{world.slug}.co"}
        signed = http.post(
            "/entrar",
            data={**form, "clave": PASSWORD, "csrf": token.group(1)},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text
        review = http.get("/revision")
        assert "sin visita" in review.text
        assert f"/v1/submissions/{submission_id}/xml" in review.text
        csrf = re.search(r'name="csrf" value="([^"]+)"', review.text)
        assert csrf is not None
        again = http.post(
            f"/revision/envios/{submission_id}",
            data={"csrf": csrf.group(1)},
            follow_redirects=False,
        )
        assert again.status_code == 303, again.text
        assert "No hay envíos con problemas" in http.get("/revision").text
    derived = client.get(f"/v1/submissions/{submission_id}", headers=world.auth("dispatcher"))
    assert derived.json()["state"] == "derived"
    assert derived.json()["visit_id"] is not None
    with tenant_session(world.tenant_id) as session:
        assert session.execute(text("SELECT status FROM visits")).scalar_one() == "completed"
        action = session.execute(
            text("SELECT action FROM audit_log WHERE subject = :s"),
            {"s": f"submission:{submission_id}"},
        ).scalar_one()
    assert action == "derive"
    assert client.get("/v1/submissions", headers=world.auth("dispatcher")).json() == []


def test_twenty_five_attachments_and_a_resend_are_one_submission(
    client: TestClient, world: World
) -> None:
    key = phone(client, world)
    at = on_shift()
    xml = instance_xml(world, at, metres=8, instance=f"uuid:{uuid.uuid4()}")
    photos = {f"foto-{n}.jpg": JPEG + bytes(n) for n in range(25)}
    first = send(client, key, xml, audit_csv(at, 8), attachments=dict(list(photos.items())[:20]))
    rest = send(client, key, xml, attachments=dict(list(photos.items())[20:]))
    assert (first.status_code, rest.status_code) == (201, 201), rest.text
    with tenant_session(world.tenant_id) as session:
        assert session.execute(text("SELECT count(*) FROM submissions")).scalar_one() == 1
        assert session.execute(text("SELECT count(*) FROM visits")).scalar_one() == 1
        files = session.execute(text("SELECT count(*) FROM submission_files")).scalar_one()
    assert files == 26  # the audit log and 25 photos, all kept as sent


def test_errors_of_the_form_server_carry_openrosa_headers(client: TestClient, world: World) -> None:
    unknown = client.get(f"/openrosa/key/{'x' * 43}/formList")
    assert unknown.status_code == 404
    assert unknown.headers["x-openrosa-version"] == "1.0"
    assert "registrado" in _message(unknown)
    key = phone(client, world)
    day = client.get(f"/openrosa/key/{key}/forms/campo-cobranza/cases.csv")
    assert day.headers["x-openrosa-version"] == "1.0"
    big = client.post(
        f"/openrosa/key/{key}/submission",
        content=b"x" * (31 * 1024 * 1024),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert big.status_code == 413
    assert big.headers["x-openrosa-version"] == "1.0"
    assert "más grande" in _message(big)


def _promise_edit(original: bytes, instance: str, edits: str, amount: int, day: str) -> bytes:
    """Collect's edit of a sent form: a new instanceID, the old one as deprecatedID."""
    return (
        original.replace(b"<outcome>no_one_home</outcome>", b"<outcome>promise_to_pay</outcome>")
        .replace(
            b"<contact_made>no</contact_made>",
            f"<contact_made>si</contact_made><who_answered>titular</who_answered>"
            f"<promise_amount>{amount}</promise_amount><promise_date>{day}</promise_date>".encode(),
        )
        .replace(
            f"<instanceID>{edits}</instanceID>".encode(),
            f"<instanceID>{instance}</instanceID><deprecatedID>{edits}</deprecatedID>".encode(),
        )
    )


def test_an_edit_replaces_its_visits_outcome_and_promise(client: TestClient, world: World) -> None:
    key = phone(client, world)
    at = on_shift()
    first = f"uuid:{uuid.uuid4()}"
    original = instance_xml(world, at, metres=8, instance=first)
    assert send(client, key, original, audit_csv(at, 8)).status_code == 201
    day = (at + timedelta(days=5)).date().isoformat()
    second = f"uuid:{uuid.uuid4()}"
    edit = _promise_edit(original, second, first, 150_000, day)
    assert send(client, key, edit).status_code == 201
    third = f"uuid:{uuid.uuid4()}"
    again = _promise_edit(original, third, first, 200_000, day).replace(
        f"<deprecatedID>{first}</deprecatedID>".encode(),
        f"<deprecatedID>{second}</deprecatedID>".encode(),
    )
    assert send(client, key, again).status_code == 201
    assert send(client, key, again).status_code == 201  # a resend of the edit changes nothing
    with tenant_session(world.tenant_id) as session:
        visits = session.execute(text("SELECT id, outcome, status FROM visits")).all()
        promises = session.execute(text("SELECT amount_cop FROM promises")).scalars().all()
        states = session.execute(text("SELECT state FROM submissions ORDER BY id")).scalars().all()
        edits = session.execute(
            text("SELECT before, after FROM audit_log WHERE action = 'edit' ORDER BY id")
        ).all()
    ((_, outcome, status),) = visits
    assert (outcome, status) == ("promise_to_pay", "completed")
    assert [int(p) for p in promises] == [200_000]  # one promise, the latest
    assert states == ["replaced", "replaced", "derived"]
    assert [e.before["outcome"] for e in edits] == ["no_one_home", "promise_to_pay"]
    assert edits[0].before["promise"] is None
    assert edits[1].before["promise"]["amount_cop"] == "150000.00"


def test_an_edit_that_arrives_before_its_original_still_makes_one_visit(
    client: TestClient, world: World
) -> None:
    key = phone(client, world)
    at = on_shift()
    first, second = f"uuid:{uuid.uuid4()}", f"uuid:{uuid.uuid4()}"
    original = instance_xml(world, at, metres=8, instance=first)
    day = (at + timedelta(days=5)).date().isoformat()
    assert send(client, key, _promise_edit(original, second, first, 90_000, day)).status_code == 201
    assert send(client, key, original, audit_csv(at, 8)).status_code == 201
    with tenant_session(world.tenant_id) as session:
        outcomes = session.execute(text("SELECT outcome FROM visits")).scalars().all()
        states = session.execute(text("SELECT state FROM submissions ORDER BY id")).scalars()
        assert list(states) == ["derived", "replaced"]
    assert outcomes == ["promise_to_pay"]


def test_the_cli_derives_what_needs_a_look_again(client: TestClient, world: World) -> None:
    key = phone(client, world)
    at = on_shift()
    _unassign(world)
    assert _visit_at(client, world, key, at).status_code == 201
    refused = CliRunner().invoke(
        app, ["submissions", "derive", "-t", world.slug, "--by", f"agent@{world.slug}.co"]
    )
    assert refused.exit_code != 0  # an agent does not answer for submissions
    still = CliRunner().invoke(
        app, ["submissions", "derive", "-t", world.slug, "--by", f"admin@{world.slug}.co"]
    )
    assert still.exit_code == 0, still.output
    assert still.output.strip().endswith(": refused")  # nothing fixed yet: it stays listed
    with tenant_session(world.tenant_id) as session:
        session.execute(
            text("UPDATE cases SET assigned_agent_id = :a, assigned_at = now() WHERE id = :c"),
            {"a": world.agent_id, "c": world.case_ids[0]},
        )
    done = CliRunner().invoke(
        app, ["submissions", "derive", "-t", world.slug, "--by", f"admin@{world.slug}.co"]
    )
    assert done.exit_code == 0, done.output
    assert done.output.strip().endswith(": derived")


def test_a_rejected_check_in_keeps_what_the_agent_entered_in_front_of_a_supervisor(
    client: TestClient, world: World, other_world: World
) -> None:
    """400 m from the door the check-in is rejected, and the outcome, answers and photo the
    agent sent stay readable on the review page; the photo only for the tenant's staff, and
    only as the image its bytes are."""
    key = phone(client, world)
    at = on_shift()
    xml = instance_xml(world, at, metres=400, instance=f"uuid:{uuid.uuid4()}").replace(
        b"<comments>", b"<facade_photo>fachada.jpg</facade_photo><comments>"
    )
    photo = JPEG + b"la fachada"
    sent = send(client, key, xml, audit_csv(at, 400), attachments={"fachada.jpg": photo})
    assert sent.status_code == 201
    assert "rechazada" in _message(sent)
    with tenant_session(world.tenant_id) as session:
        submission_id, state = session.execute(text("SELECT id, state FROM submissions")).one()
        verdict = session.execute(text("SELECT verdict FROM visits")).scalar_one()
    assert (state, verdict) == ("problems", "rejected")
    listed = client.get(f"/v1/submissions/{submission_id}", headers=world.auth("dispatcher"))
    entered = listed.json()["entered"]
    assert entered["outcome"] == "no_one_home"
    assert entered["comments"] == "Portón cerrado & sin timbre"
    assert entered["facade_photo"] == "fachada.jpg"
    assert not {"case_lat", "start", "audit", "instanceID"} & set(entered)
    url = f"/v1/submissions/{submission_id}/photos/fachada.jpg"
    shown = client.get(url, headers=world.auth("dispatcher"))
    assert shown.status_code == 200
    assert shown.headers["content-type"] == "image/jpeg"
    assert shown.content == photo
    assert client.get(url, headers=other_world.auth("admin")).status_code == 404
    assert client.get(url, headers=world.auth("agent")).status_code == 403
    audit = client.get(
        f"/v1/submissions/{submission_id}/photos/audit.csv", headers=world.auth("dispatcher")
    )
    assert audit.status_code == 404  # kept, but not an image: never served as one
    with TestClient(create_app(), base_url="https://testserver") as http:
        assert sign_in(http, world, "dispatcher").status_code == 303
        review = http.get("/revision").text
    assert "Lo que el gestor registró" in review
    assert "Portón cerrado &amp; sin timbre" in review
    assert f'src="{url}"' in review
