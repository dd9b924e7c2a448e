from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World


def test_health_reports_postgresql_and_postgis(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok"
    assert int(body["postgresql"].split(".")[0]) >= 15
    major, minor = (int(p) for p in body["postgis"].split(".")[:2])
    assert (major, minor) >= (3, 3)


def test_openapi_is_served(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/auth/token", "/v1/cases", "/v1/cases/{case_id}", "/health"} <= set(paths)


def test_one_error_shape_for_every_failure(client: TestClient, world: World) -> None:
    answers = [
        client.get("/v1/nowhere"),
        client.get("/v1/cases/abc", headers=world.auth("dispatcher")),
        client.get("/v1/cases?bbox=1,2,3", headers=world.auth("dispatcher")),
        client.get("/v1/cases?status=lost", headers=world.auth("dispatcher")),
        client.patch(
            f"/v1/cases/{world.case_ids[0]}",
            json={"colour": "red"},
            headers=world.auth("dispatcher"),
        ),
    ]
    # A non-numeric id names no case: 404 (":int" routes keep /v1/cases/geojson apart).
    assert [a.status_code for a in answers] == [404, 404, 422, 422, 422]
    for answer in answers:
        error = answer.json()["error"]
        assert set(error) == {"code", "message", "fields"}
    assert answers[2].json()["error"]["fields"][0]["field"] == "bbox"
    assert answers[3].json()["error"]["fields"][0]["field"] == "status"
    assert answers[4].json()["error"]["fields"][0]["field"] == "colour"


def test_case_geojson_is_rfc7946_lon_lat(client: TestClient, world: World) -> None:
    collection = client.get("/v1/cases/geojson", headers=world.auth("dispatcher")).json()
    assert collection["type"] == "FeatureCollection"
    first = next(f for f in collection["features"] if f["properties"]["external_ref"] == "ALFA-1")
    lon, lat = first["geometry"]["coordinates"]
    assert (lon, lat) == (-74.0589, 4.6565)


def test_bbox_filter_uses_lon_lat_order(client: TestClient, world: World) -> None:
    inside = client.get("/v1/cases?bbox=-74.07,4.65,-74.05,4.66", headers=world.auth("dispatcher"))
    assert [c["external_ref"] for c in inside.json()["items"]] == ["ALFA-1"]


def test_pagination_walks_every_case_once(client: TestClient, world: World) -> None:
    seen: list[int] = []
    after = None
    while True:
        query = "/v1/cases?limit=2" + (f"&after={after}" if after else "")
        page = client.get(query, headers=world.auth("dispatcher")).json()
        seen += [c["id"] for c in page["items"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert seen == world.case_ids


def test_server_start_creates_missing_gps_partitions(database: str) -> None:
    from sqlalchemy import create_engine, text

    from api.main import create_app

    engine = create_engine(database)
    name = "to_char(now() + interval '2 months', '\"gps_fixes_y\"YYYY\"m\"MM')"
    with engine.begin() as conn:
        partition = conn.scalar(text(f"SELECT {name}"))
        conn.execute(text(f"DROP TABLE {partition}"))
    with TestClient(create_app()):
        pass
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT to_regclass(:p)::text"), {"p": partition}) == partition
    engine.dispose()


def test_absurd_input_is_4xx_never_500(client: TestClient, world: World) -> None:
    huge = 10**25
    auth = world.auth("admin")
    answers = [
        client.get(f"/v1/cases/{huge}", headers=auth),
        client.patch(f"/v1/cases/{huge}", json={"priority": 1}, headers=auth),
        client.patch(
            f"/v1/cases/{world.case_ids[0]}", json={"assigned_agent_id": huge}, headers=auth
        ),
        client.get("/v1/cases?bbox=-inf,-90,inf,90", headers=auth),
        client.get("/v1/cases?bbox=nan,1,2,3", headers=auth),
        client.get(f"/v1/cases?after={huge}", headers=auth),
        client.post(
            "/v1/agents",
            json={"user_id": huge, "code": "Z", "base": [-74, 4.6], "travel_mode": "car"},
            headers=auth,
        ),
    ]
    assert all(400 <= a.status_code < 500 or a.status_code == 200 for a in answers), [
        (a.status_code, a.text) for a in answers
    ]
    assert [a.status_code for a in answers] == [422] * len(answers)
    fields = [a.json()["error"]["fields"][0]["field"] for a in answers]
    assert fields == ["case_id", "case_id", "assigned_agent_id", "bbox", "bbox", "after", "user_id"]
    # Nothing already stored changed.
    case = client.get(f"/v1/cases/{world.case_ids[0]}", headers=auth).json()
    assert case["assigned_agent_id"] == world.agent_id


def test_database_refusals_map_to_4xx_without_sql(database: str) -> None:
    """The error table's safety net: a constraint the domain did not pre-check is not a 500."""
    from sqlalchemy import create_engine, text

    from api.main import create_app

    app = create_app()
    engine = create_engine(database)

    @app.get("/_refuse/{kind}")
    def refuse(kind: str) -> None:
        sql = {
            "integrity": "INSERT INTO tenants (slug, name) VALUES ('Bad Slug!', 'x')",
            "data": "SELECT 'x'::int",
        }[kind]
        with engine.begin() as conn:
            conn.execute(text(sql))

    with TestClient(app) as test_client:
        integrity = test_client.get("/_refuse/integrity")
        data = test_client.get("/_refuse/data")
    engine.dispose()
    assert (integrity.status_code, integrity.json()["error"]["code"]) == (409, "conflict")
    assert (data.status_code, data.json()["error"]["code"]) == (422, "invalid")
    assert "INSERT" not in integrity.text


def test_health_answers_while_every_pooled_connection_is_taken(client: TestClient) -> None:
    """A liveness probe must not queue behind requests: with the whole connection pool held
    (as a burst of syncs would hold it), /health still answers at once."""
    import time

    from geo.core.db import app_engine

    engine = app_engine()
    held = [engine.connect() for _ in range(engine.pool.size() + engine.pool._max_overflow)]  # type: ignore[attr-defined]
    try:
        began = time.perf_counter()
        answer = client.get("/health")
        took = time.perf_counter() - began
    finally:
        for connection in held:
            connection.close()
    assert answer.status_code == 200
    assert answer.json()["status"] == "ok"
    assert took < 5  # the pool's own wait would be 30 s


def test_browsers_asking_for_a_favicon_get_no_error(client: TestClient) -> None:
    """Chromium asks for /favicon.ico on every JSON document it shows (/health, GeoJSON)."""
    answer = client.get("/favicon.ico")
    assert answer.status_code == 204
    assert "max-age" in answer.headers["cache-control"]
