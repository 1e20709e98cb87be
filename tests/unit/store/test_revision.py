"""The schema's head revision, read from the migration files without Alembic, is Alembic's."""

from __future__ import annotations

from importlib.resources import files

from alembic.config import Config
from alembic.script import ScriptDirectory

from orchestra.store.revision import head_revision


def test_the_head_read_from_the_migration_files_is_the_head_alembic_finds() -> None:
    config = Config()
    config.set_main_option("script_location", str(files("orchestra.store") / "migrations"))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()
    assert head_revision() is not None
