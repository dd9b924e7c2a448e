"""ODK Collect as the tests play it: a phone registered to the world's agent, instances and
audit logs built as Collect builds them, and posts as Collect sends them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from geo.core.db import tenant_session
from tests.conftest import World
from tests.visits import near

RESPONSE = "{http://openrosa.org/http/response}"


def phone(client: TestClient, world: World) -> str:
    answer = client.post(
        "/v1/devices",
        json={"agent_id": world.agent_id, "protocol": "odk"},
        headers=world.auth("admin"),
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["identifier"])


def instance_xml(
    world: World, at: datetime, *, metres: float, instance: str, case: int | None = None
) -> bytes:
    lon, lat = near(metres)
    return f"""<?xml version='1.0' ?><data id="campo-cobranza" version="1"
 xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">
<start>{(at - timedelta(minutes=4)).isoformat()}</start><end>{at.isoformat()}</end>
<deviceid>collect:test</deviceid><case>{case or world.case_ids[0]}</case>
<case_lat>4.6565</case_lat><case_lon>-74.0589</case_lon><case_radius>75</case_radius>
<checkin>{lat} {lon} 2600 6.0</checkin><outcome>no_one_home</outcome>
<contact_made>no</contact_made><comments>Portón cerrado &amp; sin timbre</comments>
<meta><audit>audit.csv</audit><instanceID>{instance}</instanceID></meta></data>""".encode()


def audit_csv(at: datetime, metres: float) -> bytes:
    """Collect's audit log: the form's events and, with location tracking, where it was."""
    rows = ["event,node,start,end,latitude,longitude,accuracy"]
    start = int((at - timedelta(minutes=10)).timestamp() * 1000)
    rows.append(f"form start,,{start},,,,")
    for minutes, offset in ((9, 400), (6, 250), (3, 100), (0.5, 0)):
        lon, lat = near(metres + offset, 270)
        stamp = int((at - timedelta(minutes=minutes)).timestamp() * 1000)
        rows.append(f"location changed,,{stamp},,{lat},{lon},7.5")
    taken = int((at - timedelta(minutes=2)).timestamp() * 1000)  # the check-in question left
    rows.append(f"question,/data/checkin,{taken - 15000},{taken},,,")
    return ("\n".join(rows) + "\n").encode()


def send(
    client: TestClient,
    key: str,
    xml: bytes,
    audit: bytes | None = None,
    *,
    attachments: dict[str, bytes] | None = None,
) -> Any:
    """One post of a submission, as Collect makes it: the instance first, then each file."""
    files: list[tuple[str, Any]] = [("xml_submission_file", ("submission.xml", xml, "text/xml"))]
    if audit is not None:
        files.append(("audit.csv", ("audit.csv", audit, "text/csv")))
    for name, data in (attachments or {}).items():
        files.append((name, (name, data, "image/jpeg")))
    return client.post(f"/openrosa/key/{key}/submission", files=files)


def agent_user_id(world: World) -> int:
    """The user account behind the world's field agent."""
    with tenant_session(world.tenant_id) as session:
        return int(
            session.execute(
                text("SELECT user_id FROM agents WHERE id = :a"), {"a": world.agent_id}
            ).scalar_one()
        )
