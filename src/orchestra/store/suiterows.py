"""A generated suite as the JSON text of its rows, which `SuiteRepository.add_rows` stores.

The text is made where the suite is generated, off the event loop (in the API's parser process
for a large process): on the loop, storing it only sends text. A large suite's steps go in
parts of about `STEP_PART` characters, a statement each, since psycopg and libpq encode and
copy a parameter in single calls on the loop (as a data set's parts, `store_data_set_parts`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from orchestra.domain.scenario import GeneratedSuite, TestScenario
from orchestra.store.jsontext import json_dumps
from orchestra.store.refusals import refused_before_sending

STEP_PART = 1024 * 1024  # characters of steps' JSON text sent in one statement


@dataclass(frozen=True)
class SuiteRows:
    """The suite's own row (its jsonb columns as JSON text), its scenarios' rows as one JSON
    array, and its steps' rows as JSON arrays, in parts; each step names its scenario by
    the scenario's position."""

    criterion: str
    parameters: str
    coverage: str
    unbound: str
    fingerprint: str | None
    scenarios: str
    steps: tuple[str, ...]


def suite_rows(
    suite: GeneratedSuite,
    *,
    unbound: Iterable[str] = (),
    fingerprint: str | None = None,
    part: int = STEP_PART,
) -> SuiteRows:
    return SuiteRows(
        criterion=str(suite.criterion),
        parameters=json_dumps(suite.parameters),
        coverage=json_dumps(suite.coverage.model_dump(mode="json")),
        unbound=json_dumps(sorted(set(unbound))),
        fingerprint=fingerprint,
        scenarios=json_dumps([_scenario_row(scenario) for scenario in suite.scenarios]),
        steps=tuple(_parts(_step_texts(suite.scenarios), part)),
    )


def _scenario_row(scenario: TestScenario) -> dict[str, object]:
    dumped = scenario.model_dump(
        mode="json", include={"path", "branch_paths", "decisions", "depends_on"}
    )
    return {
        "name": scenario.name,
        "position": scenario.position,
        **dumped,
        "cleanup": list(scenario.cleanup),
    }


def _step_texts(scenarios: Iterable[TestScenario]) -> Iterator[str]:
    for scenario in scenarios:
        for step in scenario.steps:
            row = {
                "scenario": scenario.position,
                "position": step.position,
                "kind": step.kind.value,
                "element_id": step.element_id,
                "name": step.name,
                "branch": step.branch,
                "spec": step.spec,
                "meta": step.meta,
            }
            try:  # a spec holding NaN or Infinity (a binding's timeout: .inf) is the user's
                yield json_dumps(row, allow_nan=False)
            except ValueError:
                raise refused_before_sending("insert_steps", row) from None


def _parts(texts: Iterable[str], part: int) -> Iterator[str]:
    """JSON arrays of the texts, each of about `part` characters (at least one text)."""
    held: list[str] = []
    size = 0
    for text in texts:
        held.append(text)
        size += len(text) + 1
        if size >= part:
            yield f"[{','.join(held)}]"
            held, size = [], 0
    if held:
        yield f"[{','.join(held)}]"
