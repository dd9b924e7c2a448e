"""XLSForm in, XForm out: what an uploaded form becomes, what is refused by its row, and every
XForm campo writes passing ODK Validate (JavaRosa, the form engine inside ODK Collect)."""

from __future__ import annotations

import io
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import Workbook
from pyxform.validators.odk_validate import check_xform
from typer.testing import CliRunner

from geo.cli.commands import app
from geo.core.errors import InvalidInput
from geo.visits.questionnaires import DEFAULT_DEFINITION, check_answers
from geo.visits.xlsform import definition_from_xlsform, read_xlsform, xform
from tests.conftest import World

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx(survey: list[list[Any]], choices: list[list[Any]] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    if choices:
        sheet = book.create_sheet("choices")
        for row in choices:
            sheet.append(row)
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id"])
    settings.append(["Visita de prueba", "prueba"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SURVEY = [
    ["type", "name", "label", "required", "relevant", "constraint"],
    ["start", "start", None, None, None, None],
    ["select_one yesno", "contact_made", "¿Hubo contacto?", "yes", None, None],
    ["integer", "people", "¿Cuántas personas?", None, "${contact_made} = 'si'", ". > 0"],
    ["image", "facade", "Fachada", None, None, None],
    ["text", "comments", "Observaciones", None, None, None],
]
CHOICES = [["list_name", "name", "label"], ["yesno", "si", "Sí"], ["yesno", "no", "No"]]


def _validated(xml: str, tmp_path: Path) -> None:
    """ODK Validate on the XForm; it needs a Java runtime, which the set-up installs."""
    assert shutil.which("java"), "ODK Validate needs java (scripts/setup installs it)"
    path = tmp_path / "form.xml"
    path.write_text(xml, encoding="utf-8")
    check_xform(str(path))  # raises ODKValidateError with JavaRosa's message


def test_an_xlsform_becomes_the_definition_the_server_checks(tmp_path: Path) -> None:
    definition = definition_from_xlsform(read_xlsform(_xlsx(SURVEY, CHOICES)))
    assert definition["title"] == "Visita de prueba"
    assert [(q["name"], q["type"]) for q in definition["questions"]] == [
        ("contact_made", "select_one"),
        ("people", "integer"),
        ("facade", "photo"),
        ("comments", "text"),
    ]
    assert definition["questions"][0]["required"] is True
    assert definition["questions"][1]["relevant"] == "${contact_made} = 'si'"
    assert definition["questions"][0]["choices"] == [
        {"name": "si", "label": "Sí"},
        {"name": "no", "label": "No"},
    ]
    _validated(xform(definition, form_id="prueba", version="1"), tmp_path)


def test_the_default_questionnaire_passes_odk_validate(tmp_path: Path) -> None:
    xml = xform(DEFAULT_DEFINITION, form_id="cobranza", version="1")
    assert 'id="cobranza"' in xml
    assert 'version="1"' in xml
    _validated(xml, tmp_path)


@pytest.mark.parametrize(
    ("row", "said"),
    [
        (["integer", "n", "N", None, "pulldata('x', 'y', 'z', 'w') = 1", None], "survey row 3"),
        (["range", "n", "N", None, None, None], "survey row 3: type 'range'"),
        (["select_one colours", "n", "N", None, None, None], "no choices named 'colours'"),
        (["integer", "n", "N", None, "${later} > 1", None], "survey row 3"),
    ],
)
def test_what_campo_cannot_check_is_refused_with_its_row(row: list[Any], said: str) -> None:
    survey = [SURVEY[0], SURVEY[1], row]
    with pytest.raises(InvalidInput) as refused:
        definition_from_xlsform(read_xlsform(_xlsx(survey, CHOICES)))
    assert said in refused.value.message


def test_a_file_that_is_not_a_workbook_is_refused() -> None:
    with pytest.raises(InvalidInput):
        read_xlsform(b"type,name\ntext,a\n")


def test_an_xlsform_uploaded_through_the_api_is_served_as_an_xform(
    client: TestClient, world: World, other_world: World, tmp_path: Path
) -> None:
    admin = world.auth("admin")
    uploaded = client.post(
        "/v1/questionnaires/xlsform",
        data={"key": "visita-corta"},
        files={"file": ("visita.xlsx", _xlsx(SURVEY, CHOICES), XLSX)},
        headers=admin,
    )
    assert uploaded.status_code == 201, uploaded.text
    assert (uploaded.json()["key"], uploaded.json()["version"]) == ("visita-corta", 1)
    form = client.get(
        f"/v1/questionnaires/{uploaded.json()['id']}/xform", headers=world.auth("agent")
    )
    assert form.status_code == 200
    assert 'id="visita-corta"' in form.text
    _validated(form.text, tmp_path)
    bad = client.post(
        "/v1/questionnaires/xlsform",
        data={"key": "visita-corta"},
        files={"file": ("v.xlsx", _xlsx([SURVEY[0], ["range", "n", "N"]]), XLSX)},
        headers=admin,
    )
    assert bad.status_code == 422
    assert "survey row 2" in bad.json()["error"]["message"]
    theirs = client.get(
        f"/v1/questionnaires/{uploaded.json()['id']}/xform", headers=other_world.auth("admin")
    )
    assert theirs.status_code == 404
    assert (
        client.post(
            "/v1/questionnaires/xlsform",
            data={"key": "x1"},
            files={"file": ("v.xlsx", _xlsx(SURVEY, CHOICES), XLSX)},
            headers=world.auth("dispatcher"),
        ).status_code
        == 403
    )


def test_the_cli_imports_an_xlsform(world: World, tmp_path: Path) -> None:
    path = tmp_path / "visita.xlsx"
    path.write_bytes(_xlsx(SURVEY, CHOICES))
    done = CliRunner().invoke(
        app, ["questionnaire", "import", "--tenant", world.slug, "visita-corta", str(path)]
    )
    assert done.exit_code == 0, done.output
    assert "visita-corta v1: 4 questions" in done.output
    path.write_bytes(_xlsx([SURVEY[0], ["range", "n", "N"]]))
    refused = CliRunner().invoke(
        app, ["questionnaire", "import", "--tenant", world.slug, "visita-corta", str(path)]
    )
    assert refused.exit_code != 0
    assert "survey row 2" in refused.output


def test_groups_are_flattened_with_their_relevance(tmp_path: Path) -> None:
    survey = [
        SURVEY[0],
        ["select_one yesno", "contact_made", "¿Hubo contacto?", "yes", None, None],
        ["begin group", "household", "Hogar", None, "${contact_made} = 'si'", None],
        ["integer", "people", "¿Cuántas personas?", None, None, ". > 0"],
        ["text", "who", "¿Quiénes?", None, "${people} > 1", None],
        ["end group", None, None, None, None, None],
        ["text", "comments", "Observaciones", None, None, None],
    ]
    definition = definition_from_xlsform(read_xlsform(_xlsx(survey, CHOICES)))
    relevance = {q["name"]: q.get("relevant") for q in definition["questions"]}
    assert relevance == {
        "contact_made": None,
        "people": "${contact_made} = 'si'",
        "who": "(${contact_made} = 'si') and (${people} > 1)",
        "comments": None,
    }
    _validated(xform(definition, form_id="hogar", version="1"), tmp_path)
    unclosed = [*survey[:4]]
    with pytest.raises(InvalidInput) as refused:
        definition_from_xlsform(read_xlsform(_xlsx(unclosed, CHOICES)))
    assert "never ended" in refused.value.message


def test_calculate_rows_are_worked_out_by_the_server_as_the_phone_does(tmp_path: Path) -> None:
    header = [*SURVEY[0], "calculation"]
    survey = [
        header,
        ["integer", "people", "¿Cuántas personas?", "yes", None, ". > 0", None],
        ["calculate", "share", None, None, None, None, "if(${people} > 2, 100 / ${people}, 50)"],
        ["text", "why", "¿Por qué tan poco?", None, "${share} < 30", None, None],
    ]
    definition = definition_from_xlsform(read_xlsform(_xlsx(survey, CHOICES)))
    calculated = definition["questions"][1]
    assert (calculated["type"], calculated["calculation"]) == (
        "calculate",
        "if(${people} > 2, 100 / ${people}, 50)",
    )
    xml = xform(definition, form_id="reparto", version="1")
    assert 'calculate="if(' in xml
    _validated(xml, tmp_path)
    today = date(2026, 11, 30)
    # The phone's own value is not taken: the server computes it from the answers.
    stored, _ = check_answers(
        definition, {"people": 5, "share": 99, "why": "muchos"}, outcome="paid", today=today
    )
    assert stored == {"people": 5, "share": 20, "why": "muchos"}
    stored, _ = check_answers(definition, {"people": 2, "why": "x"}, outcome="paid", today=today)
    assert stored == {"people": 2, "share": 50}  # "why" is not asked when the share is 50
    for bad, said in (
        (["calculate", "c", None, None, None, None, "concat('a', 'b')"], "survey row 3"),
        (["calculate", "c", None, None, None, None, None], "needs a calculation"),
        (["calculate", "c", None, None, None, None, "${later} + 1"], "survey row 3"),
    ):
        with pytest.raises(InvalidInput) as refused:
            definition_from_xlsform(read_xlsform(_xlsx([header, survey[1], bad], CHOICES)))
        assert said in refused.value.message
