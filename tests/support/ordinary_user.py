"""Running a Python child as an ordinary user, as PostgreSQL and people without root do.

Root (CI) runs such children as `nobody`. The virtual environment's interpreter may sit under a
folder `nobody` cannot enter (pyenv's under /root, mode 0700): then the system's interpreter of
the same version runs them, with the environment's packages on its path.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path

import pytest


@dataclass(frozen=True, slots=True)
class Child:
    python: str
    user: int | None = None
    group: int | None = None
    path: list[str] = field(default_factory=list)  # PYTHONPATH entries it needs

    def env(self, src: Path, **extra: str) -> dict[str, str]:
        pythonpath = os.pathsep.join([str(src), *self.path])
        return {**os.environ, "PYTHONPATH": pythonpath, **extra}


def ordinary_child() -> Child:
    """As this user when it is not root; else as nobody, or the test is skipped."""
    if os.geteuid() != 0:
        return Child(python=sys.executable)
    nobody = pwd.getpwnam("nobody")
    if _others_can_run(Path(sys.executable).resolve()):
        return Child(sys.executable, nobody.pw_uid, nobody.pw_gid, [_site_packages()])
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    system = shutil.which(version, path="/usr/bin:/usr/local/bin")
    if system is None or not _others_can_run(Path(system).resolve()):
        pytest.skip(f"no {version} that nobody may run (this one is {sys.executable})")
    return Child(system, nobody.pw_uid, nobody.pw_gid, [_site_packages()])


def _site_packages() -> str:
    return sysconfig.get_paths()["purelib"]


def _others_can_run(executable: Path) -> bool:
    if not executable.stat().st_mode & stat.S_IXOTH:
        return False
    return all(folder.stat().st_mode & stat.S_IXOTH for folder in executable.parents)
