"""What the end-to-end tests share: the CLI as a subprocess, homes for embedded servers."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestra.store import embedded


def orchestra(
    *args: str, env: dict[str, str], cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestra", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORCHESTRA_")}
    env["PYTHONPATH"] = str(Path(__file__).parents[2] / "src")
    return {**env, **extra}


@pytest.fixture
def home_root() -> Iterator[Path]:
    """A folder for homes outside pytest's own temporary folder, which a concurrent pytest
    session may make private again (0700) while the server's own user needs to reach it."""
    root = Path(tempfile.mkdtemp(prefix="orchestra-e2e-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def empty_home(home_root: Path) -> Path:
    return home_root / "home"


def stop_embedded(home: Path) -> None:
    """The embedded server outlives commands on purpose; the test stops it."""
    embedded.stop_embedded(home)
