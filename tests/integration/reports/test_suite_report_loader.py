"""A stored suite becomes its coverage page: loaded from PostgreSQL, written whole to a file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html

from orchestra.binding.yamlsource import Source
from orchestra.domain.generation import Criterion
from orchestra.errors import NotFound
from orchestra.services import generating, importing, reporting
from orchestra.store.database import Database
from tests.support.coverage_suite import REFUND_BINDINGS, REFUND_BPMN, refund_suite_report


async def generated_refund_suite(db: Database) -> int:
    async with db.transaction() as uow:
        await importing.import_bpmn(uow, REFUND_BPMN, source="refund.bpmn")
    summary = await generating.generate(
        db, "Refund", criterion=Criterion.ALL_NODES, bindings=Source("b", REFUND_BINDINGS)
    )
    suite: int = summary["suite"]
    return suite


def names_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def test_the_stored_suite_loads_as_the_report_built_from_it_in_memory(db: Database) -> None:
    suite_id = await generated_refund_suite(db)

    loaded = await reporting.load_suite_report(db, suite_id)

    expected = refund_suite_report(suite_id)
    assert loaded.suite == expected.suite
    assert loaded.unbound == expected.unbound == ("Task_Notify",)
    assert [s.path for s in loaded.scenarios] == [s.path for s in expected.scenarios]
    assert loaded.process.key == "Refund"
    assert loaded.created_at is not None


async def test_writing_the_page_gives_its_figures_and_the_path(
    db: Database, tmp_path: Path
) -> None:
    suite_id = await generated_refund_suite(db)
    target = tmp_path / "pages" / "suite.html"

    written = await reporting.write_suite_report(db, suite_id, target)

    assert written["path"] == str(target)
    assert written["format"] == "html"
    assert (written["scenarios"], written["unbound"]) == (2, ["Task_Notify"])
    assert written["coverage"]["flows_covered"] == 8
    document: Any = lxml_html.fromstring(target.read_text(encoding="utf-8"))
    skip = document.xpath("//svg//g[@data-element='Flow_Skip']")[0]
    assert skip.get("data-coverage") == "not-covered"
    assert names_in(target.parent) == ["suite.html"]  # written whole, no partial file left


async def test_a_suite_that_does_not_exist_is_not_found_by_its_id(db: Database) -> None:
    with pytest.raises(NotFound, match="no suite 4242"):
        await reporting.load_suite_report(db, 4242)
