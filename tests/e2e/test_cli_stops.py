"""A stop that comes while a command is still starting (importing its modules, connecting to
PostgreSQL) keeps that command's contract: `worker` exits 0 having claimed nothing, `test` and
`run --wait` exit 130 saying so; promptly, even when the server never answers, and without a
traceback. Each command runs as its own process, held while it imports its command's module
(`held_in_its_import`) or while it connects to a server that never answers (`silent_url`)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import clean_env

WITHIN = 10.0  # seconds a stopped command has to end, on a loaded machine

# `orchestra ARGS...` (after the two paths), its import of `orchestra.cli.run` held: it creates
# the first file, then waits until the second one is there
HOLDING_AN_IMPORT = """
import importlib.abc, os, sys, time
inside, go, sys.argv = sys.argv[1], sys.argv[2], ["orchestra", *sys.argv[3:]]
class HeldImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "orchestra.cli.run":
            open(inside, "w").close()
            for _ in range(10_000):
                if os.path.exists(go):
                    break
                time.sleep(0.001)
        return None
sys.meta_path.insert(0, HeldImport())
from orchestra.cli import main
main()
"""


class Command:
    """`orchestra ARGS` in its own process, held in the import of its command's module."""

    def __init__(self, tmp_path: Path, *args: str, env: dict[str, str]) -> None:
        self.inside, self.go = tmp_path / "importing", tmp_path / "go"
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDING_AN_IMPORT, str(self.inside), str(self.go), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def held_in_its_import(self) -> None:
        for _ in range(10_000):  # bounded: 10 s
            if self.inside.exists():
                return
            time.sleep(0.001)
        raise AssertionError("the command never imported its module")

    def signal(self, signum: signal.Signals) -> None:
        self.process.send_signal(signum)
        time.sleep(0.05)  # delivered, as the process sleeps in its held import

    def ended(self) -> tuple[int, str, str, float]:
        """Let its import go on; its exit code, stdout, stderr and the seconds it took."""
        self.go.touch()
        began = time.monotonic()
        try:
            out, err = self.process.communicate(timeout=WITHIN)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        return self.process.returncode, out, err, time.monotonic() - began


@pytest.fixture
def silent_url() -> Iterator[tuple[str, socket.socket]]:
    """A URL whose server takes connections and never answers, and its listening socket."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        server.settimeout(WITHIN)
        yield f"postgresql://orchestra@127.0.0.1:{server.getsockname()[1]}/orchestra", server


def test_a_worker_stopped_while_it_imports_exits_0_having_claimed_nothing(
    database_url: str, tmp_path: Path
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    worker = Command(tmp_path, "worker", "--json", env=env)
    worker.held_in_its_import()
    worker.signal(signal.SIGTERM)
    code, out, err, _ = worker.ended()

    assert code == 0, err
    assert json.loads(out)["claimed"] == 0
    assert "Traceback" not in err


def test_a_worker_stopped_while_connecting_to_a_server_that_does_not_answer_exits_0_at_once(
    silent_url: tuple[str, socket.socket], tmp_path: Path
) -> None:
    url, server = silent_url
    worker = Command(tmp_path, "worker", env=clean_env(ORCHESTRA_DATABASE_URL=url))
    worker.go.touch()  # its imports are not held
    connection, _ = server.accept()  # the worker is connecting
    with connection:
        worker.signal(signal.SIGTERM)
        code, out, err, seconds = worker.ended()

    assert code == 0, err
    assert seconds < 5  # not the connection's timeout
    assert "stopped while starting: no runs claimed" in out
    assert "Traceback" not in err


def test_run_wait_stopped_while_it_imports_exits_130_having_started_no_suite_run(
    database_url: str, tmp_path: Path
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    command = Command(tmp_path, "run", "latest", "--wait", "--json", env=env)
    command.held_in_its_import()
    command.signal(signal.SIGTERM)
    code, out, err, _ = command.ended()

    assert code == 130, err
    assert json.loads(out) == {"interrupted": True, "suite_run": None}
    assert "stopping: any step in flight finishes first" in err
    assert "Traceback" not in err


def test_test_stopped_by_ctrl_c_while_connecting_exits_130_saying_nothing_ran(
    silent_url: tuple[str, socket.socket], tmp_path: Path
) -> None:
    url, server = silent_url
    env = clean_env(ORCHESTRA_DATABASE_URL=url)
    command = Command(tmp_path, "test", str(tmp_path / "order.bpmn"), "--env", "dev", env=env)
    command.go.touch()
    connection, _ = server.accept()
    with connection:
        command.signal(signal.SIGINT)
        code, out, err, seconds = command.ended()

    assert code == 130, err
    assert seconds < 5
    assert "interrupted while starting: no suite run started" in out
    assert "Traceback" not in err


def test_a_second_ctrl_c_while_a_command_starts_stops_it_at_once(
    database_url: str, tmp_path: Path
) -> None:
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    worker = Command(tmp_path, "worker", env=env)
    worker.held_in_its_import()
    worker.signal(signal.SIGINT)
    worker.signal(signal.SIGINT)
    code, _, err, _ = worker.ended()

    assert code == 130
    assert "stopped at once" in err


def test_a_command_that_does_not_stop_in_order_ends_on_sigterm_as_before(
    database_url: str, tmp_path: Path
) -> None:
    # `run` without --wait gives the signal back: its default action, once it can tell
    env = clean_env(ORCHESTRA_DATABASE_URL=database_url)
    command = Command(tmp_path, "run", "latest", "--json", env=env)
    command.held_in_its_import()
    command.signal(signal.SIGTERM)
    code, out, _, _ = command.ended()

    assert code == -signal.SIGTERM
    assert out == ""
