"""Settings, read once at the edge from `ORCHESTRA_*` variables and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path
    database_url: str | None  # None: the embedded PostgreSQL under `home`

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("ORCHESTRA_HOME") or Path.home() / ".orchestra").expanduser()
        url = env.get("ORCHESTRA_DATABASE_URL") or None
        return cls(home=home.absolute(), database_url=url)
