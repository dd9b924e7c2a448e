"""A plan's memory is estimated before it computes, and a plan that would not fit is refused."""

from __future__ import annotations

from datetime import date

import pytest

from geo.core.db import tenant_session
from geo.core.errors import InvalidInput
from geo.routing.planner import compute_plan, plan_inputs, plan_memory_mib
from tests.conftest import World


def test_the_estimate_grows_with_the_square_of_the_points_and_the_modes() -> None:
    # The demo measured by bench.worker_memory: 2,040 points, 3 modes, peak about 480 MiB above
    # an idle worker; the estimate may err on the safe side, not far below.
    assert 450 <= plan_memory_mib(2040, 3) <= 600
    assert plan_memory_mib(4080, 3) - plan_memory_mib(0, 3) == pytest.approx(
        4 * (plan_memory_mib(2040, 3) - plan_memory_mib(0, 3))
    )
    assert plan_memory_mib(2040, 1) < plan_memory_mib(2040, 3)


def test_a_plan_over_the_memory_bound_fails_before_computing(world: World) -> None:
    with tenant_session(world.tenant_id) as session:
        inputs = plan_inputs(session, world.tenant_id, date(2026, 11, 24))
    steps: list[str] = []
    with pytest.raises(InvalidInput, match="CAMPO_PLAN_MEMORY_MIB") as refused:
        compute_plan(
            inputs, budget_s=1, progress=lambda _f, step: steps.append(step), memory_mib=100
        )
    assert refused.value.field == "cases"
    assert steps == []  # nothing computed
