"""The analysts' notebooks run, as committed, against a demo database: seeded, with weeks of
history, and planned. A failing cell fails the test, so the notebooks cannot rot. The executed
copies are left in ``tests/artifacts/``."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import nbformat
import pytest
from nbclient import NotebookClient

from geo.accounts.users import tenant_by_slug
from geo.contacts.rules import next_contact_day
from geo.core.db import owner_session, tenant_session
from geo.core.tenant_settings import parse_settings
from geo.demo import portfolio as demo
from geo.demo.history import seed_history
from geo.routing.jobs import create_plan, run_plan

pytestmark = pytest.mark.clock

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
ARTIFACTS = ROOT / "tests" / "artifacts"


def _outputs(book: nbformat.NotebookNode) -> str:
    texts = []
    for cell in book.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.append(output.get("data", {}).get("text/plain", ""))
            texts.append(output.get("data", {}).get("text/html", ""))
    return "\n".join(texts)


def test_notebooks_execute_against_the_demo() -> None:
    demo.seed(portfolio=demo.generate(n_cases=400, n_agents=6))
    today = datetime.now(ZoneInfo("America/Bogota")).date()
    # The next day the law allows visits on (never a Sunday or a holiday), as a dispatcher plans.
    next_day = next_contact_day(today + timedelta(days=1), settings=parse_settings({}), step=1)
    with owner_session() as session:
        tenant_id = tenant_by_slug(session, demo.DEMO_SLUG).id
        history = seed_history(session, tenant_id=tenant_id, weeks=4, until=today)
    assert history.visits > 0
    assert history.zones > 0
    with tenant_session(tenant_id) as session:
        plan = create_plan(session, tenant_id=tenant_id, day=next_day, budget_s=2, queue=False)
    assert run_plan(tenant_id, plan.id).status == "done"

    found = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert {p.stem for p in found} >= {"portfolio_and_plan", "kpi_dashboard", "contact_hours"}
    ARTIFACTS.mkdir(exist_ok=True)
    seen = {}
    for path in found:
        book = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in book.cells if c.cell_type == "code"), (
            f"{path.name} is committed with outputs; clear them"
        )
        NotebookClient(
            book,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        ).execute()
        nbformat.write(book, ARTIFACTS / path.name)
        seen[path.stem] = _outputs(book)
    assert f"plan {plan.id} for" in seen["portfolio_and_plan"]
    assert "Contactabilidad" in seen["kpi_dashboard"]
    assert "start_hour" in seen["contact_hours"]
