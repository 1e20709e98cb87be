"""The bundled example: an order-fulfilment process, its SUT, bindings, data set and environment.

The files ship inside the package; `example_path("order.bpmn")` finds them on disk.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PROCESS_FILE = "order.bpmn"
BINDINGS_FILE = "bindings.yaml"
DATASET_FILE = "dataset.yaml"
ENVIRONMENT_FILE = "environment.yaml"


def example_path(name: str) -> Path:
    """The path of one of the example's files, e.g. `example_path(PROCESS_FILE)`."""
    return Path(str(resources.files(__name__).joinpath(name)))
