"""The phone and the server agree, proven with JavaRosa itself (the form engine inside ODK
Collect, as pyxform ships it in ODK Validate): the visit form campo serves and its day file,
filled by JavaRosa, judged by its constraints at the door, and submitted as Collect submits."""

from __future__ import annotations

import base64
import math
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from fastapi.testclient import TestClient
from pyxform.validators import odk_validate
from sqlalchemy import text

from geo.core.db import tenant_session
from geo.visits.checkin import check_in
from geo.visits.door import PHONE_EARTH_RADIUS_M
from geo.visits.expressions import evaluate, parse
from tests.collect import phone
from tests.conftest import World
from tests.gps import on_shift
from tests.visits import HOME

pytestmark = pytest.mark.clock

HARNESS = Path(__file__).resolve().parents[1] / "javarosa" / "FormFiller.java"
JAR = Path(odk_validate.__file__).parent / "bin" / "ODK_Validate.jar"


@pytest.fixture(scope="session")
def javarosa(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The harness compiled against pyxform's JavaRosa (the set-up installs a JDK's javac)."""
    assert shutil.which("javac"), "the JavaRosa tests need javac (scripts/setup installs it)"
    out = tmp_path_factory.mktemp("javarosa")
    subprocess.run(["javac", "-cp", str(JAR), "-d", str(out), str(HARNESS)], check=True)
    return out


class Collect:
    """One form open in JavaRosa, answered line by line as an agent answers it."""

    def __init__(
        self, classes: Path, form: Path, media: Path, *, key: str, clock_offset_s: float
    ) -> None:
        self.key = key  # the phone's form server key
        # The phone's clock: the test's own (pinned or shifted) plus however wrong the phone
        # is, through libfaketime (which the JVM, unlike Python, runs under).
        faketime = next(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"), None)
        assert faketime is not None, "libfaketime is missing: run scripts/setup"
        self.process = subprocess.Popen(
            ["java", "-cp", f"{JAR}:{classes}", "FormFiller", str(form), str(media)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env={
                **os.environ,
                "LD_PRELOAD": str(faketime),
                "FAKETIME": f"{clock_offset_s:+.3f}",
                "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            },
        )

    def ask(self, line: str) -> str:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def answer(self, ref: str, value: str) -> str:
        return self.ask(f"answer {ref} {value}")

    def close(self) -> None:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


@pytest.fixture
def open_form(
    javarosa: Path, client: TestClient, world: World, tmp_path: Path
) -> Iterator[Callable[..., Collect]]:
    """Opens the visit form in JavaRosa with the day's file, both downloaded as Collect does,
    on a phone whose clock runs ``ahead_s`` ahead of the test's."""
    key = phone(client, world)
    opened: list[Collect] = []

    def open_(ahead_s: float = 0.0) -> Collect:
        form = client.get(f"/openrosa/key/{key}/forms/campo-cobranza.xml")
        day = client.get(f"/openrosa/key/{key}/forms/campo-cobranza/cases.csv")
        assert (form.status_code, day.status_code) == (200, 200)
        (tmp_path / "form.xml").write_bytes(form.content)
        media = tmp_path / "media"
        media.mkdir(exist_ok=True)
        (media / "cases.csv").write_bytes(day.content)
        hatch = time_machine.escape_hatch
        shifted = time.time() - hatch.time.time() if hatch.is_travelling() else 0.0
        opened.append(
            Collect(
                javarosa,
                tmp_path / "form.xml",
                media,
                key=key,
                clock_offset_s=shifted + ahead_s,
            )
        )
        return opened[-1]

    yield open_
    for filler in opened:
        filler.close()


def _submit(client: TestClient, filler: Collect) -> Any:
    """The finished instance, posted as Collect posts it."""
    xml = base64.b64decode(filler.ask("submit"))
    return client.post(
        f"/openrosa/key/{filler.key}/submission",
        files={"xml_submission_file": ("submission.xml", xml, "text/xml")},
    )


def _towards(metres: float, bearing: float) -> tuple[float, float]:
    """(lat, lon) ``metres`` from the case's point towards ``bearing``, on the phone's sphere
    (so the grid's distances are the ones both engines measure)."""
    lat1, lon1 = math.radians(HOME[1]), math.radians(HOME[0])
    angle, theta = metres / PHONE_EARTH_RADIUS_M, math.radians(bearing)
    lat2 = math.asin(
        math.sin(lat1) * math.cos(angle) + math.cos(lat1) * math.sin(angle) * math.cos(theta)
    )
    lon2 = lon1 + math.atan2(
        math.sin(theta) * math.sin(angle) * math.cos(lat1),
        math.cos(angle) - math.sin(lat1) * math.sin(lat2),
    )
    return math.degrees(lat2), math.degrees(lon2)


