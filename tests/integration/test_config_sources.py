"""`orchestra test` given files: an environment or a data set stored from the very same file
content is taken as stored, not parsed or converted again; any change is applied as ever."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestra.binding.datasets import write_dataset_json
from orchestra.errors import BindingRefused
from orchestra.services import config
from orchestra.store.database import Database
from tests.integration.test_config_services import ENVIRONMENT, SECRET, write
from tests.integration.test_config_tls import staging
from tests.support.certificates import Pki, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture
def parsed(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The environment files parsed, in order."""
    paths: list[Path] = []
    parse = config._environment_file

    def counted(path: Path) -> Any:
        paths.append(path)
        return parse(path)

    monkeypatch.setattr(config, "_environment_file", counted)
    return paths


@pytest.fixture
def converted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The data set files converted to rows, by name, in order."""
    names: list[str] = []

    def counted(path: Path, name: str, written: Path) -> Any:
        names.append(name)
        return write_dataset_json(path, name, written)

    monkeypatch.setattr(config, "write_dataset_json", counted)
    return names


async def test_an_unchanged_environment_file_is_taken_as_stored(
    db: Database, tmp_path: Path, parsed: list[Path]
) -> None:
    path = write(tmp_path, "env.yaml", ENVIRONMENT)
    first = await config.environment_from_file(db, path)
    assert await config.environment_from_file(db, path) == first
    assert parsed == [path]

    write(tmp_path, "env.yaml", ENVIRONMENT.replace("127.0.0.1:9", "127.0.0.1:10"))
    changed = await config.environment_from_file(db, path)
    assert changed.id == first.id
    assert changed.configuration["services"]["orders"]["base_url"] == "http://127.0.0.1:10/api"
    assert parsed == [path, path]


async def test_the_same_environment_file_elsewhere_is_parsed_again(
    db: Database, tmp_path: Path, parsed: list[Path]
) -> None:
    # its relative paths (certificates, keys) are taken from its directory
    here = write(tmp_path, "env.yaml", ENVIRONMENT)
    (tmp_path / "other").mkdir()
    there = write(tmp_path / "other", "env.yaml", ENVIRONMENT)
    await config.environment_from_file(db, here)
    moved = await config.environment_from_file(db, there)
    assert moved.configuration["applied_from"]["file"] == str(there)
    assert parsed == [here, there]


async def test_an_environment_file_changed_into_a_refused_one_is_refused(
    db: Database, tmp_path: Path
) -> None:
    path = write(tmp_path, "env.yaml", ENVIRONMENT)
    await config.environment_from_file(db, path)
    write(tmp_path, "env.yaml", ENVIRONMENT.replace("${ADMIN_PASSWORD}", SECRET))
    with pytest.raises(BindingRefused):
        await config.environment_from_file(db, path)


async def test_a_certificate_changed_under_an_unchanged_environment_file_is_read_again(
    db: Database,
    tmp_path: Path,
    pki: Pki,
    parsed: list[Path],
) -> None:
    path = staging(tmp_path, pki, "https://127.0.0.1:9")
    first = await config.environment_from_file(db, path)
    assert await config.environment_from_file(db, path) == first
    (tmp_path / "certs" / "internal-ca.pem").write_bytes(pki.stranger_ca.read_bytes())
    renewed = await config.environment_from_file(db, path)
    assert renewed.configuration["tls"]["ca_pem"] == pki.stranger_ca.read_text()
    assert parsed == [path, path]


async def test_an_unchanged_data_set_file_is_taken_as_stored(
    db: Database, tmp_path: Path, converted: list[str]
) -> None:
    path = write(tmp_path, "people.csv", "name,amount\nann,5\n")
    first = await config.data_set_from_file(db, "people", path)
    assert await config.data_set_from_file(db, "people", path) == first
    assert converted == ["people.csv"]

    write(tmp_path, "people.csv", "name\nbo\n")
    changed = await config.data_set_from_file(db, "people", path)
    assert (changed.id, changed.rows) == (first.id, ({"name": "bo"},))
    assert converted == ["people.csv", "people.csv"]


async def test_a_data_set_stored_otherwise_since_is_converted_again(
    db: Database, tmp_path: Path, converted: list[str]
) -> None:
    path = write(tmp_path, "people.csv", "name,amount\nann,5\n")
    await config.data_set_from_file(db, "people", path)
    async with db.transaction() as uow:
        await uow.config.upsert_data_set("people", [{"name": "eve"}])
    again = await config.data_set_from_file(db, "people", path)
    assert again.rows == ({"name": "ann", "amount": "5"},)
    assert converted == ["people.csv", "people.csv"]


async def test_an_environment_file_changed_while_parsed_is_not_taken_for_its_first_text(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "env.yaml", ENVIRONMENT)
    edited = ENVIRONMENT.replace("127.0.0.1:9", "127.0.0.1:10")
    parse = config._environment_file

    def edited_meanwhile(given: Path) -> Any:  # the file saved between its digest and parse
        write(tmp_path, "env.yaml", edited)
        return parse(given)

    monkeypatch.setattr(config, "_environment_file", edited_meanwhile)
    stored = await config.environment_from_file(db, path)
    assert stored.configuration["services"]["orders"]["base_url"] == "http://127.0.0.1:10/api"
    monkeypatch.setattr(config, "_environment_file", parse)

    write(tmp_path, "env.yaml", ENVIRONMENT)  # the first text again: parsed, not the edit's
    again = await config.environment_from_file(db, path)
    assert again.configuration["services"]["orders"]["base_url"] == "http://127.0.0.1:9/api"


async def test_a_data_set_file_changed_while_converted_is_not_taken_for_its_first_text(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "people.csv", "name\nann\n")

    def edited_meanwhile(given: Path, name: str, written: Path) -> Any:
        write(tmp_path, "people.csv", "name\nbo\n")
        return write_dataset_json(given, name, written)

    monkeypatch.setattr(config, "write_dataset_json", edited_meanwhile)
    stored = await config.data_set_from_file(db, "people", path)
    assert stored.rows == ({"name": "bo"},)
    monkeypatch.setattr(config, "write_dataset_json", write_dataset_json)

    write(tmp_path, "people.csv", "name\nann\n")
    assert (await config.data_set_from_file(db, "people", path)).rows == ({"name": "ann"},)
