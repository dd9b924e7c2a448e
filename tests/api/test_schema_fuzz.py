"""Schemathesis over the OpenAPI document, for every role: no server error, and every answer
as documented (status, content type, body schema)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from api.main import create_app
from tests.conftest import World

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())
ROLES = ("admin", "dispatcher", "analyst", "agent")
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.allow_header_conformance,
    checks.unsupported_method,
]
"""What the contract promises. Not whether a schema-valid request is accepted: cross-field
rules (``date_to`` after ``date_from``, a window that starts before it ends) are 422s that
JSON Schema cannot express."""


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_for_every_role(case: schemathesis.Case, world: World) -> None:
    for role in ROLES:  # one tenant built per operation, each example sent as every role
        case.call_and_validate(headers=world.auth(role), checks=CHECKS)
