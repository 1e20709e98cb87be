"""Protocol plug-ins installed for real: a distribution's metadata on sys.path.

`entry_point_distribution` writes `<name>-<version>.dist-info/` (METADATA and
entry_points.txt) into a folder; a process with that folder on its path (sys.path, or
PYTHONPATH for a subprocess) sees the entry points through importlib.metadata, as it would see
an installed package's.
"""

from __future__ import annotations

from pathlib import Path

TCP_ECHO = "tests.support.plugins.tcp_echo:plugin"


def entry_point_distribution(
    root: Path, name: str, points: dict[str, str], *, version: str = "1.0"
) -> Path:
    """A distribution `name` whose `orchestra.protocols` entry points are `points`."""
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    info.joinpath("METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = [f"{point} = {target}" for point, target in points.items()]
    info.joinpath("entry_points.txt").write_text(
        "[orchestra.protocols]\n" + "\n".join(lines) + "\n", encoding="utf-8"
    )
    return root
