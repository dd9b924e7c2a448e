"""Logging: one line per request with who and how long; a crash is logged, never shown."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import request_log
from api.main import create_app
from geo.core.logs import JsonFormatter, TextFormatter
from tests.conftest import World


def _lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "campo.requests" and r.msg == "request"]


def test_each_request_is_one_line_with_its_caller(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="campo.requests")
    answer = client.get(
        f"/v1/cases/{world.case_ids[0]}",
        headers={**world.auth("dispatcher"), "X-Request-ID": "phone-batch-0042"},
    )
    assert answer.headers["X-Request-ID"] == "phone-batch-0042"
    (line,) = _lines(caplog)
    assert line.request_id == "phone-batch-0042"  # type: ignore[attr-defined]
    assert line.tenant == world.tenant_id  # type: ignore[attr-defined]
    assert line.route == "/v1/cases/{case_id}"  # type: ignore[attr-defined]
    assert line.status == 200  # type: ignore[attr-defined]
    assert line.duration_ms >= 0  # type: ignore[attr-defined]
    caplog.clear()
    odd = client.get("/health", headers={"X-Request-ID": "<script>"})
    assert len(odd.headers["X-Request-ID"]) == 32  # a fresh id, not the client's junk
    assert _lines(caplog)[0].tenant is None  # type: ignore[attr-defined]


def test_an_unexpected_error_is_logged_with_its_traceback_and_answered_plainly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app: FastAPI = create_app()

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/boom")
    assert answer.status_code == 500
    assert "hunter2" not in answer.text
    assert answer.json()["error"]["code"] == "internal"
    request_id = answer.headers[request_log.HEADER]
    assert request_id in answer.json()["error"]["message"]
    crash = next(r for r in caplog.records if r.exc_info)
    assert "hunter2" in TextFormatter().format(crash)
    logged = json.loads(JsonFormatter().format(crash))
    assert logged["request_id"] == request_id
    assert "RuntimeError" in logged["traceback"]
