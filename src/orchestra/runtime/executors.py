"""A worker's executors: one per environment as applied, shared by the runs that use it.

An executor (an HTTP client with its connections and TLS contexts) is built once per
environment and content: `env apply` keeps an environment's id and changes its content, and
the next suite run must see the change. One superseded so is closed once no run holds it, so a
long-running worker keeps one client per environment, not one per `env apply`. Each suite run's
`RunEnvironment` (its executor, template values, whether it has dependencies) is remembered for
its next runs, the newest suite runs only.
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
from collections.abc import AsyncIterator

from orchestra.runtime.bounded import Bounded
from orchestra.runtime.flights import SingleFlight
from orchestra.runtime.interpreter import RunEnvironment
from orchestra.runtime.ports import Executor, ExecutorFactory
from orchestra.store.worker_store import WorkerStore

log = logging.getLogger("orchestra.worker")
_SUITE_RUNS_CACHED = 256  # suite runs whose environment a long-running worker remembers

EnvironmentKey = tuple[int | None, str]  # (environment id, its configuration as JSON)


class ExecutorCache:
    def __init__(self, factory: ExecutorFactory, store: WorkerStore) -> None:
        self._factory = factory
        self._store = store
        self._executors: dict[EnvironmentKey, Executor] = {}
        self._in_use: collections.Counter[int] = collections.Counter()  # id(executor) -> runs
        self._suite_runs: Bounded[int, RunEnvironment] = Bounded(_SUITE_RUNS_CACHED)
        # the runs of one claim look their suite run's environment up once, not each
        self._lookups: SingleFlight[int, RunEnvironment] = SingleFlight()
        self._builds: SingleFlight[EnvironmentKey, Executor] = SingleFlight()

    @contextlib.asynccontextmanager
    async def using(self, suite_run_id: int) -> AsyncIterator[RunEnvironment]:
        """The suite run's environment, its executor held (not retired) meanwhile."""
        shared = await self._environment(suite_run_id)
        self._in_use[id(shared.executor)] += 1
        try:
            yield shared
        finally:
            self._in_use[id(shared.executor)] -= 1
            await self._retire_superseded()

    async def prepare(self, suite_run_id: int) -> None:
        """Look the suite run's environment up, and build its executor, ahead of its runs
        (those starting meanwhile share the look-up). A failure is left to them to meet."""
        try:
            await self._environment(suite_run_id)
        except Exception as exc:
            log.debug("preparing suite run %s's environment failed: %s", suite_run_id, exc)

    async def aclose(self) -> None:
        for executor in self._executors.values():
            await executor.aclose()

    async def _environment(self, suite_run_id: int) -> RunEnvironment:
        shared = self._suite_runs.get(suite_run_id)
        if shared is None:
            shared = await self._lookups.run(suite_run_id, lambda: self._look_up(suite_run_id))
        return shared

    async def _look_up(self, suite_run_id: int) -> RunEnvironment:
        setting = await self._store.suite_run_setting(suite_run_id)
        suite_run, environment = setting.suite_run, setting.environment
        key = (
            suite_run.environment_id,
            json.dumps(environment.configuration, sort_keys=True) if environment else "",
        )
        if key not in self._executors:
            # suite runs of one environment looked up at once share the executor built for it
            executor = await self._builds.run(key, lambda: self._factory(environment))
            if key not in self._executors:
                self._executors[key] = executor
                await self._retire_superseded()
        shared = RunEnvironment(
            executor=self._executors[key],
            env=environment.template_values if environment else {},
            has_dependencies=bool(suite_run.summary.get("has_dependencies", True)),
        )
        self._suite_runs[suite_run_id] = shared
        return shared

    async def _retire_superseded(self) -> None:
        """Close the executors of environments applied anew since (same id, other content)
        that no run holds any more. The suite runs that used them look their environment up
        again, should they have runs left."""
        newest = {key[0]: key for key in self._executors}  # insertion order: the last wins
        for key in [key for key in self._executors if newest[key[0]] != key]:
            executor = self._executors[key]
            if self._in_use[id(executor)] > 0:
                continue
            del self._executors[key]
            self._in_use.pop(id(executor), None)
            for suite_run_id, shared in list(self._suite_runs.items()):
                if shared.executor is executor:
                    del self._suite_runs[suite_run_id]
            try:
                await executor.aclose()
            except Exception:  # a plug-in's client failing to close must not stop a run's end
                log.exception("closing the client of a superseded environment failed")
