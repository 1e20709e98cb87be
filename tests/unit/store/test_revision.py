"""The schema's head revision, read from the migration files without Alembic, is Alembic's."""

from __future__ import annotations

from importlib.resources import files

from alembic.config import Config
from alembic.script import ScriptDirectory

from orchestra.store.revision import head_of, head_revision


def test_the_head_read_from_the_migration_files_is_the_head_alembic_finds() -> None:
    config = Config()
    config.set_main_option("script_location", str(files("orchestra.store") / "migrations"))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()
    assert head_revision() is not None


def test_annotated_assignments_are_read_too() -> None:
    first = 'revision = "0001"\ndown_revision = None\n'
    second = "revision: str = '0002'\ndown_revision: str | None = '0001'  # the schema\n"
    assert head_of([second, first]) == "0002"


def test_a_branch_or_a_file_without_its_revision_is_left_to_alembic() -> None:
    first = 'revision = "0001"\ndown_revision = None\n'
    assert (
        head_of(
            [
                first,
                'revision = "a"\ndown_revision = "0001"\n',
                'revision = "b"\ndown_revision = "0001"\n',
            ]
        )
        is None
    )
    assert head_of([first, 'revision = compute()\ndown_revision = "0001"\n']) is None
    assert head_of([]) is None