GRID = [
    (radius + accuracy + offset, accuracy, bearing)
    for radius in (75.0,)
    for accuracy in (3.0, 6.0, 12.5, 30.0, 80.0)
    for offset in (-60.0, -10.0, -1.0, -0.05, 0.05, 1.0, 10.0, 47.0)
    for bearing in (0.0, 90.0, 180.0, 225.0, 300.0)
]
"""(metres from the case's point, the fix's accuracy, bearing): 200 pairs, half of them within
a metre of the edge the rule draws (none exactly on it, where two libms may round apart)."""


def test_the_door_is_judged_the_same_by_javarosa_and_the_server(
    open_form: Callable[..., Collect], world: World
) -> None:
    collect = open_form()
    assert collect.answer("/data/case", str(world.case_ids[0])) == "ok"
    assert float(collect.ask("value /data/case_lat")) == HOME[1]  # from the day's file
    at = on_shift()
    disagreements = []
    with tenant_session(world.tenant_id) as session:
        for metres, accuracy, bearing in GRID:
            lat, lon = _towards(metres, bearing)
            phone_says = collect.answer("/data/checkin", f"{lat!r} {lon!r} 2600.0 {accuracy!r}")
            assert phone_says in {"ok", "constraint"}, phone_says
            nested = session.begin_nested()
            verdict = check_in(
                session,
                tenant_id=world.tenant_id,
                agent_id=world.agent_id,
                client_id=str(uuid.uuid4()),
                case_id=world.case_ids[0],
                raw_fix={
                    "id": str(uuid.uuid4()),
                    "recorded_at": at.isoformat(),
                    "lat": lat,
                    "lon": lon,
                    "accuracy_m": accuracy,
                },
                checked_in_at=at.isoformat(),
                now=at + timedelta(minutes=1),
            )
            nested.rollback()
            server_rejects = "outside_geofence" in {r["code"] for r in verdict.reasons}
            if (phone_says == "constraint") != server_rejects:
                disagreements.append((metres, accuracy, bearing, phone_says, verdict.reasons))
    assert len(GRID) == 200
    assert disagreements == []
    print(f"door grid: {len(GRID)} pairs, {len(disagreements)} disagreements")


def _fill(filler: Collect, world: World, note: str) -> None:
    lat, lon = _towards(20, 90)
    answers = [
        ("/data/case", str(world.case_ids[0])),
        ("/data/checkin", f"{lat!r} {lon!r} 2600.0 6.0"),
        ("/data/outcome", "no_one_home"),
        ("/data/contact_made", "no"),
        ("/data/comments", note),
    ]
    for ref, value in answers:
        assert filler.answer(ref, value) == "ok", ref


def test_javarosa_fills_the_form_and_campo_keeps_what_it_sends(
    open_form: Callable[..., Collect], client: TestClient, world: World
) -> None:
    note = "Nadie abrió 📞📞📞📞"
    with time_machine.travel(on_shift(), tick=True):
        filler = open_form()
        _fill(filler, world, note)
        # Lengths as the phone counts them: UTF-16 units, so four 📞 are 8 on both sides.
        assert filler.ask(f"eval string-length('{note}')") == str(
            evaluate(parse("string_length(.)"), {}, note)
        )
        sent = _submit(client, filler)
    assert sent.status_code == 201, sent.text
    assert "aceptada" in sent.text or "en revisión" in sent.text
    listed = client.get("/v1/submissions?state=derived", headers=world.auth("dispatcher"))
    (kept,) = listed.json()
    assert kept["answers"]["comments"] == note
    assert kept["clock_skew_s"] is None


def test_a_phone_eight_minutes_fast_through_javarosa_is_kept_with_its_skew(
    open_form: Callable[..., Collect], client: TestClient, world: World
) -> None:
    with time_machine.travel(on_shift(), tick=True):
        filler = open_form(ahead_s=8 * 60)
        _fill(filler, world, "Reloj adelantado")
        sent = _submit(client, filler)
    assert sent.status_code == 201, sent.text
    (kept,) = client.get("/v1/submissions?state=derived", headers=world.auth("dispatcher")).json()
    assert kept["clock_skew_s"] == pytest.approx(480, abs=30)
    with tenant_session(world.tenant_id) as session:
        status, reasons = session.execute(text("SELECT status, reasons FROM visits")).one()
    assert status == "completed"
    assert "phone_clock_ahead" in {r["code"] for r in reasons}


