"""ODK Collect against campo's OpenRosa server: the form list and manifest in their exact
shapes, the day's file, and submissions built as Collect builds them (instance XML with its
instanceID, the audit log with location events) made verified visits."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
import zlib
from datetime import timedelta
from typing import Any

import pytest
from defusedxml import ElementTree as SafeXML
from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.core.db import tenant_session
from geo.core.settings import get_settings
from geo.dispatch.history import case_history
from geo.fieldkit.openrosa import collect_settings
from geo.visits.mail import render_visit_email
from tests.collect import RESPONSE, audit_csv, instance_xml, phone, send
from tests.conftest import World
from tests.gps import on_shift
from tests.visits import check_in, fix_at

pytestmark = pytest.mark.clock

LIST = "{http://openrosa.org/xforms/xformsList}"
MANIFEST = "{http://openrosa.org/xforms/xformsManifest}"


def _md5(data: bytes) -> str:
    return "md5:" + hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_the_form_list_manifest_and_day_file_are_openrosa(client: TestClient, world: World) -> None:
    key = phone(client, world)
    listed = client.get(f"/openrosa/key/{key}/formList")
    assert listed.status_code == 200
    assert listed.headers["x-openrosa-version"] == "1.0"
    assert listed.headers["content-type"].startswith("text/xml")
    root = SafeXML.fromstring(listed.content)
    assert root.tag == f"{LIST}xforms"
    (form,) = root.findall(f"{LIST}xform")
    fields = {child.tag.removeprefix(LIST): child.text for child in form}
    assert set(fields) == {"formID", "name", "version", "hash", "downloadUrl", "manifestUrl"}
    assert (fields["formID"], fields["version"]) == ("campo-cobranza", "1")
    xform = client.get(str(fields["downloadUrl"]))
    assert xform.status_code == 200
    assert _md5(xform.content) == fields["hash"]
    manifest = SafeXML.fromstring(client.get(str(fields["manifestUrl"])).content)
    assert manifest.tag == f"{MANIFEST}manifest"
    (media,) = manifest.findall(f"{MANIFEST}mediaFile")
    name, digest, url = (
        media.find(f"{MANIFEST}{t}").text for t in ("filename", "hash", "downloadUrl")
    )  # type: ignore[union-attr]
    assert name == "cases.csv"
    day = client.get(str(url))
    assert _md5(day.content) == digest
    assert day.text.splitlines()[0] == "name,label,lat,lon,radius,window,amount,bucket"
    assert day.text.splitlines()[1].startswith(f"{world.case_ids[0]},Ana Gómez")
    # A changed assignment changes the file, and so the hash Collect compares.
    with tenant_session(world.tenant_id) as session:
        session.execute(
            text("UPDATE cases SET assigned_agent_id = NULL, assigned_at = NULL WHERE id = :c"),
            {"c": world.case_ids[0]},
        )
    again = SafeXML.fromstring(client.get(str(fields["manifestUrl"])).content)
    assert again.find(f"{MANIFEST}mediaFile/{MANIFEST}hash").text != digest  # type: ignore[union-attr]
    probe = client.head(f"/openrosa/key/{key}/submission")
    assert probe.status_code == 204
    assert int(probe.headers["x-openrosa-accept-content-length"]) >= 10_000_000
    assert client.get(f"/openrosa/key/{'x' * 43}/formList").status_code == 404


def test_a_submission_at_the_door_becomes_a_verified_visit_once(
    client: TestClient, world: World
) -> None:
    key = phone(client, world)
    client.get(f"/openrosa/key/{key}/formList")  # the phone downloads the form first
    at = on_shift()
    instance = f"uuid:{uuid.uuid4()}"
    sent = send(client, key, instance_xml(world, at, metres=8, instance=instance), audit_csv(at, 8))
    assert sent.status_code == 201, sent.text
    answer = SafeXML.fromstring(sent.content)
    assert answer.tag == f"{RESPONSE}OpenRosaResponse"
    assert "aceptada" in str(answer.find(f"{RESPONSE}message").text)  # type: ignore[union-attr]
    again = send(
        client, key, instance_xml(world, at, metres=8, instance=instance), audit_csv(at, 8)
    )
    assert again.status_code == 201
    with tenant_session(world.tenant_id) as session:
        visits = session.execute(text("SELECT verdict, status, outcome, answers FROM visits")).all()
        trail = session.execute(text("SELECT count(*) FROM gps_fixes")).scalar_one()
        checked_in = session.execute(text("SELECT checkin_at FROM visits")).scalar_one()
    assert len(visits) == 1  # the resend stored nothing more
    verdict, status, outcome, answers = visits[0]
    assert (verdict, status, outcome) == ("accepted", "completed", "no_one_home")
    assert answers["comments"] == "Portón cerrado & sin timbre"
    assert trail == 5  # four audit locations and the check-in's own fix
    assert checked_in == at - timedelta(minutes=2)  # when the fix was taken, from the audit


def test_a_submission_away_from_the_door_is_rejected_with_the_apis_reasons(
    client: TestClient, world: World
) -> None:
    key = phone(client, world)
    client.get(f"/openrosa/key/{key}/formList")
    at = on_shift()
    sent = send(
        client,
        key,
        instance_xml(world, at, metres=400, instance=f"uuid:{uuid.uuid4()}"),
        audit_csv(at, 400),
    )
    assert sent.status_code == 201, sent.text
    message = str(SafeXML.fromstring(sent.content).find(f"{RESPONSE}message").text)  # type: ignore[union-attr]
    assert "rechazada" in message
    with tenant_session(world.tenant_id) as session:
        verdict, reasons = session.execute(text("SELECT verdict, reasons FROM visits")).one()
    assert verdict == "rejected"
    assert "outside_geofence" in {r["code"] for r in reasons}


@pytest.mark.parametrize(
    "xml",
    [
        b"<?xml version='1.0'?><!DOCTYPE d [<!ENTITY a 'x'><!ENTITY b '&a;&a;&a;&a;'>]>"
        b"<data id='campo-cobranza' version='1'>&b;</data>",
        b"<?xml version='1.0'?><!DOCTYPE d [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
        b"<data id='campo-cobranza' version='1'>&e;</data>",
        b"<data id='campo-cobranza' version='1'><case>1",
        b"<data id='campo-cobranza' version='1'><case>1</case></data>",
    ],
)
def test_xml_that_is_not_an_instance_is_refused_in_openrosas_words(
    client: TestClient, world: World, xml: bytes
) -> None:
    key = phone(client, world)
    sent = send(client, key, xml)
    assert 400 <= sent.status_code < 500
    assert sent.headers["x-openrosa-version"] == "1.0"
    answer = SafeXML.fromstring(sent.content)
    message = answer.find(f"{RESPONSE}message")
    assert message is not None
    assert message.get("nature") == "submit_error"
    assert "envío" in str(message.text)
    with tenant_session(world.tenant_id) as session:
        assert session.execute(text("SELECT count(*) FROM visits")).scalar_one() == 0
        assert session.execute(text("SELECT count(*) FROM submissions")).scalar_one() == 0


def test_a_foreign_form_is_kept_and_refused_without_a_visit(
    client: TestClient, world: World
) -> None:
    key = phone(client, world)
    instance = f"uuid:{uuid.uuid4()}"
    xml = f"<data id='otro' version='1'><meta><instanceID>{instance}</instanceID></meta></data>"
    sent = send(client, key, xml.encode())
    assert sent.status_code == 201, sent.text
    with tenant_session(world.tenant_id) as session:
        assert session.execute(text("SELECT count(*) FROM visits")).scalar_one() == 0
        state, problems = session.execute(text("SELECT state, problems FROM submissions")).one()
    assert state == "refused"
    assert problems[0]["field"] == "form"


def test_another_tenants_case_is_refused_like_a_missing_one(
    client: TestClient, world: World, other_world: World
) -> None:
    key = phone(client, world)
    client.get(f"/openrosa/key/{key}/formList")
    at = on_shift()
    theirs = other_world.case_ids[0]
    foreign = send(
        client, key, instance_xml(world, at, metres=8, instance=f"uuid:{uuid.uuid4()}", case=theirs)
    )
    missing = send(
        client,
        key,
        instance_xml(world, at, metres=8, instance=f"uuid:{uuid.uuid4()}", case=987_654_321),
    )
    assert foreign.status_code == missing.status_code == 201  # kept, for a dispatcher to see
    assert foreign.text == missing.text
    with tenant_session(world.tenant_id) as session:
        kept = session.execute(text("SELECT state, problems FROM submissions ORDER BY id")).all()
    assert [state for state, _ in kept] == ["refused", "refused"]
    assert kept[0][1] == kept[1][1]
    with tenant_session(other_world.tenant_id) as session:
        assert session.execute(text("SELECT count(*) FROM visits")).scalar_one() == 0
        assert session.execute(text("SELECT count(*) FROM submissions")).scalar_one() == 0


def test_collects_settings_code_points_the_phone_at_its_form_server() -> None:
    code = collect_settings(server_url="https://campo.example.co/openrosa/key/abc", project="G1")
    settings = json.loads(zlib.decompress(base64.b64decode(code)))
    assert settings["general"]["server_url"] == "https://campo.example.co/openrosa/key/abc"
    assert settings["general"]["form_update_mode"] == "match_exactly"
    assert settings["general"]["autosend"] == "wifi_and_cellular"
    assert settings["admin"]["change_server"] is False
    assert settings["project"]["name"] == "G1"


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(2000)


def _with_photo(xml: bytes) -> bytes:
    return xml.replace(b"<meta>", b"<facade_photo>fachada.jpg</facade_photo><meta>")


def _send_files(client: TestClient, key: str, xml: bytes, photo: bytes) -> Any:
    return client.post(
        f"/openrosa/key/{key}/submission",
        files={
            "xml_submission_file": ("submission.xml", xml, "text/xml"),
            "fachada.jpg": ("fachada.jpg", photo, "image/jpeg"),
        },
    )


def test_a_photo_is_kept_with_its_visit_and_shown_to_its_staff_only(
    client: TestClient, world: World, other_world: World
) -> None:
    key = phone(client, world)
    client.get(f"/openrosa/key/{key}/formList")
    at = on_shift()
    xml = _with_photo(instance_xml(world, at, metres=8, instance=f"uuid:{uuid.uuid4()}"))
    sent = _send_files(client, key, xml, JPEG)
    assert sent.status_code == 201, sent.text
    with tenant_session(world.tenant_id) as session:
        visit_id, answers = session.execute(text("SELECT id, answers FROM visits")).one()
    assert answers["facade_photo"] == "fachada.jpg"
    url = f"/v1/visits/{visit_id}/media/fachada.jpg"
    photo = client.get(url, headers=world.auth("dispatcher"))
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/jpeg"
    assert photo.content == JPEG
    assert client.get(url, headers=world.auth("agent")).status_code == 403
    assert client.get(url, headers=other_world.auth("admin")).status_code == 404
    with tenant_session(world.tenant_id) as session:  # the case's history links it
        history = case_history(session, tenant_id=world.tenant_id, case_id=world.case_ids[0])
        mail = render_visit_email(
            session,
            tenant_id=world.tenant_id,
            visit_id=visit_id,
            recipients=["jefe@alfa.co"],
            settings=get_settings(),
        )
    assert history.visits[0].files == ["fachada.jpg"]
    body = mail.get_body(("plain",))
    assert body is not None
    assert f"/v1/visits/{visit_id}/media/fachada.jpg" in body.get_content()
    # A file that is not an image, or too large for a visit, is kept with its submission and
    # named as its problem; the visit is kept without it.
    for bad in (b"#!/bin/sh\necho hola\n", b"\xff\xd8\xff" + bytes(11 * 1024 * 1024)):
        xml = _with_photo(instance_xml(world, at, metres=8, instance=f"uuid:{uuid.uuid4()}"))
        kept = _send_files(client, key, xml, bad)
        assert kept.status_code == 201, kept.text
    with tenant_session(world.tenant_id) as session:
        assert session.execute(text("SELECT count(*) FROM visits")).scalar_one() == 3
        assert session.execute(text("SELECT count(*) FROM visit_media")).scalar_one() == 1
        problems = session.execute(
            text("SELECT problems FROM submissions WHERE state = 'problems' ORDER BY id")
        ).scalars()
        sizes = session.execute(
            text("SELECT size_bytes FROM submission_files ORDER BY size_bytes")
        ).scalars()
        assert [p[0]["code"] for p in problems] == ["media_refused", "media_refused"]
        assert list(sizes) == [20, len(JPEG), 3 + 11 * 1024 * 1024]


def test_the_app_sends_a_photo_for_its_own_visit_through_the_api(
    client: TestClient, world: World, other_world: World
) -> None:
    answer = check_in(client, world, fix_at(on_shift(), 8))
    assert answer.status_code == 201, answer.text
    visit_id = answer.json()["visit_id"]
    url = f"/v1/visits/{visit_id}/media"
    sent = client.post(
        url, files={"file": ("fachada.jpg", JPEG, "image/jpeg")}, headers=world.auth("agent")
    )
    assert sent.status_code == 201, sent.text
    assert (sent.json()["content_type"], sent.json()["size_bytes"]) == ("image/jpeg", len(JPEG))
    shown = client.get(f"{url}/fachada.jpg", headers=world.auth("dispatcher"))
    assert shown.content == JPEG
    not_image = client.post(
        url, files={"file": ("x.jpg", b"<html>", "image/jpeg")}, headers=world.auth("agent")
    )
    assert not_image.status_code == 422
    theirs = client.post(
        url, files={"file": ("f.jpg", JPEG, "image/jpeg")}, headers=other_world.auth("agent")
    )
    assert theirs.status_code == 404


def test_the_web_app_registers_its_browser_and_its_visits_say_gps_is_unverified(
    client: TestClient, world: World, other_world: World
) -> None:
    """campo's web app is an OpenRosa client with a key of its own; a browser cannot tell a
    simulated position, so its check-in is accepted only when the phone's own trail to the
    door backs it (the tenant's default), and says so either way."""
    assert client.post("/v1/me/web-app", headers=world.auth("dispatcher")).status_code == 403
    keys = []
    for _ in range(4):  # a fourth browser switches off the oldest
        answer = client.post("/v1/me/web-app", headers=world.auth("agent"))
        assert answer.status_code == 201, answer.text
        assert answer.json()["form_server"].endswith(f"/openrosa/key/{answer.json()['key']}")
        keys.append(answer.json()["key"])
    assert client.get(f"/openrosa/key/{keys[0]}/formList").status_code == 404
    assert all(client.get(f"/openrosa/key/{k}/formList").status_code == 200 for k in keys[1:])
    at = on_shift()
    sent = send(
        client,
        keys[-1],
        instance_xml(world, at, metres=8, instance=f"uuid:{uuid.uuid4()}"),
        audit_csv(at, 8),
    )
    assert sent.status_code == 201, sent.text
    assert "aceptada" in sent.text
    assert "el recorrido previo del teléfono la respalda" in sent.text
    assert '<campo:receipt state="accepted" />' in sent.text
    with tenant_session(world.tenant_id) as session:
        reasons = session.execute(text("SELECT reasons FROM visits")).scalar_one()
    assert [r["code"] for r in reasons] == ["mock_unknown"]
    # The other tenant's agent gets its own key, never this tenant's cases.
    theirs = client.post("/v1/me/web-app", headers=other_world.auth("agent")).json()["key"]
    foreign = send(
        client,
        theirs,
        instance_xml(world, at, metres=8, instance=f"uuid:{uuid.uuid4()}"),
        audit_csv(at, 8),
    )
    assert foreign.status_code == 201  # kept under the other tenant, refused there
    assert "no se pudo registrar la visita" in foreign.text
    with tenant_session(other_world.tenant_id) as session:
        problems = session.execute(text("SELECT problems FROM submissions")).scalar_one()
        assert session.execute(text("SELECT count(*) FROM visits")).scalar_one() == 0
    assert problems[0]["field"] == "case_id"
    with tenant_session(world.tenant_id) as session:
        assert session.execute(text("SELECT count(*) FROM submissions")).scalar_one() == 1
