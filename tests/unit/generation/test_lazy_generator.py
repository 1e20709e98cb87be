"""The criteria and their bounds are read without importing the generator."""

from __future__ import annotations

import subprocess
import sys

from orchestra.domain import generation
from orchestra.domain.generation import generator


def test_the_criteria_and_bounds_import_without_the_generator() -> None:
    code = (
        "import sys\n"
        "from orchestra.domain.generation import DEFAULT_LOOP_BOUND, Criterion, called_keys\n"
        "assert Criterion('all-paths') is Criterion.ALL_PATHS and DEFAULT_LOOP_BOUND == 1\n"
        "assert 'orchestra.domain.generation.generator' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_generator_s_functions_are_still_the_package_s() -> None:
    assert generation.generate_suite is generator.generate_suite
    assert generation.coverage is generator.coverage
