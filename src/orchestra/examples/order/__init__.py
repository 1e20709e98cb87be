"""The bundled example: an order-fulfilment process, its SUT, bindings, data set and environment.

The files ship inside the package; `example_path("order.bpmn")` finds them on disk. What an
all-flows run of the example gives (the demo checks it) is `EXPECTED`.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

PROCESS_FILE = "order.bpmn"
BINDINGS_FILE = "bindings.yaml"
DATASET_FILE = "dataset.yaml"
ENVIRONMENT_FILE = "environment.yaml"
PROJECT_FILE = "orchestra.yaml"  # the settings of `orchestra test` for the example
URL_VARIABLE = "ORCHESTRA_EXAMPLE_URL"
TOKEN_VARIABLE = "ORCHESTRA_EXAMPLE_TOKEN"

EXPECTED: dict[str, Any] = {
    "criterion": "all-flows",
    "scenarios": 3,  # refunded; retried then shipped; given up then cancelled
    "data_rows": 2,
    "test_runs": 6,
    "passed": 4,
    "failed": 2,  # the planted defect, once per data row
    "failed_at": "EndEvent_OrderCancelled",
    "flows": 17,
    "nodes": 17,
}


def example_path(name: str) -> Path:
    """The path of one of the example's files, e.g. `example_path(PROCESS_FILE)`."""
    return Path(str(resources.files(__name__).joinpath(name)))


def environment_text(base_url: str) -> str:
    """environment.yaml with the SUT's URL written in, the token left a `${...}` reference.

    The URL is a plain variable (shown in reports either way); writing it in lets the text be
    applied without setting ORCHESTRA_EXAMPLE_URL.
    """
    text = example_path(ENVIRONMENT_FILE).read_text(encoding="utf-8")
    return text.replace("${" + URL_VARIABLE + "}", base_url)