def _day_at_the_door(
    open_form: Callable[..., Collect],
    client: TestClient,
    world: World,
    days_ago: int,
    *,
    photo: str | None = None,
    files: dict[str, bytes] | None = None,
    forge: Callable[[bytes], bytes] = lambda xml: xml,
) -> tuple[bytes, Any]:
    """One visit filled in JavaRosa on a past working day, its XML as sent (``forge``: what a
    tampered phone changes in it) and campo's answer."""
    with time_machine.travel(on_shift(days_ago), tick=True):
        filler = open_form()
        _fill(filler, world, f"Visita de hace {days_ago} días")
        if photo is not None:
            assert filler.answer("/data/facade_photo", photo) == "ok"
        xml = forge(base64.b64decode(filler.ask("submit")))
        parts: list[tuple[str, Any]] = [("xml_submission_file", ("s.xml", xml, "text/xml"))]
        parts += [(name, (name, data, "image/jpeg")) for name, data in (files or {}).items()]
        return xml, client.post(f"/openrosa/key/{filler.key}/submission", files=parts)


def test_a_phones_bad_week_is_kept_whole(
    open_form: Callable[..., Collect], client: TestClient, world: World
) -> None:
    """A 12 MiB photo, 25 attachments, a forged outcome and an edit, each filled in JavaRosa:
    every submission stored once, every case still visitable, each refusal named for a
    dispatcher, the raw XML given back as sent."""
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    _, big = _day_at_the_door(
        open_form,
        client,
        world,
        4,
        photo="fachada.jpg",
        files={"fachada.jpg": jpeg + bytes(12 * 1024 * 1024)},
    )
    many = {f"foto-{n}.jpg": jpeg + bytes(n) for n in range(25)}
    _, crowded = _day_at_the_door(open_form, client, world, 3, photo="foto-0.jpg", files=many)
    forged_xml, forged = _day_at_the_door(
        open_form,
        client,
        world,
        2,
        forge=lambda xml: xml.replace(b">no_one_home<", b">pago_total<"),
    )
    first_xml, first = _day_at_the_door(open_form, client, world, 1)
    assert [a.status_code for a in (big, crowded, forged, first)] == [201] * 4
    # Collect's edit of the last one: a new instanceID, the old one as deprecatedID.
    old = first_xml.split(b"<instanceID>")[1].split(b"</instanceID>")[0]
    edit = first_xml.replace(
        b"<instanceID>" + old + b"</instanceID>",
        f"<instanceID>uuid:{uuid.uuid4()}</instanceID>".encode()
        + b"<deprecatedID>"
        + old
        + b"</deprecatedID>",
    ).replace(b">no_one_home<", b">wrong_address<")
    with time_machine.travel(on_shift(1, minute=20), tick=True):
        key = first.request.url.path.split("/")[3]
        edited = client.post(
            f"/openrosa/key/{key}/submission",
            files={"xml_submission_file": ("s.xml", edit, "text/xml")},
        )
    assert edited.status_code == 201, edited.text
    with tenant_session(world.tenant_id) as session:
        visits = session.execute(text("SELECT status, outcome FROM visits ORDER BY id")).all()
        kept = session.execute(text("SELECT count(*) FROM submissions")).scalar_one()
        files = session.execute(text("SELECT count(*) FROM submission_files")).scalar_one()
    assert kept == 5  # four visits and the edit, each once
    assert files == 26  # the large photo and the 25, as sent
    assert [tuple(v) for v in visits] == [
        ("completed", "no_one_home"),  # its photo refused, the visit kept
        ("completed", "no_one_home"),
        ("incomplete", None),  # the forged outcome: closed, the case visited again the next day
        ("completed", "wrong_address"),  # the edit replaced the outcome: no second visit
    ]
    waiting = client.get("/v1/submissions", headers=world.auth("dispatcher")).json()
    assert [p["code"] for s in waiting for p in s["problems"]] == ["media_refused", "invalid"]
    assert waiting[0]["problems"][0]["field"] == "fachada.jpg"
    raw = client.get(f"/v1/submissions/{waiting[1]['id']}/xml", headers=world.auth("admin"))
    assert raw.content == forged_xml
