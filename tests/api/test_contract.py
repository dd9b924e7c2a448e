"""The published contract is the real one: error bodies, media types, docs with no internet."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World


def test_every_error_answer_is_documented_as_campos_body(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status in ("401", "422", "429"):
                content = operation["responses"][status]["content"]
                if path.startswith("/openrosa/"):  # ODK Collect reads OpenRosa's XML
                    assert set(content) == {"text/xml"}, (path, method)
                    continue
                schema = content["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (path, method)


def test_the_phone_contract_is_published(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    fix = schemas["SyncIn"]["properties"]["fixes"]["items"]
    assert {"id", "recorded_at", "lat", "lon"} <= set(fix["required"])
    checkin = schemas["SyncIn"]["properties"]["checkins"]["items"]
    assert checkin["properties"]["fix"]["properties"]["lat"]["maximum"] == 90
    shift = schemas["AgentOut"]["properties"]["shift_start"]
    assert "format" not in shift
    assert shift["pattern"].startswith("^")


def test_geojson_is_served_as_geojson(client: TestClient, world: World) -> None:
    none = client.get("/v1/cases/geojson?status=paid", headers=world.auth("dispatcher"))
    assert none.headers["content-type"] == "application/geo+json"
    assert none.json() == {"type": "FeatureCollection", "features": []}
    live = client.get("/v1/agents/live", headers=world.auth("dispatcher"))
    assert live.headers["content-type"] == "application/geo+json"


def test_a_new_plan_says_where_to_poll(client: TestClient, world: World) -> None:
    made = client.post(
        "/v1/plans", json={"date": "2026-11-24", "budget_s": 1}, headers=world.auth("dispatcher")
    )
    assert made.status_code == 202
    assert made.headers["location"] == f"/v1/plans/{made.json()['id']}"


def test_the_docs_pages_need_no_internet(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        assert "/static/vendor/" in html
        assert "cdn." not in html
        assert "googleapis" not in html
    assert client.get("/static/vendor/swagger-ui-5.32.0/swagger-ui-bundle.js").status_code == 200
    assert client.get("/static/vendor/redoc-2.5.1/redoc.standalone.js").status_code == 200
