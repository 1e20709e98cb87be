"""An executor is built with its HTTP client imported, so its first request imports nothing."""

from __future__ import annotations

import subprocess
import sys

BUILD = """
import asyncio, sys
from orchestra.binding.factory import executor_factory
assert "aiohttp" not in sys.modules, "imported before the executor was built"
asyncio.run(executor_factory({})(None))
print("aiohttp" in sys.modules)
"""


def test_building_an_executor_imports_the_http_client_before_any_request() -> None:
    # in a fresh interpreter: this test process may have imported aiohttp already
    found = subprocess.run(
        [sys.executable, "-c", BUILD], capture_output=True, text=True, check=True, timeout=60
    )
    assert found.stdout.strip() == "True"
