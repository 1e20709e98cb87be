"""`orchestra test` of `bench_test_command`'s project from several source trees, side by side.

`python -m bench.compare_trees ROUNDS TREE...`: each TREE is a checkout of Orchestra (e.g.
`git worktree add /tmp/before COMMIT`); its `src` goes first on PYTHONPATH, so this venv's
libraries run every tree's code. One scratch PostgreSQL, a database of its own per tree
(migrated by that tree), one SUT; after a cold run per tree, ROUNDS interleaved rounds of the
bare aiohttp loop process and each tree's warm run. Prints medians of wall and CPU and each
tree's ratio to the bare process: the machine's speed changes by the minute, a change of code is
seen only side by side. Not part of `python -m bench` (it needs the trees).
"""

from __future__ import annotations

import collections
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.bench_test_command import (
    Figures,
    bare_command,
    project_under_test,
    timed_process,
)

MIGRATE = "import sys; from orchestra.store import migrate; migrate.upgrade(sys.argv[1])"


def main(rounds: int, trees: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp, project_under_test(Path(tmp)) as project:
        import psycopg

        urls = {}
        base, _, query = project.url.partition("?")
        for i, tree in enumerate(trees):
            with psycopg.connect(project.url, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE compared_{i}")
            urls[tree] = base.rsplit("/", 1)[0] + f"/compared_{i}" + (f"?{query}" if query else "")
            compile_all = [sys.executable, "-m", "compileall", "-q", f"{tree}/src"]
            subprocess.run(compile_all, check=True, stdout=subprocess.DEVNULL)
            tree_env = {**project.env, "PYTHONPATH": f"{tree}/src"}
            subprocess.run([sys.executable, "-c", MIGRATE, urls[tree]], env=tree_env, check=True)

        def run(tree: str) -> Figures:
            path = f"{tree}/src:{project.env['PYTHONPATH']}"
            env = {**project.env, "PYTHONPATH": path, "ORCHESTRA_DATABASE_URL": urls[tree]}
            return timed_process(project.test, env, project.url)

        for tree in trees:
            run(tree)  # cold: generates its suite
        figures: dict[str, list[Figures]] = collections.defaultdict(list)
        for _ in range(rounds):
            figures["bare loop process"].append(
                timed_process(bare_command(project.base_url), project.env)
            )
            for tree in trees:
                figures[tree].append(run(tree))
    bare = statistics.median(f.seconds for f in figures["bare loop process"])
    print(f"  {rounds} interleaved rounds, medians")
    for name, rows in figures.items():
        wall = statistics.median(f.seconds for f in rows)
        cpu = statistics.median(f.cpu for f in rows)
        pg = statistics.median(f.pg_cpu for f in rows)
        print(
            f"  {name}: {wall:.3f} s start to exit, CPU {cpu:.3f} s (PostgreSQL {pg:.3f} s);"
            f" ratio to the bare process {bare / wall:.2f}"
        )


if __name__ == "__main__":
    if len(sys.argv) < 3 or not sys.argv[1].isdigit():
        sys.exit("usage: python -m bench.compare_trees ROUNDS TREE...")
    main(int(sys.argv[1]), sys.argv[2:])
